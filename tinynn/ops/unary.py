"""The shape most elementwise functions share, written once.

Nearly every one-input elementwise function -- ``sin``, ``log1p``, ``rsqrt``, ``floor`` --
has the same autograd story: the forward applies ``f`` to every element, and the backward
multiplies the incoming gradient by the local slope ``f'``, element by element (the chain
rule for a function that maps each element on its own):

    out = f(x)                      grad_x = grad_out * f'(x)

Only ``f`` and ``f'`` differ. So instead of one near-identical class per function, a family
file describes each one by its two formulas::

    Sin = unary_function("Sin", lambda xp, x: xp.sin(x), lambda xp, x: xp.cos(x))
    Exp = unary_function("Exp", lambda xp, x: xp.exp(x), lambda xp, out: out, of="output")

``of="output"`` says the slope is written with the *result* (exp' = exp, tan' = 1 + tan^2),
which is then what backward keeps instead of the input. A function given no slope is
piecewise constant (floor, round, sign): its gradient is zero everywhere, and PyTorch uses
zero at the jumps too.

``inplace_methods`` makes the ``x.sin_()`` methods from the out-of-place functions; the rules
(an error on a leaf that requires grad, a plain array update outside the graph, a new node
for a non-leaf) live in ``inplace.py``.
"""
from ..autograd import Function
from ..backend import get_array_module
from .inplace import inplace

__all__ = ["UnaryFunction", "unary_function", "inplace_method", "inplace_methods"]


class UnaryFunction(Function):
    """``out = f(x)`` elementwise; ``grad_x = grad * derivative(v)``, ``v`` the input or output."""

    uses_output = False  # the derivative reads out = f(x) rather than x
    derivative = None    # None: piecewise constant, zero gradient

    def forward(self, x):
        out = self.f(get_array_module(x), x)
        if self.derivative is not None:
            self.save_for_backward(out if self.uses_output else x)
        return out

    def backward(self, grad):
        xp = get_array_module(grad)
        if self.derivative is None:
            return xp.zeros_like(grad)
        value, = self.saved_arrays
        return grad * self.derivative(xp, value)


def unary_function(name, f, derivative=None, *, of="input"):
    """A ``UnaryFunction`` subclass called ``name`` (its node prints as ``<name>Backward0``).

    ``f(xp, x)`` computes the result, ``derivative(xp, v)`` the slope at each element, where
    ``v`` is the input (``of="input"``) or the result (``of="output"``).
    """
    if of not in ("input", "output"):
        raise ValueError(f"of must be 'input' or 'output', not {of!r}")
    body = {"f": staticmethod(f), "uses_output": of == "output",
            "__doc__": f"Elementwise {name.lower()} (built by unary_function)."}
    if derivative is not None:
        body["derivative"] = staticmethod(derivative)
    return type(name, (UnaryFunction,), body)


def inplace_method(function, name=None):
    """The Tensor method ``x.<name>_(...)``: ``function(x, ...)`` written back into ``x``."""
    name = (name or function.__name__) + "_"

    def method(self, *args, **kwargs):
        return inplace(self, name, function, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place version of ``{function.__name__}``: updates ``self`` and returns it."
    return method


def inplace_methods(*functions):
    """``{"sin_": <in-place sin>, ...}`` for ``register_methods(**inplace_methods(sin, ...))``."""
    return {function.__name__ + "_": inplace_method(function) for function in functions}
