"""Stochastic gradient descent, with PyTorch's momentum convention.

For each parameter ``p`` with gradient ``g`` (``t`` counts the steps)::

    g = -g                      if maximize
    g = g + weight_decay * p    if weight_decay != 0   (L2 penalty)
    b = g                       at the first step      (the buffer starts at the gradient)
    b = momentum * b + (1 - dampening) * g             afterwards
    g = g + momentum * b        if nesterov, else g = b   (only if momentum != 0)
    p = p - lr * g

Other frameworks scale the gradient by lr inside the buffer (``v = m*v - lr*g; p += v``);
PyTorch's form (and tinynn's) keeps lr outside, so changing lr mid-training (a scheduler)
changes the step at once, not only for new gradients.
"""
from .. import backend
from ..tensor import Tensor
from .optimizer import Optimizer, check_number, grad_with_decay

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with optional momentum, dampening, Nesterov momentum and weight decay.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: learning rate (default 1e-3, as in PyTorch 2).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum: new gradients enter the buffer scaled by
            ``1 - dampening`` (default 0).
        weight_decay: L2 penalty added to the gradient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening == 0).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'momentum_buffer'`` (a Tensor like the parameter), only when
    momentum != 0.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("lr", group["lr"], message="Invalid learning rate: {}")
        check_number("momentum", group["momentum"], message="Invalid momentum value: {}")
        check_number("dampening", group["dampening"], low=float("-inf"))
        check_number("weight_decay", group["weight_decay"], message="Invalid weight_decay value: {}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "momentum", "dampening", "weight_decay"),
                                            flags=("nesterov", "maximize"))
        for p in group["params"]:
            if p.grad is None:
                continue
            # Only momentum keeps state: without it, self.state stays empty (as in PyTorch).
            state = self.state[p] if hyper["momentum"] != 0 else {}
            buf = state.get("momentum_buffer")
            buf = sgd_update(p.array, p.grad.array, momentum_buffer=None if buf is None else buf.array, **hyper)
            if "momentum_buffer" not in state and buf is not None:
                state["momentum_buffer"] = Tensor(buf)


def sgd_update(param, grad, *, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on arrays: ``param`` and ``momentum_buffer`` in place, ``grad`` only read.

    Returns the momentum buffer: a new array (a copy of the gradient) when
    ``momentum_buffer`` is None at the first step, None when momentum is 0.
    """
    grad = grad_with_decay(param, grad, weight_decay, maximize)
    if momentum != 0:
        if momentum_buffer is None:
            # b = g, laid out like the parameter whatever the gradient's layout, so that
            # every later update runs over arrays in one memory order
            momentum_buffer = backend.get_array_module(param).empty_like(param)
            momentum_buffer[...] = grad
        else:
            momentum_buffer *= momentum
            momentum_buffer += grad if dampening == 0 else (1 - dampening) * grad   # b = m b + (1 - d) g
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad                                # p = p - lr g
    return momentum_buffer
