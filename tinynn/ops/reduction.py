"""Reductions: sum, mean, max/min (over everything or along a dim), argmax/argmin."""
import builtins
import collections

import numpy

from .. import dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..checks import accepts_axis, normalize_dim
from ..tensor import Tensor, register_methods
from .arithmetic import maximum, minimum
from .conversion import cast
from .indexing import TakeAlongDim

__all__ = ["sum", "mean", "max", "min", "argmax", "argmin", "all", "any"]

# max(dim) / min(dim) return (values, indices) under these names, as PyTorch does.
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def expand_back(grad, shape, axis, keepdims):
    """Give a reduced gradient its reduced axes back so it broadcasts against ``shape``."""
    if axis is None:
        return grad.reshape((1,) * len(shape))
    if not keepdims:
        for a in sorted(axis):
            grad = get_array_module(grad).expand_dims(grad, a)
    return grad


def reduced_axes(input, dim):
    """``dim`` (None, an int or a tuple) as a tuple of non-negative axes, or None for all."""
    if dim is None or input.ndim == 0:
        return None
    axes = normalize_dim(dim, input.ndim)
    return axes if isinstance(axes, tuple) else (axes,)


class Sum(Function):
    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        return xp.broadcast_to(g, self.shape).copy()  # a writable array of its own


class Mean(Function):
    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        out = x.mean(axis=axis, keepdims=keepdims)
        self.count = builtins.max(x.size // builtins.max(out.size, 1), 1) if x.size else 1
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        xp = get_array_module(grad)
        g = expand_back(grad, self.shape, self.axis, self.keepdims) / grad.dtype.type(self.count)
        return xp.broadcast_to(g, self.shape).astype(grad.dtype)


class MaxAll(Function):
    """Max (or min) over all elements; ties share the gradient evenly, as PyTorch."""

    def forward(self, x, *, largest=True):
        out = x.max() if largest else x.min()
        self.save_for_backward(x, out)
        return out

    def backward(self, grad):
        x, out = self.saved_arrays
        winners = (x == out)
        return (winners * (grad / winners.sum())).astype(grad.dtype, copy=False)


@accepts_axis
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum over ``dim`` (an int, a tuple, or None for everything); bool and integer
    tensors sum to int64, as in PyTorch."""
    x = cast(input, dtype) if dtype is not None else input
    if x.dtype.kind in "bui" and dtype is None:
        x = cast(x, dtypes.int64)
    return Sum.apply(x, axis=reduced_axes(x, dim), keepdims=keepdim)


@accepts_axis
def mean(input, dim=None, keepdim=False, *, dtype=None):
    x = cast(input, dtype) if dtype is not None else input
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype}")
    return Mean.apply(x, axis=reduced_axes(x, dim), keepdims=keepdim)


def _extreme(input, dim, keepdim, largest):
    result = MaxResult if largest else MinResult
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be "
                               f"specified for input.numel() == 0.")
        return MaxAll.apply(input, largest=largest)
    axis = normalize_dim(dim, input.ndim)
    if input.ndim == 0:
        return result(input, Tensor(input.array.astype(numpy.int64) * 0))
    xp = get_array_module(input.array)
    # argmax returns the first extreme, so the gradient goes to that one element.
    index = (xp.argmax if largest else xp.argmin)(input.array, axis=axis)
    index = xp.expand_dims(index, axis)
    values = TakeAlongDim.apply(input, indices=index, dim=axis)
    if not keepdim:
        values, index = values.squeeze(axis), index.squeeze(axis)
    return result(values, Tensor(index.astype(numpy.int64)))


@accepts_axis
def max(input, dim=None, keepdim=False):
    """The largest element; with ``dim``, ``(values, indices)`` along it; with a tensor as
    second argument, the elementwise maximum."""
    if isinstance(dim, Tensor):
        return maximum(input, dim)
    return _extreme(input, dim, keepdim, largest=True)


@accepts_axis
def min(input, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    return _extreme(input, dim, keepdim, largest=False)


def _arg(input, dim, keepdim, largest):
    xp = get_array_module(input.array)
    find = xp.argmax if largest else xp.argmin
    if dim is None:
        index = find(input.array.reshape(-1))
        return Tensor(index.reshape((1,) * input.ndim if keepdim else ()).astype(numpy.int64))
    axis = normalize_dim(dim, input.ndim)
    index = find(input.array, axis=axis) if input.ndim else input.array.astype(numpy.int64) * 0
    if keepdim and input.ndim:
        index = xp.expand_dims(index, axis)
    return Tensor(index.astype(numpy.int64))


@accepts_axis
def argmax(input, dim=None, keepdim=False):
    """The index of the first largest element (of the flattened tensor when ``dim`` is None)."""
    return _arg(input, dim, keepdim, largest=True)


@accepts_axis
def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, largest=False)


def all(input):
    """True when every element is nonzero, as a bool tensor."""
    return Tensor(get_array_module(input.array).asarray(input.array.all()))


def any(input):
    return Tensor(get_array_module(input.array).asarray(input.array.any()))


register_methods(sum, mean, max, min, argmax, argmin, all, any)
