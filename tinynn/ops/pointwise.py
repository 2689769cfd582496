"""Elementwise math: exp, log, sqrt, abs, clamp, ...

Float-only functions turn integer inputs into the default float dtype first, as PyTorch does
(``tinynn.exp(tinynn.tensor([1, 2]))`` is float32).
"""
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, register_methods
from .conversion import as_float

__all__ = ["exp", "log", "sqrt", "abs", "absolute", "clamp", "clip"]


class Exp(Function):
    def forward(self, x):
        out = get_array_module(x).exp(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        return grad * out


class Log(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).log(x)

    def backward(self, grad):
        x, = self.saved_arrays
        return grad / x


class Sqrt(Function):
    def forward(self, x):
        out = get_array_module(x).sqrt(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        return grad / (2 * out)


class Abs(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return get_array_module(x).abs(x)

    def backward(self, grad):
        x, = self.saved_arrays
        # sign(0) = 0: like PyTorch, abs'(0) is 0.
        return grad * get_array_module(grad).sign(x)


class Clamp(Function):
    """Clip to [min, max]; the gradient flows only where the input was inside the range."""

    def forward(self, x, *, min=None, max=None):
        xp = get_array_module(x)
        inside = xp.ones(x.shape, dtype=bool)
        out = x
        if min is not None:
            inside &= x >= min
            out = xp.maximum(out, min)
        if max is not None:
            inside &= x <= max
            out = xp.minimum(out, max)
        self.save_for_backward(inside)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        inside, = self.saved_arrays
        return grad * inside


def exp(input):
    return Exp.apply(as_float(input))


def log(input):
    return Log.apply(as_float(input))


def sqrt(input):
    return Sqrt.apply(as_float(input))


def abs(input):
    return Abs.apply(input)


def clamp(input, min=None, max=None):
    """Limit every element to [min, max] (either bound may be None, not both)."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    min = min.item() if isinstance(min, Tensor) else min
    max = max.item() if isinstance(max, Tensor) else max
    return Clamp.apply(input, min=min, max=max)


absolute, clip = abs, clamp

register_methods(exp, log, sqrt, abs, clamp, absolute=abs, clip=clamp, __abs__=abs)
