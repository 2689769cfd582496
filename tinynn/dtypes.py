"""dtypes and PyTorch's type-promotion rules.

tinynn's dtypes are NumPy dtype objects (``tinynn.float32 == numpy.dtype('float32')``), so
they work unchanged on both backends.
"""
import builtins

import numpy

float16 = half = numpy.dtype("float16")
float32 = float = numpy.dtype("float32")
float64 = double = numpy.dtype("float64")
uint8 = numpy.dtype("uint8")
int8 = numpy.dtype("int8")
int16 = short = numpy.dtype("int16")
int32 = int = numpy.dtype("int32")
int64 = long = numpy.dtype("int64")
bool = numpy.dtype("bool")  # noqa: A001  (the public name is tinynn.bool, as torch.bool)

_default_float = float32

# bool < integer < floating point: PyTorch promotes across categories by category first.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def get_default_dtype():
    return _default_float


def category(dtype):
    return _CATEGORY[numpy.dtype(dtype).kind]


def _scalar_category(value):
    if isinstance(value, (builtins.bool, numpy.bool_)):
        return 0
    if isinstance(value, (builtins.int, numpy.integer)):
        return 1
    return 2


_CATEGORY_DEFAULT = {0: bool, 1: int64, 2: float32}


def _promote_within(dtypes):
    """Promote dtypes of one priority group: only the highest category counts."""
    top = max(category(d) for d in dtypes)
    return numpy.result_type(*[d for d in dtypes if category(d) == top])


def result_dtype(*operands):
    """The dtype of a binary op's result, by PyTorch's rules.

    Tensors with dimensions decide, unless a 0-d tensor or a Python scalar is of a higher
    category (bool < int < float): ``int64 * 0.5 -> float32``, ``float32 * float64 0-d ->
    float32``, ``float64 + 1.0 -> float64``.
    """
    dimensioned = [o.dtype for o in operands if hasattr(o, "dtype") and o.ndim > 0]
    zero_dim = [o.dtype for o in operands if hasattr(o, "dtype") and o.ndim == 0]
    scalars = [o for o in operands if not hasattr(o, "dtype")]
    best = None
    for group in (dimensioned, zero_dim):
        if group:
            candidate = _promote_within(group)
            if best is None or category(candidate) > category(best):
                best = candidate
    for value in scalars:
        c = _scalar_category(value)
        if best is None or c > category(best):
            best = _CATEGORY_DEFAULT[c] if c < 2 else _default_float
    return numpy.dtype(best)
