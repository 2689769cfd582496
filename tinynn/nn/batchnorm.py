"""BatchNorm1d and BatchNorm2d: batch normalisation layers with running statistics.

The learnable ``weight`` (gamma) and ``bias`` (beta) are Parameters; ``running_mean``,
``running_var`` and ``num_batches_tracked`` are buffers: saved in ``state_dict`` and
moved by ``to()``, but never returned by ``parameters()``, so no optimizer touches them.
"""
from .. import backend, dtypes
from ..autograd import no_grad
from ..creation import ones, tensor, zeros
from ..ops.batchnorm import batch_norm
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


def add_affine_parameters(module, num_features, affine, dtype):
    """The per-channel affine map of batch and group norm: ``weight`` (ones) and ``bias``
    (zeros) of shape (num_features,) when ``affine``, else both registered as None."""
    if affine:
        module.weight = Parameter(ones(num_features, dtype=dtype))
        module.bias = Parameter(zeros(num_features, dtype=dtype))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def reset_affine_parameters(module):
    """Back to the identity map (weight 1, bias 0), if ``module.affine``."""
    if module.affine:
        with no_grad():
            module.weight.fill_(1)
            module.bias.zero_()


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d; subclasses set the input ranks they accept.

    momentum: weight of the new batch in the running statistics (``None``: a cumulative
    moving average, i.e. the plain mean over the ``num_batches_tracked`` batches seen).
    track_running_stats=False: no buffers; batch statistics in eval mode too.
    """

    _ranks = ()          # accepted input ranks, e.g. (2, 3)
    _rank_text = ""      # how the error message names them, e.g. "2D or 3D"

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        add_affine_parameters(self, num_features, affine, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        if device is not None:
            self.to(backend.Device(device))

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        reset_affine_parameters(self)

    def _name(self):
        return f"{type(self).__name__}({self.num_features})"

    def _check_input(self, input):
        if input.ndim not in self._ranks:
            raise ValueError(f"{self._name()}: expected {self._rank_text} input (got "
                             f"{input.ndim}D input {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{self._name()}: expected {self.num_features} channels, got "
                               f"{input.shape[1]} channels in input of shape {input.shape}")

    def forward(self, input):
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.array += 1   # a buffer: plain array update, no graph
            if self.momentum is None:             # cumulative average: weight 1/k for batch k
                momentum = 1.0 / float(self.num_batches_tracked.item())
        # Batch statistics while training, and in eval mode when no running stats exist.
        use_batch_stats = self.training or self.running_mean is None
        # Running stats are updated only while training with tracking on.
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps)

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, errors):
        # Checkpoints from before num_batches_tracked existed load strictly; the counter
        # keeps its current value, as PyTorch does.
        before = len(missing_keys)
        super()._load_from_state_dict(state_dict, prefix, missing_keys, errors)
        key = prefix + "num_batches_tracked"
        if key in missing_keys[before:]:
            missing_keys.remove(key)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) input; statistics per channel C."""

    _ranks, _rank_text = (2, 3), "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) input; statistics per channel C over (N, H, W)."""

    _ranks, _rank_text = (4,), "4D"

