"""Batch normalisation: the ``BatchNorm`` Function (closed-form backward) and ``batch_norm``.

Shapes: input (N, C) or (N, C, *) (e.g. (N, C, L), (N, C, H, W)); weight, bias, running_mean,
running_var (C,). Each channel c is normalised over the m = N * prod(*) values it has:

    xhat = (x - mean_c) / sqrt(var_c + eps),    y = weight_c * xhat + bias_c

Training mode uses the batch's mean and *biased* variance and moves the running statistics
towards the batch's mean and *unbiased* variance (var * m / (m - 1)), as PyTorch does.
Eval mode uses the running statistics, so it is a fixed affine map per channel.
"""
from ..autograd import Function
from ..backend import device_of, get_array_module
from ..checks import check_same_device
from .layout import same_layout

__all__ = ["BatchNorm", "batch_norm"]


def _channel_axes(ndim):
    """Every axis but the channel axis 1: (0,) for (N, C), (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(values, ndim):
    """A (C,) array reshaped to broadcast against (N, C, *): (1, C, 1, ...)."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _sum_of_products(a, b):
    """sum over every axis but 1 of ``a * b``, without materialising the product."""
    rows_a, rows_b = _channel_rows(a), _channel_rows(b)
    if rows_a is not None and rows_b is not None:
        # (C, 1, M) @ (C, M, 1): C dot products in BLAS, ~1.5x faster than einsum.
        return (rows_a[:, None, :] @ rows_b[:, :, None]).reshape(-1)
    dims = "nc" + "hwxyz"[:a.ndim - 2]   # e.g. "nchw,nchw->c"
    return get_array_module(a).einsum(f"{dims},{dims}->c", a, b)


def _channel_rows(x):
    """A free (C, M) view of ``x`` (N, C, *) with one row per channel, or None.

    It exists when x is batch-last in memory, (C, *, N), as convolution outputs and their
    gradients are; then per-channel sums are matrix-vector products over contiguous rows.
    """
    if x.ndim < 3:
        return None
    rows = x.transpose(tuple(range(1, x.ndim)) + (0,))
    return rows.reshape(x.shape[1], -1) if rows.flags.c_contiguous else None


_ONES = {}   # (device, length, dtype) -> a read-only vector of ones for row sums


def _channel_sums(x):
    """sum over every axis but 1: a BLAS matrix-vector product when ``x`` has channel rows
    (4x faster than ``sum(axis=(0, 2, 3))``), else NumPy's reduction."""
    rows = _channel_rows(x)
    if rows is None:
        return x.sum(axis=_channel_axes(x.ndim))
    key = (device_of(x), rows.shape[1], x.dtype.str)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:   # a bounded cache: shapes change rarely in training
            _ONES.clear()
        ones = _ONES[key] = get_array_module(x).ones(rows.shape[1], dtype=x.dtype)
    return rows @ ones


