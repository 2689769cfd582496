"""RAdam (Liu et al., 2019): Adam with a rectified adaptive step, following PyTorch's documented
pseudo-code.

For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

    g = -g                                          if maximize
    p = p - lr * weight_decay * p                   if decoupled_weight_decay (as AdamW)
    g = g + weight_decay * p                        otherwise, if weight_decay != 0 (L2)
    m = beta1 * m + (1 - beta1) * g                 first moment
    v = beta2 * v + (1 - beta2) * g * g             second moment
    m^ = m / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    if rho_t > 5:                                   the variance of the adaptive lr is tractable
        l = sqrt(1 - beta2 ** t) / (sqrt(v) + eps)
        r = sqrt((rho_t - 4) (rho_t - 2) rho_inf / ((rho_inf - 4) (rho_inf - 2) rho_t))
        p = p - lr * m^ * r * l
    else:                                           the first few steps: SGD with momentum
        p = p - lr * m^

With the default beta2 = 0.999, rho_t passes 5 at the sixth step: RAdam needs no warm-up.
"""
import math

from .. import backend
from .adam import Adam, update_moments
from .optimizer import Optimizer, grad_with_decay

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, with L2 or decoupled weight decay.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment estimates (default (0.9, 0.999)).
        eps: added to the denominator for stability (default 1e-8).
        weight_decay: weight decay coefficient (default 0).
        decoupled_weight_decay: decay the parameter directly, as AdamW does, instead of
            adding ``weight_decay * p`` to the gradient (default False).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'step'`` (int), ``'exp_avg'`` and ``'exp_avg_sq'`` (Tensors
    like the parameter).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    _check_group = Adam._check_group  # lr, eps, betas, weight_decay: the same checks as Adam

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "betas", "eps", "weight_decay"), flags=("maximize",))
        decoupled = bool(group["decoupled_weight_decay"])
        for p, state in self._params_with_state(group, ("exp_avg", "exp_avg_sq")):
            radam_update(p.array, p.grad.array, exp_avg=state["exp_avg"].array,
                         exp_avg_sq=state["exp_avg_sq"].array, step=state["step"], decoupled=decoupled, **hyper)


def radam_update(param, grad, *, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
                 decoupled, maximize):
    """One RAdam step on arrays: ``param`` and the moments in place, ``grad`` only read."""
    xp = backend.get_array_module(param)
    if decoupled and weight_decay != 0:
        param *= 1 - lr * weight_decay                        # as AdamW: the decay acts on p itself
    grad = grad_with_decay(param, grad, 0 if decoupled else weight_decay, maximize)

    scratch = update_moments(grad, exp_avg, exp_avg_sq, beta1, beta2)   # m, v as in Adam

    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
    if rho_t > 5:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        denom = xp.sqrt(exp_avg_sq, out=scratch)
        denom += eps                                          # sqrt(v) + eps
        xp.divide(exp_avg, denom, out=scratch)
        scratch *= lr * rect * math.sqrt(bias_correction2) / bias_correction1
        param -= scratch                                      # p = p - lr m^ r l
    else:
        xp.multiply(exp_avg, lr / bias_correction1, out=scratch)
        param -= scratch                                      # p = p - lr m^
