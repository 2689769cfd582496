"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveMaxPool1d/2d, AdaptiveAvgPool1d/2d.

The 2-D layers accept (N, C, H, W) or (C, H, W) input, the 1-D ones (N, C, L) or (C, L);
the computation is in ``tinynn/ops/pooling.py`` (1-D: ``ops/conv1d.py``, the 2-D pools over
a unit height).
"""
from ..ops import conv1d as P1
from ..ops import pooling as P
from .module import LayerName, Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d"]


class MaxPool2d(Module):
    """Max over (kernel_size) windows, as ``torch.nn.MaxPool2d``; stride defaults to kernel_size.

    Padding counts as -inf and must be at most kernel_size // 2. With ``return_indices``
    the layer returns ``(output, indices)``, indices being flat ``h*W + w`` positions.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        P.pool2d_params(kernel_size, stride, padding, dilation, "MaxPool2d")  # fail early
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return P.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices,
                            _name=LayerName(self))

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Mean over (kernel_size) windows, as ``torch.nn.AvgPool2d``; stride defaults to kernel_size.

    Zero padding (at most kernel_size // 2). The divisor is the window's size, counting padded
    cells if ``count_include_pad`` (but never the part of a ceil-mode window beyond the padded
    border), or ``divisor_override`` when given.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        P.pool2d_params(kernel_size, stride, padding, 1, "AvgPool2d")  # fail early
        if divisor_override is not None and divisor_override == 0:
            raise ValueError("AvgPool2d: divisor must be not zero")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return P.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override,
                            _name=LayerName(self))

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool2d(Module):
    """Max over adaptive bins giving an output of ``output_size`` (int, pair; None keeps H or W).

    Bin i covers rows [floor(i*H/OH), ceil((i+1)*H/OH)). ``output_size=1`` is global max pooling.
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices,
                                     _name=LayerName(self))

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Mean over adaptive bins giving an output of ``output_size`` (int, pair; None keeps H or W).

    ``AdaptiveAvgPool2d((1, 1))`` is ResNet's global average pooling.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return P.adaptive_avg_pool2d(input, self.output_size,
                                     _name=LayerName(self))

    def extra_repr(self):
        return f"output_size={self.output_size}"


# ---------------------------------------------------------------------------- 1-D

class MaxPool1d(Module):
    """Max over windows of length kernel_size, as ``torch.nn.MaxPool1d``; stride defaults to it.

    Padding counts as -inf and must be at most kernel_size // 2. With ``return_indices``
    the layer returns ``(output, indices)``, indices being positions along L (int64).
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        P1.pool1d_params(kernel_size, stride, padding, dilation, "MaxPool1d")  # fail early
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return P1.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                             ceil_mode=self.ceil_mode, return_indices=self.return_indices,
                             _name=LayerName(self))

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """Mean over windows of length kernel_size, as ``torch.nn.AvgPool1d``; stride defaults to it.

    Zero padding (at most kernel_size // 2). The divisor is the window's length, counting
    padded cells if ``count_include_pad`` (never the part of a ceil-mode window past the
    padded end). Stores kernel_size, stride and padding as 1-tuples, as PyTorch does.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        kernel, stride, padding, _ = P1.pool1d_params(kernel_size, stride, padding, 1, "AvgPool1d")
        self.kernel_size, self.stride, self.padding = (kernel,), (stride,), (padding,)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return P1.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                             self.count_include_pad, _name=LayerName(self))

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveMaxPool1d(Module):
    """Max over adaptive bins giving an output of length ``output_size``.

    Bin i covers [floor(i*L/O), ceil((i+1)*L/O)); ``output_size=1`` is global max pooling.
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return P1.adaptive_max_pool1d(input, self.output_size, self.return_indices,
                                      _name=LayerName(self))

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(Module):
    """Mean over adaptive bins giving an output of length ``output_size``."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return P1.adaptive_avg_pool1d(input, self.output_size,
                                      _name=LayerName(self))

    def extra_repr(self):
        return f"output_size={self.output_size}"
