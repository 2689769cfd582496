"""Adagrad (Duchi, Hazan & Singer, 2011), following the pseudo-code in PyTorch's documentation.

For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

    g = -g                                     if maximize
    lr~ = lr / (1 + (t - 1) * lr_decay)        the decayed learning rate
    g = g + weight_decay * p                   if weight_decay != 0   (L2 penalty)
    s = s + g * g                              the sum of all squared gradients so far
    p = p - lr~ * g / (sqrt(s) + eps)

``s`` starts at ``initial_accumulator_value``. It only grows, so each coordinate's step
shrinks with the gradients it has seen: rarely updated coordinates keep larger steps.
"""
from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, check_number, grad_with_decay

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, with learning-rate decay and L2 weight decay.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: learning rate (default 1e-2).
        lr_decay: the lr at step t is ``lr / (1 + (t - 1) * lr_decay)`` (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: added to the denominator after the square root (default 1e-10).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'step'`` (int) and ``'sum'`` (a Tensor like the parameter).
    As in PyTorch it is created at construction, so ``state_dict()`` has it before the
    first step.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        """Add a group; its parameters get their ``'step'`` and ``'sum'`` state at once."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            xp = backend.get_array_module(p.array)
            state["step"] = 0
            state["sum"] = Tensor(xp.full_like(p.array, float(group["initial_accumulator_value"])))

    def _check_group(self, group):
        check_number("lr", group["lr"], message="Invalid learning rate: {}")
        check_number("lr_decay", group["lr_decay"], message="Invalid lr_decay value: {}")
        check_number("weight_decay", group["weight_decay"], message="Invalid weight_decay value: {}")
        check_number("initial_accumulator_value", group["initial_accumulator_value"],
                     message="Invalid initial_accumulator_value value: {}")
        check_number("eps", group["eps"], message="Invalid epsilon value: {}")

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "lr_decay", "weight_decay", "eps"), flags=("maximize",))
        for p in group["params"]:
            if p.grad is None:
                continue
            self._init_state(p, group)  # only needed after load_state_dict dropped it
            state = self.state[p]
            state["step"] += 1
            adagrad_update(p.array, p.grad.array, state_sum=state["sum"].array, step=state["step"], **hyper)


def adagrad_update(param, grad, *, state_sum, step, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step on arrays: ``param`` and ``state_sum`` in place, ``grad`` only read."""
    xp = backend.get_array_module(param)
    grad = grad_with_decay(param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)          # lr~, the decayed learning rate

    scratch = xp.multiply(grad, grad, dtype=param.dtype)
    state_sum += scratch                            # s = s + g^2
    std = xp.sqrt(state_sum, out=scratch)
    std += eps
    xp.divide(grad, std, out=scratch)
    scratch *= clr
    param -= scratch                                # p = p - lr~ g / (sqrt(s) + eps)
