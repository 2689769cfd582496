"""Batch normalisation: the ``BatchNorm`` Function (closed-form backward) and ``batch_norm``.

Shapes: input (N, C) or (N, C, *) (e.g. (N, C, L), (N, C, H, W)); weight, bias, running_mean,
running_var (C,). Each channel c is normalised over the m = N * prod(*) values it has:

    xhat = (x - mean_c) / sqrt(var_c + eps),    y = weight_c * xhat + bias_c

Training mode uses the batch's mean and *biased* variance and moves the running statistics
towards the batch's mean and *unbiased* variance (var * m / (m - 1)), as PyTorch does.
Eval mode uses the running statistics, so it is a fixed affine map per channel.
"""
from ..autograd import Function
from ..backend import get_array_module
from ..checks import check_same_device

__all__ = ["BatchNorm", "batch_norm"]


def _channel_axes(ndim):
    """Every axis but the channel axis 1: (0,) for (N, C), (0, 2, 3) for (N, C, H, W)."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(values, ndim):
    """A (C,) array reshaped to broadcast against (N, C, *): (1, C, 1, ...)."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _sum_of_products(a, b):
    """sum over every axis but 1 of ``a * b``, without materialising the product."""
    dims = "nc" + "hwxyz"[:a.ndim - 2]   # e.g. "nchw,nchw->c"
    return get_array_module(a).einsum(f"{dims},{dims}->c", a, b)


class BatchNorm(Function):
    """``batch_norm`` on raw arrays. Positional inputs: x, then weight and bias if given.

    Forward and backward never transpose or copy the input to a channel-first layout:
    the reductions run over axes (0, 2, 3) of whatever memory layout the input has, and
    every full-size result keeps that layout (NumPy's ``order='K'``), so a convolution's
    batch-last output stays batch-last through batch norm and its gradient.

    Only ``x`` is kept for backward (plus per-channel vectors), and forward allocates one
    full-size array, its output: on a CPU every fresh full-size array costs page faults
    (keeping ``xhat`` instead doubled the forward time in the ResNet profile).
    """

    def forward(self, x, weight, bias, *, training, running_mean, running_var, momentum, eps):
        xp = get_array_module(x)
        has_weight, has_bias = weight is not None, bias is not None
        ndim, m = x.ndim, x.size // x.shape[1]
        if training:
            mean = x.mean(axis=_channel_axes(ndim))
            centred = x - _per_channel(mean, ndim)         # becomes the output, in place
            var = _sum_of_products(centred, centred) / m   # biased: what normalises this batch
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, m, momentum)
        else:
            # A copy: the running mean may move (next training step) before this backward.
            mean = running_mean.astype(x.dtype)
            var = running_var.astype(x.dtype, copy=False)
        inv_std = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        scale = inv_std * weight if has_weight else inv_std          # gamma / std
        self.save_for_backward(x, mean, inv_std, scale)
        self.training, self.m = training, m
        if training:
            out = centred
            out *= _per_channel(scale, ndim)
            if has_bias:
                out += _per_channel(bias, ndim)
            return out
        # Eval: y = x * scale + shift, one multiply and one add per element.
        shift = -mean * scale
        if has_bias:
            shift = shift + bias
        out = x * _per_channel(scale, ndim)
        out += _per_channel(shift, ndim)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        ndim, axes = grad.ndim, _channel_axes(grad.ndim)
        needs = self.needs_input_grad
        needs_weight, needs_bias = needs[1], needs[2]
        x, mean, inv_std, scale = self.saved_arrays
        m = self.m
        gx = gweight = gbias = None
        if self.training or needs_weight:
            # sum(g * xhat) with xhat = (x - mean) * inv_std, from one centred array.
            centred = x - _per_channel(mean, ndim)
            sum_g_xhat = _sum_of_products(grad, centred) * inv_std   # = dL/dweight
        sum_g = grad.sum(axis=axes) if self.training or needs_bias else None  # = dL/dbias
        if needs[0] and self.training:
            # dx = (gamma * inv_std / m) * (m*g - sum(g) - xhat * sum(g*xhat)), as in-place
            # passes over the centred array (xhat = centred * inv_std).
            gx = centred
            gx *= _per_channel(sum_g_xhat * inv_std / m, ndim)
            xp.subtract(grad, gx, out=gx)
            gx -= _per_channel(sum_g / m, ndim)
            gx *= _per_channel(scale, ndim)
        elif needs[0]:
            gx = grad * _per_channel(scale, ndim)   # eval: an affine map per channel
        if needs_weight:
            gweight = sum_g_xhat.astype(grad.dtype, copy=False)
        if needs_bias:
            gbias = sum_g.astype(grad.dtype, copy=False)
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
