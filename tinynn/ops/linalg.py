"""Matrix products: ``a @ b`` with NumPy's matmul semantics, and the fused linear layer."""
import numpy

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, as_array, register_methods
from .arithmetic import sum_to_shape

__all__ = ["matmul", "mm"]


class MatMul(Function):
    """``a @ b`` for 1-D, 2-D and batched operands (batch dims broadcast)."""

    backward_name = "MmBackward0"

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad):
        xp = get_array_module(grad)
        a, b = self.saved_arrays
        # Promote 1-D operands to matrices so one formula covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = xp.expand_dims(g, -2) if g.ndim else g.reshape(1)  # 1-D @ 1-D: grad is 0-d
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to_shape(g @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to_shape(xp.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """``x @ weight.T + bias`` in one node: x (*, in), weight (out, in), bias (out,) or None."""

    backward_name = "AddmmBackward0"

    def forward(self, x, weight, bias):
        self.save_for_backward(x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias  # out is a fresh array: adding in place saves a pass
        return out

    def backward(self, grad):
        x, weight = self.saved_arrays
        x2 = x.reshape(-1, x.shape[-1])
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = (grad @ weight) if self.needs_input_grad[0] else None
        gw = (g2.T @ x2) if self.needs_input_grad[1] else None
        gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
        return gx, gw, gb


def check_matmul(a, b):
    """Raise PyTorch's errors for operands that cannot be multiplied."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}")
    if a.ndim == 1 and b.ndim == 1 and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        rows = int(numpy.prod(a.shape[:-1])) if a.ndim > 1 else 1
        cols = b.shape[-1] if b.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({rows}x{inner_a} and {inner_b}x{cols})")
    try:
        numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} do "
                           f"not broadcast") from None


def matmul(input, other):
    """The matrix product with NumPy's rules for 1-D and batched operands."""
    other = other if isinstance(other, Tensor) else Tensor(as_array(other, device=input.device))
    check_matmul(input, other)
    return MatMul.apply(input, other)


def _rmatmul(self, other):
    return matmul(Tensor(as_array(other, device=self.device)), self)


mm = matmul  # (2-D only in PyTorch: being written)

register_methods(matmul, mm=mm, __matmul__=matmul, __rmatmul__=_rmatmul)
