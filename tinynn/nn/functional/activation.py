"""Activation functions, as ``torch.nn.functional``: relu, leaky_relu, elu, celu, selu, gelu,
silu, mish, softplus, hardtanh, relu6, prelu, threshold, logsigmoid, hardsigmoid, hardswish,
tanhshrink, softsign, sigmoid, tanh, softmax, softmin, log_softmax, and the in-place ``relu_``,
``leaky_relu_``, ``elu_``, ``celu_``, ``selu_``, ``hardtanh_``, ``threshold_``.

The formulas and their gradients live in ``tinynn/ops/activation.py`` and ``activation_more.py``.
``inplace=True`` writes the result into ``input`` and returns it, under PyTorch's in-place rules
(``ops/inplace.py``): an error on a leaf that requires grad; a tensor inside the graph takes over
the new node, so gradients stay right.
"""
import warnings

from ...ops import activation as ops, activation_more as more
from ...ops.inplace import inplace as _in_place

__all__ = ["relu", "relu_", "leaky_relu", "leaky_relu_", "elu", "elu_", "celu", "celu_", "selu",
           "selu_", "gelu", "silu", "mish", "softplus", "hardtanh", "hardtanh_", "relu6", "prelu",
           "threshold", "threshold_", "logsigmoid", "hardsigmoid", "hardswish", "tanhshrink",
           "softsign", "sigmoid", "tanh", "softmax", "softmin", "log_softmax"]


def _apply(function, input, inplace, name, *args):
    """``function(input, *args)``, written into ``input`` when ``inplace``."""
    if inplace:
        return _in_place(input, name, function, *args)
    return function(input, *args)


def relu(input, inplace=False):
    """max(x, 0); the gradient at 0 is 0."""
    return _apply(ops.relu, input, inplace, "relu_")


def relu_(input):
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """max(0, x) + negative_slope * min(0, x); the gradient at 0 is negative_slope."""
    return _apply(ops.leaky_relu, input, inplace, "leaky_relu_", negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _apply(ops.elu, input, inplace, "elu_", alpha)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _apply(ops.celu, input, inplace, "celu_", alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))), alpha = 1.6732632423543772848170429916717,
    scale = 1.0507009873554804934193349852946."""
    return _apply(ops.selu, input, inplace, "selu_")


def selu_(input):
    return selu(input, inplace=True)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return more.gelu(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) (the swish function)."""
    return _apply(more.silu, input, inplace, "silu_")


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _apply(more.mish, input, inplace, "mish_")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta; x itself where beta x > threshold."""
    return more.softplus(input, beta, threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; no gradient at or beyond the bounds."""
    return _apply(ops.hardtanh, input, inplace, "hardtanh_", min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(0, x), 6)."""
    return _apply(ops.relu6, input, inplace, "relu6_")


def prelu(input, weight):
    """max(0, x) + weight * min(0, x); ``weight`` holds 1 slope or one per channel (dim 1)."""
    return ops.prelu(input, weight)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _apply(ops.threshold, input, inplace, "threshold_", threshold, value)


def threshold_(input, threshold, value):
    return _apply(ops.threshold, input, True, "threshold_", threshold, value)


def logsigmoid(input):
    """log(sigmoid(x)), computed as min(x, 0) - log1p(exp(-|x|)) (no overflow)."""
    return more.logsigmoid(input)


def hardsigmoid(input, inplace=False):
    """0 for x <= -3, 1 for x >= 3, x/6 + 1/2 between."""
    return _apply(more.hardsigmoid, input, inplace, "hardsigmoid_")


def hardswish(input, inplace=False):
    """x * hardsigmoid(x)."""
    return _apply(more.hardswish, input, inplace, "hardswish_")


def tanhshrink(input):
    """x - tanh(x)."""
    return more.tanhshrink(input)


def softsign(input):
    """x / (1 + |x|)."""
    return more.softsign(input)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def _softmax_dim(ndim):
    # PyTorch's legacy choice when dim is not given (it warns too).
    warnings.warn("Implicit dimension choice for softmax has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(_softmax_dim(input.ndim) if dim is None else dim)


def softmin(input, dim=None, dtype=None):
    """softmax(-x) along ``dim``: exp(-x_i) / sum_j exp(-x_j)."""
    return more.softmin(input, _softmax_dim(input.ndim) if dim is None else dim, dtype)


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(_softmax_dim(input.ndim) if dim is None else dim)
