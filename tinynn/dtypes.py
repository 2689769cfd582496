"""dtypes and PyTorch's type-promotion rules.

A tinynn dtype prints like PyTorch's (``tinynn.float32``) and compares equal to the NumPy
dtype it stands for (``tinynn.float32 == numpy.float32``). NumPy and CuPy accept it
wherever they take a dtype, because it carries that NumPy dtype in its ``.dtype``
attribute (NumPy's dtype protocol), so ``array.astype(tinynn.float64)`` just works.
"""
import builtins

import numpy


class dtype:
    """A tensor's element type: ``tinynn.float32``, ``tinynn.int64``, ``tinynn.bool``..."""

    __slots__ = ("dtype",)  # the NumPy dtype; the name is NumPy's protocol

    def __init__(self, numpy_dtype):
        self.dtype = numpy.dtype(numpy_dtype)

    @property
    def is_floating_point(self):
        return self.dtype.kind == "f"

    @property
    def is_complex(self):
        return self.dtype.kind == "c"

    @property
    def is_signed(self):
        return self.dtype.kind in "ifc"

    @property
    def itemsize(self):
        return self.dtype.itemsize

    def __getattr__(self, name):  # kind, type, char...: the NumPy dtype's attributes
        return getattr(self.dtype, name)

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        try:
            return self.dtype == numpy.dtype(other)
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"tinynn.{self.dtype.name}"

    __str__ = __repr__

    def __reduce__(self):  # copy and deepcopy keep the one object per dtype
        return (of, (self.dtype,))


_BY_NUMPY = {}


def of(numpy_dtype):
    """The tinynn dtype for a NumPy dtype (one object per dtype)."""
    found = _BY_NUMPY.get(numpy_dtype)
    if found is None:
        key = numpy.dtype(numpy_dtype)
        found = _BY_NUMPY.setdefault(key, dtype(key))
        _BY_NUMPY[numpy_dtype] = found
    return found


float16 = half = of(numpy.float16)
float32 = float = of(numpy.float32)
float64 = double = of(numpy.float64)
complex64 = cfloat = of(numpy.complex64)
complex128 = cdouble = of(numpy.complex128)
uint8 = of(numpy.uint8)
int8 = of(numpy.int8)
int16 = short = of(numpy.int16)
int32 = int = of(numpy.int32)
int64 = long = of(numpy.int64)
bool = of(numpy.bool_)  # noqa: A001  (the public name is tinynn.bool, as torch.bool)

_default_float = float32


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    """Make ``d`` (float32 or float64) the dtype of Python floats and new float tensors."""
    global _default_float
    d = of(numpy.dtype(d))
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type (got {d})")
    _default_float = d


# bool < integer < floating point: PyTorch promotes across categories by category first.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def category(d):
    return _CATEGORY[numpy.dtype(d).kind]


def _scalar_category(value):
    if isinstance(value, (builtins.bool, numpy.bool_)):
        return 0
    if isinstance(value, (builtins.int, numpy.integer)):
        return 1
    return 2


def _promote_within(group):
    """Promote dtypes of one priority group: only the highest category counts."""
    top = builtins.max(category(d) for d in group)
    return numpy.result_type(*[numpy.dtype(d) for d in group if category(d) == top])


def result_dtype(*operands):
    """The dtype of a binary op's result, by PyTorch's rules (a tinynn dtype).

    Tensors with dimensions decide, unless a 0-d tensor or a Python scalar is of a higher
    category (bool < int < float): ``int64 * 0.5 -> float32``, ``float32 * float64 0-d ->
    float32``, ``float64 + 1.0 -> float64``.
    """
    dimensioned = [o.dtype for o in operands if hasattr(o, "dtype") and o.ndim > 0]
    zero_dim = [o.dtype for o in operands if hasattr(o, "dtype") and o.ndim == 0]
    scalars = [o for o in operands if o is not None and not hasattr(o, "dtype")]
    best = None
    for group in (dimensioned, zero_dim):
        if group:
            candidate = _promote_within(group)
            if best is None or category(candidate) > category(best):
                best = candidate
    for value in scalars:
        c = _scalar_category(value)
        if best is None or c > category(best):
            best = {0: bool, 1: int64}.get(c, _default_float)
    return of(numpy.dtype(best))


def is_floating_point(t):
    return t.dtype.kind == "f"
