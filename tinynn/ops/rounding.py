"""Rounding: floor, ceil, round (half to even, optional decimals), trunc, frac, sign.

floor, ceil, round, trunc and sign are piecewise constant, so their gradient is zero --
PyTorch's convention at the jumps (the integers, the halves, zero) as well. ``frac`` is
``x - trunc(x)``, whose gradient is therefore 1 everywhere.

Integer inputs follow the array-API convention PyTorch's documentation names: floor, ceil,
round and trunc return a copy of the input, in its dtype; sign stays integer too.
"""
import builtins

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, register_methods
from .unary import inplace_method, inplace_methods, unary_function

__all__ = ["floor", "ceil", "round", "trunc", "fix", "frac", "sign"]

Floor = unary_function("Floor", lambda xp, x: xp.floor(x))
Ceil = unary_function("Ceil", lambda xp, x: xp.ceil(x))
Trunc = unary_function("Trunc", lambda xp, x: xp.trunc(x))
Round = unary_function("Round", lambda xp, x: xp.rint(x))  # rint rounds halves to even
# (x > 0) - (x < 0), not xp.sign: PyTorch's sign(nan) is 0 (NumPy's is nan), sign(-0.0) is 0.
Sign = unary_function("Sign", lambda xp, x: (x > 0).astype(x.dtype) - (x < 0))


class RoundDecimals(Function):
    """Round to ``decimals`` places: scale by a power of ten, round half to even, scale back
    (the algorithm PyTorch's docs describe; fast but inexact near huge values)."""

    backward_name = "RoundBackward1"

    def forward(self, x, *, decimals):
        xp = get_array_module(x)
        scale = 10.0 ** builtins.abs(decimals)
        if decimals > 0:
            return xp.rint(x * scale) / scale
        return xp.rint(x / scale) * scale

    def backward(self, grad):
        return get_array_module(grad).zeros_like(grad)


class Frac(Function):
    def forward(self, x):
        return x - get_array_module(x).trunc(x)

    def backward(self, grad):
        return grad  # d/dx (x - trunc(x)) = 1 - 0


def _is_float(input):
    return input.dtype.kind == "f"


def _copy(input):
    """What the rounding functions return for integer (and bool) tensors."""
    return Tensor(input.array.copy())


def floor(input):
    """The largest integer <= each element (a copy for integer tensors)."""
    return Floor.apply(input) if _is_float(input) else _copy(input)


def ceil(input):
    """The smallest integer >= each element (a copy for integer tensors)."""
    return Ceil.apply(input) if _is_float(input) else _copy(input)


def trunc(input):
    """Each element rounded toward zero (a copy for integer tensors)."""
    return Trunc.apply(input) if _is_float(input) else _copy(input)


def round(input, *, decimals=0):
    """Each element rounded to the nearest integer, halves to the even one (``round(2.5)``
    is 2, ``round(-0.5)`` is -0). ``decimals`` rounds to that many decimal places, or, when
    negative, to the left of the decimal point (``decimals=-3``: to thousands)."""
    if not _is_float(input):
        if decimals != 0:
            raise RuntimeError(f"round with decimals={decimals} is not implemented for {input.dtype}; "
                               f"convert the tensor to a floating point dtype first")
        return _copy(input)
    if decimals == 0:
        return Round.apply(input)
    return RoundDecimals.apply(input, decimals=int(decimals))


def frac(input):
    """The fractional part of each element: ``x - trunc(x)``, with the sign of ``x``."""
    if not _is_float(input):
        raise RuntimeError(f"\"frac\" not implemented for {input.dtype}: it needs a floating point tensor")
    return Frac.apply(input)


def sign(input):
    """-1, 0 or 1 for each element by its sign (same dtype; bool stays bool)."""
    if input.dtype.kind == "b":
        return _copy(input)
    return Sign.apply(input)


fix = trunc

register_methods(floor, ceil, round, trunc, frac, sign, fix=trunc,
                 **inplace_methods(floor, ceil, round, trunc, frac, sign),
                 fix_=inplace_method(trunc, "fix"))
