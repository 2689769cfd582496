"""Activations: relu, sigmoid, tanh, softmax, log_softmax (stable, with log-sum-exp), and the
rectifier family of ``torch.nn``: leaky_relu, elu / celu / selu, hardtanh / relu6, threshold,
prelu. The smooth ones (gelu, silu, mish, softplus, logsigmoid, ...) are in ``activation_more``.

Most activations are elementwise: ``out = f(x)``, ``grad_x = grad * f'(x)``, the shape that
``unary.UnaryFunction`` writes once. Those with fixed settings (a slope, an alpha, bounds)
subclass ``ParametrisedUnary``, whose ``f`` and ``derivative`` read the settings from ``self``.

Gradients at the kinks follow PyTorch: relu'(0) = 0; leaky_relu'(0) = negative_slope (the
"otherwise" side of ``x > 0``); elu'(0) = alpha; hardtanh, relu6 and threshold pass no gradient
at their bounds (only strictly inside).
"""
import numpy

from ..autograd import Function
from ..backend import get_array_module
from ..checks import accepts_axis, normalize_dim
from ..tensor import register_methods
from .conversion import as_float, cast
from .unary import UnaryFunction, inplace_methods

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "selu", "celu", "prelu",
           "threshold"]

# SELU's constants, as PyTorch documents them (float64 keeps the first 17 digits).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def pick(xp, condition, a, b, like):
    """``where(condition, a, b)`` in ``like``'s dtype (Python-number branches would give float64)."""
    return xp.where(condition, a, b).astype(like.dtype, copy=False)


def sigmoid_array(xp, x):
    """1 / (1 + exp(-x)) in x's dtype: four in-place passes over one new array (``where``
    over two branches was 2-3x slower). For x below about -88 (float32) exp(-x) overflows
    to inf and 1 / (1 + inf) = 0 (the true value is below the smallest normal float, so
    only subnormals are lost); the warning is silenced. Elsewhere the result is accurate to
    a few ulp (no 1 - s cancellation)."""
    out = xp.multiply(x, -1, out=xp.empty_like(x))    # an array even when x is 0-d
    with numpy.errstate(over="ignore"):
        xp.exp(out, out=out)
    out += 1
    return xp.divide(1, out, out=out)


def softplus_array(xp, x):
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, no loss for large |x|."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-abs(x)))


class ParametrisedUnary(UnaryFunction):
    """A ``UnaryFunction`` with fixed settings: ``Apply(x, negative_slope=0.1)`` keeps them as
    attributes, and ``f(self, xp, x)`` / ``derivative(self, xp, v)`` are methods that read them."""

    def forward(self, x, **settings):
        vars(self).update(settings)  # plain numbers only: nothing for backward to free
        return super().forward(x)


class ReLU(Function):
    def forward(self, x):
        mask = x > 0  # relu'(0) = 0, as in PyTorch
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad):
        mask, = self.saved_arrays
        # The result is laid out like the input (grad may be a broadcast view, say from a
        # mean): the next backward's passes then run over one memory order.
        xp = get_array_module(grad)
        return xp.multiply(grad, mask, out=xp.empty_like(mask, dtype=grad.dtype))


