"""Reductions: sum, mean, prod, max/min/amax/amin, argmax/argmin, all/any, logsumexp,
nansum/nanmean, and the running (cumulative) sum and product.

A reduction of an ``input`` of shape ``(d0, ..., dn)`` over ``dim`` (an int, a tuple of
ints, or None for every dim) drops the reduced dims, or keeps them with size 1 when
``keepdim=True``; NumPy's spellings ``axis=`` and ``keepdims=`` are accepted too. Inside
this module ``sum``, ``max``, ``min``, ``all`` and ``any`` are the tinynn functions: the
Python builtins are reached as ``builtins.max`` and so on.
"""
import builtins
import collections

import numpy

from .. import dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..checks import accepts_axis, normalize_dim
from ..tensor import Tensor, register_methods
from .arithmetic import maximum, minimum
from .conversion import as_float, cast
from .indexing import TakeAlongDim
from .layout import allocate_in_order, memory_order

__all__ = ["sum", "mean", "max", "min", "argmax", "argmin", "prod", "amax", "amin", "all", "any",
           "logsumexp", "cumsum", "cumprod", "nansum", "nanmean"]

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


def checked_axes(input, dim):
    """``reduced_axes`` that also rejects a dim named twice, as PyTorch does; an empty
    tuple means every dim (PyTorch's default for ``amax``)."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return None
    axes = reduced_axes(input, dim)
    if axes is not None and len(set(axes)) != len(axes):
        twice = next(a for a in axes if axes.count(a) > 1)
        raise RuntimeError(f"dim {twice} appears multiple times in the list of dims")
    return axes


def drop_axes(a, axis, keepdims):
    """A result computed with ``keepdims=True``, in the shape the caller asked for."""
    if keepdims:
        return a
    if axis is None:
        return a.reshape(())
    return a.reshape(tuple(n for i, n in enumerate(a.shape) if i not in axis))


def reverse_cumsum(a, axis):
    """``out[i] = a[i] + a[i+1] + ...`` along ``axis``: the adjoint of cumsum."""
    xp = get_array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis), axis)


def int64_if_integral(x, dtype=None):
    """``x`` cast to ``dtype``, or bools and integers to int64 (PyTorch's rule for sum,
    prod, cumsum and cumprod)."""
    if dtype is not None:
        return cast(x, dtype)
    return cast(x, dtypes.int64) if x.dtype.kind in "bui" else x


def _check_float(input, name):
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype}")


# ---------------------------------------------------------------------------- sum, mean, max, min


def spread_back(grad, shape, order):
    """The reduced gradient ``grad`` (reduced axes restored) copied over ``shape``, laid out in
    memory ``order`` like the reduction's input: a writable array of its own, which the
    next backward's passes read along one memory order (a global average pool's input is
    batch-last)."""
    out = allocate_in_order(get_array_module(grad), shape, grad.dtype, order, None)
    out[...] = grad
    return out


class Sum(Function):
    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.order = memory_order(x)
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        return spread_back(expand_back(grad, self.shape, self.axis, self.keepdims), self.shape,
                           self.order)


class Mean(Function):
    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.order = memory_order(x)
        out = x.mean(axis=axis, keepdims=keepdims)
        self.count = builtins.max(x.size // builtins.max(out.size, 1), 1) if x.size else 1
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        g = expand_back(grad, self.shape, self.axis, self.keepdims) / grad.dtype.type(self.count)
        return spread_back(g.astype(grad.dtype, copy=False), self.shape, self.order)


@accepts_axis
def sum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum over ``dim`` (an int, a tuple, or None for everything); bool and integer
    tensors sum to int64, as in PyTorch."""
    x = int64_if_integral(input, dtype)
    return Sum.apply(x, axis=checked_axes(x, dim), keepdims=keepdim)


@accepts_axis
def mean(input, dim=None, keepdim=False, *, dtype=None):
    x = cast(input, dtype) if dtype is not None else input
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {x.dtype}")
    return Mean.apply(x, axis=checked_axes(x, dim), keepdims=keepdim)


def _extreme(input, dim, keepdim, largest):
    result = MaxResult if largest else MinResult
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be "
                               f"specified for input.numel() == 0.")
        return AMax.apply(input, largest=largest)  # ties share the gradient evenly
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


