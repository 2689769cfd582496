"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d.

The computation is in ``tinynn/ops/``: ``conv.py`` (im2col + one GEMM), ``conv_transpose.py``
(its adjoint) and ``conv1d.py`` (the 2-D ops over a unit height).
"""

from .. import backend
from ..creation import zeros
from ..ops.conv import check_conv2d_args, conv2d, conv2d_padding
from ..ops.conv1d import conv1d, conv1d_padding, conv_transpose1d, single
from ..ops.conv_kernels import pair
from ..ops.conv_transpose import (conv_transpose2d, conv_transpose2d_params,
                                  output_padding_for_size)
from . import init
from .module import LayerName, Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _check_groups_divide(name, in_channels, out_channels, groups):
    if in_channels % groups:
        raise ValueError(f"{name}: in_channels must be divisible by groups "
                         f"(in_channels={in_channels}, groups={groups})")
    if out_channels % groups:
        raise ValueError(f"{name}: out_channels must be divisible by groups "
                         f"(out_channels={out_channels}, groups={groups})")


class _ConvNd(Module):
    """What the convolution layers share: PyTorch's checks, parameters, initialisation and repr.

    ``weight_shape`` is (out, in/groups, *kernel) for a convolution and (in, out/groups,
    *kernel) for a transposed one; both are initialised U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    with fan_in = weight.shape[1] * prod(kernel) (PyTorch's Kaiming-uniform, a=sqrt(5)), so a
    transposed layer's bound is sqrt(groups / (out_channels * prod(kernel))).
    """

    transposed = False

    def _setup(self, in_channels, out_channels, kernel_size, groups, bias, padding_mode, device,
               dtype):
        name = type(self).__name__
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name}: groups must be a positive integer, got groups={groups!r}")
        _check_groups_divide(name, in_channels, out_channels, groups)
        if min(kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size}")
        if padding_mode != "zeros" and self.transposed:
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported; tinynn "
                             f"implements only padding_mode='zeros'")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.padding_mode = kernel_size, padding_mode
        self._init_parameters(bias, device, dtype)

    def _init_parameters(self, bias, device, dtype):
        """weight (``weight_shape``) and bias (out_channels,) or None, initialised, on ``device``."""
        in_channels, out_channels, groups = self.in_channels, self.out_channels, self.groups
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(zeros(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self):
        dims = len(self.kernel_size)
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0,) * dims) != (0,) * dims:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
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
        # Conv2d's own checks (not _setup's): its order, and named "Conv2d" in LazyConv2d too
        name = "Conv2d"
        kernel_size = pair(kernel_size, "kernel_size")
        if min(kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size}")
        stride, dilation = check_conv2d_args(stride, dilation, groups, name)
        _check_groups_divide(name, in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode={padding_mode!r} is not supported; tinynn "
                             f"implements only padding_mode='zeros'")
        conv2d_padding(padding, kernel_size, stride, dilation, name)   # validates early
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.padding_mode = padding_mode
        self._init_parameters(bias, device, dtype)

    def forward(self, input):
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, _name=LayerName(self))


# ---------------------------------------------------------------------------- Conv1d, transposed

class Conv1d(_ConvNd):
    """1-D convolution, as ``torch.nn.Conv1d``.

    Input (N, C_in, L) or (C_in, L) -> output (N, C_out, OL) or (C_out, OL),
    OL = floor((L + 2*padding - dilation*(K-1) - 1) / stride) + 1. padding: int, 'valid' or
    'same' (stride 1 only; an odd total pads one more on the right). Weight
    (C_out, C_in/groups, K), bias (C_out,). Runs Conv2d on a unit height (``ops/conv1d.py``).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = "Conv1d"
        self.stride = (single(stride, "stride"),)
        self.dilation = (single(dilation, "dilation"),)
        kernel_size = (single(kernel_size, "kernel_size"),)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: Invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and self.stride != (1,):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride[0]})")
            self.padding = padding
        else:
            self.padding = (single(padding, "padding"),)
        self._setup(in_channels, out_channels, kernel_size, groups, bias, padding_mode, device,
                    dtype)
        # Negative stride, padding or dilation: fail here, with the functional's error.
        conv1d_padding(padding, kernel_size[0], self.stride[0], self.dilation[0], name)

    def forward(self, input):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return conv1d(input, self.weight, self.bias, self.stride[0], padding, self.dilation[0],
                      self.groups, _name=LayerName(self))


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d/2d share: the weight layout, and ``forward``'s ``output_size``."""

    transposed = True

    def _output_padding(self, input, output_size, name):
        """``self.output_padding``, or the one that gives ``output_size`` (PyTorch's rule)."""
        if output_size is None:
            return self.output_padding
        return output_padding_for_size(input.shape, output_size, self.kernel_size, self.stride,
                                       self.padding, self.dilation, name)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution, as ``torch.nn.ConvTranspose2d`` (the adjoint of Conv2d).

    Input (N, C_in, H, W) or (C_in, H, W) -> output (N, C_out, OH, OW),
    OH = (H - 1)*stride - 2*padding + dilation*(KH - 1) + output_padding + 1.
    Weight (C_in, C_out/groups, KH, KW), bias (C_out,). ``forward(input, output_size)``
    chooses the output_padding that gives ``output_size`` (PyTorch's rule).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__()
        self._setup(in_channels, out_channels, pair(kernel_size, "kernel_size"), groups, bias,
                    padding_mode, device, dtype)
        (self.stride, self.padding, self.output_padding,
         self.dilation) = conv_transpose2d_params(stride, padding, output_padding, dilation,
                                                  groups, "ConvTranspose2d")

    def forward(self, input, output_size=None):
        name = LayerName(self)
        output_padding = self._output_padding(input, output_size, name)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                output_padding, self.groups, self.dilation, _name=name)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution, as ``torch.nn.ConvTranspose1d``.

    Input (N, C_in, L) or (C_in, L) -> output (N, C_out, OL),
    OL = (L - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1.
    Weight (C_in, C_out/groups, K), bias (C_out,); ``forward(input, output_size)`` as in
    ConvTranspose2d.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__()
        self._setup(in_channels, out_channels, (single(kernel_size, "kernel_size"),), groups, bias,
                    padding_mode, device, dtype)
        s, p = single(stride, "stride"), single(padding, "padding")
        op, d = single(output_padding, "output_padding"), single(dilation, "dilation")
        # the transposed convolution's checks (and errors) on a unit height
        conv_transpose2d_params((1, s), (0, p), (0, op), (1, d), groups, "ConvTranspose1d")
        self.stride, self.padding, self.output_padding, self.dilation = (s,), (p,), (op,), (d,)

    def forward(self, input, output_size=None):
        name = LayerName(self)
        output_padding = self._output_padding(input, output_size, name)
        return conv_transpose1d(input, self.weight, self.bias, self.stride[0], self.padding[0],
                                output_padding[0], self.groups, self.dilation[0], _name=name)
