"""Activation functions: ``F.relu``, ``F.sigmoid``, ``F.tanh``, ``F.softmax``, ``F.log_softmax``."""
import warnings

from ...ops import activation

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]


def relu(input, inplace=False):
    return activation.ReLU.apply(input)


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


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(_softmax_dim(input.ndim) if dim is None else dim)