class BatchNorm(Function):
    """``batch_norm`` on raw arrays. Positional inputs: x, then weight and bias if given.

    Forward and backward never transpose or copy the input to a channel-first layout:
    every full-size result keeps the input's memory layout (NumPy's ``order='K'``), so a
    convolution's batch-last output stays batch-last through batch norm and its gradient;
    for that layout the per-channel sums are BLAS products over (C, M) rows.

    Training keeps ``x - mean`` (not ``x``) for backward: the same memory (``x`` itself can
    be freed), and backward needs no pass to recompute it; 1/std enters the per-channel
    factors only. Passes over full-size memory: forward 5 (sum, centre, sum of squares,
    scale, shift), backward 6 (two sums, four elementwise passes of
    ``gx = scale * (g - xhat * mean(g*xhat) - mean(g))``).
    """

    def forward(self, x, weight, bias, *, training, running_mean, running_var, momentum, eps):
        xp = get_array_module(x)
        has_weight, has_bias = weight is not None, bias is not None
        ndim, m = x.ndim, x.size // x.shape[1]
        self.training, self.m = training, m
        if training:
            mean = _channel_sums(x) / m
            centred = x - _per_channel(mean, ndim)
            var = _sum_of_products(centred, centred) / m   # biased: what normalises this batch
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, m, momentum)
            inv_std = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
            scale = inv_std * weight if has_weight else inv_std          # gamma / std
            self.save_for_backward(centred, inv_std, scale)
            # A new array: the caller may change the output in place (ResNet's out += x).
            out = centred * _per_channel(scale, ndim)
            if has_bias:
                out += _per_channel(bias, ndim)
            return out
        # Eval: y = x * scale + shift, one multiply and one add per element. The running
        # mean is copied: it may move (next training step) before this backward.
        mean = running_mean.astype(x.dtype)
        var = running_var.astype(x.dtype, copy=False)
        inv_std = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = inv_std * weight if has_weight else inv_std
        self.save_for_backward(x, mean, inv_std, scale)
        shift = -mean * scale
        if has_bias:
            shift = shift + bias
        out = x * _per_channel(scale, ndim)
        out += _per_channel(shift, ndim)
        return out

    def backward(self, grad):
        needs = self.needs_input_grad
        if not self.training:
            return self._eval_backward(grad)
        ndim, m = grad.ndim, self.m
        centred, inv_std, scale = self.saved_arrays
        grad = same_layout(grad, centred)   # mixed memory orders make every pass several times slower
        sum_g = _channel_sums(grad)                                 # = dL/dbias
        sum_g_xhat = _sum_of_products(grad, centred) * inv_std      # = dL/dweight
        gx = None
        if needs[0]:
            # dx = (gamma * inv_std) * (g - xhat * mean(g*xhat) - mean(g)), xhat = centred *
            # inv_std: four passes.
            gx = centred * _per_channel(sum_g_xhat * inv_std / m, ndim)
            gx += _per_channel(sum_g / m, ndim)
            get_array_module(grad).subtract(grad, gx, out=gx)
            gx *= _per_channel(scale, ndim)
        return (gx, sum_g_xhat.astype(grad.dtype, copy=False) if needs[1] else None,
                sum_g.astype(grad.dtype, copy=False) if needs[2] else None)

    def _eval_backward(self, grad):
        """Eval mode: a fixed affine map per channel, y = x * scale + shift."""
        needs = self.needs_input_grad
        ndim = grad.ndim
        x, mean, inv_std, scale = self.saved_arrays
        gx = gweight = gbias = None
        if needs[0]:
            gx = grad * _per_channel(scale, ndim)
        if needs[1]:
            xhat = (x - _per_channel(mean, ndim)) * _per_channel(inv_std, ndim)
            gweight = _sum_of_products(grad, xhat).astype(grad.dtype, copy=False)
        if needs[2]:
            gbias = _channel_sums(grad).astype(grad.dtype, copy=False)
        return gx, gweight, gbias


def _update_running(running_mean, running_var, mean, var, m, momentum):
    """running = (1 - momentum) * running + momentum * batch, in place (outside the graph).

    The variance that enters the running estimate is the unbiased one, var * m / (m - 1);
    the mean is never rescaled.
    """
    unbiased = var * (m / (m - 1))
    running_mean *= 1 - momentum
    running_mean += (momentum * mean).astype(running_mean.dtype, copy=False)
    running_var *= 1 - momentum
    running_var += (momentum * unbiased).astype(running_var.dtype, copy=False)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation of (N, C) or (N, C, *) input, as ``torch.nn.functional.batch_norm``.

    training=True normalises with the batch statistics and, when running_mean/running_var
    are given, updates them in place: ``running = (1 - momentum) * running + momentum *
    batch`` (unbiased variance). training=False normalises with running_mean/running_var.
    weight and bias (C,) are the optional affine scale and shift. Returns input's shape.
    """
    _check_batch_norm_args(input, running_mean, running_var, weight, bias, training)
    return BatchNorm.apply(
        input, weight, bias, training=bool(training),
        running_mean=None if running_mean is None else running_mean.array,
        running_var=None if running_var is None else running_var.array,
        momentum=momentum, eps=eps)


def _check_batch_norm_args(input, running_mean, running_var, weight, bias, training):
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got "
                         f"{input.ndim}D input {tuple(input.shape)}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"batch_norm: expected a floating-point input, got {input.dtype}")
    channels = input.shape[1]
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                           "evaluation mode (pass training=True to use the batch statistics)")
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        if t is None:
            continue
        if tuple(t.shape) != (channels,):
            raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not "
                               f"{t.numel()} (input of shape {tuple(input.shape)})")
        check_same_device(f"batch_norm: input and {name}", (input, t))
        if name in ("weight", "bias") and t.dtype != input.dtype:
            raise RuntimeError(f"batch_norm: input type ({input.dtype}) and {name} type "
                               f"({t.dtype}) should be the same")
    if training and channels and input.numel() // channels == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {list(input.shape)}")
