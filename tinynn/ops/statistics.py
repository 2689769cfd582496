"""Statistics: variance and standard deviation (and their means), the median, and norms.

Every function reduces an ``input`` of shape ``(d0, ..., dn)`` over ``dim`` (an int, a
tuple of ints, or None for every dim); ``keepdim=True`` keeps each reduced dim with size 1.

The variance is PyTorch's

    var = sum((x - mean)^2) / max(0, N - correction)

where N counts the reduced elements and ``correction=1`` (Bessel's) is the default. When
``N - correction <= 0`` the division by zero is kept (inf, or NaN for 0/0) and a warning
says so: a variance of one sample is unknown, not 0.

The norm is the vector norm ``sum(|x|^p)^(1/p)`` over the reduced dims (max |x| and min |x|
for p = inf and -inf, the count of nonzeros for p = 0); ``'fro'`` is p = 2 over at most
two dims and ``'nuc'`` the sum of singular values of the matrices spanned by two dims.
"""
import builtins
import collections
import math
import warnings

import numpy

from ..autograd import Function
from ..backend import get_array_module
from ..checks import accepts_axis, normalize_dim
from ..tensor import Tensor, register_methods
from .conversion import cast
from .indexing import TakeAlongDim
from .reduction import checked_axes, drop_axes, expand_back, mean

__all__ = ["var", "std", "var_mean", "std_mean", "median", "norm"]

# median(dim) returns (values, indices) under these names, as PyTorch does.
MedianResult = collections.namedtuple("median", ["values", "indices"])


# ---------------------------------------------------------------------------- var / std


class Var(Function):
    """Variance over ``axis`` of ``count`` elements each; ``sqrt=True`` gives the std."""

    def forward(self, x, *, axis, keepdims, correction, count, sqrt=False):
        xp = get_array_module(x)
        self.shape, self.axis, self.keepdims, self.sqrt = x.shape, axis, keepdims, sqrt
        self.dof = x.dtype.type(builtins.max(0, count - correction))
        diff = x - x.mean(axis=axis, keepdims=True)
        with numpy.errstate(divide="ignore", invalid="ignore"):  # dof 0: inf or NaN, documented
            out = (diff * diff).sum(axis=axis, keepdims=True) / self.dof
        if sqrt:
            out = xp.sqrt(out)
        self.save_for_backward(diff, out)
        return drop_axes(out, axis, keepdims).astype(x.dtype, copy=False)

    def backward(self, grad):
        xp = get_array_module(grad)
        diff, out = self.saved_arrays
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        with numpy.errstate(divide="ignore", invalid="ignore"):
            if self.sqrt:  # d std/dx = diff / (dof * std); a constant slice (std 0) gets 0
                scale = xp.where(out == 0, grad.dtype.type(0), g / (out * self.dof))
            else:          # d var/dx = 2 diff / dof
                scale = g * (grad.dtype.type(2) / self.dof)
        return (scale * diff).astype(grad.dtype, copy=False)


def _correction(name, dim, unbiased, correction):
    """Resolve PyTorch's spellings: ``x.std(False)`` (unbiased first), ``x.std(0, False)``
    (legacy dim, unbiased) and ``x.std(0, correction=2)``; returns ``(dim, correction)``."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise TypeError(f"{name}(): got 'unbiased' twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass either unbiased= or correction=, not both")
    if correction is None:
        correction = 1 if unbiased is None else int(unbiased)
    return dim, correction


def _variance(name, input, dim, unbiased, keepdim, correction, sqrt):
    """The variance (or std) and the axes it reduced, after PyTorch's checks and warning."""
    if input.dtype.kind not in "fc":
        raise RuntimeError(f"{name}(): std and var only support floating point and complex "
                           f"dtypes, got {input.dtype}")
    dim, correction = _correction(name, dim, unbiased, correction)
    axes = checked_axes(input, dim)
    count = input.numel() if axes is None else math.prod(input.shape[a] for a in axes)
    if count - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      f"less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
    out = Var.apply(input, axis=axes, keepdims=keepdim, correction=correction, count=count,
                    sqrt=sqrt)
    return out, axes


@accepts_axis
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with ``correction`` (default 1: the unbiased estimate)."""
    return _variance("var", input, dim, unbiased, keepdim, correction, sqrt=False)[0]


@accepts_axis
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``: ``sqrt(var)``, with the same arguments as ``var``."""
    return _variance("std", input, dim, unbiased, keepdim, correction, sqrt=True)[0]


@accepts_axis
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over the same dims."""
    out, axes = _variance("var_mean", input, dim, unbiased, keepdim, correction, sqrt=False)
    return out, mean(input, axes, keepdim)


@accepts_axis
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over the same dims."""
    out, axes = _variance("std_mean", input, dim, unbiased, keepdim, correction, sqrt=True)
    return out, mean(input, axes, keepdim)


# ---------------------------------------------------------------------------- median


