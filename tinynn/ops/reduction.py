"""Reductions: sum, mean, max/min over everything or along dims."""
from ..autograd import Function
from ..backend import get_array_module


def _expand_back(grad, shape, axis, keepdims):
    """Give a reduced gradient its reduced axes back so it broadcasts against ``shape``."""
    if axis is None:
        return grad.reshape((1,) * len(shape))
    if not keepdims:
        for a in sorted(axis):
            grad = get_array_module(grad).expand_dims(grad, a)
    return grad


class Sum(Function):
    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        xp = get_array_module(grad)
        g = _expand_back(grad, self.shape, self.axis, self.keepdims)
        return xp.broadcast_to(g, self.shape).copy()  # a writable array of its own


class Mean(Function):
    def forward(self, x, *, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        out = x.mean(axis=axis, keepdims=keepdims)
        self.count = max(x.size // max(out.size, 1), 1) if x.size else 1
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        xp = get_array_module(grad)
        g = _expand_back(grad, self.shape, self.axis, self.keepdims) / grad.dtype.type(self.count)
        return xp.broadcast_to(g, self.shape).astype(grad.dtype)


class MaxAll(Function):
    """Max (or min) over all elements; ties share the gradient evenly, as PyTorch."""

    def forward(self, x, *, largest=True):
        self.x = x
        self.out = x.max() if largest else x.min()
        return self.out

    def backward(self, grad):
        winners = (self.x == self.out)
        return (winners * (grad / winners.sum())).astype(grad.dtype, copy=False)


class TakeAlongDim(Function):
    """``take_along_axis(x, indices, dim)``: gathers one value per index (used by max(dim)).

    The indices along ``dim`` are distinct per slice, so backward can assign, not add.
    """

    def forward(self, x, *, indices, dim):
        xp = get_array_module(x)
        self.shape, self.indices, self.dim = x.shape, indices, dim
        return xp.take_along_axis(x, indices, axis=dim)

    def backward(self, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(self.shape, dtype=grad.dtype)
        xp.put_along_axis(gx, self.indices, grad, axis=self.dim)
        return gx
