"""Layer, group and instance normalisation: one Function, ``Normalize``, closed-form backward.

All three standardise groups of values with the group's mean and *biased* variance, then
apply an optional affine map. They differ only in which values form a group and in the
shape of the affine parameters:

    layer_norm     x (*, *S)    a group: one trailing block of shape S (prod(*) groups);
                                weight, bias of shape S (one per element of the block)
    group_norm     x (N, C, *)  a group: C/G consecutive channels of one sample (N*G groups);
                                weight, bias (C,) (one per channel)
    instance_norm  x (N, C, *)  a group: one channel of one sample (N*C groups);
                                weight, bias (C,)

In every case the groups are the rows of a (rows, K) reshape of x, so the maths is shared:

    mean = rows.mean(1),   var = ((rows - mean)^2).mean(1),   rstd = 1 / sqrt(var + eps)
    xhat = (rows - mean) * rstd,          y = xhat * weight + bias   (weight broadcast)

Backward, with g = dL/dy, gh = g * weight = dL/dxhat and means over the K values of a row:

    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat))
    dweight = sum of g * xhat over the axes the weight is broadcast along,  dbias = sum of g

``instance_norm`` with ``use_input_stats=False`` normalises with running statistics, which
is batch norm in eval mode: it calls ``batch_norm``.
"""
import math

from ..autograd import Function
from ..backend import get_array_module
from ..checks import check_same_device
from .batchnorm import batch_norm

__all__ = ["Normalize", "LayerNorm", "GroupNorm", "InstanceNorm", "layer_norm", "group_norm",
           "instance_norm"]


class Normalize(Function):
    """Standardise each row of ``x.reshape(rows, -1)``, then ``* weight + bias``.

    Positional inputs: x, weight (or None), bias (or None). Keyword parameters:
    rows: the number of groups; affine_shape: weight's and bias's shape broadcast against x
    (ones where they are broadcast); eps; running: optional ``(running_mean, running_var,
    momentum)`` arrays of shape (C,) updated in place with the mean over the batch of each
    (sample, channel) group's mean and unbiased variance (instance norm's running stats).

    Saved for backward: xhat (x's size), rstd (one value per group) and the weight.
    """

    def forward(self, x, weight, bias, *, rows, affine_shape, eps, running=None):
        xp = get_array_module(x)
        size = x.size // rows if rows else 0
        flat = x.reshape(rows, size)
        mean = flat.mean(axis=1, keepdims=True)
        xhat = flat - mean                                     # becomes xhat, in place
        var = xp.einsum("ij,ij->i", xhat, xhat)[:, None] / max(size, 1)   # biased
        rstd = (1 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        if running is not None:
            _update_running(*running, mean, var, size, x.shape[:2])
        xhat *= rstd
        xhat = xhat.reshape(x.shape)
        self.save_for_backward(xhat, rstd, weight)
        self.rows, self.size, self.affine_shape = rows, size, affine_shape
        self.param_shape = None if weight is None and bias is None else \
            (weight if weight is not None else bias).shape
        out = xhat
        if weight is not None:
            out = xhat * weight.reshape(affine_shape)
        if bias is not None:
            if out is xhat:
                out = xhat + bias.reshape(affine_shape)
            else:
                out += bias.reshape(affine_shape)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        xhat, rstd, weight = self.saved_arrays
        need_x, need_weight, need_bias = self.needs_input_grad
        # The axes the parameters are broadcast along (all but C, or the leading ones).
        axes = tuple(i for i, n in enumerate(self.affine_shape) if n == 1)
        gx = gweight = gbias = None
        if need_weight:
            gweight = (grad * xhat).sum(axis=axes).reshape(self.param_shape)
        if need_bias:
            gbias = grad.sum(axis=axes).reshape(self.param_shape)
        if need_x:
            gh = grad * weight.reshape(self.affine_shape) if weight is not None else grad
            gh = gh.reshape(self.rows, self.size)
            xh = xhat.reshape(self.rows, self.size)
            k = max(self.size, 1)
            mean_gh = gh.mean(axis=1, keepdims=True)
            mean_gh_xh = xp.einsum("ij,ij->i", gh, xh)[:, None] / k
            gx = xh * mean_gh_xh                 # a fresh array, then in place
            xp.subtract(gh, gx, out=gx)
            gx -= mean_gh
            gx *= rstd
            gx = gx.reshape(grad.shape)
        return gx, gweight, gbias


class LayerNorm(Normalize):
    backward_name = "NativeLayerNormBackward0"


class GroupNorm(Normalize):
    backward_name = "NativeGroupNormBackward0"


class InstanceNorm(Normalize):
    backward_name = "NativeBatchNormBackward0"   # PyTorch runs instance norm as a batch norm


def _update_running(running_mean, running_var, momentum, mean, var, size, batch_channels):
    """running = (1 - momentum) * running + momentum * (batch average of per-instance stats).

    ``mean`` and ``var`` hold one value per (sample, channel); the variance that enters the
    running estimate is the unbiased one, var * K / (K - 1), as in batch norm. In place,
    outside the graph.
    """
    n, c = batch_channels
    unbiased = var * (size / (size - 1)) if size > 1 else var
    batch_mean = mean.reshape(n, c).mean(axis=0)
    batch_var = unbiased.reshape(n, c).mean(axis=0)
    running_mean *= 1 - momentum
    running_mean += (momentum * batch_mean).astype(running_mean.dtype, copy=False)
    running_var *= 1 - momentum
    running_var += (momentum * batch_var).astype(running_var.dtype, copy=False)


# ---------------------------------------------------------------------------- checks

def _check_float(input, name):
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point input, got {input.dtype}")


def _check_param(input, param, name, expected_shape, op, text):
    if param is None:
        return
    if tuple(param.shape) != tuple(expected_shape):
        raise RuntimeError(text.format(name=name, shape=list(param.shape)))
    check_same_device(f"{op}: input and {name}", (input, param))
    if param.dtype != input.dtype:
        raise RuntimeError(f"{op}: input type ({input.dtype}) and {name} type ({param.dtype}) "
                           f"should be the same")


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, int) or hasattr(normalized_shape, "__index__"):
        return (int(normalized_shape),)
    return tuple(int(n) for n in normalized_shape)


