"""Activations: relu, sigmoid, tanh, softmax, log_softmax (stable, with log-sum-exp)."""
from ..autograd import Function
from ..backend import get_array_module
from ..checks import accepts_axis, normalize_dim
from ..tensor import register_methods
from .conversion import as_float, cast
from .unary import inplace_methods

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]


class ReLU(Function):
    def forward(self, x):
        mask = x > 0  # relu'(0) = 0, as in PyTorch
        self.save_for_backward(mask)
        return x * mask

    def backward(self, grad):
        mask, = self.saved_arrays
        return grad * mask


class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        # exp of a negative number only, so large |x| never overflows.
        e = xp.exp(-abs(x))
        out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        self.save_for_backward(out)
        return out

    def backward(self, grad):
        out, = self.saved_arrays
        return grad * out * (1 - out)


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


def relu(input, inplace=False):
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


register_methods(relu, sigmoid, tanh, softmax, log_softmax, **inplace_methods(relu, sigmoid, tanh))
