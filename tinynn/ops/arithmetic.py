"""Arithmetic: + - * / ** and unary minus, their functional forms and in-place variants.

Binary ops broadcast like NumPy and promote dtypes like PyTorch (``dtypes.result_dtype``);
backward sums each gradient back to its input's shape. A Python number as an operand is a
fixed parameter of the op (``AddScalar``...), so no array and no gradient is made for it.
"""
import math
import numbers

import numpy

from .. import backend, dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, register_methods
from .conversion import cast
from .inplace import inplace_ufunc

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
           "neg", "negative", "floor_divide", "remainder", "rsub", "maximum", "minimum"]


def sum_to_shape(grad, shape):
    """Reduce a broadcast gradient back to ``shape`` (the inverse of broadcasting)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape)
                                       if n == 1 and grad.shape[i + extra] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


class Add(Function):
    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a + b

    def backward(self, grad):
        return sum_to_shape(grad, self.a_shape), sum_to_shape(grad, self.b_shape)


class Sub(Function):
    def forward(self, a, b):
        self.a_shape, self.b_shape = a.shape, b.shape
        return a - b

    def backward(self, grad):
        gb = -sum_to_shape(grad, self.b_shape) if self.needs_input_grad[1] else None
        return sum_to_shape(grad, self.a_shape), gb


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved_arrays
        ga = sum_to_shape(grad * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(grad * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved_arrays
        ga = sum_to_shape(grad / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(-grad * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """``x ** p`` for a Python number ``p``."""

    backward_name = "PowBackward0"

    def forward(self, x, *, exponent):
        self.exponent = exponent
        self.save_for_backward(x)
        return x ** exponent

    def backward(self, grad):
        x, = self.saved_arrays
        p = self.exponent
        if p == 0:
            return grad * 0
        return grad * (p * x ** (p - 1)).astype(grad.dtype, copy=False)


class Pow(Function):
    """``a ** b`` for two tensors."""

    backward_name = "PowBackward1"

    def forward(self, a, b):
        out = a ** b
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        a, b, out = self.saved_arrays
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to_shape(grad * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:
            # d(a^b)/db = a^b log a; where a == 0 PyTorch uses 0 (the limit for b > 0).
            log_a = xp.log(xp.where(a > 0, a, 1))
            gb = sum_to_shape(grad * out * log_a, b.shape)
        return ga, gb


class AddScalar(Function):
    backward_name = "AddBackward0"

    def forward(self, x, *, value):
        return x + value

    def backward(self, grad):
        return grad


class MulScalar(Function):
    backward_name = "MulBackward0"

    def forward(self, x, *, value):
        self.value = value
        return x * value

    def backward(self, grad):
        return grad * self.value


class DivScalar(Function):
    backward_name = "DivBackward0"

    def forward(self, x, *, value):
        self.value = value
        return x / value

    def backward(self, grad):
        return grad / self.value


class RDivScalar(Function):
    """``value / x``."""

    backward_name = "MulBackward0"  # PyTorch computes it as reciprocal(x) * value

    def forward(self, x, *, value):
        self.value = value
        self.save_for_backward(x)
        return value / x

    def backward(self, grad):
        x, = self.saved_arrays
        return -grad * self.value / (x * x)


class RPowScalar(Function):
    """``value ** x``."""

    backward_name = "PowBackward1"

    def forward(self, x, *, value):
        out = value ** x
        # log(0) would be -inf; PyTorch's gradient of 0 ** x is 0 there.
        self.log_value = math.log(value) if value > 0 else 0.0
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        return grad * out * self.log_value


class Maximum(Function):
    """Elementwise maximum; ties split the gradient evenly (as PyTorch)."""

    sign = 1

    def forward(self, a, b):
        xp = get_array_module(a)
        self.save_for_backward(a, b)
        return xp.maximum(a, b) if self.sign > 0 else xp.minimum(a, b)

    def backward(self, grad):
        a, b = self.saved_arrays
        a_wins = (a > b) if self.sign > 0 else (a < b)
        share_a = (a_wins + 0.5 * (a == b)).astype(grad.dtype)
        ga = sum_to_shape(grad * share_a, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(grad * (1 - share_a), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Minimum(Maximum):
    sign = -1


# ---------------------------------------------------------------------------- dispatch

def as_operand(value, dtype, device):
    """``value`` (Tensor, array or number) as a Tensor of ``dtype`` on ``device``."""
    if isinstance(value, Tensor):
        return cast(value, dtype)
    return Tensor(backend.to_device(numpy.asarray(value, dtype=numpy.dtype(dtype)), device))


def _binary(a, b, fn, scalar_fn=None, reverse=False, true_divide=False):
    """Promote ``a`` (a Tensor) and ``b`` to one dtype and apply ``fn`` (``b (op) a`` when
    ``reverse``); NotImplemented for operands that are not numbers, arrays or Tensors."""
    # Fast paths for what a training step does (same-dtype tensors, a float tensor and a
    # Python number): no promotion to work out.
    if isinstance(b, Tensor):
        if b.array.dtype == a.array.dtype and (not true_divide or a.array.dtype.kind in "fc"):
            return fn.apply(b, a) if reverse else fn.apply(a, b)
    elif type(b) in (float, int) and scalar_fn is not None and a.array.dtype.kind == "f":
        return scalar_fn.apply(a, value=b)
    if isinstance(b, numpy.generic):
        b = b.item()
    if backend.is_array(b):
        b = Tensor(b)
    elif not isinstance(b, (Tensor, numbers.Number)):
        return NotImplemented
    dtype = dtypes.result_dtype(a, b)
    if true_divide and dtype.kind not in "fc":
        dtype = dtypes.get_default_dtype()
    if scalar_fn is not None and not isinstance(b, Tensor):
        return scalar_fn.apply(cast(a, dtype), value=b)
    a, b = cast(a, dtype), as_operand(b, dtype, a.device)
    return fn.apply(b, a) if reverse else fn.apply(a, b)


def _tensor(value, like=None):
    """Functional forms accept a number as their first argument (``tinynn.pow(2, x)``)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(backend.to_device(numpy.asarray(value), like.device if like is not None else "cpu"))


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other``."""
    input = _tensor(input, other if isinstance(other, Tensor) else None)
    return _binary(input, other * alpha if alpha != 1 else other, Add, AddScalar)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    input = _tensor(input, other if isinstance(other, Tensor) else None)
    other = other * alpha if alpha != 1 else other
    if isinstance(other, numbers.Number) and not isinstance(other, bool):
        return _binary(input, -other, Add, AddScalar)
    return _binary(input, other, Sub)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return sub(_tensor(other, input), input, alpha=alpha)


def mul(input, other, *, out=None):
    return _binary(_tensor(input, other if isinstance(other, Tensor) else None), other, Mul, MulScalar)


def div(input, other, *, rounding_mode=None, out=None):
    """True division (float result even for integers), or ``rounding_mode='trunc'|'floor'``."""
    input = _tensor(input, other if isinstance(other, Tensor) else None)
    if rounding_mode is None:
        return _binary(input, other, Div, DivScalar, true_divide=True)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    quotient = div(input, other)
    xp = get_array_module(quotient.array)
    rounded = xp.trunc(quotient.array) if rounding_mode == "trunc" else xp.floor(quotient.array)
    dtype = dtypes.result_dtype(input, other)
    return Tensor(rounded.astype(dtype))  # rounding has zero gradient almost everywhere


def floor_divide(input, other):
    """``input // other`` rounded toward minus infinity (no gradient, as its derivative is 0)."""
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    """``input - floor(input / other) * other`` (Python's ``%``: the sign of the divisor)."""
    return sub(input, mul(floor_divide(input, other), other))


