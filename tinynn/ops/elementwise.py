"""Elementwise arithmetic and math: +, -, *, /, **, exp, log, sqrt, abs, clamp, maximum.

Binary ops broadcast like NumPy; backward sums each gradient back to its input's shape.
"""
import math

from ..autograd import Function
from ..backend import get_array_module


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
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        ga = sum_to_shape(grad * self.b, self.a.shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(grad * self.a, self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad):
        ga = sum_to_shape(grad / self.b, self.a.shape) if self.needs_input_grad[0] else None
        gb = (sum_to_shape(-grad * self.a / (self.b * self.b), self.b.shape)
              if self.needs_input_grad[1] else None)
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """``x ** p`` for a Python number ``p``."""

    def forward(self, x, *, exponent):
        self.x, self.exponent = x, exponent
        return x ** exponent

    def backward(self, grad):
        p = self.exponent
        if p == 0:
            return grad * 0
        return grad * (p * self.x ** (p - 1)).astype(grad.dtype, copy=False)


class Pow(Function):
    """``a ** b`` for two tensors."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, grad):
        xp = get_array_module(grad)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to_shape(grad * self.b * self.a ** (self.b - 1), self.a.shape)
        if self.needs_input_grad[1]:
            # d(a^b)/db = a^b log a; where a == 0 PyTorch uses 0 (the limit for b > 0).
            log_a = xp.log(xp.where(self.a > 0, self.a, 1))
            gb = sum_to_shape(grad * self.out * log_a, self.b.shape)
        return ga, gb


class Exp(Function):
    def forward(self, x):
        self.out = get_array_module(x).exp(x)
        return self.out

    def backward(self, grad):
        return grad * self.out


class Log(Function):
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, grad):
        return grad / self.x


class Sqrt(Function):
    def forward(self, x):
        self.out = get_array_module(x).sqrt(x)
        return self.out

    def backward(self, grad):
        return grad / (2 * self.out)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return abs(x)

    def backward(self, grad):
        # sign(0) = 0: like PyTorch, abs'(0) is 0.
        return grad * get_array_module(grad).sign(self.x)


class Clamp(Function):
    """Clip to [min, max]; the gradient flows only where the input was inside the range."""

    def forward(self, x, *, min=None, max=None):
        xp = get_array_module(x)
        self.inside = xp.ones(x.shape, dtype=bool)
        out = x
        if min is not None:
            self.inside &= x >= min
            out = xp.maximum(out, min)
        if max is not None:
            self.inside &= x <= max
            out = xp.minimum(out, max)
        return out.astype(x.dtype, copy=False)

    def backward(self, grad):
        return grad * self.inside


class Maximum(Function):
    """Elementwise maximum; ties split the gradient evenly (as PyTorch)."""

    sign = 1

    def forward(self, a, b):
        xp = get_array_module(a)
        self.a, self.b = a, b
        return xp.maximum(a, b) if self.sign > 0 else xp.minimum(a, b)

    def backward(self, grad):
        a_wins = (self.a > self.b) if self.sign > 0 else (self.a < self.b)
        tie = (self.a == self.b)
        share_a = (a_wins + 0.5 * tie).astype(grad.dtype)
        ga = sum_to_shape(grad * share_a, self.a.shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(grad * (1 - share_a), self.b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Minimum(Maximum):
    sign = -1


class Where(Function):
    """``where(condition, a, b)``; the condition is a fixed boolean array, not an input."""

    def forward(self, a, b, *, condition):
        self.condition, self.a_shape, self.b_shape = condition, a.shape, b.shape
        return get_array_module(a).where(condition, a, b)

    def backward(self, grad):
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        ga = sum_to_shape(xp.where(self.condition, grad, zero), self.a_shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(xp.where(self.condition, zero, grad), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def forward(self, x, *, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.astype(self.dtype)


class ToDevice(Function):
    """Move between devices; the gradient moves back."""

    def forward(self, x, *, device):
        from ..backend import device_of, to_device
        self.source = device_of(x)
        return to_device(x, device)

    def backward(self, grad):
        from ..backend import to_device
        return to_device(grad, self.source)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


# Ops with a Python number as the second operand: the number is a parameter, not an
# input, so no gradient is computed for it and no array is made for it.

class AddScalar(Function):
    def forward(self, x, *, value):
        return x + value

    def backward(self, grad):
        return grad


class MulScalar(Function):
    def forward(self, x, *, value):
        self.value = value
        return x * value

    def backward(self, grad):
        return grad * self.value


class DivScalar(Function):
    def forward(self, x, *, value):
        self.value = value
        return x / value

    def backward(self, grad):
        return grad / self.value


class RDivScalar(Function):
    """``value / x``."""

    def forward(self, x, *, value):
        self.x, self.value = x, value
        return value / x

    def backward(self, grad):
        return -grad * self.value / (self.x * self.x)


class RPowScalar(Function):
    """``value ** x``."""

    def forward(self, x, *, value):
        # log(0) would be -inf; PyTorch's gradient of 0 ** x is 0 there.
        self.out, self.log_value = value ** x, math.log(value) if value > 0 else 0.0
        return self.out

    def backward(self, grad):
        return grad * self.out * self.log_value
