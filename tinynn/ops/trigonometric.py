"""Trigonometric and hyperbolic functions: sin, cos, tan, asin, acos, atan, sinh, cosh, atan2.

All are float-only: an integer (or bool) input is computed in the default float dtype, as
PyTorch does (``tinynn.sin(tinynn.tensor([1, 2]))`` is float32). Each one-input function is
a row of ``unary_function`` (see ``unary.py``): the formula and the slope used by backward.
"""
from .. import dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import register_methods
from .arithmetic import as_operand, sum_to_shape
from .conversion import as_float, cast
from .unary import inplace_method, inplace_methods, unary_function

__all__ = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "atan2",
           "arcsin", "arccos", "arctan", "arctan2"]


def _arc_slope(xp, x):
    """d/dx asin(x) = 1 / sqrt(1 - x^2) (and acos' is its negative)."""
    return 1 / xp.sqrt(1 - x * x)


Sin = unary_function("Sin", lambda xp, x: xp.sin(x), lambda xp, x: xp.cos(x))
Cos = unary_function("Cos", lambda xp, x: xp.cos(x), lambda xp, x: -xp.sin(x))
Tan = unary_function("Tan", lambda xp, x: xp.tan(x), lambda xp, out: 1 + out * out, of="output")
Asin = unary_function("Asin", lambda xp, x: xp.arcsin(x), _arc_slope)
Acos = unary_function("Acos", lambda xp, x: xp.arccos(x), lambda xp, x: -_arc_slope(xp, x))
Atan = unary_function("Atan", lambda xp, x: xp.arctan(x), lambda xp, x: 1 / (1 + x * x))
Sinh = unary_function("Sinh", lambda xp, x: xp.sinh(x), lambda xp, x: xp.cosh(x))
Cosh = unary_function("Cosh", lambda xp, x: xp.cosh(x), lambda xp, x: xp.sinh(x))


class Atan2(Function):
    """The angle of the point (x, y): ``atan2(y, x)``, broadcasting ``y`` against ``x``."""

    def forward(self, y, x):
        self.save_for_backward(y, x)
        return get_array_module(y).arctan2(y, x)

    def backward(self, grad):
        y, x = self.saved_arrays
        # d/dy = x / r^2 and d/dx = -y / r^2, with r^2 = x^2 + y^2
        scaled = grad / (x * x + y * y)
        gy = sum_to_shape(scaled * x, y.shape) if self.needs_input_grad[0] else None
        gx = sum_to_shape(-scaled * y, x.shape) if self.needs_input_grad[1] else None
        return gy, gx


def sin(input):
    """Sine of each element (radians)."""
    return Sin.apply(as_float(input))


def cos(input):
    """Cosine of each element (radians)."""
    return Cos.apply(as_float(input))


def tan(input):
    """Tangent of each element (radians)."""
    return Tan.apply(as_float(input))


def asin(input):
    """Arcsine of each element, in [-pi/2, pi/2] (NaN outside [-1, 1])."""
    return Asin.apply(as_float(input))


def acos(input):
    """Arccosine of each element, in [0, pi] (NaN outside [-1, 1])."""
    return Acos.apply(as_float(input))


def atan(input):
    """Arctangent of each element, in (-pi/2, pi/2)."""
    return Atan.apply(as_float(input))


def sinh(input):
    """Hyperbolic sine of each element."""
    return Sinh.apply(as_float(input))


def cosh(input):
    """Hyperbolic cosine of each element."""
    return Cosh.apply(as_float(input))


def atan2(input, other):
    """The angle in radians, in [-pi, pi], of the point (``other``, ``input``): the
    arctangent of ``input / other`` in the right quadrant. ``input`` is the y-coordinate;
    the shapes broadcast, and both get gradients."""
    dtype = dtypes.result_dtype(input, other)
    if dtype.kind != "f":  # integers give the default float dtype
        dtype = dtypes.get_default_dtype()
    return Atan2.apply(cast(input, dtype), as_operand(other, dtype, input.device))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

register_methods(sin, cos, tan, asin, acos, atan, sinh, cosh, atan2,
                 arcsin=asin, arccos=acos, arctan=atan, arctan2=atan2,
                 **inplace_methods(sin, cos, tan, asin, acos, atan, sinh, cosh, atan2),
                 arcsin_=inplace_method(asin, "arcsin"), arccos_=inplace_method(acos, "arccos"),
                 arctan_=inplace_method(atan, "arctan"), arctan2_=inplace_method(atan2, "arctan2"))
