"""Adadelta (Zeiler, 2012), following the pseudo-code in PyTorch's documentation.

For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

    g = -g                                           if maximize
    g = g + weight_decay * p                         if weight_decay != 0   (L2 penalty)
    v = rho * v + (1 - rho) * g * g                  running mean of g^2 ("square_avg")
    dx = sqrt(u + eps) / sqrt(v + eps) * g           u from the previous step
    u = rho * u + (1 - rho) * dx * dx                running mean of dx^2 ("acc_delta")
    p = p - lr * dx

The ratio of the two root-mean-squares gives each coordinate a step in the units of
the parameter itself, so ``lr`` is a plain multiplier (1.0 by default: the official
PyTorch MNIST example uses ``Adadelta(model.parameters(), lr=1.0)`` with ``StepLR``).
"""
from .. import backend
from .optimizer import Optimizer, check_number, grad_with_decay

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, with L2 weight decay.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: multiplies the step (default 1.0).
        rho: smoothing constant of both running means, in [0, 1] (default 0.9).
        eps: added inside both square roots (default 1e-6).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'step'`` (int), ``'square_avg'`` and ``'acc_delta'`` (Tensors
    like the parameter).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("lr", group["lr"], message="Invalid learning rate: {}")
        check_number("rho", group["rho"], message="Invalid rho value: {}")
        if group["rho"] > 1:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        check_number("eps", group["eps"], message="Invalid epsilon value: {}")
        check_number("weight_decay", group["weight_decay"], message="Invalid weight_decay value: {}")

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "rho", "eps", "weight_decay"), flags=("maximize",))
        for p, state in self._params_with_state(group, ("square_avg", "acc_delta")):
            adadelta_update(p.array, p.grad.array, square_avg=state["square_avg"].array,
                            acc_delta=state["acc_delta"].array, **hyper)


def adadelta_update(param, grad, *, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step on arrays: ``param`` and the buffers in place, ``grad`` only read."""
    xp = backend.get_array_module(param)
    grad = grad_with_decay(param, grad, weight_decay, maximize)

    scratch = xp.multiply(grad, grad, dtype=param.dtype)
    scratch *= 1 - rho
    square_avg *= rho
    square_avg += scratch                           # v = rho v + (1 - rho) g^2

    std = xp.add(square_avg, eps, out=scratch)
    xp.sqrt(std, out=std)                           # sqrt(v + eps)
    delta = xp.add(acc_delta, eps, dtype=param.dtype)
    xp.sqrt(delta, out=delta)                       # sqrt(u + eps), u of the previous step
    delta /= std
    delta *= grad                                   # dx = sqrt(u + eps) / sqrt(v + eps) g

    xp.multiply(delta, delta, out=scratch)
    scratch *= 1 - rho
    acc_delta *= rho
    acc_delta += scratch                            # u = rho u + (1 - rho) dx^2

    delta *= lr
    param -= delta                                  # p = p - lr dx