class Sigmoid(Function):
    def forward(self, x):
        out = sigmoid_array(get_array_module(x), x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        gx = 1 - out      # grad * out * (1 - out) with one new array
        gx *= out
        gx *= grad
        return gx


class Tanh(Function):
    def forward(self, x):
        out = get_array_module(x).tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        return grad * (1 - out * out)


class Softmax(Function):
    def forward(self, x, *, dim):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        out = e / e.sum(axis=dim, keepdims=True)
        self.dim = dim
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        s, = self.saved_arrays
        return s * (grad - (grad * s).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, *, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.dim = dim
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        xp = get_array_module(grad)
        return grad - xp.exp(out) * grad.sum(axis=self.dim, keepdims=True)


class Mask(Function):
    """Multiply by a fixed array (dropout's scaled keep-mask); the mask gets no gradient."""

    backward_name = "MulBackward0"

    def forward(self, x, *, mask):
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad):
        mask, = self.saved_arrays
        return grad * mask


# ------------------------------------------------------------------ the rectifier family

class LeakyRelu(ParametrisedUnary):
    """x for x > 0, negative_slope * x otherwise; the slope at 0 is negative_slope."""

    def f(self, xp, x):
        return xp.where(x > 0, x, x * self.negative_slope)

    def derivative(self, xp, x):
        return pick(xp, x > 0, 1, self.negative_slope, x)


class Elu(ParametrisedUnary):
    """scale * x for x > 0, else scale * alpha * (exp(input_scale * x) - 1): ELU (scales 1),
    CELU (input_scale = 1/alpha) and SELU (PyTorch's two constants) are all this one function."""

    def f(self, xp, x):
        # exp of min(x, 0) only: the branch for x > 0 is not used, and must not overflow
        negative = self.alpha * xp.expm1(xp.minimum(x, 0) * self.input_scale)
        return self.scale * xp.where(x > 0, x, negative)

    def derivative(self, xp, x):
        negative = (self.alpha * self.input_scale) * xp.exp(xp.minimum(x, 0) * self.input_scale)
        return self.scale * xp.where(x > 0, 1, negative)


class Hardtanh(ParametrisedUnary):
    """x clipped to [min_val, max_val]; the gradient passes strictly inside only (0 at the bounds)."""

    def f(self, xp, x):
        return xp.clip(x, self.min_val, self.max_val).astype(x.dtype, copy=False)

    def derivative(self, xp, x):
        return ((x > self.min_val) & (x < self.max_val)).astype(x.dtype)


class Threshold(ParametrisedUnary):
    """x where x > threshold, else value; the gradient is 0 at and below the threshold."""

    def f(self, xp, x):
        return pick(xp, x > self.threshold, x, self.value, x)

    def derivative(self, xp, x):
        return (x > self.threshold).astype(x.dtype)


class Prelu(Function):
    """Leaky ReLU whose slope is a learned ``weight``: one value, or one per channel (dim 1)."""

    backward_name = "PreluKernelBackward0"

    def forward(self, x, weight):
        xp = get_array_module(x)
        self.weight_shape = weight.shape
        # (C,) -> (C, 1, 1, ...) so it meets dim 1 of (N, C, ...); a single slope is a scalar
        slope = weight.reshape(() if weight.size == 1 else (-1,) + (1,) * (x.ndim - 2))
        self.save_for_backward(x, slope)
        return xp.where(x > 0, x, slope * x).astype(x.dtype, copy=False)

    def backward(self, grad):
        x, slope = self.saved_arrays
        xp = get_array_module(grad)
        positive = x > 0
        grad_x = grad_weight = None
        if self.needs_input_grad[0]:
            grad_x = xp.where(positive, grad, slope * grad).astype(x.dtype, copy=False)
        if self.needs_input_grad[1]:
            per_element = xp.where(positive, 0, x * grad)
            axes = tuple(i for i in range(x.ndim) if slope.ndim == 0 or i != 1)
            grad_weight = per_element.sum(axis=axes).reshape(self.weight_shape).astype(slope.dtype)
        return grad_x, grad_weight


# ------------------------------------------------------------------------ the functions

def relu(input):
    """max(x, 0); the gradient at 0 is 0."""
    return ReLU.apply(input)


def sigmoid(input):
    return Sigmoid.apply(as_float(input))


def tanh(input):
    return Tanh.apply(as_float(input))


def _softmax_input(input, dim, dtype, name):
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim' (PyTorch's implicit dim is "
                        f"deprecated; pass dim=1 for (N, C) scores)")
    input = cast(input, dtype) if dtype is not None else as_float(input)
    return input, normalize_dim(dim, input.ndim)


@accepts_axis
def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed without overflow."""
    input, dim = _softmax_input(input, dim, dtype, "softmax")
    return Softmax.apply(input, dim=dim)


@accepts_axis
def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along ``dim``, computed with log-sum-exp."""
    input, dim = _softmax_input(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(input, dim=dim)


def leaky_relu(input, negative_slope=0.01):
    """max(0, x) + negative_slope * min(0, x)."""
    return LeakyRelu.apply(as_float(input), negative_slope=negative_slope)


def elu(input, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return Elu.apply(as_float(input), alpha=alpha, scale=1.0, input_scale=1.0)


def celu(input, alpha=1.0):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu's alpha must not be 0")
    return Elu.apply(as_float(input), alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


def selu(input):
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))) with PyTorch's alpha and scale."""
    return Elu.apply(as_float(input), alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """x clipped to [min_val, max_val]."""
    return Hardtanh.apply(input, min_val=min_val, max_val=max_val)


def relu6(input):
    """min(max(0, x), 6): hardtanh between 0 and 6."""
    return Hardtanh.apply(input, min_val=0.0, max_val=6.0)


def threshold(input, threshold, value):
    """x where x > threshold, else value."""
    return Threshold.apply(input, threshold=threshold, value=value)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), ``weight`` one slope or one per channel (dim 1 of input)."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                           f"numbers = {weight.numel()} and channel size = {channels} (input shape "
                           f"{tuple(input.shape)}).")
    return Prelu.apply(as_float(input), weight)


register_methods(relu, sigmoid, tanh, softmax, log_softmax,
                 **inplace_methods(relu, sigmoid, tanh))
