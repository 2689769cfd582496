"""The smooth activations: gelu (exact, with erf, and its tanh approximation), silu, mish,
softplus, logsigmoid, hardsigmoid, hardswish, tanhshrink, softsign and softmin.

Each elementwise one is a row of ``unary_function`` (see ``unary.py``): the formula and the
slope that backward multiplies by. Softplus takes settings, so it is a ``ParametrisedUnary``.

NumPy has no ``erf`` (it lives in SciPy, which tinynn does not depend on), and ``math.erf``
works on one number at a time, so ``erf`` and ``erfc`` are written here on arrays, for both
backends, accurate to a few units in the last place of float64:

* near 0 (|z| < 0.5), erf by its Taylor series, z * (2/sqrt(pi)) * sum (-z^2)^n / (n! (2n+1));
* elsewhere, erfc(z) = exp(-z^2) * erfcx(z) for z >= 0, where erfcx (the scaled complementary
  error function) is smooth and slowly varying, so a short Chebyshev series represents it:
  the variable u = (z - 3) / (z + 3) maps [0, inf) onto [-1, 1). Its 26 coefficients were
  computed once by Chebyshev interpolation at 90 points in 50-digit arithmetic (mpmath),
  dropping those below 1e-18; the tests check the result against ``math.erf``/``math.erfc``.
* erfc(-z) = 2 - erfc(z) and erf(z) = 1 - erfc(z).

float32 inputs stop the series earlier: terms below its precision change nothing.
"""
import math

import numpy

from ..backend import get_array_module
from .activation import ParametrisedUnary, pick, sigmoid_array, softmax, softplus_array
from .conversion import as_float
from .unary import unary_function

__all__ = []  # F-only names: tinynn.nn.functional imports them from here

ERFCX_CHEBYSHEV = (
    0.32986277475303677, -0.45366152053780207, 0.16039834082156296, -0.044908121151122825,
    0.009641428650695697, -0.0014425080777443955, 0.00010099436735379916, 1.20850245344553e-05,
    -3.6254206027537556e-06, 7.186810742476415e-08, 8.914235859898217e-08,
    -7.421566624959606e-09, -2.389336570265878e-09, 3.062235535489925e-10,
    7.788945388151088e-11, -1.0973745829245584e-11, -3.0915207311917734e-12,
    3.525433881723422e-13, 1.3990452179771617e-13, -8.246037476838809e-15,
    -6.6399614269893215e-15, -7.978348824752611e-17, 3.0472412376040985e-16,
    3.032131711022567e-17, -1.2182012212997152e-17, -2.804010100719011e-18)
ERF_TAYLOR = tuple(2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1))
                   for n in range(13))  # the 13th term is below 1e-17 for |z| < 0.5
SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
TANH_GELU_SCALE = math.sqrt(2 / math.pi)  # GELU's tanh form: tanh(sqrt(2/pi) (x + 0.044715 x^3))


def _terms(coefficients, dtype, ratio=1.0):
    """The coefficients that matter in ``dtype``: all of them for float64; for float32 and
    below, those whose term (at most |c_n| * ratio**n) exceeds eps/32. Both series converge
    fast enough that the terms dropped add up to less than float32's rounding."""
    if numpy.dtype(dtype).itemsize >= 8:
        return coefficients
    smallest = float(numpy.finfo(numpy.float32).eps) / 32
    return tuple(c for n, c in enumerate(coefficients) if abs(c) * ratio ** n > smallest)


def _erfc_of_nonnegative(xp, z):
    """erfc(z) for z >= 0: exp(-z^2) times erfcx(z) summed as a Chebyshev series (Clenshaw)."""
    z = xp.minimum(z, 40)  # erfc(40) underflows to 0 anyway; keeps u finite for z = inf
    u = (z - 3) / (z + 3)
    two_u, b1, b2 = 2 * u, xp.zeros_like(u), xp.zeros_like(u)
    coefficients = _terms(ERFCX_CHEBYSHEV, z.dtype)
    for c in coefficients[:0:-1]:
        b1, b2 = two_u * b1 - b2 + c, b1
    erfcx = u * b1 - b2 + coefficients[0]
    # exp(-z^2) with z = hi + lo, hi on a 1/256 grid so that hi*hi is exact: z*z itself would
    # round, and exp turns that rounding into a relative error of about z^2 ulps
    hi = xp.round(z * 256) / 256
    return xp.exp(-hi * hi) * xp.exp(-(z - hi) * (z + hi)) * erfcx


def erfc(x):
    """The complementary error function 1 - erf(x) of an array, relatively accurate for x > 0."""
    xp = get_array_module(x)
    tail = _erfc_of_nonnegative(xp, abs(x))
    return xp.where(x >= 0, tail, 2 - tail)


