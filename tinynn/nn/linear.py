"""Identity, Linear and Flatten."""
from .. import backend
from ..creation import zeros
from . import functional as F, init
from .module import Module
from .parameter import Parameter

__all__ = ["Identity", "Linear", "Flatten"]


class Identity(Module):
    """Returns its input unchanged (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b``. Input (*, in_features) -> output (*, out_features).

    Weight (out_features, in_features) and bias start as U(-1/sqrt(in), 1/sqrt(in)),
    PyTorch's default (Kaiming-uniform with a=sqrt(5)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype))
        self.register_parameter("bias", Parameter(zeros(out_features, dtype=dtype)) if bias else None)
        self.reset_parameters()
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            rows = input.numel() // max(input.shape[-1], 1) if input.ndim else 1
            cols = input.shape[-1] if input.ndim else 0
            raise RuntimeError(f"{type(self).__name__}({self.extra_repr()}): mat1 and mat2 shapes "
                               f"cannot be multiplied ({rows}x{cols} and "
                               f"{self.in_features}x{self.out_features}); the input has shape "
                               f"{input.shape} but its last dimension must be {self.in_features}")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Flattens dims ``start_dim..end_dim`` (default: all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