# ---------------------------------------------------------------------------- prod


class Prod(Function):
    """Product over one axis (or all). Exact with zeros: d/dx_i is the product of the
    others, which is 0 whenever another element of the slice is 0."""

    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.save_for_backward(x)
        return x.prod(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        x, = self.saved_arrays
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        is_zero = x == 0
        zeros = is_zero.sum(axis=self.axis, keepdims=True)
        safe = xp.where(is_zero, x.dtype.type(1), x)
        rest = safe.prod(axis=self.axis, keepdims=True)  # product of the non-zero elements
        # no zero: prod / x_i;  one zero: that element gets the rest, the others 0;  more: 0
        local = xp.where(zeros == 0, rest / safe, xp.where(is_zero & (zeros == 1), rest, 0))
        return (g * local).astype(grad.dtype, copy=False)


@accepts_axis
def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product of all elements, or along the one dim ``dim``; integers give int64."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    x = int64_if_integral(input, dtype)
    return Prod.apply(x, axis=reduced_axes(x, dim), keepdims=keepdim)


# ---------------------------------------------------------------------------- amax / amin


class AMax(Function):
    """Max (or min) over axes; ties within a reduced slice share the gradient evenly."""

    def forward(self, x, *, axis=None, keepdims=False, largest=True):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        out = x.max(axis=axis, keepdims=True) if largest else x.min(axis=axis, keepdims=True)
        self.save_for_backward(x, out)
        return drop_axes(out, axis, keepdims)

    def backward(self, grad):
        x, out = self.saved_arrays
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        winners = x == out
        count = winners.sum(axis=self.axis, keepdims=True).astype(grad.dtype)
        return (winners * (g / count)).astype(grad.dtype, copy=False)


def _amax(input, dim, keepdim, largest):
    axes = checked_axes(input, dim)
    name = "amax" if largest else "amin"
    if axes is None and input.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                           f"input.numel() == 0.")
    for a in axes or ():
        if input.shape[a] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {a} to have non-zero size.")
    return AMax.apply(input, axis=axes, keepdims=keepdim, largest=largest)


@accepts_axis
def amax(input, dim=(), keepdim=False):
    """The largest value over ``dim`` (an int, a tuple, or every dim); ties share the gradient."""
    return _amax(input, dim, keepdim, largest=True)


@accepts_axis
def amin(input, dim=(), keepdim=False):
    return _amax(input, dim, keepdim, largest=False)


# ---------------------------------------------------------------------------- all / any


def _logical(input, dim, keepdim, reduce):
    axes = checked_axes(input, dim)
    out = reduce(input.array, axis=axes, keepdims=keepdim)
    # bool for every dtype except uint8, which stays uint8 (PyTorch's documented exception)
    return Tensor(out.astype(dtypes.uint8) if input.dtype == dtypes.uint8 else out)


@accepts_axis
def all(input, dim=None, keepdim=False):
    """True where every element over ``dim`` (or of the whole tensor) is nonzero."""
    return _logical(input, dim, keepdim, get_array_module(input.array).all)


@accepts_axis
def any(input, dim=None, keepdim=False):
    """True where some element over ``dim`` (or of the whole tensor) is nonzero."""
    return _logical(input, dim, keepdim, get_array_module(input.array).any)


# ---------------------------------------------------------------------------- logsumexp


