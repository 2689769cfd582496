"""Loss kernels that are better as one fused node than as a chain of tensor ops.

- ``NLLLoss``: the negative log-likelihood gather (with class weights, ``ignore_index``).
- ``BinaryCrossEntropy``: BCE of probabilities, its logs clamped at -100 (PyTorch's rule),
  so ``x = 0`` or ``1`` gives a finite loss and a finite gradient.
- ``BinaryCrossEntropyWithLogits``: BCE of logits in the stable form
  ``max(x, 0) - x*y + log1p(exp(-|x|))``: finite at ``|x| = 1e4``, with the exact gradient
  ``sigmoid(x) - y`` (scaled by the weights) instead of one through a saturated sigmoid.

Each returns the reduced loss (``reduction`` 'none' | 'sum' | 'mean') and, in backward,
spreads the upstream gradient back with ``_upstream``.
"""
from ..autograd import Function
from ..backend import get_array_module
from .arithmetic import sum_to_shape

LOG_FLOOR = -100.0   # BCE clamps each log here, so log(0) never gives inf
EPSILON = 1e-12      # BCE's gradient divides by max(x * (1 - x), EPSILON)


def _reduce(losses, reduction):
    """``losses`` (elementwise) reduced as ``reduction`` says."""
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total / losses.size


def _upstream(grad, reduction, size):
    """The gradient reaching each element's loss (broadcasts against the elements)."""
    return grad / size if reduction == "mean" else grad


class NLLLoss(Function):
    """``-weight[t] * logp[n, t, ...]`` reduced like PyTorch's ``nll_loss``.

    logp: (N, C, *d) log-probabilities; target: (N, *d) class indices; weight: (C,) or
    None; entries equal to ``ignore_index`` contribute nothing, to the sum or the mean's
    denominator.
    """

    def forward(self, logp, weight, *, target, ignore_index, reduction):
        xp = get_array_module(logp)
        keep = target != ignore_index
        safe_target = xp.where(keep, target, 0)  # a valid index to gather with
        index = xp.expand_dims(safe_target, 1)
        picked = xp.take_along_axis(logp, index, axis=1).squeeze(1)
        w = (weight[safe_target] if weight is not None else xp.ones(target.shape, dtype=logp.dtype)) * keep
        w = w.astype(logp.dtype, copy=False)
        losses = -w * picked
        self.shape, self.reduction = logp.shape, reduction
        total_weight = w.sum()
        self.save_for_backward(index, w, total_weight)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        return losses.sum() / total_weight

    def backward(self, grad):
        xp = get_array_module(grad)
        index, w, total_weight = self.saved_arrays
        g = -w * (grad / total_weight if self.reduction == "mean" else grad)
        glogp = xp.zeros(self.shape, dtype=grad.dtype)
        xp.put_along_axis(glogp, index, xp.expand_dims(g.astype(grad.dtype, copy=False), 1), axis=1)
        return glogp, None


class CrossEntropy(Function):
    """``log_softmax`` over the classes and the NLL of class indices, as one node.

    logits: (N, C); target: (N,) class indices; weight: (C,) or None; ``ignore_index`` and
    ``reduction`` as in ``NLLLoss``. One node instead of two saves a pass over the logits
    and the (N, C) log-probabilities array; the gradient is ``w * (softmax - one_hot)``,
    scaled like the loss.
    """

    backward_name = "NllLossBackward0"   # what PyTorch's cross_entropy output shows

    def forward(self, logits, weight, *, target, ignore_index, reduction):
        xp = get_array_module(logits)
        rows = xp.arange(len(target))
        keep = target != ignore_index
        safe_target = xp.where(keep, target, 0)
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = xp.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)
        picked = shifted[rows, safe_target] - xp.log(sum_exp[:, 0])    # logp[n, t[n]]
        w = keep.astype(logits.dtype) if weight is None else weight[safe_target] * keep
        losses = -w * picked
        total_weight = w.sum()
        self.reduction = reduction
        self.save_for_backward(exp, sum_exp, safe_target, w, total_weight)
        if reduction == "none":
            return losses
        return losses.sum() if reduction == "sum" else losses.sum() / total_weight

    def backward(self, grad):
        xp = get_array_module(grad)
        exp, sum_exp, safe_target, w, total_weight = self.saved_arrays
        scale = (w * (grad / total_weight if self.reduction == "mean" else grad)).astype(exp.dtype, copy=False)
        glogits = exp / sum_exp                 # softmax
        glogits *= scale[:, None]
        glogits[xp.arange(len(safe_target)), safe_target] -= scale
        return glogits, None


