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
from ..tensor import Tensor
from .adam import Adam
from .optimizer import Optimizer

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

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            # Python floats keep float32 arrays float32 (NumPy 2 treats them as weak scalars).
            hyper = dict(lr=float(group["lr"]), beta1=float(group["betas"][0]), beta2=float(group["betas"][1]),
                         eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                         decoupled=bool(group["decoupled_weight_decay"]), maximize=bool(group["maximize"]))
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    xp = backend.get_array_module(p.array)
                    state["step"] = 0
                    state["exp_avg"] = Tensor(xp.zeros_like(p.array))
                    state["exp_avg_sq"] = Tensor(xp.zeros_like(p.array))
                state["step"] += 1
                radam_update(p.array, p.grad.array, exp_avg=state["exp_avg"].array,
                             exp_avg_sq=state["exp_avg_sq"].array, step=state["step"], **hyper)
        return loss


def radam_update(param, grad, *, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
                 decoupled, maximize):
    """One RAdam step on arrays: ``param`` and the moments in place, ``grad`` only read."""
    xp = backend.get_array_module(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = param * weight_decay + grad

    scratch = xp.subtract(grad, exp_avg, dtype=param.dtype)
    scratch *= 1 - beta1                                      # m += (1 - beta1) (g - m), a lerp
    exp_avg += scratch                                        # m = beta1 m + (1 - beta1) g
    xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch                                     # v = beta2 v + (1 - beta2) g^2

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
