"""Losses: ``F.cross_entropy``, ``F.nll_loss``, ``F.mse_loss``."""
import warnings

from ...checks import check_same_device
from ...ops import loss as loss_ops
from ...ops.conversion import cast
from ...tensor import Tensor

__all__ = ["cross_entropy", "nll_loss", "mse_loss"]


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _class_dim(input):
    return 0 if input.ndim == 1 else 1


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices: input (N, C, *d) log-probs, target (N, *d)."""
    _check_reduction(reduction)
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
    check_same_device(f"{name}: input and target", (input, target))
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected target of integer class indices (int64) but found "
                           f"{target.dtype}; for class probabilities, pass a float target of the "
                           f"input's shape {input.shape}")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if input.ndim > 1 and target.shape[:1] != input.shape[:1]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 0}).")
    if target.shape != expected:
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


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy of logits: log_softmax over the class dim, then the NLL.

    input: (N, C), (C,) or (N, C, *d) logits. target: class indices (N,) / () / (N, *d),
    or class probabilities of the input's shape. Computed stably with log-sum-exp.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (got a 0-d tensor)")
    class_dim = _class_dim(input)
    classes = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    if target.dtype.kind == "f":
        return _cross_entropy_probabilities(logp, target, weight, reduction, label_smoothing)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
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


def mse_loss(input, target, reduction="mean"):
    """Mean squared error; shapes broadcast (with PyTorch's warning when they differ)."""
    _check_reduction(reduction)
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=2)
    diff = input - target
    squared = diff * diff
    if reduction == "none":
        return squared
    return squared.sum() if reduction == "sum" else squared.mean()
