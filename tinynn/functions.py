"""The top-level functions of ``torch.*`` that tinynn offers: ``tinynn.sigmoid(x)`` etc.

Each one forwards to the Tensor method of the same name, so there is one implementation.
"""
from . import dtypes
from .ops import elementwise as ew, shape as sh
from .tensor import Tensor, as_array, _normalize_dim

__all__ = ["sigmoid", "relu", "tanh", "exp", "log", "sqrt", "abs", "clamp", "sum", "mean", "max",
           "min", "argmax", "argmin", "matmul", "mm", "flatten", "reshape", "squeeze", "unsqueeze",
           "transpose", "permute", "softmax", "log_softmax", "cat", "concat", "stack", "where",
           "maximum", "minimum", "is_tensor", "numel", "equal", "allclose"]


def _method(name):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = f"``tinynn.{name}(x, ...)`` is ``x.{name}(...)``."
    return function


sigmoid, relu, tanh, exp, log, sqrt, abs, clamp = map(_method, [
    "sigmoid", "relu", "tanh", "exp", "log", "sqrt", "abs", "clamp"])
sum, mean, max, min, argmax, argmin = map(_method, ["sum", "mean", "max", "min", "argmax", "argmin"])
matmul, flatten, reshape, squeeze, unsqueeze, transpose, permute = map(_method, [
    "matmul", "flatten", "reshape", "squeeze", "unsqueeze", "transpose", "permute"])
softmax, log_softmax, maximum, minimum, numel, equal = map(_method, [
    "softmax", "log_softmax", "maximum", "minimum", "numel", "equal"])
mm = matmul


def is_tensor(obj):
    return isinstance(obj, Tensor)


def _same_dtype_tensors(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    dtype = dtypes.result_dtype(*tensors)
    return [t._cast(dtype) for t in tensors]


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    tensors = _same_dtype_tensors(tensors, "cat")
    axis = _normalize_dim(dim, tensors[0].ndim)
    for i, t in enumerate(tensors):
        if t.ndim != tensors[0].ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if k != axis):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. Expected "
                               f"{tensors[0].shape} but got {t.shape} for tensor number {i} in the list.")
    return sh.Cat.apply(*tensors, dim=axis)


concat = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    tensors = _same_dtype_tensors(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tensors[0].shape} at entry 0 and {t.shape} at entry {i}")
    return sh.Stack.apply(*tensors, dim=_normalize_dim(dim, tensors[0].ndim + 1))


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (differentiable)."""
    if input is None and other is None:
        return tuple(Tensor(i) for i in condition.array.nonzero())
    like = next((t for t in (input, other, condition) if isinstance(t, Tensor)), None)
    device = like.device if like is not None else None  # where(cond, 1.0, 0.0) has no tensor
    if isinstance(condition, Tensor) and condition.device != device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                           f"devices, {device} and {condition.device}! (in where: condition)")
    dtype = dtypes.result_dtype(input, other)
    a = input._cast(dtype) if isinstance(input, Tensor) else Tensor(as_array(input, dtype, device))
    b = other._cast(dtype) if isinstance(other, Tensor) else Tensor(as_array(other, dtype, device))
    cond = condition.array if isinstance(condition, Tensor) else as_array(condition, device=device)
    return ew.Where.apply(a, b, condition=cond.astype(bool))


def allclose(a, b, rtol=1e-5, atol=1e-8):
    from .backend import get_array_module
    xp = get_array_module(a.array)
    return bool(xp.allclose(a.array, b.array, rtol=rtol, atol=atol))
