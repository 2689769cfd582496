"""RMSprop (Hinton's lecture 6e), following the pseudo-code in PyTorch's documentation.

For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

    g = -g                                     if maximize
    g = g + weight_decay * p                   if weight_decay != 0   (L2 penalty)
    v = alpha * v + (1 - alpha) * g * g        running mean of g^2 ("square_avg")
    v~ = v
    g_ave = alpha * g_ave + (1 - alpha) * g    if centered: running mean of g ("grad_avg")
    v~ = v - g_ave^2                           if centered: an estimate of the variance of g
    b = momentum * b + g / (sqrt(v~) + eps)    if momentum > 0, then p = p - lr * b
    p = p - lr * g / (sqrt(v~) + eps)          otherwise

eps is added *after* the square root, as PyTorch does (TensorFlow adds it inside).
All buffers start at zero; there is no bias correction (unlike Adam).
"""
from .. import backend
from .optimizer import Optimizer, check_number, grad_with_decay

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, with optional momentum, the centered variant and L2 weight decay.

    Args:
        params: iterable of Tensors or of dicts (parameter groups).
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the running mean of g^2 (default 0.99).
        eps: added to the denominator after the square root (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        momentum: momentum factor (default 0).
        centered: divide by an estimate of the gradient's variance instead of its
            second moment (default False).
        maximize: ascend the objective instead of descending it.

    State per parameter: ``'step'`` (int), ``'square_avg'``, and ``'momentum_buffer'``
    (momentum > 0) and ``'grad_avg'`` (centered), Tensors like the parameter.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        check_number("lr", group["lr"], message="Invalid learning rate: {}")
        check_number("eps", group["eps"], message="Invalid epsilon value: {}")
        check_number("momentum", group["momentum"], message="Invalid momentum value: {}")
        check_number("weight_decay", group["weight_decay"], message="Invalid weight_decay value: {}")
        check_number("alpha", group["alpha"], message="Invalid alpha value: {}")

    def _step_group(self, group):
        hyper = self._group_hyperparameters(group, ("lr", "alpha", "eps", "weight_decay", "momentum"),
                                            flags=("centered", "maximize"))
        # Buffers also appear when momentum/centered are switched on later (OneCycleLR sets momentum).
        buffers = ["square_avg"]
        if hyper["momentum"] > 0:
            buffers.append("momentum_buffer")
        if hyper["centered"]:
            buffers.append("grad_avg")
        for p, state in self._params_with_state(group, buffers):
            rmsprop_update(p.array, p.grad.array,
                           square_avg=state["square_avg"].array,
                           grad_avg=state["grad_avg"].array if hyper["centered"] else None,
                           momentum_buffer=state["momentum_buffer"].array if hyper["momentum"] > 0 else None,
                           **hyper)


def rmsprop_update(param, grad, *, square_avg, grad_avg, momentum_buffer,
                   lr, alpha, eps, weight_decay, momentum, centered, maximize):
    """One RMSprop step on arrays: ``param`` and the buffers are updated in place, ``grad`` is
    only read. ``grad_avg`` / ``momentum_buffer`` are None when centered / momentum are off."""
    xp = backend.get_array_module(param)
    grad = grad_with_decay(param, grad, weight_decay, maximize)

    scratch = xp.multiply(grad, grad, dtype=param.dtype)
    scratch *= 1 - alpha
    square_avg *= alpha
    square_avg += scratch                          # v = alpha v + (1 - alpha) g^2

    if centered:
        xp.multiply(grad, 1 - alpha, out=scratch)
        grad_avg *= alpha
        grad_avg += scratch                        # g_ave = alpha g_ave + (1 - alpha) g
        xp.multiply(grad_avg, grad_avg, out=scratch)
        xp.subtract(square_avg, scratch, out=scratch)   # v~ = v - g_ave^2
        denom = xp.sqrt(scratch, out=scratch)
    else:
        denom = xp.sqrt(square_avg, out=scratch)
    denom += eps                                   # sqrt(v~) + eps

    if momentum > 0:
        xp.divide(grad, denom, out=scratch)
        momentum_buffer *= momentum
        momentum_buffer += scratch                 # b = momentum b + g / (sqrt(v~) + eps)
        xp.multiply(momentum_buffer, lr, out=scratch)
        param -= scratch                           # p = p - lr b
    else:
        xp.divide(grad, denom, out=scratch)
        scratch *= lr
        param -= scratch                           # p = p - lr g / (sqrt(v~) + eps)