def erf(x):
    """The error function (2/sqrt(pi)) * integral of exp(-t^2) from 0 to x, of an array."""
    xp = get_array_module(x)
    # the series is used for |x| < 0.5 only; clipping x^2 keeps it finite (and quiet) elsewhere
    z2, series = xp.minimum(x * x, 0.25), xp.zeros_like(x)
    for c in _terms(ERF_TAYLOR, x.dtype, ratio=0.25)[::-1]:  # Horner in x^2 (x^2 < 0.25)
        series = series * z2 + c
    far = xp.sign(x) * (1 - _erfc_of_nonnegative(xp, abs(x)))
    return xp.where(abs(x) < 0.5, x * series, far)


def normal_cdf(x):
    """Phi(x), the standard normal distribution function: erfc(-x / sqrt 2) / 2, so that tiny
    values for very negative x keep their digits (1 + erf(x / sqrt 2) would cancel)."""
    return 0.5 * erfc(-x * SQRT_HALF)


def _gelu_slope(xp, x):  # d/dx x Phi(x) = Phi(x) + x phi(x)
    return normal_cdf(x) + x * (INV_SQRT_2PI * xp.exp(-0.5 * x * x))


def _gelu_tanh_term(xp, x):
    return xp.tanh(TANH_GELU_SCALE * (x + 0.044715 * x * x * x))


def _tanh_gelu_slope(xp, x):
    t = _gelu_tanh_term(xp, x)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * TANH_GELU_SCALE * (1 + 3 * 0.044715 * x * x)


def _silu_slope(xp, x):
    s = sigmoid_array(xp, x)
    return s * (1 + x * (1 - s))


def _mish_slope(xp, x):
    t = xp.tanh(softplus_array(xp, x))
    return t + x * sigmoid_array(xp, x) * (1 - t * t)


# name, f(x), and the slope f' of the input x or of the output out = f(x)
Gelu = unary_function("Gelu", lambda xp, x: x * normal_cdf(x), _gelu_slope)
GeluTanh = unary_function("GeluTanh", lambda xp, x: 0.5 * x * (1 + _gelu_tanh_term(xp, x)),
                          _tanh_gelu_slope)
GeluTanh.backward_name = "GeluBackward0"
Silu = unary_function("Silu", lambda xp, x: x * sigmoid_array(xp, x), _silu_slope)
Mish = unary_function("Mish", lambda xp, x: x * xp.tanh(softplus_array(xp, x)), _mish_slope)
# log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)); its slope is 1 - sigmoid(x) = sigmoid(-x)
LogSigmoid = unary_function("LogSigmoid",
                            lambda xp, x: xp.minimum(x, 0) - xp.log1p(xp.exp(-abs(x))),
                            lambda xp, x: sigmoid_array(xp, -x))
Hardsigmoid = unary_function("Hardsigmoid", lambda xp, x: xp.clip(x / 6 + 0.5, 0, 1),
                             lambda xp, x: pick(xp, (x > -3) & (x < 3), 1 / 6, 0, x))
# PyTorch's slope: 0 below -3, x/3 + 1/2 on [-3, 3] (bounds included), 1 above
Hardswish = unary_function("Hardswish", lambda xp, x: x * xp.clip(x + 3, 0, 6) / 6,
                           lambda xp, x: xp.where(x < -3, 0, xp.where(x <= 3, x / 3 + 0.5, 1)))
Tanhshrink = unary_function("Tanhshrink", lambda xp, x: x - xp.tanh(x),
                            lambda xp, x: xp.tanh(x) ** 2)
Softsign = unary_function("Softsign", lambda xp, x: x / (1 + abs(x)),
                          lambda xp, x: 1 / (1 + abs(x)) ** 2)


class Softplus(ParametrisedUnary):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""

    def f(self, xp, x):
        bx = x * self.beta
        return xp.where(bx > self.threshold, x, softplus_array(xp, bx) / self.beta)

    def derivative(self, xp, x):
        bx = x * self.beta
        return xp.where(bx > self.threshold, 1, sigmoid_array(xp, bx))


# ------------------------------------------------------------------------ the functions

def gelu(input, approximate="none"):
    """x * Phi(x) (Phi: the standard normal CDF); ``approximate='tanh'``:
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, not {approximate!r}")
    return (Gelu if approximate == "none" else GeluTanh).apply(as_float(input))


def silu(input):
    """x * sigmoid(x)."""
    return Silu.apply(as_float(input))


def mish(input):
    """x * tanh(softplus(x))."""
    return Mish.apply(as_float(input))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear (x) where beta x > threshold."""
    return Softplus.apply(as_float(input), beta=beta, threshold=threshold)


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), computed without overflow."""
    return LogSigmoid.apply(as_float(input))


def hardsigmoid(input):
    """0 for x <= -3, 1 for x >= 3, x/6 + 1/2 between."""
    return Hardsigmoid.apply(as_float(input))


def hardswish(input):
    """x * hardsigmoid(x): 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between."""
    return Hardswish.apply(as_float(input))


def tanhshrink(input):
    """x - tanh(x)."""
    return Tanhshrink.apply(as_float(input))


def softsign(input):
    """x / (1 + |x|)."""
    return Softsign.apply(as_float(input))


def softmin(input, dim, dtype=None):
    """exp(-x) / sum(exp(-x)) along ``dim``: softmax of -x."""
    return softmax(-as_float(input), dim, dtype)
