"""The Tensor: one NumPy or CuPy array plus what autograd needs to know about it.

This file holds what a Tensor *is*: its array, ``grad``, ``grad_fn``, ``requires_grad``,
device and dtype, conversions to Python and NumPy, ``backward`` and printing. What a tensor
can *do* lives with the op families in ``tinynn/ops/``: each family file ends with one
``register_methods(...)`` line that makes its functions Tensor methods, so ``x.topk`` is the
function ``topk`` in ``ops/selection.py``.
"""
import numbers
import weakref

import numpy

from . import backend, dtypes
from .checks import normalize_dim
from .engine import run_backward
from .grad_mode import is_grad_enabled
from .printing import format_tensor

__all__ = ["Tensor", "Size", "as_array", "register_methods", "backward_seed"]


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``tinynn.Size([2, 3])``."""

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def numel(self):
        count = 1
        for n in self:
            count *= n
        return count

    def __repr__(self):
        return f"tinynn.Size({list(self)})"


def as_array(data, dtype=None, device=None):
    """Turn ``data`` (array, Tensor, number, nested list) into an array, PyTorch style.

    Python floats become the default float dtype (float32), ints int64, bools bool; an
    existing array keeps its dtype (a float64 ndarray stays float64).
    """
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        dtype = numpy.dtype(dtype)
    if backend.is_array(data):
        array = data if dtype is None else data.astype(dtype, copy=False)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flatten(data)):
            data = _nested_to_numpy(data)
        from_python = not isinstance(data, (numpy.ndarray, numpy.generic))
        array = numpy.asarray(data, dtype=dtype)
        if dtype is None and from_python and array.dtype.kind == "f":
            array = array.astype(dtypes.get_default_dtype())
        elif dtype is None and from_python and array.dtype.kind in "iu":
            array = array.astype(numpy.int64)
    if device is not None:
        array = backend.to_device(array, device)
    return array


def _flatten(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def _nested_to_numpy(data):
    if isinstance(data, (list, tuple)):
        return [_nested_to_numpy(d) for d in data]
    return backend.to_numpy(data.array) if isinstance(data, Tensor) else data


class Tensor:
    """An n-dimensional array that can record the operations made on it for backward.

    ``Tensor(array)`` wraps a NumPy or CuPy array without copying it (tinynn's own way of
    making tensors). As in PyTorch, ``Tensor(2, 3)`` is a float32 tensor of that shape
    (zero-filled here) and ``Tensor([1, 2])`` a float32 tensor of that data; ``tinynn.tensor``
    infers the dtype instead.
    """

    __slots__ = ("array", "grad", "_requires_grad", "_grad_fn", "_hooks", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor calls the Tensor's reflected operator

    def __init__(self, *data, requires_grad=False):
        if len(data) == 1 and (type(data[0]) is numpy.ndarray or backend.is_array(data[0])):
            array = data[0]
        elif len(data) == 1 and isinstance(data[0], numpy.generic):  # what NumPy reductions return
            array = numpy.asarray(data[0])
        else:
            array = _legacy_data(data)
        self.array = array
        self.grad = None
        self._grad_fn = None
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # ------------------------------------------------------------------ autograd state

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self.array.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        if not value and self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor during backward."""
        if self._grad_fn is not None:
            self._grad_fn._retained = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever this tensor's gradient is computed; a Tensor it
        returns replaces the gradient. Returns a handle whose ``remove()`` undoes this."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")

        def on_array(grad):
            result = hook(Tensor(grad))
            return grad if result is None else result.array.astype(grad.dtype, copy=False)

        owner = self._grad_fn if self._grad_fn is not None else self
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(on_array)
        return _RemovableHandle(owner._hooks, on_array)

    def _run_hooks(self, grad):
        for hook in self._hooks or ():
            grad = hook(grad)
        return grad

    def _accumulate_grad(self, grad, owned=False):
        """Add the array ``grad`` into ``.grad``; the stored array is always one we own.

        ``owned``: the engine vouches that nothing else holds ``grad`` (a fresh array from
        a backward), so the first gradient is taken over instead of copied. As in PyTorch,
        ``.grad`` is laid out in memory like the tensor itself: an optimizer's elementwise
        update over a parameter and a gradient in two memory orders runs ~3x slower.
        """
        if self.grad is None:
            same_shape = grad.shape == self.array.shape
            if (owned and same_shape and grad.dtype == self.array.dtype
                    and grad.strides == self.array.strides):
                self.grad = Tensor(grad)
                return
            # Otherwise store a copy: the incoming array may also be pending for another node
            # (Add hands one array to both inputs), be the caller's seed, or a read-only
            # broadcast view; the next accumulation updates .grad in place.
            xp = backend.get_array_module(grad)
            if same_shape:
                copy = xp.empty_like(self.array)    # the tensor's own layout and dtype
                copy[...] = grad
            else:
                copy = xp.array(grad, dtype=self.array.dtype, copy=True)
            self.grad = Tensor(copy)
        elif backend.is_writeable(self.grad.array):
            self.grad.array += grad
        else:
            self.grad = Tensor(self.grad.array + grad)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Gradients add up across calls; reset them with ``optimizer.zero_grad()``. With
        ``inputs`` only those tensors accumulate.
        """
        if create_graph:
            raise NotImplementedError("create_graph=True: tinynn's backward works on raw arrays, "
                                      "so gradients of gradients are not recorded")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        run_backward([self], [backward_seed(self, gradient)], retain_graph=bool(retain_graph),
                     inputs=inputs)

    @property
    def data(self):
        """A detached Tensor sharing this tensor's array (``p.data -= lr * p.grad`` works)."""
        return Tensor(self.array)

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else as_array(value)

    def detach(self):
        return Tensor(self.array)

    def detach_(self):
        if self._grad_fn is not None:
            self._grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ what it holds

    @property
    def shape(self):
        return Size(self.array.shape)

    @property
    def dtype(self):
        return dtypes.of(self.array.dtype)

    @property
    def device(self):
        return backend.device_of(self.array)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    is_mps = is_xpu = is_meta = is_sparse = is_quantized = False

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def is_complex(self):
        return self.array.dtype.kind == "c"

    def size(self, dim=None):
        return self.shape if dim is None else self.array.shape[normalize_dim(dim, self.ndim)]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def element_size(self):
        return self.array.itemsize

    def get_device(self):
        """-1 on the CPU, the GPU's index on CUDA, as in PyTorch."""
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ to Python and NumPy

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted to Scalar")
        return self.array.item()

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
            if force:
                return backend.to_numpy(self.array)
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. "
                            f"Use Tensor.cpu() to copy the tensor to host memory first.")
        return self.array

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    # ------------------------------------------------------------------ printing

    def __repr__(self):
        return format_tensor(self.array, self.device, self._grad_fn, self.requires_grad)

    def __format__(self, spec):
        """A 0-d tensor formats as its value: ``f"{loss:.4f}"``, as in PyTorch."""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)