# ---------------------------------------------------------------------------- functions

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last ``len(normalized_shape)`` dims, as
    ``torch.nn.functional.layer_norm``. input (*, *normalized_shape); weight and bias, if
    given, have shape ``normalized_shape``. Returns input's shape and dtype."""
    shape = _as_shape(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    d = len(shape)
    if input.ndim < d or tuple(input.shape[input.ndim - d:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(n) for n in shape)}], but got input of size"
                           f"{list(input.shape)}")
    _check_float(input, "layer_norm")
    for param, name in ((weight, "weight"), (bias, "bias")):
        _check_param(input, param, name, shape, "layer_norm",
                     "Expected {name} to be of same shape as normalized_shape, but got {name} "
                     "of shape {shape} and normalized_shape = " + str(list(shape)))
    lead = tuple(input.shape[:input.ndim - d])
    return LayerNorm.apply(input, weight, bias, rows=math.prod(lead),
                           affine_shape=(1,) * len(lead) + shape, eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation, as ``torch.nn.functional.group_norm``: input (N, C, *), the C
    channels split into ``num_groups`` groups of consecutive channels, each normalised over
    its channels and every spatial position of one sample. weight, bias: (C,)."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    per_group = c // num_groups * math.prod(input.shape[2:])
    if n * num_groups and per_group == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {[n * c // num_groups, num_groups] + list(input.shape[2:])}")
    _check_float(input, "group_norm")
    for param, name in ((weight, "weight"), (bias, "bias")):
        _check_param(input, param, name, (c,), "group_norm",
                     "Expected {name} to be a vector of size equal to the number of channels "
                     "in input, but got {name} of shape {shape} and input of shape "
                     + str(list(input.shape)))
    return GroupNorm.apply(input, weight, bias, rows=n * num_groups,
                           affine_shape=(1, c) + (1,) * (input.ndim - 2), eps=eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalisation, as ``torch.nn.functional.instance_norm``: input (N, C, *),
    each (sample, channel) normalised over its spatial positions. weight, bias: (C,).

    With ``use_input_stats`` (the default) each instance uses its own statistics and, when
    running_mean/running_var (C,) are given, they move towards the batch average of the
    instances' means and unbiased variances (``momentum``). With ``use_input_stats=False``
    the running statistics normalise instead (what an eval-mode layer that tracks them does).
    """
    if input.ndim < 2:
        raise RuntimeError(f"instance_norm: expected an input of shape (N, C, *), got "
                           f"{input.ndim}D input {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    _check_float(input, "instance_norm")
    for param, name in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"),
                        (running_var, "running_var")):
        if name.startswith("running") and param is not None:
            if tuple(param.shape) != (c,):
                raise RuntimeError(f"instance_norm: {name} should contain {c} elements not "
                                   f"{param.numel()} (input of shape {tuple(input.shape)})")
            check_same_device(f"instance_norm: input and {name}", (input, param))
            continue
        _check_param(input, param, name, (c,), "instance_norm",
                     "instance_norm: {name} should contain " + str(c) + " elements, got shape "
                     "{shape} (input of shape " + str(tuple(input.shape)) + ")")
    running = None
    if running_mean is not None and running_var is not None:
        running = (running_mean.array, running_var.array, momentum)
    return InstanceNorm.apply(input, weight, bias, rows=n * c,
                              affine_shape=(1, c) + (1,) * (input.ndim - 2), eps=eps,
                              running=running)
