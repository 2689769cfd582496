"""Losses, as ``torch.nn.functional``'s: cross entropy, NLL, BCE (of probabilities and of
logits), MSE, L1, smooth L1, Huber and KL divergence.

Every loss takes ``reduction`` ('mean' | 'sum' | 'none'; ``kl_div`` also 'batchmean') and,
where PyTorch has them, the deprecated ``size_average`` / ``reduce`` flags, which override
``reduction`` as PyTorch's docs say (with PyTorch's warning). The two BCEs and the NLL are
fused nodes (``tinynn/ops/loss.py``); the others are compositions of differentiable tensor ops.
"""
import warnings

import numpy

from ...checks import check_same_device
from ...ops import loss as loss_ops
from ...ops.conversion import as_float, cast
from ...ops.indexing import where
from ...tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]


def legacy_reduction(size_average, reduce):
    """PyTorch's mapping of the deprecated flags (None counts as True) to a ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    return reduction


def _reduction(size_average, reduce, reduction, allowed=("mean", "sum", "none")):
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _check_reduction(reduction):
    _reduction(None, None, reduction)


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _broadcast_shape(a, b):
    """The broadcast shape of two shapes, or PyTorch's RuntimeError naming the clash."""
    try:
        return numpy.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        for i in range(1, min(len(a), len(b)) + 1):
            if a[-i] != b[-i] and 1 not in (a[-i], b[-i]):
                dim = max(len(a), len(b)) - i
                raise RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor b "
                                   f"({b[-i]}) at non-singleton dimension {dim}") from None
        raise


def _check_broadcastable_to(name, tensor, shape, op_name):
    """``tensor`` (a weight) must broadcast to ``shape`` without growing it."""
    if _broadcast_shape(tensor.shape, shape) != tuple(shape):
        raise RuntimeError(f"{op_name}: {name} of shape {tuple(tensor.shape)} cannot be broadcast "
                           f"to the input's shape {tuple(shape)}")


def _pointwise_pair(input, target, name):
    """Regression losses: warn (as PyTorch) when the shapes differ, then check they broadcast."""
    check_same_device(f"{name}: input and target", (input, target))
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)
        _broadcast_shape(input.shape, target.shape)


