"""Resizing and padding layers: Upsample (+ the older UpsamplingNearest2d and
UpsamplingBilinear2d) and the padding layers of ``torch.nn`` (ZeroPad, ConstantPad,
ReflectionPad, ReplicationPad, CircularPad in 1d and 2d). The computation is
``F.interpolate`` / ``F.pad`` (``tinynn/ops/resample.py``).
"""
from . import functional as F
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
           "ZeroPad1d", "ZeroPad2d", "ConstantPad1d", "ConstantPad2d", "ReflectionPad1d",
           "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d",
           "CircularPad2d"]


class Upsample(Module):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to ``size`` or by
    ``scale_factor`` (output size floor(in * scale_factor)), as ``torch.nn.Upsample``.

    mode: 'nearest' (default), 'nearest-exact', 'linear', 'bilinear', 'trilinear', 'area';
    align_corners: see ``F.interpolate``.
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')`` for (N, C, H, W) input (deprecated in
    PyTorch in favour of ``F.interpolate``, kept for old code)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)`` (deprecated in
    PyTorch in favour of ``F.interpolate``, kept for old code)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------- padding

def _ntuple(padding, n):
    """An int -> the same amount on all ``n`` sides; a sequence is taken as given."""
    if isinstance(padding, (tuple, list)):
        return tuple(padding)
    return (padding,) * n


class _ConstantPadNd(Module):
    _sides = 2

    def __init__(self, padding, value):
        super().__init__()
        self.padding, self.value = _ntuple(padding, self._sides), value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: padding int or (left, right)."""

    _sides = 2


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``: padding int or (left, right, top, bottom)."""

    _sides = 4


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros: padding int or (left, right)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros: padding int or (left, right, top, bottom)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ModePadNd(Module):
    _sides, _mode = 2, None

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, self._sides)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Mirror the last dim at its edges ((N, C, W) or (C, W)): padding int or (left, right),
    each smaller than W."""

    _sides, _mode = 2, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Mirror the last two dims at their edges ((N, C, H, W) or (C, H, W)): padding int or
    (left, right, top, bottom), each smaller than its dim."""

    _sides, _mode = 4, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Repeat the edge values of the last dim: padding int or (left, right)."""

    _sides, _mode = 2, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Repeat the edge values of the last two dims: padding int or (left, right, top, bottom)."""

    _sides, _mode = 4, "replicate"


class CircularPad1d(_ModePadNd):
    """Wrap the last dim around: padding int or (left, right)."""

    _sides, _mode = 2, "circular"

    def forward(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
        return super().forward(input)


class CircularPad2d(_ModePadNd):
    """Wrap the last two dims around: padding int or (left, right, top, bottom)."""

    _sides, _mode = 4, "circular"

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"expected 3D or 4D input (got {input.ndim}D input)")
        return super().forward(input)
