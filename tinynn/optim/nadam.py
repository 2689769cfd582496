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
from ..tensor import Tensor
from .adam import Adam
from .optimizer import Optimizer, check_number

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

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            # Python floats keep float32 arrays float32 (NumPy 2 treats them as weak scalars).
            hyper = dict(lr=float(group["lr"]), beta1=float(group["betas"][0]), beta2=float(group["betas"][1]),
                         eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                         momentum_decay=float(group["momentum_decay"]),
                         decoupled=bool(group["decoupled_weight_decay"]), maximize=bool(group["maximize"]))
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    xp = backend.get_array_module(p.array)
                    state["step"] = 0
                    state["mu_product"] = 1.0
                    state["exp_avg"] = Tensor(xp.zeros_like(p.array))
                    state["exp_avg_sq"] = Tensor(xp.zeros_like(p.array))
                state["step"] += 1
                state["mu_product"] = nadam_update(
                    p.array, p.grad.array, exp_avg=state["exp_avg"].array, exp_avg_sq=state["exp_avg_sq"].array,
                    step=state["step"], mu_product=float(state["mu_product"]), **hyper)
        return loss


def nadam_update(param, grad, *, exp_avg, exp_avg_sq, step, mu_product, lr, beta1, beta2, eps,
                 weight_decay, momentum_decay, decoupled, maximize):
    """One NAdam step on arrays (``param`` and the moments in place, ``grad`` only read).

    ``mu_product`` is mu_1 ... mu_{t-1}; returns mu_1 ... mu_t, the new value to keep.
    """
    xp = backend.get_array_module(param)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            grad = param * weight_decay + grad

    mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product *= mu                                          # mu_1 ... mu_t
    bias_correction2 = 1 - beta2 ** step

    scratch = xp.subtract(grad, exp_avg, dtype=param.dtype)
    scratch *= 1 - beta1                                      # m += (1 - beta1) (g - m), a lerp
    exp_avg += scratch                                        # m = beta1 m + (1 - beta1) g
    xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq *= beta2
    exp_avg_sq += scratch                                     # v = beta2 v + (1 - beta2) g^2

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
