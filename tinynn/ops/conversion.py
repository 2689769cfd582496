"""Changing a tensor's dtype or device: ``to``, ``float()``, ``cuda()``, ``type()``, ``clone``.

Float-to-float casts and device moves are differentiable (the gradient is cast or moved
back); a cast to an integer type gives a tensor outside the graph, as in PyTorch.
"""
import numpy

from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor, register_methods

__all__ = ["clone"]

# Legacy type names, as in ``x.type('torch.FloatTensor')`` and ``tinynn.FloatTensor``.
LEGACY_TYPES = {"FloatTensor": dtypes.float32, "DoubleTensor": dtypes.float64,
                "HalfTensor": dtypes.float16, "LongTensor": dtypes.int64, "IntTensor": dtypes.int32,
                "ShortTensor": dtypes.int16, "CharTensor": dtypes.int8, "ByteTensor": dtypes.uint8,
                "BoolTensor": dtypes.bool}


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    backward_name = "ToCopyBackward0"

    def forward(self, x, *, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.dtype)


class ToDevice(Function):
    """Move between devices; the gradient moves back."""

    backward_name = "ToCopyBackward0"

    def forward(self, x, *, device):
        self.source = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, grad):
        return backend.to_device(grad, self.source)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


def cast(tensor, dtype):
    """``tensor`` in ``dtype`` (itself when it already is)."""
    dtype = numpy.dtype(dtype)
    if dtype == tensor.array.dtype:
        return tensor
    if dtype.kind in "fc" and tensor.array.dtype.kind in "fc":
        return Cast.apply(tensor, dtype=dtype)
    return Tensor(tensor.array.astype(dtype))  # integer results carry no gradient


def as_float(tensor):
    """``tensor`` itself when it is floating point, else in the default float dtype (what
    PyTorch's float-only functions such as ``exp`` and ``sigmoid`` do to integers)."""
    return tensor if tensor.array.dtype.kind in "fc" else cast(tensor, dtypes.get_default_dtype())


def parse_to_args(args, kwargs):
    """``(device, dtype)`` from the arguments of ``Tensor.to`` / ``Module.to`` (None: keep)."""
    kwargs = dict(kwargs)
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    for ignored in ("non_blocking", "copy", "memory_format"):
        kwargs.pop(ignored, None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (str, backend.Device)):
            device = arg
        elif isinstance(arg, bool):  # to(dtype, non_blocking) passes it positionally
            continue
        elif arg is not None:
            dtype = arg
    return device, dtype


def to(self, *args, **kwargs):
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``.

    ``non_blocking`` is accepted and changes nothing (copies are synchronous).
    """
    device, dtype = parse_to_args(args, kwargs)
    out = self
    if device is not None and backend.Device(device) != out.device:
        out = ToDevice.apply(out, device=backend.Device(device))
    if dtype is not None:
        out = cast(out, dtype)
    if kwargs.get("copy") and out is self:
        out = clone(self)
    return out


def cpu(self, memory_format=None):
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None):
    if isinstance(device, int):
        device = backend.Device("cuda", device)
    return to(self, "cuda" if device is None else device)


def _legacy_name(name):
    """('cuda' or 'cpu', dtype) for 'torch.cuda.FloatTensor', 'tinynn.LongTensor', ..."""
    parts = name.split(".")
    if parts[0] in ("torch", "tinynn"):
        parts = parts[1:]
    device = "cpu"
    if parts and parts[0] == "cuda":
        device, parts = "cuda", parts[1:]
    if len(parts) != 1 or parts[0] not in LEGACY_TYPES:
        raise ValueError(f"invalid type: {name!r} (expected a name like 'torch.FloatTensor' or "
                         f"'tinynn.cuda.LongTensor')")
    return device, LEGACY_TYPES[parts[0]]


def type_name(tensor):
    """'tinynn.FloatTensor' or 'tinynn.cuda.FloatTensor', what ``x.type()`` returns."""
    for name, dtype in LEGACY_TYPES.items():
        if dtype == tensor.array.dtype:
            return f"tinynn.{'cuda.' if tensor.is_cuda else ''}{name}"
    return f"tinynn.{tensor.dtype}"


def type(self, dtype=None, non_blocking=False):
    """With no argument the type's name; else ``self`` converted to a dtype, a legacy type
    name (``'torch.FloatTensor'``, ``'tinynn.cuda.LongTensor'``) or legacy type class."""
    if dtype is None:
        return type_name(self)
    legacy_name = getattr(dtype, "legacy_name", None)  # tinynn.FloatTensor and friends
    if isinstance(dtype, str) or legacy_name is not None:
        device, dtype = _legacy_name(legacy_name or dtype)
        return to(self, device, dtype)
    return cast(self, dtype)


def type_as(self, other):
    return to(self, other.device, other.dtype)


def clone(input, memory_format=None):
    """A copy of ``input`` that stays in the graph."""
    return Clone.apply(input)


def contiguous(self, memory_format=None):
    return self if self.array.flags.c_contiguous else clone(self)


def is_contiguous(self, memory_format=None):
    return bool(self.array.flags.c_contiguous)


def _caster(dtype, name):
    def convert(self, memory_format=None):
        return cast(self, dtype)
    convert.__name__ = name
    convert.__doc__ = f"``self`` as {dtype}."
    return convert


register_methods(to, cpu, cuda, type, type_as, clone, contiguous, is_contiguous,
                 float=_caster(dtypes.float32, "float"), double=_caster(dtypes.float64, "double"),
                 half=_caster(dtypes.float16, "half"), long=_caster(dtypes.int64, "long"),
                 int=_caster(dtypes.int32, "int"), short=_caster(dtypes.int16, "short"),
                 char=_caster(dtypes.int8, "char"), byte=_caster(dtypes.uint8, "byte"),
                 bool=_caster(dtypes.bool, "bool"))
