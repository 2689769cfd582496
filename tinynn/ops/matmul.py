"""Matrix products: ``a @ b`` with NumPy's matmul semantics, and the fused linear layer."""
from ..autograd import Function
from ..backend import get_array_module
from .elementwise import sum_to_shape


class MatMul(Function):
    """``a @ b`` for 1-D, 2-D and batched operands (batch dims broadcast)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad):
        xp = get_array_module(grad)
        a, b = self.a, self.b
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
    """``x @ weight.T + bias`` in one node: x (*, in), weight (out, in), bias (out,) or absent."""

    def forward(self, x, weight, *bias):
        self.x, self.weight = x, weight
        out = x @ weight.T
        if bias:
            out += bias[0]  # out is a fresh array: adding in place saves a pass
        return out

    def backward(self, grad):
        x2 = self.x.reshape(-1, self.x.shape[-1])
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = (grad @ self.weight) if self.needs_input_grad[0] else None
        gw = (g2.T @ x2) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 3:
            gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
            return gx, gw, gb
        return gx, gw