def _clamped_log(xp, x):
    """``max(log(x), -100)``, with no log(0) evaluated (so no divide-by-zero warning)."""
    positive = x > 0
    return xp.maximum(xp.where(positive, xp.log(xp.where(positive, x, 1)), LOG_FLOOR), LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """``-w * (y * log(x) + (1 - y) * log(1 - x))``, each log clamped at -100.

    x: probabilities, any shape; y: targets of x's shape; weight: None or broadcastable to
    x's shape. Gradients (as PyTorch's): d/dx = w * (x - y) / max(x (1 - x), 1e-12),
    d/dy = w * (log(1 - x) - log(x)) with the clamped logs, d/dw = the unweighted loss.
    """

    def forward(self, x, y, weight, *, reduction):
        xp = get_array_module(x)
        unweighted = -(y * _clamped_log(xp, x) + (1 - y) * _clamped_log(xp, 1 - x))
        losses = unweighted if weight is None else unweighted * weight
        self.reduction, self.size = reduction, losses.size
        self.save_for_backward(x, y, weight)
        return _reduce(losses, reduction)

    def backward(self, grad):
        xp = get_array_module(grad)
        x, y, weight = self.saved_arrays
        up = _upstream(grad, self.reduction, self.size)
        scale = up if weight is None else up * weight
        gx = gy = gw = None
        if self.needs_input_grad[0]:
            gx = scale * (x - y) / xp.maximum(x * (1 - x), EPSILON)
        if self.needs_input_grad[1]:
            gy = scale * (_clamped_log(xp, 1 - x) - _clamped_log(xp, x))
        if self.needs_input_grad[2]:
            unweighted = -(y * _clamped_log(xp, x) + (1 - y) * _clamped_log(xp, 1 - x))
            gw = sum_to_shape(up * unweighted, weight.shape)
        return gx, gy, gw


def _softplus_of_negative(xp, x):
    """``log(1 + exp(-x)) = -log(sigmoid(x))``, computed without overflow for any x."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)


def _sigmoid(xp, x):
    """``1 / (1 + exp(-x))`` without overflow, and accurate where it is tiny (x << 0)."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class BinaryCrossEntropyWithLogits(Function):
    """``-w * (p * y * log(sigmoid(x)) + (1 - y) * log(1 - sigmoid(x)))`` on logits x.

    Computed as ``max(x, 0) - x*y + log1p(exp(-|x|))`` plus, with a ``pos_weight`` p,
    ``(p - 1) * y * softplus(-x)`` (p multiplies the y term's ``-log(sigmoid(x))``).
    x, y: same shape; weight and pos_weight: None or broadcastable to x's shape (pos_weight
    (C,) lines up with the last dim). d/dx = w * ((1 + (p-1) y) sigmoid(x) - p y), which is
    ``w * (sigmoid(x) - y)`` without pos_weight.
    """

    def forward(self, x, y, weight, pos_weight, *, reduction):
        xp = get_array_module(x)
        unweighted = xp.maximum(x, 0) - x * y + xp.log1p(xp.exp(-xp.abs(x)))
        if pos_weight is not None:
            unweighted = unweighted + (pos_weight - 1) * y * _softplus_of_negative(xp, x)
        losses = unweighted if weight is None else unweighted * weight
        self.reduction, self.size = reduction, losses.size
        self.save_for_backward(x, y, weight, pos_weight)
        return _reduce(losses, reduction)

    def backward(self, grad):
        xp = get_array_module(grad)
        x, y, weight, pos_weight = self.saved_arrays
        up = _upstream(grad, self.reduction, self.size)
        scale = up if weight is None else up * weight
        needs = self.needs_input_grad
        gx = gy = gw = gp = None
        sp_neg = _softplus_of_negative(xp, x) if pos_weight is not None else None
        if needs[0]:
            if pos_weight is None:
                gx = scale * (_sigmoid(xp, x) - y)
            else:
                gx = scale * ((1 + (pos_weight - 1) * y) * _sigmoid(xp, x) - pos_weight * y)
        if needs[1]:
            gy = scale * (-x if pos_weight is None else (pos_weight - 1) * sp_neg - x)
        if needs[2]:
            unweighted = xp.maximum(x, 0) - x * y + xp.log1p(xp.exp(-xp.abs(x)))
            if pos_weight is not None:
                unweighted = unweighted + (pos_weight - 1) * y * sp_neg
            gw = sum_to_shape(up * unweighted, weight.shape)
        if needs[3]:
            gp = sum_to_shape(scale * y * sp_neg, pos_weight.shape)
        return gx, gy, gw, gp