def pow(input, exponent):
    """``input ** exponent``; either may be a number."""
    if not isinstance(input, Tensor):
        return _binary(_tensor(exponent), input, Pow, RPowScalar, reverse=True)
    if isinstance(exponent, numpy.generic):
        exponent = exponent.item()
    if isinstance(exponent, numbers.Number):
        return PowScalar.apply(cast(input, dtypes.result_dtype(input, exponent)), exponent=exponent)
    return _binary(input, exponent, Pow)


def neg(input):
    return Neg.apply(input)


def maximum(input, other):
    """Elementwise maximum of two tensors (NaN-free inputs; ties share the gradient)."""
    dtype = dtypes.result_dtype(input, other)
    return Maximum.apply(cast(input, dtype), as_operand(other, dtype, input.device))


def minimum(input, other):
    dtype = dtypes.result_dtype(input, other)
    return Minimum.apply(cast(input, dtype), as_operand(other, dtype, input.device))


subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg


# ---------------------------------------------------------------------------- operators

def _radd(self, other):
    return _binary(self, other, Add, AddScalar, reverse=True)


def _rsub(self, other):
    return _binary(self, other, Sub, reverse=True)


def _rmul(self, other):
    return _binary(self, other, Mul, MulScalar, reverse=True)


def _truediv(self, other):
    return _binary(self, other, Div, DivScalar, true_divide=True)


def _rtruediv(self, other):
    if isinstance(other, numbers.Number):
        return _binary(self, other, Div, RDivScalar, true_divide=True)
    return _binary(self, other, Div, reverse=True, true_divide=True)


def _rpow(self, base):
    if isinstance(base, numbers.Number):
        return _binary(self, base, Pow, RPowScalar)
    return _binary(self, base, Pow, reverse=True)


def _operator(function):
    """A binary dunder: NotImplemented for foreign operands, so Python tries the other side."""
    def method(self, other):
        if not isinstance(other, (Tensor, numbers.Number, numpy.generic)) and not backend.is_array(other):
            return NotImplemented
        return function(self, other)
    return method


def _inplace_method(ufunc_name, out_of_place):
    def method(self, other, *, alpha=1):
        return inplace_ufunc(self, other * alpha if alpha != 1 else other, ufunc_name, out_of_place)
    return method


def _inplace_operator(ufunc_name, out_of_place):
    def method(self, other):
        return inplace_ufunc(self, other, ufunc_name, out_of_place)
    return method


register_methods(add, sub, mul, div, pow, neg, floor_divide, remainder, maximum, minimum,
                 subtract=sub, multiply=mul, divide=div, true_divide=div, negative=neg,
                 __add__=_operator(add), __radd__=_operator(_radd),
                 __sub__=_operator(sub), __rsub__=_operator(_rsub),
                 __mul__=_operator(mul), __rmul__=_operator(_rmul),
                 __truediv__=_operator(_truediv), __rtruediv__=_operator(_rtruediv),
                 __floordiv__=_operator(floor_divide),
                 __rfloordiv__=_operator(lambda self, other: floor_divide(_tensor(other, self), self)),
                 __mod__=_operator(remainder),
                 __pow__=_operator(pow), __rpow__=_operator(_rpow),
                 __neg__=neg, __pos__=lambda self: self,
                 add_=_inplace_method("add", add), sub_=_inplace_method("subtract", sub),
                 mul_=_inplace_operator("multiply", mul), div_=_inplace_operator("true_divide", div),
                 __iadd__=_inplace_operator("add", add), __isub__=_inplace_operator("subtract", sub),
                 __imul__=_inplace_operator("multiply", mul),
                 __itruediv__=_inplace_operator("true_divide", div))