class MedianAll(Function):
    """The lower median of all elements (NaN if there is one). As for ``max()``, elements
    equal to the result share the gradient evenly."""

    def forward(self, x):
        xp = get_array_module(x)
        ordered = xp.sort(x.reshape(-1))  # NaNs sort last, in NumPy and CuPy alike
        last = ordered[-1]
        out = ordered[(x.size - 1) // 2]
        if x.dtype.kind == "f":
            out = xp.where(xp.isnan(last), last, out)
        self.save_for_backward(x, out)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        x, out = self.saved_arrays
        winners = (x == out) | (xp.isnan(x) & xp.isnan(out))
        return (winners * (grad / winners.sum().astype(grad.dtype))).astype(grad.dtype, copy=False)


def _median_along(input, dim, keepdim):
    x = input if input.ndim else input.reshape(1)
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    xp = get_array_module(x.array)
    order = xp.argsort(x.array, axis=axis)  # NaNs sort last
    index = xp.expand_dims(xp.take(order, (n - 1) // 2, axis=axis), axis)
    if x.dtype.kind == "f":  # a slice holding NaN reduces to NaN (at the index of one)
        last = xp.expand_dims(xp.take(order, n - 1, axis=axis), axis)
        has_nan = xp.isnan(xp.take_along_axis(x.array, last, axis=axis))
        index = xp.where(has_nan, last, index)
    values = TakeAlongDim.apply(x, indices=index, dim=axis)
    if not keepdim or not input.ndim:
        values, index = values.squeeze(axis), index.squeeze(axis)
    return MedianResult(values, Tensor(index.astype(numpy.int64)))


@accepts_axis
def median(input, dim=None, keepdim=False):
    """The lower of the two middle values (no mean of them). Without ``dim``: a 0-d tensor
    for all elements; with ``dim``: ``(values, indices)``, the gradient going to the index."""
    if dim is not None:
        return _median_along(input, dim, keepdim)
    if input.numel() == 0:
        raise RuntimeError("median() input tensor cannot be empty")
    return MedianAll.apply(input)


# ---------------------------------------------------------------------------- norm


class VectorNorm(Function):
    """``sum(|x|^p)^(1/p)`` over ``axis``; max/min |x| for p = +-inf; count of nonzeros for 0."""

    def forward(self, x, *, p, axis, keepdims):
        xp = get_array_module(x)
        self.shape, self.axis, self.keepdims, self.p = x.shape, axis, keepdims, p
        a = xp.abs(x)
        if p == math.inf:
            out = a.max(axis=axis, keepdims=True)
        elif p == -math.inf:
            out = a.min(axis=axis, keepdims=True)
        elif p == 0:
            out = (a != 0).sum(axis=axis, keepdims=True).astype(x.dtype)
        elif p == 1:
            out = a.sum(axis=axis, keepdims=True)
        elif p == 2:
            out = xp.sqrt((x * x).sum(axis=axis, keepdims=True))
        else:
            out = (a ** x.dtype.type(p)).sum(axis=axis, keepdims=True) ** x.dtype.type(1 / p)
        self.save_for_backward(x, out)
        return drop_axes(out, axis, keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        x, out = self.saved_arrays
        g = expand_back(grad, self.shape, self.axis, self.keepdims)
        p, one = self.p, x.dtype.type(1)
        if p == 0:  # a step function of x: zero gradient
            return xp.zeros(x.shape, dtype=grad.dtype)
        sign = xp.sign(x)
        if p == 1:
            local = sign
        elif math.isinf(p):  # ties for the max (min) |x| share it, as amax does
            winners = xp.abs(x) == out
            local = sign * winners / winners.sum(axis=self.axis, keepdims=True).astype(x.dtype)
        else:  # sign(x) (|x| / norm)^(p-1); 0 at x = 0 and when the norm is 0
            a = xp.abs(x)
            ratio = xp.where(a == 0, one, a) / xp.where(out == 0, one, out)
            local = xp.where(out == 0, x.dtype.type(0), sign * ratio ** x.dtype.type(p - 1))
        return (g * local).astype(grad.dtype, copy=False)


class NuclearNorm(Function):
    """Sum of the singular values of the matrices spanned by ``axes`` (two of them); the
    gradient is ``U V^T`` of the thin SVD ``x = U diag(s) V^T``."""

    def forward(self, x, *, axes, keepdims):
        xp = get_array_module(x)
        self.axes, self.keepdims = axes, keepdims
        u, s, vh = xp.linalg.svd(xp.moveaxis(x, axes, (-2, -1)), full_matrices=False)
        self.save_for_backward(u @ vh)
        out = s.sum(axis=-1)
        return xp.expand_dims(out, tuple(sorted(axes))) if keepdims else out

    def backward(self, grad):
        xp = get_array_module(grad)
        uv, = self.saved_arrays
        g = grad.reshape(uv.shape[:-2])[..., None, None]
        return xp.moveaxis(g * uv, (-2, -1), self.axes).astype(grad.dtype, copy=False)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The ``p``-norm over ``dim`` (default: of all elements). ``p``: a number, ``inf``,
    ``-inf``, ``'fro'`` (= 2, at most two dims) or ``'nuc'`` (exactly two dims)."""
    x = cast(input, dtype) if dtype is not None else input
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {x.dtype} instead.")
    axes = checked_axes(x, dim)
    if p == "nuc":
        if axes is None and x.ndim == 2:
            axes = (0, 1)
        if axes is None or len(axes) != 2:
            raise RuntimeError(f"norm(): the nuclear norm needs exactly two dims, got dim={dim} "
                               f"for a {x.ndim}-d input")
        return NuclearNorm.apply(x, axes=axes, keepdims=keepdim)
    if p == "fro" or p is None:
        if axes is not None and len(axes) > 2:
            raise RuntimeError(f"norm(): the Frobenius norm takes at most two dims, got dim={dim}")
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): p must be a number, inf, -inf, 'fro' or 'nuc', got {p!r}")
    return VectorNorm.apply(x, p=float(p), axis=axes, keepdims=keepdim)


register_methods(var, std, var_mean, std_mean, median, norm)
