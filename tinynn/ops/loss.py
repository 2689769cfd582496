"""Loss kernels: the negative log-likelihood gather, fused into one node."""
from ..autograd import Function
from ..backend import get_array_module


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
