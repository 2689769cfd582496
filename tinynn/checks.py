"""Argument checks shared by the ops, with PyTorch's wording.

One place for the errors a user sees most: a dim out of range, tensors on two devices,
an in-place update of a tensor that autograd needs. The ops call these instead of
writing their own.
"""
import functools

import numpy

from .backend import device_of

__all__ = ["normalize_dim", "check_same_device", "accepts_axis", "shape_args"]


def normalize_dim(dim, ndim):
    """A possibly negative dim (or tuple of dims) as non-negative ints, checked.

    A 0-d tensor accepts dims -1 and 0, as in PyTorch.
    """
    if isinstance(dim, (tuple, list)):
        return tuple(normalize_dim(d, ndim) for d in dim)
    rank = max(ndim, 1)
    if not isinstance(dim, int) and hasattr(dim, "__index__"):
        dim = dim.__index__()
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-rank}, {rank - 1}], but got {dim})")
    return dim % rank


def check_same_device(op_name, tensors):
    """Raise PyTorch's error when the tensors (None entries skipped) sit on two devices."""
    arrays = [t.array for t in tensors if t is not None]
    if all(type(a) is numpy.ndarray for a in arrays):  # the common case, checked cheaply
        return
    first = device_of(arrays[0])
    for array in arrays[1:]:
        device = device_of(array)
        if device != first:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                               f"two devices, {first} and {device}! (in {op_name})")


def accepts_axis(function):
    """Let ``function(x, dim=..., keepdim=...)`` also be called with NumPy's ``axis=`` and
    ``keepdims=``, as PyTorch allows (``x.argmax(axis=1)``)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
            if numpy_name in kwargs:
                if torch_name in kwargs:
                    raise TypeError(f"{function.__name__}() got both '{torch_name}' and its alias "
                                    f"'{numpy_name}'")
                kwargs[torch_name] = kwargs.pop(numpy_name)
        return function(*args, **kwargs)
    return wrapper


def shape_args(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` (and a Size)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(int(n) for n in shape[0])
    return tuple(int(n) for n in shape)
