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
from ..tensor import Tensor
from .optimizer import Optimizer, check_number

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

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._evaluate(closure)
        decoupled = self._decoupled_weight_decay
        for group in self.param_groups:
            # Python floats keep float32 arrays float32 (NumPy 2 treats them as weak scalars).
            lr = float(group["lr"])
            beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
            eps, weight_decay = float(group["eps"]), float(group["weight_decay"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                param, grad = p.array, p.grad.array   # grad is only read, never written
                xp = backend.get_array_module(param)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = Tensor(xp.zeros_like(param))
                    state["exp_avg_sq"] = Tensor(xp.zeros_like(param))
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor(xp.zeros_like(param))
                elif amsgrad and "max_exp_avg_sq" not in state:  # amsgrad switched on later
                    state["max_exp_avg_sq"] = Tensor(xp.zeros_like(param))
                state["step"] += 1
                step = state["step"]
                exp_avg, exp_avg_sq = state["exp_avg"].array, state["exp_avg_sq"].array

                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    if decoupled:
                        param *= 1 - lr * weight_decay
                    else:
                        grad = param * weight_decay + grad

                scratch = xp.subtract(grad, exp_avg, dtype=param.dtype)
                scratch *= 1 - beta1                      # m += (1 - beta1) * (g - m), a lerp
                exp_avg += scratch
                xp.multiply(grad, grad, out=scratch)
                scratch *= 1 - beta2
                exp_avg_sq *= beta2
                exp_avg_sq += scratch

                second = exp_avg_sq
                if amsgrad:
                    second = state["max_exp_avg_sq"].array
                    xp.maximum(second, exp_avg_sq, out=second)
                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
                denom = xp.sqrt(second, out=scratch)
                denom /= bias_correction2_sqrt
                denom += eps
                xp.divide(exp_avg, denom, out=scratch)
                scratch *= lr / bias_correction1
                param -= scratch
        return loss


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