class LogSumExp(Function):
    """log(sum(exp(x))) over axes, computed as m + log(sum(exp(x - m))) with m the max, so
    logits of 1e4 stay finite. The gradient is the softmax exp(x - m - log(sum(...)))."""

    def forward(self, x, *, axis=None, keepdims=False):
        xp = get_array_module(x)
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, x.dtype.type(0))  # all -inf (or an inf): shift by 0
        shifted = x - m
        with numpy.errstate(divide="ignore"):  # log(0) = -inf is the answer for all -inf
            log_total = xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        # softmax from the shifted logits: m + log_total would round away 1e-4 at 1e4 in float32
        self.save_for_backward(shifted, log_total)
        return drop_axes(log_total + m, axis, keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        shifted, log_total = self.saved_arrays
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        return (xp.exp(shifted - log_total) * g).astype(grad.dtype, copy=False)


@accepts_axis
def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim`` (an int or a tuple), numerically stable;
    integer input gives the default float dtype."""
    x = as_float(input)
    return LogSumExp.apply(x, axis=checked_axes(x, dim), keepdims=keepdim)


# ---------------------------------------------------------------------------- cumsum / cumprod


class CumSum(Function):
    def forward(self, x, *, axis):
        self.axis = axis
        return get_array_module(x).cumsum(x, axis=axis).reshape(x.shape)  # axis None: 0-d

    def backward(self, grad):
        return reverse_cumsum(grad, self.axis).reshape(grad.shape)


class CumProd(Function):
    """Cumulative product. Backward is exact with zeros: with z the first zero of a slice,
    elements before z get ``reverse_cumsum(g * out) / x``; z itself gets the same sum
    computed with x_z replaced by 1; elements after z get 0 (every term holds x_z)."""

    def forward(self, x, *, axis):
        xp = get_array_module(x)
        self.axis = axis
        out = xp.cumprod(x, axis=axis).reshape(x.shape)
        self.save_for_backward(x, out)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        x, out = self.saved_arrays
        axis = self.axis
        if axis is None:  # a 0-d tensor: y = x
            return grad.copy()
        zeros_so_far = xp.cumsum(x == 0, axis=axis)
        before = zeros_so_far == 0
        first = (x == 0) & (zeros_so_far == 1)
        safe = xp.where(before, x, x.dtype.type(1))
        g_before = reverse_cumsum(grad * out, axis) / safe
        out_without_first = xp.cumprod(xp.where(first, x.dtype.type(1), x), axis=axis)
        g_first = reverse_cumsum(grad * out_without_first, axis)
        gx = xp.where(before, g_before, xp.where(first, g_first, x.dtype.type(0)))
        return gx.astype(grad.dtype, copy=False)


def _cumulative(function, input, dim, dtype):
    x = int64_if_integral(input, dtype)
    axis = normalize_dim(dim, x.ndim)
    return function.apply(x, axis=axis if x.ndim else None)


@accepts_axis
def cumsum(input, dim, *, dtype=None):
    """Running sum along ``dim``: ``out[i] = x[0] + ... + x[i]``; integers give int64."""
    return _cumulative(CumSum, input, dim, dtype)


@accepts_axis
def cumprod(input, dim, *, dtype=None):
    """Running product along ``dim``: ``out[i] = x[0] * ... * x[i]``; exact gradient with zeros."""
    return _cumulative(CumProd, input, dim, dtype)


# ---------------------------------------------------------------------------- nansum / nanmean


class NanSum(Function):
    """Sum (or mean, ``mean=True``) of the non-NaN elements; NaNs get a zero gradient."""

    def forward(self, x, *, axis=None, keepdims=False, mean=False):
        xp = get_array_module(x)
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        keep = ~xp.isnan(x) if x.dtype.kind in "fc" else xp.ones(x.shape, dtype=bool)
        out = xp.where(keep, x, x.dtype.type(0)).sum(axis=axis, keepdims=True)
        count = keep.sum(axis=axis, keepdims=True).astype(x.dtype) if mean else None
        if mean:
            with numpy.errstate(invalid="ignore"):  # an all-NaN slice: 0/0 = NaN, as PyTorch
                out = out / count
        self.save_for_backward(keep, count)
        return drop_axes(out, axis, keepdims)

    def backward(self, grad):
        keep, count = self.saved_arrays
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        if count is not None:
            with numpy.errstate(invalid="ignore", divide="ignore"):
                g = g / count
        return (keep * g).astype(grad.dtype, copy=False)


@accepts_axis
def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum over ``dim`` treating NaN as zero; integers give int64."""
    x = int64_if_integral(input, dtype)
    return NanSum.apply(x, axis=checked_axes(x, dim), keepdims=keepdim)


@accepts_axis
def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean of the non-NaN elements over ``dim`` (NaN where a slice has none)."""
    x = cast(input, dtype) if dtype is not None else input
    _check_float(x, "nanmean")
    return NanSum.apply(x, axis=checked_axes(x, dim), keepdims=keepdim, mean=True)


register_methods(sum, mean, max, min, argmax, argmin, prod, amax, amin, all, any, logsumexp, cumsum,
                 cumprod, nansum, nanmean)
