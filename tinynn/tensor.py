"""The Tensor: one NumPy or CuPy array plus what autograd needs to know about it."""
import collections
import numbers
import weakref

import numpy

from . import autograd, backend, dtypes
from .autograd import is_grad_enabled
from .ops import activation, elementwise as ew, matmul as mm, reduction as red, shape as sh

__all__ = ["Tensor", "as_array"]

# max(dim) / min(dim) return (values, indices) under these names, as PyTorch does.
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def as_array(data, dtype=None, device=None):
    """Turn ``data`` (array, Tensor, number, nested list) into an array, PyTorch style.

    Python floats become float32 (the default dtype), ints int64, bools bool; an existing
    array keeps its dtype (a float64 ndarray stays float64).
    """
    if isinstance(data, Tensor):
        data = data.array
    if backend.is_array(data):
        array = data if dtype is None else data.astype(dtype, copy=False)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flatten(data)):
            data = _nested_to_numpy(data)
        array = numpy.asarray(data, dtype=dtype)
        if dtype is None and array.dtype.kind == "f" and not isinstance(data, (numpy.ndarray, numpy.generic)):
            array = array.astype(dtypes.get_default_dtype())
        elif dtype is None and array.dtype.kind in "iu" and not isinstance(data, (numpy.ndarray, numpy.generic)):
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


def _normalize_dim(dim, ndim, name="dim"):
    """A possibly negative dim (or tuple of dims) as non-negative ints, checked."""
    if isinstance(dim, (tuple, list)):
        return tuple(_normalize_dim(d, ndim, name) for d in dim)
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-rank}, {rank - 1}], but got {dim})")
    return dim % rank


