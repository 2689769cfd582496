"""``Function``: one differentiable operation, written on raw arrays.

``SomeFunction.apply(*tensors, **params)`` runs ``forward`` on the tensors' arrays and,
when a gradient is needed, records the Function as the ``grad_fn`` of the output tensor.
Positional arguments are the differentiable inputs (a missing optional input, such as an
absent bias, is passed as ``None``); keyword arguments are fixed parameters.

A subclass writes::

    class Exp(Function):
        def forward(self, x):
            out = xp.exp(x)
            self.save_for_backward(out)     # the arrays backward needs, said explicitly
            return out

        def backward(self, grad):           # one gradient per positional input
            out, = self.saved_arrays
            return grad * out

Small facts (shapes, axes) may be kept as plain attributes.
"""
from numpy import ndarray

from ..checks import check_same_device
from ..tensor import Tensor
from .. import grad_mode
from ..engine import Node

__all__ = ["Function", "op_observers"]

op_observers = []  # callables(fn, output) told of every op; tinynn.summary uses this


class Function(Node):
    """Base class of tinynn's ops: subclasses define ``forward`` and ``backward`` on arrays."""

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors (or None); returns a Tensor that remembers how it was made."""
        arrays = [None if t is None else t.array for t in inputs]
        if any(type(a) is not ndarray for a in arrays if a is not None):   # not all on the cpu
            check_same_device(cls.__name__, inputs)
        fn = cls()
        out = Tensor(fn.forward(*arrays, **params))
        if grad_mode._grad_enabled:
            needs = tuple(t is not None and t._requires_grad for t in inputs)
            if True in needs:
                fn.needs_input_grad = needs
                # An edge leads to the node that made an input, or to the leaf itself.
                fn._edges = tuple(None if not need else t._grad_fn or t
                                  for t, need in zip(inputs, needs))
                out._requires_grad = True
                out._grad_fn = fn
        if op_observers:
            for observe in op_observers:
                observe(fn, out)
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError
