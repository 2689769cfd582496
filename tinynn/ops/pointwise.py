"""Elementwise math: exponentials and logarithms, powers and roots, abs, clamps, lerp,
nan_to_num and the isnan/isinf/isfinite tests; their in-place ``x.exp_()`` methods.

Float-only functions turn integer inputs into the default float dtype first, as PyTorch does
(``tinynn.exp(tinynn.tensor([1, 2]))`` is float32). The one-input functions are rows of
``unary_function`` (see ``unary.py``): the formula, and the slope backward multiplies by.
The trigonometric functions live in ``trigonometric.py``, floor/round/sign in
``rounding.py``; this module hands their names on to ``tinynn``.
"""
import builtins
import math

import numpy

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, register_methods
from . import rounding, trigonometric
from .arithmetic import neg, pow, sum_to_shape
from .conversion import as_float
from .rounding import *        # noqa: F401,F403  floor, ceil, round, trunc, frac, sign
from .trigonometric import *   # noqa: F401,F403  sin, cos, tan, ..., atan2
from .unary import inplace_method, inplace_methods, unary_function

__all__ = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
           "reciprocal", "square", "abs", "absolute", "clamp", "clip", "clamp_min", "clamp_max",
           "lerp", "nan_to_num", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
           *rounding.__all__, *trigonometric.__all__]

LN2, LN10 = math.log(2.0), math.log(10.0)

# name, f(x), and the slope f' of the input x or of the output out = f(x)
Exp = unary_function("Exp", lambda xp, x: xp.exp(x), lambda xp, out: out, of="output")
Exp2 = unary_function("Exp2", lambda xp, x: xp.exp2(x), lambda xp, out: out * LN2, of="output")
Expm1 = unary_function("Expm1", lambda xp, x: xp.expm1(x), lambda xp, out: out + 1, of="output")
Log = unary_function("Log", lambda xp, x: xp.log(x), lambda xp, x: 1 / x)
Log2 = unary_function("Log2", lambda xp, x: xp.log2(x), lambda xp, x: 1 / (x * LN2))
Log10 = unary_function("Log10", lambda xp, x: xp.log10(x), lambda xp, x: 1 / (x * LN10))
Log1p = unary_function("Log1p", lambda xp, x: xp.log1p(x), lambda xp, x: 1 / (1 + x))
Sqrt = unary_function("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, out: 0.5 / out, of="output")
Rsqrt = unary_function("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, out: -0.5 * out ** 3, of="output")
Reciprocal = unary_function("Reciprocal", lambda xp, x: 1 / x, lambda xp, out: -out * out, of="output")
Square = unary_function("Square", lambda xp, x: x * x, lambda xp, x: 2 * x)
# sign(0) = 0: like PyTorch, abs'(0) is 0.
Abs = unary_function("Abs", lambda xp, x: xp.abs(x), lambda xp, x: xp.sign(x))


class Clamp(Function):
    """Clip to [min, max]; the gradient flows only where the input was inside the range
    (bounds included, as PyTorch's ``min <= x <= max``)."""

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


class NanToNum(Function):
    """Replace NaN, +inf and -inf by numbers; the gradient passes only where x was finite."""

    def forward(self, x, *, nan, posinf, neginf):
        xp = get_array_module(x)
        self.save_for_backward(xp.isfinite(x))
        # one replacement at a time, each against an array of x's dtype (no float64 detour)
        out = xp.where(xp.isnan(x), nan, x)
        out = xp.where(x == math.inf, posinf, out)
        return xp.where(x == -math.inf, neginf, out).astype(x.dtype, copy=False)

    def backward(self, grad):
        finite, = self.saved_arrays
        return grad * finite


class Lerp(Function):
    """``start + weight * (end - start)`` with a tensor weight; all three broadcast."""

    def forward(self, start, end, weight):
        xp = get_array_module(start)
        diff = end - start
        self.save_for_backward(diff, weight)
        self.shapes = start.shape, end.shape, weight.shape
        # PyTorch's two-sided formula: exact at both ends (weight 0 gives start, 1 gives end).
        return xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))

    def backward(self, grad):
        diff, weight = self.saved_arrays
        start_shape, end_shape, weight_shape = self.shapes
        g_start = sum_to_shape(grad * (1 - weight), start_shape) if self.needs_input_grad[0] else None
        g_end = sum_to_shape(grad * weight, end_shape) if self.needs_input_grad[1] else None
        g_weight = sum_to_shape(grad * diff, weight_shape) if self.needs_input_grad[2] else None
        return g_start, g_end, g_weight


class LerpScalar(Function):
    """``lerp`` with a Python number as the weight (a parameter, not an input)."""

    backward_name = "LerpBackward0"

    def forward(self, start, end, *, weight):
        self.weight, self.shapes = weight, (start.shape, end.shape)
        diff = end - start
        if builtins.abs(weight) < 0.5:  # the module's abs is tinynn's
            return start + weight * diff
        return end - diff * (1 - weight)

    def backward(self, grad):
        start_shape, end_shape = self.shapes
        g_start = sum_to_shape(grad * (1 - self.weight), start_shape) if self.needs_input_grad[0] else None
        g_end = sum_to_shape(grad * self.weight, end_shape) if self.needs_input_grad[1] else None
        return g_start, g_end



# ---------------------------------------------------------------------------- functions

def exp(input):
    """e to the power of each element."""
    return Exp.apply(as_float(input))


def exp2(input):
    """2 to the power of each element."""
    return Exp2.apply(as_float(input))


def expm1(input):
    """``exp(x) - 1``, accurate for small ``x``."""
    return Expm1.apply(as_float(input))


def log(input):
    """Natural logarithm of each element."""
    return Log.apply(as_float(input))


def log2(input):
    """Base-2 logarithm of each element."""
    return Log2.apply(as_float(input))


def log10(input):
    """Base-10 logarithm of each element."""
    return Log10.apply(as_float(input))


def log1p(input):
    """``log(1 + x)``, accurate for small ``x``."""
    return Log1p.apply(as_float(input))


def sqrt(input):
    """Square root of each element."""
    return Sqrt.apply(as_float(input))


def rsqrt(input):
    """``1 / sqrt(x)`` for each element (inf at 0)."""
    return Rsqrt.apply(as_float(input))


def reciprocal(input):
    """``1 / x`` for each element; integers give the default float dtype (unlike NumPy)."""
    return Reciprocal.apply(as_float(input))


def square(input):
    """``x * x`` for each element (integers stay integers)."""
    return Square.apply(input)


def abs(input):
    """Absolute value of each element."""
    return Abs.apply(input)


def _bound(value):
    return value.item() if isinstance(value, Tensor) else value


def clamp(input, min=None, max=None):
    """Limit every element to [min, max] (either bound may be None, not both)."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min=_bound(min), max=_bound(max))


def clamp_min(input, min):
    """``max(x, min)`` for each element: ``clamp(input, min=min)``."""
    return Clamp.apply(input, min=_bound(min))


def clamp_max(input, max):
    """``min(x, max)`` for each element: ``clamp(input, max=max)``."""
    return Clamp.apply(input, max=_bound(max))


def lerp(input, end, weight):
    """Linear interpolation ``input + weight * (end - input)``; ``weight`` is a number or a
    tensor. The shapes broadcast; ``end`` (and a tensor ``weight``) must have input's dtype."""
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' must be Tensor, not {type(end).__name__}")
    operands = [("end", end)] + ([("weight", weight)] if isinstance(weight, Tensor) else [])
    for name, operand in operands:
        if operand.dtype != input.dtype:
            raise RuntimeError(f"lerp(): expected dtype {input.dtype} for `{name}` but got dtype "
                               f"{operand.dtype}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"lerp(): not implemented for {input.dtype}; it needs floating point tensors")
    if isinstance(weight, Tensor):
        return Lerp.apply(input, end, weight)
    return LerpScalar.apply(input, end, weight=float(weight))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan``, +inf by ``posinf`` and -inf by ``neginf``; by default the
    largest and lowest finite values of the input's dtype. Integer tensors are copied."""
    if input.dtype.kind != "f":
        return Tensor(input.array.copy())
    info = numpy.finfo(input.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


# The tests: boolean tensors outside the graph. Integers are always finite.

def _test(input, float_test, integer_answer):
    xp = get_array_module(input.array)
    if input.dtype.kind in "fc":
        return Tensor(float_test(xp, input.array))
    return Tensor(xp.full(input.array.shape, integer_answer, dtype=bool))


def isnan(input):
    """True where an element is NaN."""
    return _test(input, lambda xp, x: xp.isnan(x), False)


def isinf(input):
    """True where an element is +inf or -inf."""
    return _test(input, lambda xp, x: xp.isinf(x), False)


def isfinite(input):
    """True where an element is neither NaN nor infinite."""
    return _test(input, lambda xp, x: xp.isfinite(x), True)


def isposinf(input):
    """True where an element is +inf."""
    return _test(input, lambda xp, x: x == math.inf, False)


def isneginf(input):
    """True where an element is -inf."""
    return _test(input, lambda xp, x: x == -math.inf, False)


absolute, clip = abs, clamp

register_methods(exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, reciprocal, square, abs,
                 clamp, clamp_min, clamp_max, lerp, nan_to_num, isnan, isinf, isfinite, isposinf,
                 isneginf, absolute=abs, clip=clamp, __abs__=abs,
                 **inplace_methods(exp, exp2, expm1, log, log2, log10, log1p, sqrt, rsqrt, reciprocal,
                                   square, abs, clamp, clamp_min, clamp_max, lerp, nan_to_num, neg, pow),
                 absolute_=inplace_method(abs, "absolute"), clip_=inplace_method(clamp, "clip"),
                 negative_=inplace_method(neg, "negative"))