def _shape_args(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Tensor:
    """An n-dimensional array that can record the operations made on it for backward.

    ``Tensor(array)`` wraps a NumPy or CuPy array without copying it; use
    ``tinynn.tensor(data)`` to build one from Python data.
    """

    __slots__ = ("array", "grad", "_requires_grad", "_grad_fn", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor calls the Tensor's reflected operator

    def __init__(self, data, requires_grad=False):
        self.array = data if backend.is_array(data) else as_array(data)
        self.grad = None
        self._grad_fn = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # ------------------------------------------------------------------ attributes

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

    @property
    def data(self):
        """A detached Tensor sharing this tensor's array (``p.data -= lr * p.grad`` works)."""
        return Tensor(self.array)

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else as_array(value)

    @property
    def shape(self):
        return tuple(self.array.shape)

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return backend.device_of(self.array)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[_normalize_dim(dim, self.ndim)]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(self.array.size)

    def element_size(self):
        return self.array.itemsize

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ conversion

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted to Scalar")
        return self.array.item()

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.device.type != "cpu":
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

    def detach(self):
        return Tensor(self.array)

    def clone(self):
        return ew.Clone.apply(self)

    def contiguous(self):
        return self if self.array.flags.c_contiguous else self.clone()

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        device, dtype = parse_to_args(args, kwargs)
        out = self
        if device is not None and backend.Device(device) != out.device:
            out = ew.ToDevice.apply(out, device=backend.Device(device))
        if dtype is not None and numpy.dtype(dtype) != out.dtype:
            out = out._cast(dtype)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else backend.Device("cuda", device))

    def _cast(self, dtype):
        dtype = numpy.dtype(dtype)
        if dtype == self.dtype:
            return self
        if dtype.kind in "fc":
            return ew.Cast.apply(self, dtype=dtype)
        return Tensor(self.array.astype(dtype))  # integer results carry no gradient

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self._cast(dtype)

    def float(self):
        return self._cast(dtypes.float32)

    def double(self):
        return self._cast(dtypes.float64)

    def half(self):
        return self._cast(dtypes.float16)

    def long(self):
        return self._cast(dtypes.int64)

    def int(self):
        return self._cast(dtypes.int32)

    def bool(self):
        return self._cast(dtypes.bool)

    # ------------------------------------------------------------------ autograd

    def backward(self, gradient=None, retain_graph=False):
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Gradients add up across calls; reset them with ``optimizer.zero_grad()``.
        """
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs "
                                   f"(this tensor has shape {self.shape})")
            seed = backend.get_array_module(self.array).ones_like(self.array)  # 1, even for a nan loss
        else:
            if isinstance(gradient, Tensor) and gradient.device != self.device:
                raise RuntimeError(f"backward: the gradient is on {gradient.device} but the tensor is on "
                                   f"{self.device}; move it with gradient.to({str(self.device)!r})")
            seed = gradient.array if isinstance(gradient, Tensor) else as_array(gradient, device=self.device)
            if tuple(seed.shape) != self.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{tuple(seed.shape)} and output[0] has a shape of {self.shape}.")
            seed = seed.astype(self.dtype, copy=False)
        autograd.backward(self, seed, retain_graph=retain_graph)

    # ------------------------------------------------------------------ arithmetic

    def _operand(self, other, dtype):
        """``other`` as a Tensor of ``dtype`` on this tensor's device."""
        if isinstance(other, Tensor):
            return other._cast(dtype)
        return Tensor(backend.to_device(numpy.asarray(other, dtype=dtype), self.device))

    def _binary(self, other, fn, scalar_fn=None, reverse=False, true_divide=False):
        if isinstance(other, numpy.generic):
            other = other.item()
        if not isinstance(other, (Tensor, numbers.Number)) and not backend.is_array(other):
            return NotImplemented
        if backend.is_array(other):
            other = Tensor(other)
        dtype = dtypes.result_dtype(self, other)
        if true_divide and dtype.kind not in "fc":
            dtype = dtypes.get_default_dtype()
        if scalar_fn is not None and not isinstance(other, Tensor):
            return scalar_fn.apply(self._cast(dtype), value=other)
        a, b = self._cast(dtype), self._operand(other, dtype)
        return fn.apply(b, a) if reverse else fn.apply(a, b)

    def __add__(self, other):
        return self._binary(other, ew.Add, ew.AddScalar)

    def __radd__(self, other):
        return self._binary(other, ew.Add, ew.AddScalar, reverse=True)

    def __sub__(self, other):
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            return self._binary(-other, ew.Add, ew.AddScalar)
        return self._binary(other, ew.Sub)

    def __rsub__(self, other):
        return self._binary(other, ew.Sub, reverse=True)

    def __mul__(self, other):
        return self._binary(other, ew.Mul, ew.MulScalar)

    def __rmul__(self, other):
        return self._binary(other, ew.Mul, ew.MulScalar, reverse=True)

    def __truediv__(self, other):
        return self._binary(other, ew.Div, ew.DivScalar, true_divide=True)

    def __rtruediv__(self, other):
        if isinstance(other, numbers.Number):
            return self._binary(other, ew.Div, ew.RDivScalar, true_divide=True)
        return self._binary(other, ew.Div, reverse=True, true_divide=True)

    def __pow__(self, exponent):
        if isinstance(exponent, numpy.generic):
            exponent = exponent.item()
        if isinstance(exponent, numbers.Number):
            dtype = dtypes.result_dtype(self, exponent)
            return ew.PowScalar.apply(self._cast(dtype), exponent=exponent)
        return self._binary(exponent, ew.Pow)

    def __rpow__(self, base):
        if isinstance(base, numbers.Number):
            return self._binary(base, ew.Pow, ew.RPowScalar)
        return self._binary(base, ew.Pow, reverse=True)

    def __neg__(self):
        return ew.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return Tensor(as_array(other, device=self.device)).matmul(self)

    def matmul(self, other):
        other = other if isinstance(other, Tensor) else Tensor(as_array(other, device=self.device))
        _check_matmul(self, other)
        return mm.MatMul.apply(self, other)

    def pow(self, exponent):
        return self ** exponent

    def add(self, other, alpha=1):
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other, alpha=1):
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    # In-place arithmetic follows PyTorch: plain array updates under no_grad() or on
    # tensors outside the graph; an error on a leaf that requires grad; a new graph node
    # (never a silent bypass of autograd) on a non-leaf.

    def _inplace(self, other, ufunc_name, out_of_place):
        if is_grad_enabled():
            if self.requires_grad and self._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                                   "operation. Wrap the update in `with tinynn.no_grad():`.")
            if self.requires_grad or (isinstance(other, Tensor) and other.requires_grad):
                return self._become(out_of_place(self, other), ufunc_name)
        value = other.array if isinstance(other, Tensor) else other
        if isinstance(other, Tensor) and other.device != self.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                               f"two devices, {self.device} and {other.device}!")
        xp = backend.get_array_module(self.array)
        try:
            getattr(xp, ufunc_name)(self.array, value, out=self.array, casting="same_kind")
        except TypeError as exc:  # NumPy's UFuncTypeError is a TypeError
            raise RuntimeError(f"result type of in-place {ufunc_name} can't be cast to the "
                               f"desired output type {self.dtype}") from exc
        except ValueError as exc:
            raise RuntimeError(f"in-place {ufunc_name}: output with shape {self.shape} doesn't match "
                               f"the broadcast shape of the operands ({exc})") from exc
        return self

    def _become(self, result, ufunc_name):
        """Take over ``result``'s array and graph node: every reference to this tensor sees
        the update (``h.add_(1)`` works without rebinding), while the graph keeps the old
        value inside its Functions, so gradients stay right."""
        if result.shape != self.shape:
            raise RuntimeError(f"in-place {ufunc_name}: output with shape {self.shape} doesn't match "
                               f"the broadcast shape {result.shape}")
        if not numpy.can_cast(result.dtype, self.dtype, "same_kind"):
            raise RuntimeError(f"result type of in-place {ufunc_name} can't be cast to the desired "
                               f"output type {self.dtype}")
        result = result._cast(self.dtype)
        old_fn = self._grad_fn
        self.array, self._grad_fn, self._requires_grad = result.array, result._grad_fn, result.requires_grad
        if old_fn is not None and old_fn._retained is not None and old_fn._retained() is self:
            old_fn._retained = None  # retain_grad() follows the tensor to its new node
            self.retain_grad()
        return self

    def __iadd__(self, other):
        return self._inplace(other, "add", Tensor.__add__)

    def __isub__(self, other):
        return self._inplace(other, "subtract", Tensor.__sub__)

    def __imul__(self, other):
        return self._inplace(other, "multiply", Tensor.__mul__)

    def __itruediv__(self, other):
        return self._inplace(other, "true_divide", Tensor.__truediv__)

    def add_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, "add", Tensor.__add__)

    def sub_(self, other, alpha=1):
        return self._inplace(other * alpha if alpha != 1 else other, "subtract", Tensor.__sub__)

    def mul_(self, other):
        return self._inplace(other, "multiply", Tensor.__mul__)

    def div_(self, other):
        return self._inplace(other, "true_divide", Tensor.__truediv__)

    def _check_inplace_allowed(self):
        if is_grad_enabled() and self.requires_grad:
            raise RuntimeError("a Tensor that requires grad is being used in an in-place "
                               "operation. Wrap the update in `with tinynn.no_grad():`.")

    def zero_(self):
        self._check_inplace_allowed()
        self.array[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace_allowed()
        self.array[...] = value.item() if isinstance(value, Tensor) else value
        return self

    def copy_(self, src):
        self._check_inplace_allowed()
        source = src.array if isinstance(src, Tensor) else as_array(src)
        self.array[...] = backend.to_device(source, self.device)
        return self

    def __setitem__(self, key, value):
        if is_grad_enabled() and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
            raise RuntimeError("assigning into a tensor that takes part in autograd is not supported; "
                               "build the result with tinynn.where or tinynn.cat, or assign under "
                               "tinynn.no_grad()")
        if isinstance(value, Tensor):  # copied over from any device, as in PyTorch
            value = backend.to_device(value.array, self.device)
        self.array[self._index_key(key)] = value

    # ------------------------------------------------------------------ comparisons

    def _compare(self, other, name):
        if other is None:
            return name == "not_equal"
        if isinstance(other, numpy.generic):
            other = other.item()
        if isinstance(other, Tensor):
            if other.device != self.device:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                                   f"least two devices, {self.device} and {other.device}!")
            other = other.array
        xp = backend.get_array_module(self.array)
        return Tensor(getattr(xp, name)(self.array, other))

    def __eq__(self, other):
        return self._compare(other, "equal")

    def __ne__(self, other):
        return self._compare(other, "not_equal")

    def __lt__(self, other):
        return self._compare(other, "less")

    def __le__(self, other):
        return self._compare(other, "less_equal")

    def __gt__(self, other):
        return self._compare(other, "greater")

    def __ge__(self, other):
        return self._compare(other, "greater_equal")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def equal(self, other):
        return self.shape == other.shape and bool((self == other).all())

    def all(self):
        return Tensor(self.array.all())

    def any(self):
        return Tensor(self.array.any())

    def __invert__(self):
        if self.dtype != dtypes.bool and self.dtype.kind not in "iu":
            raise TypeError("~ (bitwise not) is only defined for integer and bool tensors")
        return Tensor(~self.array)

    def __and__(self, other):
        return Tensor(self.array & (other.array if isinstance(other, Tensor) else other))

    def __or__(self, other):
        return Tensor(self.array | (other.array if isinstance(other, Tensor) else other))

    # ------------------------------------------------------------------ math

    def exp(self):
        return ew.Exp.apply(self._as_float())

    def log(self):
        return ew.Log.apply(self._as_float())

    def sqrt(self):
        return ew.Sqrt.apply(self._as_float())

    def abs(self):
        return ew.Abs.apply(self)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        min = min.item() if isinstance(min, Tensor) else min
        max = max.item() if isinstance(max, Tensor) else max
        return ew.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def relu(self):
        return activation.ReLU.apply(self)

    def sigmoid(self):
        return activation.Sigmoid.apply(self._as_float())

    def tanh(self):
        return activation.Tanh.apply(self._as_float())

    def softmax(self, dim):
        return activation.Softmax.apply(self._as_float(), dim=_normalize_dim(dim, self.ndim))

    def log_softmax(self, dim):
        return activation.LogSoftmax.apply(self._as_float(), dim=_normalize_dim(dim, self.ndim))

    def maximum(self, other):
        dtype = dtypes.result_dtype(self, other)
        return ew.Maximum.apply(self._cast(dtype), self._operand(other, dtype))

    def minimum(self, other):
        dtype = dtypes.result_dtype(self, other)
        return ew.Minimum.apply(self._cast(dtype), self._operand(other, dtype))

    def _as_float(self):
        return self if self.dtype.kind in "fc" else self._cast(dtypes.get_default_dtype())

    # ------------------------------------------------------------------ reductions

    def _axes(self, dim):
        if dim is None:
            return None
        axes = _normalize_dim(dim, self.ndim)
        return axes if isinstance(axes, tuple) else (axes,)

    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self._cast(dtype) if dtype is not None else self
        if x.dtype.kind in "bui" and dtype is None:
            x = x._cast(dtypes.int64)  # bool.sum() and int.sum() are int64, as in PyTorch
        return red.Sum.apply(x, axis=x._axes(dim) if x.ndim else None, keepdims=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self._cast(dtype) if dtype is not None else self
        if x.dtype.kind not in "fc":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {x.dtype}")
        return red.Mean.apply(x, axis=x._axes(dim) if x.ndim else None, keepdims=keepdim)

    def _extreme(self, dim, keepdim, largest):
        if dim is None:
            if self.numel() == 0:
                raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0.")
            return red.MaxAll.apply(self, largest=largest)
        axis = _normalize_dim(dim, self.ndim)
        if self.ndim == 0:
            return (MaxResult if largest else MinResult)(self, Tensor(self.array.astype(numpy.int64) * 0))
        xp = backend.get_array_module(self.array)
        # argmax returns the first extreme, so the gradient goes to that one element.
        index = (xp.argmax if largest else xp.argmin)(self.array, axis=axis)
        index = xp.expand_dims(index, axis)
        values = red.TakeAlongDim.apply(self, indices=index, dim=axis)
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return (MaxResult if largest else MinResult)(values, Tensor(index.astype(numpy.int64)))

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim, keepdim, largest=True)

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim, keepdim, largest=False)

    def _arg(self, dim, keepdim, largest):
        xp = backend.get_array_module(self.array)
        find = xp.argmax if largest else xp.argmin
        if dim is None:
            index = find(self.array.reshape(-1))
            return Tensor(index.reshape((1,) * self.ndim if keepdim else ()).astype(numpy.int64))
        axis = _normalize_dim(dim, self.ndim)
        index = find(self.array, axis=axis) if self.ndim else self.array.astype(numpy.int64) * 0
        if keepdim and self.ndim:
            index = xp.expand_dims(index, axis)
        return Tensor(index.astype(numpy.int64))

    def argmax(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, largest=True)

    def argmin(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, largest=False)

    # ------------------------------------------------------------------ shape

    def reshape(self, *shape):
        shape = _shape_args(shape)
        if shape == self.shape:
            return self
        try:
            new_shape = _resolve_shape(shape, self.numel())
        except ValueError as exc:
            raise RuntimeError(str(exc)) from None
        return sh.Reshape.apply(self, shape=new_shape)

    def view(self, *shape):
        """Like ``reshape``, but never copies: an error when the strides do not allow it."""
        out = self.reshape(*shape)
        # A reshape that had to copy starts in a new buffer; a true view starts where we do.
        if out is not self and self.numel() and \
                backend.data_pointer(out.array) != backend.data_pointer(self.array):
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return out

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = _normalize_dim(start_dim, self.ndim), _normalize_dim(end_dim, self.ndim)
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shape = self.shape
        return self.reshape(shape[:start] + (int(numpy.prod(shape[start:end + 1])),) + shape[end + 1:])

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = _normalize_dim(dim if isinstance(dim, (tuple, list)) else (dim,), self.ndim)
            shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        axis = _normalize_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims):
        dims = _normalize_dim(_shape_args(dims), self.ndim)
        if sorted(dims) != list(range(self.ndim)):
            raise RuntimeError(f"permute(): dims {dims} are not a permutation of the "
                               f"{self.ndim} dimensions of a tensor of shape {self.shape}")
        return sh.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        a, b = _normalize_dim(dim0, self.ndim), _normalize_dim(dim1, self.ndim)
        dims[a], dims[b] = dims[b], dims[a]
        return sh.Permute.apply(self, dims=tuple(dims)) if self.ndim > 1 else self

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim))) if self.ndim > 1 else self

    def expand(self, *sizes):
        sizes = _shape_args(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                               f"or equal to the number of dimensions in the tensor ({self.ndim})")
        if -1 in sizes[:lead]:
            raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension "
                               f"(sizes {sizes} for a tensor of shape {self.shape})")
        shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
        try:
            numpy.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor {shape} must match the existing "
                               f"size {self.shape} at non-singleton dimensions") from None
        return sh.Expand.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    # ------------------------------------------------------------------ indexing

    def _index_key(self, key):
        """Tensors and lists inside an index become arrays on this tensor's device."""
        if isinstance(key, tuple):
            return tuple(self._index_key(k) for k in key)
        if isinstance(key, Tensor):
            if key.device != self.device:
                raise RuntimeError(f"indices should be on the same device as the indexed tensor "
                                   f"({key.device} vs {self.device})")
            return key.array
        if isinstance(key, list):
            return backend.to_device(numpy.asarray(key), self.device)
        return key

    def __getitem__(self, key):
        key = self._index_key(key)
        try:
            return sh.GetItem.apply(self, key=key)
        except IndexError as exc:
            raise IndexError(f"{exc} (indexing a tensor of shape {self.shape})") from None

    # ------------------------------------------------------------------ printing

    def __repr__(self):
        values = backend.to_numpy(self.array)
        finite = values[numpy.isfinite(values)] if values.dtype.kind == "f" else values
        # As PyTorch: whole numbers print as "1.", anything else with 4 decimals ("1.5000").
        mode = "maxprec" if values.dtype.kind != "f" or numpy.all(finite == numpy.round(finite)) else "fixed"
        body = numpy.array2string(values, separator=", ", prefix="tensor(", precision=4, floatmode=mode)
        extras = []
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool):
            extras.append(f"dtype=tinynn.{self.dtype}")
        if self._grad_fn is not None:
            extras.append(f"grad_fn=<{self._grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"


def parse_to_args(args, kwargs):
    """``(device, dtype)`` from the arguments of ``Tensor.to`` / ``Module.to`` (None: keep)."""
    kwargs = dict(kwargs)
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, (str, backend.Device)):
            device = arg
        elif arg is not None:
            dtype = arg
    return device, dtype


def _resolve_shape(shape, size):
    """Fill in one -1 and check the element count, with PyTorch's error message."""
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise ValueError("only one dimension can be inferred")
    known = int(numpy.prod([n for n in shape if n != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif known != size or any(n < 0 for n in shape):
        raise ValueError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return shape


def _check_matmul(a, b):
    """Raise PyTorch's errors for operands that cannot be multiplied."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    if a.ndim == 1 and b.ndim == 1 and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        rows = int(numpy.prod(a.shape[:-1])) if a.ndim > 1 else 1
        cols = b.shape[-1] if b.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({rows}x{inner_a} and {inner_b}x{cols})")
    try:
        numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
