"""Parameter: a Tensor that a Module registers as learnable."""
from ..tensor import Tensor, as_array

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor with ``requires_grad=True`` that ``Module.parameters()`` yields.

    ``Parameter(t)`` shares ``t``'s array (no copy), as in PyTorch.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = as_array([])
        super().__init__(data.array if isinstance(data, Tensor) else as_array(data),
                         requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
