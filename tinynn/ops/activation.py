"""Activations: relu, sigmoid, tanh, softmax, log_softmax (stable, with log-sum-exp)."""
from ..autograd import Function
from ..backend import get_array_module


class ReLU(Function):
    def forward(self, x):
        self.mask = x > 0  # relu'(0) = 0, as in PyTorch
        return x * self.mask

    def backward(self, grad):
        return grad * self.mask


class Sigmoid(Function):
    def forward(self, x):
        xp = get_array_module(x)
        # exp of a negative number only, so large |x| never overflows.
        e = xp.exp(-abs(x))
        self.out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        return self.out

    def backward(self, grad):
        return grad * self.out * (1 - self.out)


class Tanh(Function):
    def forward(self, x):
        self.out = get_array_module(x).tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out * self.out)


class Softmax(Function):
    def forward(self, x, *, dim):
        xp = get_array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        self.out, self.dim = e / e.sum(axis=dim, keepdims=True), dim
        return self.out

    def backward(self, grad):
        s = self.out
        return s * (grad - (grad * s).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, *, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.dim = dim
        return self.out

    def backward(self, grad):
        xp = get_array_module(grad)
        return grad - xp.exp(self.out) * grad.sum(axis=self.dim, keepdims=True)


class Mask(Function):
    """Multiply by a fixed array (dropout's scaled keep-mask); the mask gets no gradient."""

    def forward(self, x, *, mask):
        self.mask = mask
        return x * mask

    def backward(self, grad):
        return grad * self.mask
