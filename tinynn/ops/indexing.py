"""Indexing and writing: ``x[key]``, ``x[key] = v``, ``where``, ``fill_``, ``zero_``, ``copy_``.

``x[key]`` is differentiable for ints, slices, None, Ellipsis, integer arrays (repeated
indices add up in backward) and boolean masks.
"""
import numpy

from .. import backend, dtypes
from ..autograd import Function
from ..backend import get_array_module, scatter_add
from ..checks import check_same_device
from ..tensor import Tensor, as_array, is_grad_recording, register_methods
from .arithmetic import sum_to_shape
from .conversion import cast
from .inplace import check_inplace_allowed

__all__ = ["where"]


def _has_integer_array(key):
    """True when the index has an integer array, where one element can be picked twice."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "dtype") and k.dtype.kind in "iu" for k in parts)


class GetItem(Function):
    """``x[key]`` for ints, slices, None, Ellipsis, integer arrays and boolean masks."""

    backward_name = "IndexBackward0"

    def forward(self, x, *, key):
        self.shape, self.key = x.shape, key  # the key may hold index arrays: small, kept as is
        return x[key]

    def backward(self, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(self.shape, dtype=grad.dtype)
        if _has_integer_array(self.key):
            scatter_add(gx, self.key, grad)  # repeated indices must add up
        else:
            gx[self.key] = grad
        return gx

    def _free(self):
        self.key = None
        super()._free()


class TakeAlongDim(Function):
    """``take_along_axis(x, indices, dim)``: gathers one value per index (used by max(dim)).

    The indices along ``dim`` are distinct per slice, so backward can assign, not add.
    """

    backward_name = "GatherBackward0"

    def forward(self, x, *, indices, dim):
        xp = get_array_module(x)
        self.shape, self.dim = x.shape, dim
        self.save_for_backward(indices)
        return xp.take_along_axis(x, indices, axis=dim)

    def backward(self, grad):
        xp = get_array_module(grad)
        indices, = self.saved_arrays
        gx = xp.zeros(self.shape, dtype=grad.dtype)
        xp.put_along_axis(gx, indices, grad, axis=self.dim)
        return gx


class Where(Function):
    """``where(condition, a, b)``; the condition is a fixed boolean array, not an input."""

    def forward(self, a, b, *, condition):
        self.a_shape, self.b_shape = a.shape, b.shape
        self.save_for_backward(condition)
        return get_array_module(a).where(condition, a, b)

    def backward(self, grad):
        condition, = self.saved_arrays
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        ga = sum_to_shape(xp.where(condition, grad, zero), self.a_shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(xp.where(condition, zero, grad), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


def index_key(tensor, key):
    """Tensors and lists inside an index become arrays on ``tensor``'s device."""
    if isinstance(key, tuple):
        return tuple(index_key(tensor, k) for k in key)
    if isinstance(key, Tensor):
        if key.device != tensor.device:
            raise RuntimeError(f"indices should be on the same device as the indexed tensor "
                               f"({key.device} vs {tensor.device})")
        return key.array
    if isinstance(key, list):
        return backend.to_device(numpy.asarray(key), tensor.device)
    return key


def _getitem(self, key):
    key = index_key(self, key)
    try:
        return GetItem.apply(self, key=key)
    except IndexError as exc:
        raise IndexError(f"{exc} (indexing a tensor of shape {tuple(self.shape)})") from None


def _setitem(self, key, value):
    if is_grad_recording(self, value):
        raise RuntimeError("assigning into a tensor that takes part in autograd is not supported; "
                           "build the result with tinynn.where or tinynn.cat, or assign under "
                           "tinynn.no_grad()")
    if isinstance(value, Tensor):  # copied over from any device, as in PyTorch
        value = backend.to_device(value.array, self.device)
    self.array[index_key(self, key)] = value


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (differentiable).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.
    """
    if input is None and other is None:
        return tuple(Tensor(i.astype(numpy.int64)) for i in condition.array.nonzero())
    like = next((t for t in (input, other, condition) if isinstance(t, Tensor)), None)
    device = like.device if like is not None else None  # where(cond, 1.0, 0.0) has no tensor
    if isinstance(condition, Tensor):
        check_same_device("where", (condition, like))
    dtype = dtypes.result_dtype(input, other)
    a = cast(input, dtype) if isinstance(input, Tensor) else Tensor(as_array(input, dtype, device))
    b = cast(other, dtype) if isinstance(other, Tensor) else Tensor(as_array(other, dtype, device))
    cond = condition.array if isinstance(condition, Tensor) else as_array(condition, device=device)
    return Where.apply(a, b, condition=cond.astype(bool))


def zero_(self):
    """Fill with zeros in place."""
    check_inplace_allowed(self)
    self.array[...] = 0
    return self


def fill_(self, value):
    check_inplace_allowed(self)
    self.array[...] = value.item() if isinstance(value, Tensor) else value
    return self


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, from any device, cast to this dtype) into this tensor."""
    check_inplace_allowed(self)
    source = src.array if isinstance(src, Tensor) else as_array(src)
    self.array[...] = backend.to_device(source, self.device)
    return self


def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``where(condition, x, y)``."""
    return where(condition, self, other)


register_methods(zero_, fill_, copy_, where=_where_method, __getitem__=_getitem,
                 __setitem__=_setitem)
