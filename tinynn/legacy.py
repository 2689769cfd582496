"""PyTorch's legacy tensor types: ``tinynn.FloatTensor([[1, 2], [3, 4]])``, ``LongTensor(3)``.

Each is a callable type: called with data it makes a tensor of that dtype, called with
sizes a zero-filled one (PyTorch leaves it uninitialised); ``isinstance(x, FloatTensor)``
is True for a float32 tensor on its device, as in PyTorch. ``x.type('torch.FloatTensor')``
understands the same names (see ``ops/conversion.py``).
"""
import numbers

from . import backend
from .ops.conversion import LEGACY_TYPES
from .tensor import Size, Tensor, as_array

__all__ = list(LEGACY_TYPES)


class _LegacyType(type):
    """The metaclass that makes ``FloatTensor(...)`` build a Tensor and answer isinstance."""

    def __call__(cls, *data, device=None):
        device = cls.device if device is None else device
        if data and all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in data) \
                or (len(data) == 1 and isinstance(data[0], Size)):
            sizes = tuple(data[0]) if isinstance(data[0], Size) else data
            array = backend.Device(device).xp.zeros(sizes, dtype=cls.dtype.dtype)
        elif not data:
            array = backend.Device(device).xp.zeros((0,), dtype=cls.dtype.dtype)
        elif len(data) == 1:
            source = data[0].array if isinstance(data[0], Tensor) else data[0]
            array = as_array(source, dtype=cls.dtype, device=device)
            if array is source:  # a new tensor never shares the caller's array
                array = array.copy()
        else:
            raise TypeError(f"{cls.legacy_name}() takes sizes or one sequence of data, got {data!r}")
        return Tensor(array)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == cls.device

    def __repr__(cls):
        return f"<class '{cls.legacy_name}'>"


def make_legacy_types(device, prefix):
    """One legacy type per dtype, on ``device`` ('cpu' or 'cuda')."""
    return {name: _LegacyType(name, (), {"dtype": dtype, "device": device,
                                         "legacy_name": f"{prefix}{name}"})
            for name, dtype in LEGACY_TYPES.items()}


globals().update(make_legacy_types("cpu", "tinynn."))
