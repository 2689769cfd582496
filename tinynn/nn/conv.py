"""Conv2d: the 2-D convolution layer (computation in ``tinynn/ops/conv.py``)."""

from .. import backend
from ..creation import zeros
from ..ops.conv import check_conv2d_args, conv2d, conv2d_padding
from ..ops.conv_kernels import pair
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv2d"]


class Conv2d(Module):
    """2-D convolution, as ``torch.nn.Conv2d``.

    Input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, OH, OW) or (C_out, OH, OW),
    OH = floor((H + 2*padding - dilation*(KH-1) - 1) / stride) + 1.
    padding: int, pair, 'valid' or 'same' (stride 1 only; an odd total pads one more at
    the bottom/right). Weight (C_out, C_in/groups, KH, KW) and bias (C_out,) start as
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups*KH*KW (PyTorch's default:
    Kaiming-uniform with a=sqrt(5)). Only padding_mode='zeros' is supported.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = "Conv2d"
        kernel_size = pair(kernel_size, "kernel_size")
        if min(kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size}")
        stride, dilation = check_conv2d_args(stride, dilation, groups, name)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups "
                             f"(in_channels={in_channels}, groups={groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups "
                             f"(out_channels={out_channels}, groups={groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported; tinynn "
                             f"implements only padding_mode='zeros'")
        conv2d_padding(padding, kernel_size, stride, dilation, name)   # validates early
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.padding_mode = padding_mode
        self.weight = Parameter(zeros(out_channels, in_channels // groups, *kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, _name=f"Conv2d({self.extra_repr()})")

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
