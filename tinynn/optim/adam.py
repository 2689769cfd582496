"""Adam and AdamW, following the pseudo-code in PyTorch's documentation.

For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

    g = -g                                   if maximize
    p = p * (1 - lr * weight_decay)          AdamW: decay decoupled from the gradient
    g = g + weight_decay * p                 Adam: L2 penalty inside the gradient
    m = beta1 * m + (1 - beta1) * g          first moment (running mean of g)
    v = beta2 * v + (1 - beta2) * g * g      second moment (running mean of g^2)
    v_max = max(v_max, v)                    if amsgrad; v_max replaces v below
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

The two ``1 - beta^t`` factors undo the bias of m and v towards their zero start.
"""
import math

from .. import backend
from .optimizer import Optimizer, check_number, grad_with_decay

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), with L2 weight decay and the AMSGrad variant.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment estimates (default (0.9, 0.999)).
        eps: added to the denominator for stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: use the maximum of all second moments so far (default False).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'step'`` (int), ``'exp_avg'``, ``'exp_avg_sq'`` and, with
    amsgrad, ``'max_exp_avg_sq'`` (Tensors like the parameter).
    """

    _decoupled_weight_decay = False  # AdamW sets it

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("lr", group["lr"], message="Invalid learning rate: {}")
        check_number("eps", group["eps"], message="Invalid epsilon value: {}")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            check_number(f"beta{i + 1}", beta, high=1.0,
                         message=f"Invalid beta parameter at index {i}: {{}}")
        check_number("weight_decay", group["weight_decay"], message="Invalid weight_decay value: {}")

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "betas", "eps", "weight_decay"),
                                            flags=("amsgrad", "maximize"))
        buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if hyper["amsgrad"] else ())
        for p, state in self._params_with_state(group, buffers):
            adam_update(p.array, p.grad.array, exp_avg=state["exp_avg"].array,
                        exp_avg_sq=state["exp_avg_sq"].array,
                        max_exp_avg_sq=state["max_exp_avg_sq"].array if hyper["amsgrad"] else None,
                        step=state["step"], decoupled=self._decoupled_weight_decay, **hyper)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay``
    before the Adam update, instead of adding ``weight_decay * p`` to the gradient.

    Same arguments as ``Adam``; ``weight_decay`` defaults to 1e-2, as in PyTorch.
    """

    _decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)


def adam_update(param, grad, *, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, amsgrad, decoupled, maximize):
    """One Adam / AdamW step on arrays: ``param`` and the moments in place, ``grad`` only read.
    ``max_exp_avg_sq`` is None when amsgrad is off."""
    xp = backend.get_array_module(param)
    if decoupled and weight_decay != 0:
        param *= 1 - lr * weight_decay                        # AdamW: the decay acts on p itself
    grad = grad_with_decay(param, grad, 0 if decoupled else weight_decay, maximize)

    scratch = update_moments(grad, exp_avg, exp_avg_sq, beta1, beta2)
    second = exp_avg_sq
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)   # v_max = max(v_max, v)
        second = max_exp_avg_sq
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    denom = xp.sqrt(second, out=scratch)
    denom /= bias_correction2_sqrt
    denom += eps                                              # sqrt(v) / sqrt(1 - beta2^t) + eps
    xp.divide(exp_avg, denom, out=scratch)
    scratch *= lr / bias_correction1
    param -= scratch                                          # p = p - lr / (1 - beta1^t) m / denom


def update_moments(grad, exp_avg, exp_avg_sq, beta1, beta2):
    """Adam's running moments, in place: ``m = beta1 m + (1 - beta1) g`` and
    ``v = beta2 v + (1 - beta2) g^2`` (also NAdam's and RAdam's).

    Returns the scratch array it used (like ``exp_avg``, with no value to keep), for the
    caller's next temporary: one new array per step in all.
    """
    xp = backend.get_array_module(exp_avg)
    scratch = xp.subtract(grad, exp_avg, dtype=exp_avg.dtype)
    scratch *= 1 - beta1                                      # m += (1 - beta1) (g - m), a lerp
    exp_avg += scratch
    xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch
    return scratch
