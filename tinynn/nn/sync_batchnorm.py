"""SyncBatchNorm: batch normalisation whose batch statistics span every rank.

With DistributedDataParallel each rank sees only its share of the batch (32 of 64, say).
Plain BatchNorm would normalise each share with its own mean and variance; SyncBatchNorm
normalises all of them with the statistics of the whole global batch, so that training
on N ranks computes what one process would on the whole batch.

Forward (training), per channel c, on every rank:
    local:  n_r values, their mean mu_r and M2_r = sum (x - mu_r)^2 (as BatchNorm does)
    one allreduce of [n_r mu_r, M2_r + n_r mu_r^2, n_r] (float64, 2C + 1 numbers) gives
            N = sum n_r,  mean = sum n_r mu_r / N,  var = sum (M2_r + n_r mu_r^2) / N - mean^2
Backward: BatchNorm's closed form (``ops/batchnorm.py``)
    dx = weight * inv_std / N * (N g - sum(g) - xhat * sum(g * xhat))
needs the two per-channel sums over the global batch: one allreduce of both. The weight and
bias gradients stay local sums (DistributedDataParallel averages them like any other).
In eval mode, or when no process group with more than one rank exists, it is BatchNorm.
"""
from .. import distributed as dist
from ..autograd import Function
from ..backend import get_array_module
from ..ops.batchnorm import _channel_axes, _per_channel, _sum_of_products, _update_running
from .batchnorm import BatchNorm1d, BatchNorm2d, _BatchNorm
from . import batchnorm as _batchnorm_module

__all__ = ["SyncBatchNorm"]


class SyncBatchNormFunction(Function):
    """Training-mode batch norm over the global batch. Positional inputs: x, weight, bias
    (None when absent). ``allreduce(array)`` sums an array over the ranks, in place."""

    def forward(self, x, weight, bias, *, running_mean, running_var, momentum, eps, allreduce):
        xp = get_array_module(x)
        ndim, channels, m = x.ndim, x.shape[1], x.size // x.shape[1]
        mean_local = x.mean(axis=_channel_axes(ndim))
        centred = x - _per_channel(mean_local, ndim)             # becomes the output, in place
        m2_local = _sum_of_products(centred, centred)
        wide = mean_local.astype(xp.float64)
        stats = xp.concatenate([m * wide, m2_local.astype(xp.float64) + m * wide * wide,
                                xp.full(1, m, dtype=xp.float64)])
        allreduce(stats)
        count = int(stats[-1])
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(x.shape)} on the only rank with data")
        mean = stats[:channels] / count
        var = xp.maximum(stats[channels:2 * channels] / count - mean * mean, 0)
        mean, var = mean.astype(x.dtype), var.astype(x.dtype)
        centred -= _per_channel(mean - mean_local, ndim)        # now centred on the global mean
        if running_mean is not None:
            _update_running(running_mean, running_var, mean, var, count, momentum)
        inv_std = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = inv_std * weight if weight is not None else inv_std
        self.save_for_backward(x, mean, inv_std, scale)
        self.m, self.allreduce = count, allreduce
        out = centred
        out *= _per_channel(scale, ndim)
        if bias is not None:
            out += _per_channel(bias, ndim)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        ndim, channels, axes = grad.ndim, grad.shape[1], _channel_axes(grad.ndim)
        needs = self.needs_input_grad
        x, mean, inv_std, scale = self.saved_arrays
        centred = x - _per_channel(mean, ndim)
        sums = xp.concatenate([grad.sum(axis=axes), _sum_of_products(grad, centred) * inv_std])
        gweight = sums[channels:].copy() if needs[1] else None   # local: DDP averages these
        gbias = sums[:channels].copy() if needs[2] else None
        gx = None
        if needs[0]:
            self.allreduce(sums)                                  # the global batch's sums
            sum_g, sum_g_xhat, m = sums[:channels], sums[channels:], self.m
            gx = centred
            gx *= _per_channel(sum_g_xhat * inv_std / m, ndim)
            xp.subtract(grad, gx, out=gx)
            gx -= _per_channel(sum_g / m, ndim)
            gx *= _per_channel(scale, ndim)
        return gx, gweight, gbias

    def _free(self):
        self.allreduce = None
        super()._free()


def _allreduce_sum(array):
    dist._require_world().allreduce(array, "sum").wait()


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) input whose training statistics are those of the batches of
    all ranks together (``torch.nn.SyncBatchNorm``); see the module doc.

    Same arguments as BatchNorm2d, plus ``process_group`` (None: all ranks, the only group
    tinynn has). Usually made from an existing model with ``convert_sync_batchnorm``.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        dist._check_group(process_group)
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"{self._name()}: expected {self.num_features} channels, got "
                               f"{input.shape[1]} channels in input of shape {tuple(input.shape)}")

    def forward(self, input):
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)      # BatchNorm: eval mode, or a single process
        self._check_input(input)
        if input.dtype.kind != "f":
            raise RuntimeError(f"SyncBatchNorm: expected a floating-point input, got {input.dtype}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked.array += 1
            if self.momentum is None:          # cumulative average: weight 1/k for batch k
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return SyncBatchNormFunction.apply(
            input, self.weight, self.bias,
            running_mean=None if self.running_mean is None else self.running_mean.array,
            running_var=None if self.running_var is None else self.running_var.array,
            momentum=momentum, eps=self.eps, allreduce=_allreduce_sum)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm1d/2d/3d layer replaced by a SyncBatchNorm that
        shares its parameters and running statistics (the others are kept as they are).
        Returns the converted module (a new object when ``module`` itself is a BatchNorm)."""
        output = module
        if isinstance(module, _CONVERTIBLE):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group)
            if module.affine:
                output.weight, output.bias = module.weight, module.bias
            output.running_mean, output.running_var = module.running_mean, module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
            if hasattr(module, "qconfig"):
                output.qconfig = module.qconfig
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output


# BatchNorm proper (InstanceNorm derives from _BatchNorm here, but is not converted).
_CONVERTIBLE = tuple(c for c in (BatchNorm1d, BatchNorm2d, getattr(_batchnorm_module,
                                                                   "BatchNorm3d", None)) if c)
