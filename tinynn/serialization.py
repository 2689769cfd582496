"""``tinynn.save`` / ``tinynn.load``: checkpoints as ``.npz`` files, read without pickle.

The object (a state dict, an optimizer state, nested dicts/lists of numbers, strings and
tensors) is stored as JSON beside its arrays; loading uses ``allow_pickle=False``, so a
checkpoint cannot run code. Files are written to a temporary name and renamed when
whole: a crash while saving leaves the previous checkpoint intact.
"""
import io
import json
import os
import tempfile
import zipfile

import numpy

from . import backend
from .tensor import Tensor

__all__ = ["save", "load", "atomic_write_bytes"]

_STRUCTURE_KEY = "__structure__"


def _encode(obj, arrays):
    """JSON-able form of ``obj``; tensors and arrays go into ``arrays`` by key."""
    if isinstance(obj, Tensor) or backend.is_array(obj):
        key = f"a{len(arrays)}"
        array = obj.array if isinstance(obj, Tensor) else obj
        arrays[key] = backend.to_numpy(array)
        kind = "tensor" if isinstance(obj, Tensor) else "ndarray"
        return {"__array__": key, "kind": kind, "device": str(backend.device_of(array)),
                "requires_grad": bool(getattr(obj, "requires_grad", False))}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"__dict__": {k: _encode(v, arrays) for k, v in obj.items()}}
        return {"__items__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, numpy.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"tinynn.save cannot store an object of type {type(obj).__name__}; "
                    f"use tensors, arrays, numbers, strings, lists, tuples and dicts")


def _decode(obj, arrays, map_location):
    if isinstance(obj, list):
        return [_decode(v, arrays, map_location) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        array = arrays[obj["__array__"]]
        if obj["kind"] == "ndarray":
            return array
        device = map_location if map_location is not None else obj["device"]
        if backend.Device(device).type == "cuda" and not backend.is_available():
            device = "cpu"  # saved on a GPU, loaded where there is none
        return Tensor(backend.to_device(array, device), requires_grad=obj["requires_grad"])
    if "__dict__" in obj:
        return {k: _decode(v, arrays, map_location) for k, v in obj["__dict__"].items()}
    if "__items__" in obj:
        return {_decode(k, arrays, map_location): _decode(v, arrays, map_location) for k, v in obj["__items__"]}
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, map_location) for v in obj["__tuple__"])
    raise ValueError(f"unknown entry in checkpoint structure: {sorted(obj)}")


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def save(obj, path):
    """Save ``obj`` (e.g. ``model.state_dict()``) to ``path`` atomically, as ``.npz`` data."""
    arrays = {}
    structure = json.dumps(_encode(obj, arrays))
    arrays[_STRUCTURE_KEY] = numpy.frombuffer(structure.encode("utf-8"), dtype=numpy.uint8)
    buffer = io.BytesIO()
    numpy.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load(path, map_location=None, weights_only=True):
    """Load what ``save`` wrote. Tensors return to their saved device, or to ``map_location``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        archive = numpy.load(path, allow_pickle=False)
        if not isinstance(archive, numpy.lib.npyio.NpzFile):  # a bare .npy array
            raise ValueError("not an .npz archive")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
        structure = json.loads(bytes(arrays.pop(_STRUCTURE_KEY)).decode("utf-8"))
        return _decode(structure, arrays, map_location)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise RuntimeError(f"{path} is not a readable tinynn checkpoint (truncated or corrupt?): "
                           f"{type(exc).__name__}: {exc}") from None
