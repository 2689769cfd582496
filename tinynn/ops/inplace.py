"""PyTorch's rules for in-place ops (``x.add_(y)``, ``x -= y``, ``x.exp_()``, ...).

- Under ``no_grad()``, or when nothing involved requires grad, the tensor's array is
  updated in place: every view and every reference sees the change.
- A leaf that requires grad cannot be updated in place while grad is enabled (its old value
  would be lost to the gradient), so that is an error.
- A non-leaf in the graph takes over the result's graph node: every reference to the tensor
  sees the new value, while the graph keeps the old value inside its nodes, so gradients
  stay right. Autograd is never bypassed.
"""
import numpy

from ..backend import get_array_module
from ..checks import check_same_device
from ..grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor

__all__ = ["inplace", "inplace_ufunc", "check_inplace_allowed"]

LEAF_IN_PLACE = ("a leaf Variable that requires grad is being used in an in-place operation. "
                 "Wrap the update in `with tinynn.no_grad():`.")


def _recording(tensor, operands):
    """True when the update must go through the graph; raises for a leaf that needs grad."""
    if not is_grad_enabled():
        return False
    if tensor.requires_grad and tensor._grad_fn is None:
        raise RuntimeError(LEAF_IN_PLACE)
    return tensor.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in operands)


def inplace(tensor, name, out_of_place, *args, **kwargs):
    """``tensor.<name>(*args)`` done in place, from its out-of-place op ``out_of_place``."""
    if _recording(tensor, args + tuple(kwargs.values())):
        return become(tensor, out_of_place(tensor, *args, **kwargs), name)
    with no_grad():
        result = out_of_place(tensor, *args, **kwargs)
    _write(tensor, result.array, name)
    return tensor


def inplace_ufunc(tensor, other, ufunc_name, out_of_place):
    """``tensor (op)= other`` for arithmetic: one ufunc call with ``out=`` on the plain path,
    so optimizer updates (``p.data.add_(g, alpha=-lr)``) make no temporary array."""
    if _recording(tensor, (other,)):
        return become(tensor, out_of_place(tensor, other), ufunc_name)
    if isinstance(other, Tensor):
        check_same_device(ufunc_name, (tensor, other))
        other = other.array
    xp = get_array_module(tensor.array)
    try:
        getattr(xp, ufunc_name)(tensor.array, other, out=tensor.array, casting="same_kind")
    except TypeError as exc:  # NumPy's UFuncTypeError is a TypeError
        raise RuntimeError(f"result type of in-place {ufunc_name} can't be cast to the "
                           f"desired output type {tensor.dtype}") from exc
    except ValueError as exc:
        raise RuntimeError(f"in-place {ufunc_name}: output with shape {tuple(tensor.shape)} doesn't "
                           f"match the broadcast shape of the operands ({exc})") from exc
    return tensor


def _write(tensor, array, name):
    if tuple(array.shape) != tensor.array.shape:
        raise RuntimeError(f"{name}: output with shape {list(tensor.shape)} doesn't match the "
                           f"broadcast shape {list(array.shape)}")
    if not numpy.can_cast(array.dtype, tensor.array.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {array.dtype} can't be cast to the desired output "
                           f"type {tensor.array.dtype}")
    get_array_module(array).copyto(tensor.array, array, casting="same_kind")


def become(tensor, result, name):
    """Let ``tensor`` take over ``result``'s array and graph node (the recorded path)."""
    if result.shape != tensor.shape:
        raise RuntimeError(f"{name}: output with shape {list(tensor.shape)} doesn't match the "
                           f"broadcast shape {list(result.shape)}")
    if not numpy.can_cast(result.array.dtype, tensor.array.dtype, "same_kind"):
        raise RuntimeError(f"result type of in-place {name} can't be cast to the desired "
                           f"output type {tensor.dtype}")
    if result.array.dtype != tensor.array.dtype:
        result = result.to(tensor.dtype)
    old_fn = tensor._grad_fn
    tensor.array, tensor._grad_fn, tensor._requires_grad = result.array, result._grad_fn, result.requires_grad
    if old_fn is not None and old_fn._retained is not None and old_fn._retained() is tensor:
        old_fn._retained = None  # retain_grad() follows the tensor to its new node
        tensor.retain_grad()
    return tensor


def check_inplace_allowed(tensor):
    """For writes that autograd cannot record (``zero_``, ``fill_``, ``x[i] = v``)."""
    if is_grad_enabled() and tensor.requires_grad:
        raise RuntimeError("a Tensor that requires grad is being used in an in-place operation "
                           "that autograd cannot record. Wrap the update in `with tinynn.no_grad():`.")
