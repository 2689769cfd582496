"""NAdam (Dozat, 2016): Adam with Nesterov momentum, following PyTorch's documented pseudo-code.

For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...`` (psi = momentum_decay)::

    g = -g                                          if maximize
    p = p - lr * weight_decay * p                   if decoupled_weight_decay (as AdamW)
    g = g + weight_decay * p                        otherwise, if weight_decay != 0 (L2)
    mu_t     = beta1 * (1 - 0.5 * 0.96 ** (t * psi))         the momentum schedule
    mu_{t+1} = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    m = beta1 * m + (1 - beta1) * g                 first moment
    v = beta2 * v + (1 - beta2) * g * g             second moment
    m^ = mu_{t+1} * m / (1 - mu_1 ... mu_{t+1})  +  (1 - mu_t) * g / (1 - mu_1 ... mu_t)
    v^ = v / (1 - beta2 ** t)
    p = p - lr * m^ / (sqrt(v^) + eps)

The first term of ``m^`` looks one step ahead with the next momentum (Nesterov); the
product of the mu's so far is kept in the state as ``'mu_product'``.
"""
import math

from .. import backend
from .adam import Adam, update_moments
from .optimizer import Optimizer, check_number, grad_with_decay

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, with L2 or decoupled weight decay.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: learning rate (default 2e-3).
        betas: decay rates of the first and second moment estimates (default (0.9, 0.999)).
        eps: added to the denominator for stability (default 1e-8).
        weight_decay: weight decay coefficient (default 0).
        momentum_decay: psi in the momentum schedule above (default 4e-3).
        decoupled_weight_decay: decay the parameter directly, as AdamW does, instead of
            adding ``weight_decay * p`` to the gradient (default False).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'step'`` (int), ``'mu_product'`` (float), ``'exp_avg'`` and
    ``'exp_avg_sq'`` (Tensors like the parameter).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        Adam._check_group(self, group)  # lr, eps, betas, weight_decay: the same checks as Adam
        check_number("momentum_decay", group["momentum_decay"], message="Invalid momentum_decay value: {}")

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "betas", "eps", "weight_decay", "momentum_decay"),
                                            flags=("maximize",))
        decoupled = bool(group["decoupled_weight_decay"])
        for p, state in self._params_with_state(group, ("exp_avg", "exp_avg_sq")):
            state["mu_product"] = nadam_update(
                p.array, p.grad.array, exp_avg=state["exp_avg"].array, exp_avg_sq=state["exp_avg_sq"].array,
                step=state["step"], mu_product=float(state.get("mu_product", 1.0)), decoupled=decoupled, **hyper)


def nadam_update(param, grad, *, exp_avg, exp_avg_sq, step, mu_product, lr, beta1, beta2, eps,
                 weight_decay, momentum_decay, decoupled, maximize):
    """One NAdam step on arrays (``param`` and the moments in place, ``grad`` only read).

    ``mu_product`` is mu_1 ... mu_{t-1}; returns mu_1 ... mu_t, the new value to keep.
    """
    xp = backend.get_array_module(param)
    if decoupled and weight_decay != 0:
        param *= 1 - lr * weight_decay                        # as AdamW: the decay acts on p itself
    grad = grad_with_decay(param, grad, 0 if decoupled else weight_decay, maximize)

    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product *= mu                                          # mu_1 ... mu_t
    bias_correction2 = 1 - beta2 ** step

    scratch = update_moments(grad, exp_avg, exp_avg_sq, beta1, beta2)   # m, v as in Adam

    denom = xp.sqrt(exp_avg_sq, out=scratch)
    denom /= math.sqrt(bias_correction2)
    denom += eps                                              # sqrt(v^) + eps
    # p -= lr (1 - mu_t) / (1 - mu_1..mu_t) * g / denom: needs one more array (grad is read-only)
    step_on_grad = xp.divide(grad, denom, dtype=param.dtype)
    step_on_grad *= lr * (1 - mu) / (1 - mu_product)
    param -= step_on_grad
    # p -= lr mu_{t+1} / (1 - mu_1..mu_{t+1}) * m / denom
    xp.divide(exp_avg, denom, out=scratch)
    scratch *= lr * mu_next / (1 - mu_product * mu_next)
    param -= scratch
    return mu_product
