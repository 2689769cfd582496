"""Creation functions: tensor, zeros, ones, full, arange, randn, rand, randint, randperm, eye."""
import numpy

from . import backend, dtypes
from .checks import shape_args
from .tensor import Tensor, as_array

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "empty_like", "arange", "linspace", "eye", "randn", "rand",
           "randint", "randperm", "randn_like", "rand_like", "randint_like", "is_tensor", "numel"]


def _device(device):
    return backend.Device("cpu" if device is None else device)


def _float_dtype(dtype):
    return numpy.dtype(dtypes.get_default_dtype() if dtype is None else dtype)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (float lists -> float32, int lists -> int64)."""
    array = as_array(data, dtype=dtype)
    if backend.is_array(data) or isinstance(data, Tensor):
        array = array.copy()  # tensor() always copies, like PyTorch
    if device is not None:
        array = backend.to_device(array, device)
    return Tensor(array, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` when it already is a suitable array."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return Tensor(as_array(data, dtype=dtype, device=device))


def from_numpy(array):
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor(array)


def _filled(shape, value, dtype, device, requires_grad):
    dev = _device(device)
    if dtype is None:
        dtype = dtypes.result_dtype(value) if not isinstance(value, float) else dtypes.get_default_dtype()
    array = dev.xp.full(shape_args(shape), value, dtype=numpy.dtype(dtype))
    return Tensor(array, requires_grad=requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(shape, 0, _float_dtype(dtype), device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(shape, 1, _float_dtype(dtype), device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False):
    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = dtypes.result_dtype(fill_value)
    return _filled((tuple(size),), fill_value, dtype, device, requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled((t.shape,), fill_value, dtype or t.dtype, device or t.device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive): int64 for ints, float32 when any is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    array = _device(device).xp.arange(start, end, step, dtype=numpy.float64).astype(dtype)
    return Tensor(array, requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    array = _device(device).xp.linspace(start, end, steps).astype(_float_dtype(dtype))
    return Tensor(array, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return Tensor(_device(device).xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad=requires_grad)


def _size(shape, size):
    """The shape of ``randn(2, 3)``, ``randn((2, 3))`` or ``randn(size=(2, 3))``."""
    if not shape and size is None:
        raise TypeError("missing 1 required positional argument: 'size'")
    return shape_args(shape or (size,))


def randn(*shape, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal samples (reproducible under ``tinynn.manual_seed``)."""
    array = backend.random_normal(_size(shape, size), _float_dtype(dtype), _device(device), generator)
    return Tensor(array, requires_grad=requires_grad)


def rand(*shape, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform samples in [0, 1)."""
    array = backend.random_uniform(_size(shape, size), _float_dtype(dtype), _device(device), generator)
    return Tensor(array, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randint_like(t, low=0, high=None, *, dtype=None, device=None):
    return randint(low, high, t.shape, dtype=dtype or t.dtype, device=device or t.device)


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False,
            generator=None):
    """Integers in [low, high) of the given size (int64 by default): ``randint(10, (3,))``
    and ``randint(2, 10, (3,))`` as in PyTorch."""
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    u = backend.random_uniform(shape_args((size,)), numpy.float64, _device(device), generator)
    array = (low + _device(device).xp.floor(u * (high - low))).astype(numpy.dtype(dtype or numpy.int64))
    return Tensor(array, requires_grad=requires_grad)


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    """A random permutation of 0..n-1."""
    array = (generator or backend.default_generator).permutation(n).astype(numpy.dtype(dtype or numpy.int64))
    return Tensor(backend.to_device(array, _device(device)))


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return zeros_like(t, dtype=dtype, device=device, requires_grad=requires_grad)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()
