"""Activation layers, as ``torch.nn``: each one calls its ``F`` form with the settings it keeps.

ReLU, LeakyReLU, ELU, CELU, SELU, GELU, SiLU, Mish, Softplus, Hardtanh, ReLU6, PReLU (the one
with a learned parameter), Threshold, LogSigmoid, Hardsigmoid, Hardswish, Tanhshrink, Softsign,
Sigmoid, Tanh, Softmax, Softmin, LogSoftmax. Their reprs follow PyTorch's
(``LeakyReLU(negative_slope=0.01)``).
"""
from .. import backend
from ..creation import empty
from . import functional as F, init
from .module import Module
from .parameter import Parameter

__all__ = ["ReLU", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Softplus",
           "Hardtanh", "ReLU6", "PReLU", "Threshold", "LogSigmoid", "Hardsigmoid", "Hardswish",
           "Tanhshrink", "Softsign", "Sigmoid", "Tanh", "Softmax", "Softmin", "LogSoftmax"]


def _inplace_note(inplace, first=False):
    """PyTorch's repr tail for the in-place flag: shown only when set."""
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class _InplaceActivation(Module):
    """An activation with only an ``inplace`` flag: ``forward`` is ``function(input, inplace)``."""

    function = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_note(self.inplace, first=True)


class _PlainActivation(Module):
    """An activation with no settings: ``forward`` is ``function(input)``."""

    function = None

    def forward(self, input):
        return type(self).function(input)


class ReLU(_InplaceActivation):
    """max(x, 0)."""
    function = F.relu


class SELU(_InplaceActivation):
    """scale * (max(0, x) + min(0, alpha * (exp(x) - 1))) with PyTorch's constants."""
    function = F.selu


class SiLU(_InplaceActivation):
    """x * sigmoid(x)."""
    function = F.silu


class Mish(_InplaceActivation):
    """x * tanh(softplus(x))."""
    function = F.mish


class Hardsigmoid(_InplaceActivation):
    """0 for x <= -3, 1 for x >= 3, x/6 + 1/2 between."""
    function = F.hardsigmoid

    def extra_repr(self):
        return ""  # PyTorch shows no settings for this one


class Hardswish(Hardsigmoid):
    """x * hardsigmoid(x)."""
    function = F.hardswish


class LogSigmoid(_PlainActivation):
    """log(sigmoid(x)), stable for large |x|."""
    function = F.logsigmoid


class Tanhshrink(_PlainActivation):
    """x - tanh(x)."""
    function = F.tanhshrink


class Softsign(_PlainActivation):
    """x / (1 + |x|)."""
    function = F.softsign


class Sigmoid(_PlainActivation):
    function = F.sigmoid


class Tanh(_PlainActivation):
    function = F.tanh


class LeakyReLU(Module):
    """max(0, x) + negative_slope * min(0, x)."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_note(self.inplace)}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_note(self.inplace)}"


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)


class GELU(Module):
    """x * Phi(x); ``approximate='tanh'`` for the tanh approximation."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta; linear where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        # min_value / max_value: PyTorch's deprecated spellings, still accepted
        self.min_val = min_val if min_value is None else min_value
        self.max_val = max_val if max_value is None else max_value
        self.inplace = inplace
        if not self.max_val > self.min_val:
            raise AssertionError(f"Hardtanh: max_val ({self.max_val}) must be greater than "
                                 f"min_val ({self.min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_note(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_note(self.inplace, first=True)


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_note(self.inplace)}"


class PReLU(Module):
    """max(0, x) + a * min(0, x) with a learned slope ``a``: one shared value (the default) or
    one per input channel (dim 1), ``num_parameters`` of them, all starting at ``init``.

    Parameter: ``weight`` of shape (num_parameters,).
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(empty(num_parameters, dtype=dtype))
        self.reset_parameters()
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Softmax):
    """softmax(-x) along ``dim``."""

    def forward(self, input):
        return F.softmin(input, self.dim)


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)