class _RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _legacy_data(args):
    """The array for PyTorch's legacy ``Tensor(...)``: sizes give a zero-filled float tensor,
    data a float tensor of that data."""
    if not args:
        return numpy.zeros((0,), dtype=dtypes.get_default_dtype())
    if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        return numpy.zeros(args, dtype=dtypes.get_default_dtype())
    if len(args) == 1 and isinstance(args[0], Size):
        return numpy.zeros(tuple(args[0]), dtype=dtypes.get_default_dtype())
    if len(args) != 1:
        raise TypeError(f"Tensor() takes sizes or one sequence of data, got {args!r}")
    data = args[0]
    array = as_array(data)
    return array if isinstance(data, Tensor) else array.astype(dtypes.get_default_dtype(), copy=False)


def backward_seed(tensor, gradient):
    """The array that starts backward from ``tensor``: ones for a scalar, else ``gradient``."""
    if gradient is None:
        if tensor.array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                               f"(this tensor has shape {tuple(tensor.shape)})")
        return backend.get_array_module(tensor.array).ones_like(tensor.array)  # 1, even for a nan loss
    if isinstance(gradient, Tensor) and gradient.device != tensor.device:
        raise RuntimeError(f"backward: the gradient is on {gradient.device} but the tensor is on "
                           f"{tensor.device}; move it with gradient.to({str(tensor.device)!r})")
    seed = gradient.array if isinstance(gradient, Tensor) else as_array(gradient, device=tensor.device)
    if tuple(seed.shape) != tensor.array.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                           f"{tuple(seed.shape)} and output[0] has a shape of {tuple(tensor.shape)}.")
    return seed.astype(tensor.array.dtype, copy=False)


def register_methods(*functions, **named):
    """Make ``functions`` Tensor methods under their own names (``named``: under others).

    Each op family calls this once, at the end of its file: ``x.topk(5)`` is ``topk(x, 5)``.
    """
    for function in functions:
        setattr(Tensor, function.__name__, function)
    for name, function in named.items():
        setattr(Tensor, name, function)


def is_grad_recording(*tensors):
    """True when an op on ``tensors`` is recorded for backward."""
    return is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in tensors)
