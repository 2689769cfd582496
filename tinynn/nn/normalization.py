"""LayerNorm, GroupNorm, InstanceNorm1d and InstanceNorm2d (maths in ``tinynn/ops/normalization.py``).

Unlike batch norm, these layers normalise every sample with its own statistics, in
training and in evaluation alike (InstanceNorm with ``track_running_stats=True`` is the
exception: in eval mode it uses its running estimates, as batch norm does).
"""
import warnings

from .. import backend
from ..autograd import no_grad
from ..creation import ones, zeros
from ..ops.normalization import _as_shape
from . import functional as F
from .batchnorm import _BatchNorm, add_affine_parameters, reset_affine_parameters
from .module import Module
from .parameter import Parameter

__all__ = ["LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d"]


class LayerNorm(Module):
    """Layer normalisation over the last ``len(normalized_shape)`` dims, as ``torch.nn.LayerNorm``.

    Input (*, *normalized_shape) -> same shape. ``weight`` (ones) and ``bias`` (zeros) have
    shape ``normalized_shape``: one scale and shift per element (``elementwise_affine``);
    ``bias=False`` keeps the scale only.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalisation, as ``torch.nn.GroupNorm``: input (N, C, *) -> same shape.

    The C channels form ``num_groups`` groups of C/num_groups consecutive channels; each
    group of each sample is normalised over its channels and positions. ``weight`` (ones)
    and ``bias`` (zeros) are per channel, (C,). GroupNorm(C, C) is instance norm with an
    affine map, GroupNorm(1, C) a layer norm over (C, *) with per-channel parameters.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine)
        add_affine_parameters(self, num_channels, affine, dtype)
        if device is not None:
            self.to(backend.Device(device))

    def reset_parameters(self):
        reset_affine_parameters(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Shared by InstanceNorm1d/2d: the same parameters and buffers as batch norm (so the
    state_dict keys match PyTorch's), but statistics per (sample, channel).

    Defaults differ from batch norm: ``affine=False``, ``track_running_stats=False``.
    With tracking, training updates ``running_mean``/``running_var`` with the batch average
    of the instances' statistics and eval mode normalises with them; ``num_batches_tracked``
    is kept for state-dict compatibility but, as in PyTorch, not counted. ``momentum=None``
    leaves the running statistics where they are.
    """

    _spatial_dims = 0   # 1 for InstanceNorm1d, 2 for InstanceNorm2d

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input(self, input):
        ranks = (self._spatial_dims + 1, self._spatial_dims + 2)
        if input.ndim not in ranks:
            raise ValueError(f"expected {ranks[0]}D or {ranks[1]}D input (got {input.ndim}D input)")
        feature_dim = input.ndim - self._spatial_dims - 1
        size = input.shape[feature_dim]
        if size != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: {size}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is "
                          f"not used because affine=False", stacklevel=3)

    def forward(self, input):
        self._check_input(input)
        unbatched = input.ndim == self._spatial_dims + 1
        if unbatched:
            input = input.unsqueeze(0)
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or unbatched (C, L) input, as ``torch.nn.InstanceNorm1d``."""

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or unbatched (C, H, W) input, as
    ``torch.nn.InstanceNorm2d``: each channel of each image normalised over its H*W pixels."""

    _spatial_dims = 2
