"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, as PyTorch's.

Both change the ``.grad`` of the given parameters in place (parameters without a gradient
are skipped) and record nothing in the autograd graph.

``clip_grad_norm_`` treats all gradients as one vector: its p-norm is the p-norm of the
per-tensor norms. It returns that total norm *before* clipping, and multiplies every
gradient by ``min(1, max_norm / (total + 1e-6))`` (the 1e-6 keeps a zero norm harmless).
"""
import math
import warnings

from ...backend import get_array_module, is_writeable
from ...creation import tensor
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _tensors(tensors):
    """A single Tensor or an iterable of them (a generator is read once) as a list."""
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads(parameters):
    return [p.grad for p in _tensors(parameters) if p.grad is not None]


def _vector_norm(xp, a, p):
    """The p-norm of all of ``a``'s elements (inf: largest |a|; 0: count of non-zeros)."""
    if p == math.inf or p == -math.inf:
        if a.size == 0:
            return xp.zeros((), dtype=a.dtype)
        return xp.abs(a).max() if p > 0 else xp.abs(a).min()
    if p == 0:
        return (a != 0).sum().astype(a.dtype)
    if p == 1:
        return xp.abs(a).sum()
    if p == 2:
        return xp.sqrt((a * a).sum())
    return (xp.abs(a) ** p).sum() ** (1.0 / p)


def _same_device(tensors, name):
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise RuntimeError(f"{name}: the tensors are on several devices ({sorted(map(str, devices))}); "
                           f"tinynn computes one total norm on one device")


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as a 0-d tensor (0 when empty).

    ``error_if_nonfinite=True`` raises a RuntimeError when the norm is nan or inf.
    ``foreach`` is accepted for compatibility; tinynn has one implementation.
    """
    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    _same_device(tensors, "get_total_norm")
    xp = get_array_module(tensors[0].array)
    norms = [_vector_norm(xp, t.array, norm_type) for t in tensors]
    total = _vector_norm(xp, xp.stack(norms), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                           f"non-finite, so it cannot be clipped. To disable this error and scale the "
                           f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = _grads(parameters)
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else total_norm
    xp = get_array_module(grads[0].array)
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)  # nan stays nan, as in PyTorch
    for g in grads:
        factor = coef.astype(g.array.dtype)
        if is_writeable(g.array):
            g.array *= factor
        else:
            g.array = g.array * factor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clip the gradients' total norm to ``max_norm``, in place; return the norm before.

    parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``); those
    without ``.grad`` are skipped. norm_type: the p of the p-norm, ``float('inf')`` or
    ``'inf'`` for the largest absolute value. Returns the total norm as a 0-d tensor.
    """
    parameters = _tensors(parameters)
    grads = _grads(parameters)
    if not grads:
        return tensor(0.0)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated spelling of ``clip_grad_norm_`` (PyTorch warns the same way)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        xp = get_array_module(g.array)
        if is_writeable(g.array):
            xp.clip(g.array, -clip_value, clip_value, out=g.array)
        else:
            g.array = xp.clip(g.array, -clip_value, clip_value)
