"""``F.linear``: the fully connected layer's computation."""
from ...ops import linalg

__all__ = ["linear"]


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input (*, in), weight (out, in), bias (out,) -> (*, out)."""
    x, w = input.array, weight.array    # raw shapes and dtypes: this runs every step
    if x.ndim == 0:
        raise RuntimeError("linear: input must have at least 1 dimension, got a 0-d tensor")
    if x.shape[-1] != w.shape[-1]:
        rows = input.numel() // input.shape[-1] if input.shape[-1] else input.shape[0]
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1]} "
                           f"and {weight.shape[1]}x{weight.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype} and "
                           f"{weight.dtype} (convert the input with .float() or the model with .double())")
    return linalg.Linear.apply(input, weight, bias)