def _weighted(losses, weight, input, reduction, mean_over_weights):
    """The per-element ``weight`` of mse_loss / l1_loss / huber_loss (input's shape)."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    losses = losses * cast(weight, losses.dtype)
    if reduction == "mean" and mean_over_weights:  # mse and l1 divide by the summed weights
        return losses.sum() / cast(weight, losses.dtype).sum()
    return _reduce(losses, reduction)


# ---------------------------------------------------------------------------- class targets

def _class_dim(input):
    return 0 if input.ndim == 1 else 1


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood of class indices: input (N, C, *d) log-probs, target (N, *d).

    ``weight`` (C,) rescales each class; targets equal to ``ignore_index`` count nowhere;
    'mean' divides by the summed weights of the counted targets.
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_target(input, target, weight, ignore_index, "nll_loss")
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    weight = None if weight is None else cast(weight, input.dtype)
    out = loss_ops.NLLLoss.apply(input, weight, target=target.array, ignore_index=ignore_index,
                                 reduction=reduction)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def _check_class_target(input, target, weight, ignore_index, name):
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have at least 1 dimension (got a 0-d tensor)")
    if type(input.array) is not type(target.array):
        check_same_device(f"{name}: input and target", (input, target))
    if target.array.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected target of integer class indices (int64) but found "
                           f"{target.dtype}; for class probabilities, pass a float target of the "
                           f"input's shape {input.shape}")
    shape, target_shape = input.array.shape, target.array.shape    # raw tuples: cheap to compare
    expected = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if target_shape == expected and weight is None and target.array.size:
        t = target.array
        if 0 <= t.min() and t.max() < shape[_class_dim(input)]:   # the usual case, checked cheaply
            return
    if input.ndim > 1 and target.shape[:1] != input.shape[:1]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 0}).")
    if target_shape != expected:
        expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
        raise RuntimeError(f"{name}: expected target of shape {expected} for input of shape "
                           f"{input.shape}, got {target.shape}")
    classes = input.shape[_class_dim(input)]
    if weight is not None and weight.shape != (classes,):
        raise RuntimeError(f"{name}: weight tensor should be defined either for all {classes} "
                           f"classes or no classes but got weight tensor of shape: {weight.shape}")
    if target.numel():
        t = target.array
        bad = ((t < 0) | (t >= classes)) & (t != ignore_index)
        if bool(bad.any()):
            value = int(t[bad].reshape(-1)[0])
            raise IndexError(f"Target {value} is out of bounds ({name} with {classes} classes: "
                             f"targets must be in [0, {classes - 1}]).")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy of logits: log_softmax over the class dim, then the NLL.

    input: (N, C), (C,) or (N, C, *d) logits. target: class indices (N,) / () / (N, *d),
    or class probabilities of the input's shape. Computed stably with log-sum-exp.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (got a 0-d tensor)")
    class_dim = _class_dim(input)
    classes = input.shape[class_dim]
    if input.ndim == 2 and label_smoothing == 0.0 and target.dtype.kind in "iu":
        # The common case (a batch of logits, class indices) as one fused node.
        _check_class_target(input, target, weight, ignore_index, "cross_entropy")
        weight = None if weight is None else cast(weight, input.dtype)
        return loss_ops.CrossEntropy.apply(input, weight, target=target.array,
                                           ignore_index=ignore_index, reduction=reduction)
    logp = input.log_softmax(class_dim)
    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(logp, target, weight, reduction, label_smoothing)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    # PyTorch's label smoothing: mix the NLL with the (weighted) mean over all classes.
    w_shape = [1] * input.ndim
    w_shape[class_dim] = classes
    smooth = -(logp * cast(weight, logp.dtype).reshape(w_shape)).sum(class_dim) if weight is not None \
        else -logp.sum(class_dim)
    keep = Tensor(target.array != ignore_index)
    smooth = smooth * keep
    if reduction == "mean":
        if weight is not None:
            denominator = (cast(weight, logp.dtype)[target.array[keep.array]]).sum()
        else:
            denominator = keep.sum()
        smooth = smooth.sum() / denominator
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


def _cross_entropy_probabilities(logp, target, weight, reduction, label_smoothing):
    if target.shape != logp.shape:
        raise RuntimeError(f"cross_entropy: a float (probability) target must have the input's "
                           f"shape {logp.shape}, got {target.shape}")
    class_dim = _class_dim(logp)
    classes = logp.shape[class_dim]
    target = cast(target, logp.dtype)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = logp * target
    if weight is not None:
        w_shape = [1] * logp.ndim
        w_shape[class_dim] = classes
        terms = terms * cast(weight, logp.dtype).reshape(w_shape)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    return -terms.sum() / (logp.numel() / classes)


# ---------------------------------------------------------------------------- binary targets

def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """BCE of probabilities: ``-w * (y log x + (1 - y) log(1 - x))``, logs clamped at -100.

    input: probabilities in [0, 1], any shape; target: the same shape, values in [0, 1];
    weight: broadcastable to the input's shape. For logits, ``binary_cross_entropy_with_logits``
    is the stable choice.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same size.")
    check_same_device("binary_cross_entropy: input and target", (input, target))
    input = as_float(input)
    x = input.array
    if x.size and bool((~((x >= 0) & (x <= 1))).any()):  # NaN fails too, as in PyTorch
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        _check_broadcastable_to("weight", weight, input.shape, "binary_cross_entropy")
        weight = cast(weight, input.dtype)
    return loss_ops.BinaryCrossEntropy.apply(input, cast(target, input.dtype), weight,
                                             reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """BCE of logits, sigmoid and BCE in one stable node.

    ``l = -w * (p * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))``, computed as
    ``max(x, 0) - x*y + log1p(exp(-|x|))`` (+ the pos_weight term), so logits of 1e4 give a
    finite loss and gradient. target: the input's shape; weight: broadcastable to it;
    pos_weight: a weight of the positive class, broadcast along the last dim ((C,) for
    input (N, C)).
    """
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    input = as_float(input)
    name = "binary_cross_entropy_with_logits"
    for label, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            _check_broadcastable_to(label, w, input.shape, name)
    weight = None if weight is None else cast(weight, input.dtype)
    pos_weight = None if pos_weight is None else cast(pos_weight, input.dtype)
    return loss_ops.BinaryCrossEntropyWithLogits.apply(input, cast(target, input.dtype), weight,
                                                       pos_weight, reduction=reduction)


# ---------------------------------------------------------------------------- regression

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(x - y)^2``; shapes broadcast (with PyTorch's warning when they
    differ). ``weight`` (input's shape) multiplies each term; its 'mean' divides by the
    summed weights."""
    reduction = _reduction(size_average, reduce, reduction)
    _pointwise_pair(input, target, "mse_loss")
    diff = input - target
    squared = diff * diff
    if weight is not None:
        return _weighted(squared, weight, input, reduction, mean_over_weights=True)
    return _reduce(squared, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|x - y|`` (gradient 0 where x == y, as PyTorch's); ``weight`` as
    in ``mse_loss``."""
    reduction = _reduction(size_average, reduce, reduction)
    _pointwise_pair(input, target, "l1_loss")
    absolute = (input - target).abs()
    if weight is not None:
        return _weighted(absolute, weight, input, reduction, mean_over_weights=True)
    return _reduce(absolute, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (d = x - y).

    ``beta = 0`` is the L1 loss; a negative beta is a RuntimeError.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    _pointwise_pair(input, target, "smooth_l1_loss")
    diff = input - target
    absolute = diff.abs()
    losses = where(absolute < beta, diff * diff * (0.5 / beta), absolute - 0.5 * beta)
    return _reduce(losses, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 delta)`` (d = x - y).

    It is ``delta * smooth_l1_loss(beta=delta)``; delta must be positive. ``weight``
    (input's shape) multiplies each term, and 'mean' is then the plain mean, as PyTorch's.
    """
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _pointwise_pair(input, target, "huber_loss")
    diff = input - target
    absolute = diff.abs()
    losses = where(absolute < delta, diff * diff * 0.5, (absolute - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(losses, weight, input, reduction, mean_over_weights=False)
    return _reduce(losses, reduction)


# ---------------------------------------------------------------------------- distributions

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence ``y * (log y - x)`` of log-probabilities x and probabilities y
    (``exp(y) * (y - x)`` when ``log_target``: y given as log-probabilities).

    ``0 * log 0`` counts as 0. 'batchmean' (sum / batch size) is the true KL divergence;
    'mean' divides by every element and warns, as PyTorch does.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    else:
        _reduction(None, None, reduction, allowed=("mean", "batchmean", "sum", "none"))
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                          "support size.'batchmean' divides only by the batch size, and aligns with "
                          "the KL div math definition.'mean' will be changed to behave the same as "
                          "'batchmean' in the next major release.", stacklevel=2)
    check_same_device("kl_div: input and target", (input, target))
    _broadcast_shape(input.shape, target.shape)
    if log_target:
        losses = target.exp() * (target - input)
    else:
        # xlogy(y, y): where y == 0 the log reads 1 instead, so 0 * log 0 is 0 (and no warning)
        losses = target * where(target == 0, 1.0, target).log() - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(losses, reduction)
