"""``tinynn.autograd``: as ``torch.autograd``.

``Function`` (write your own op on arrays), ``grad`` (gradients returned, ``.grad`` left
alone), ``backward`` (several roots at once), ``Variable`` (the pre-0.4 wrapper, now just a
Tensor), ``gradcheck`` and the grad-mode switches.
"""
from ..backend import get_array_module
from ..engine import run_backward
from ..grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                         set_grad_enabled)
from ..tensor import Tensor, backward_seed
from .function import Function
from .gradcheck import gradcheck

__all__ = ["Function", "grad", "backward", "Variable", "gradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled"]


def _tensors(value, name):
    items = [value] if isinstance(value, Tensor) else list(value)
    if not all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"{name} must be a Tensor or a sequence of Tensors")
    return items


def _seeds(outputs, grad_outputs):
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} "
                           f"grad_outputs for {len(outputs)} outputs")
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               f"grad_fn")
    return [backward_seed(o, g) for o, g in zip(outputs, grad_outputs)]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors.

    Unlike ``backward`` nothing is accumulated into any ``.grad``. An input that no output
    depends on is an error unless ``allow_unused=True`` (then its gradient is None) or
    ``materialize_grads=True`` (then zeros).
    """
    if create_graph:
        raise NotImplementedError("create_graph=True: tinynn's backward works on raw arrays, so "
                                  "gradients of gradients are not recorded")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    outputs, inputs = _tensors(outputs, "outputs"), _tensors(inputs, "inputs")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    seeds = _seeds(outputs, grad_outputs)
    found = run_backward(outputs, seeds, retain_graph=bool(retain_graph), inputs=inputs,
                         accumulate=False)
    result = []
    for t, g in zip(inputs, found):
        if g is None:
            if materialize_grads:
                g = get_array_module(t.array).zeros_like(t.array)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                                   "in the graph. Set allow_unused=True if this is the desired "
                                   "behavior.")
        result.append(None if g is None else Tensor(g.astype(t.dtype, copy=True)))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of several tensors at once into the leaves' ``.grad``."""
    if create_graph:
        raise NotImplementedError("create_graph=True: tinynn's backward works on raw arrays, so "
                                  "gradients of gradients are not recorded")
    tensors = _tensors(tensors, "tensors")
    seeds = _seeds(tensors, grad_tensors)
    if inputs is not None:
        inputs = _tensors(inputs, "inputs")
    run_backward(tensors, seeds, retain_graph=bool(retain_graph), inputs=inputs)


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(t, requires_grad=True)``: old PyTorch code's wrapper. Since PyTorch 0.4 a
    Variable is a Tensor: this returns a new leaf tensor sharing ``t``'s array."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        array = data.array if isinstance(data, Tensor) else Tensor(data).array
        return Tensor(array, requires_grad=requires_grad)
