"""Loss kernels: the negative log-likelihood gather, fused into one node."""
from ..autograd import Function
from ..backend import get_array_module


class NLLLoss(Function):
    """``-weight[t] * logp[n, t, ...]`` reduced like PyTorch's ``nll_loss``.

    logp: (N, C, *d) log-probabilities; target: (N, *d) class indices; weight: (C,) or
    None; entries equal to ``ignore_index`` contribute nothing, to the sum or the mean's
    denominator.
    """

    def forward(self, logp, *weight, target, ignore_index, reduction):
        xp = get_array_module(logp)
        keep = target != ignore_index
        safe_target = xp.where(keep, target, 0)  # a valid index to gather with
        index = xp.expand_dims(safe_target, 1)
        picked = xp.take_along_axis(logp, index, axis=1).squeeze(1)
        w = (weight[0][safe_target] if weight else xp.ones(target.shape, dtype=logp.dtype)) * keep
        w = w.astype(logp.dtype, copy=False)
        losses = -w * picked
        self.shape, self.index, self.w, self.reduction = logp.shape, index, w, reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        self.total_weight = w.sum()
        return losses.sum() / self.total_weight

    def backward(self, grad):
        xp = get_array_module(grad)
        if self.reduction == "none":
            g = -self.w * grad
        elif self.reduction == "sum":
            g = -self.w * grad
        else:
            g = -self.w * (grad / self.total_weight)
        glogp = xp.zeros(self.shape, dtype=grad.dtype)
        xp.put_along_axis(glogp, self.index, xp.expand_dims(g.astype(grad.dtype, copy=False), 1), axis=1)
        return glogp
