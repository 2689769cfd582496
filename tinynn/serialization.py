"""``tinynn.save`` / ``tinynn.load``: checkpoints as ``.npz`` files, read without pickle.

The object (a state dict, an optimizer state, nested dicts/lists of numbers, strings and
tensors) is stored as JSON beside its arrays, in the zip of uncompressed ``.npy`` files
that ``numpy.savez`` writes.

Writing: the bytes go to a temporary file beside the target, are flushed to disk and
renamed over it only when whole (``atomic_file``). A crash, a full disk or a kill while
saving leaves the previous checkpoint intact; a temporary file left by a killed process
is never read as the checkpoint, and the next write to the same path removes it. The
file gets the permissions of any file the user creates (``0o666`` minus the umask).

Reading checks the whole archive before any array is read: a zip of uncompressed
``.npy`` members whose sizes fit in the file, no Python objects in any of them, and the
JSON structure naming arrays that are there. Anything else raises ``CheckpointError``
naming the file. Nothing is unpickled, so a checkpoint cannot run code, and a hostile
file cannot make ``load`` allocate more than the file's own size.
"""
import contextlib
import io
import json
import math
import os
import re
import secrets
import socket
import zipfile

import numpy
import numpy.lib.format as npy_format

from . import backend
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "atomic_file", "atomic_write_bytes",
           "check_folder_writable", "remove_stale_temporaries"]

_STRUCTURE_KEY = "__structure__"


class CheckpointError(RuntimeError, ValueError):
    """A file that ``tinynn.load`` refuses: not a tinynn checkpoint, truncated, corrupt or
    hostile. A ``RuntimeError`` as ``torch.load`` raises for a broken archive, and a
    ``ValueError`` (the file holds a bad value); the message names the file."""


# ------------------------------------------------------------------ atomic writes

def _temporary_name(path):
    """``.NAME.HOST.PID.TOKEN.part`` beside ``path``: hidden, never taken for ``path``
    itself, and it says which process wrote it (so its leftovers can be cleaned up)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{socket.gethostname()}.{os.getpid()}."
                                f"{secrets.token_hex(6)}.part")


def _remove_quietly(path):
    """Remove ``path`` if it is there; a failure here must never hide the real error."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _is_running(pid):
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:      # it exists but belongs to someone else
        return True
    return True


def remove_stale_temporaries(path):
    """Delete temporary files for ``path`` left by killed processes on this machine.

    A live writer's file is kept (its process still runs), so two processes writing the
    same file at once (data-parallel ranks downloading a dataset) never disturb each
    other. POSIX only: elsewhere ``os.kill(pid, 0)`` would not be a harmless question.
    """
    if os.name != "posix":
        return
    folder, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(rf"\.{re.escape(name)}\.(?P<host>.+)\.(?P<pid>\d+)\.[0-9a-f]{{12}}\.part")
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    host = socket.gethostname()
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and match["host"] == host and not _is_running(int(match["pid"])):
            _remove_quietly(os.path.join(folder, entry))


@contextlib.contextmanager
def atomic_file(path, fsync=True):
    """``with atomic_file(path) as f: f.write(...)``: ``path`` appears only when the block
    ends without an exception, then holding everything written; otherwise ``path`` is
    untouched and the temporary file removed. The first error is the one raised.

    ``fsync=True`` makes the bytes reach the disk before the rename, so a power cut
    cannot leave an empty file under the final name.
    """
    temporary = _temporary_name(path)
    # os.open with 0o666 lets the umask decide the permissions, as open() does
    # (mkstemp would make every checkpoint private to its owner: 0o600)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        _remove_quietly(temporary)
        raise
    remove_stale_temporaries(path)


def check_folder_writable(folder):
    """Raise the ``OSError`` that writing a file in ``folder`` would raise (missing, not a
    folder, read-only, no permission), by creating and removing a temporary file there.
    Creating a file is the one test that covers every reason (modes, ACLs, read-only
    mounts, network file systems); ``os.access`` answers for the real user id only."""
    temporary = _temporary_name(os.path.join(folder, "write-test"))
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    os.unlink(temporary)


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` through ``atomic_file`` (creating the folder if needed)."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_file(path) as f:
        f.write(data)


# ------------------------------------------------------------------ the structure

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
        return _decode_array(obj, arrays, map_location)
    if "__dict__" in obj:
        return {k: _decode(v, arrays, map_location) for k, v in obj["__dict__"].items()}
    if "__items__" in obj:
        return {_decode(k, arrays, map_location): _decode(v, arrays, map_location)
                for k, v in obj["__items__"]}
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, map_location) for v in obj["__tuple__"])
    raise ValueError(f"unknown entry in checkpoint structure: {sorted(obj)}")


def _decode_array(entry, arrays, map_location):
    key = entry["__array__"]
    if not isinstance(key, str) or key not in arrays:
        raise ValueError(f"its structure names the array {key!r}, which the file does not hold")
    array = arrays[key]
    if entry.get("kind") == "ndarray":
        return array
    if entry.get("kind") != "tensor":
        raise ValueError(f"unknown array kind {entry.get('kind')!r}")
    device = map_location if map_location is not None else entry["device"]
    if backend.Device(device).type == "cuda" and not backend.is_available():
        device = "cpu"  # saved on a GPU, loaded where there is none
    return Tensor(backend.to_device(array, device), requires_grad=bool(entry["requires_grad"]))


# ------------------------------------------------------------------ save and load

def save(obj, path):
    """Save ``obj`` (e.g. ``model.state_dict()``) to ``path`` atomically, as ``.npz`` data."""
    arrays = {}
    structure = json.dumps(_encode(obj, arrays))
    arrays[_STRUCTURE_KEY] = numpy.frombuffer(structure.encode("utf-8"), dtype=numpy.uint8)
    buffer = io.BytesIO()
    numpy.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load(path, map_location=None, weights_only=True):
    """Load what ``save`` wrote. Tensors return to their saved device, or to ``map_location``.

    Raises ``FileNotFoundError`` if there is no file and ``CheckpointError`` for any file
    that is not a whole tinynn checkpoint (the message says why).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        arrays = _read_arrays(path)
        structure = _read_structure(arrays.pop(_STRUCTURE_KEY, None))
        return _decode(structure, arrays, map_location)
    except (zipfile.BadZipFile, ValueError, KeyError, TypeError, OSError, EOFError,
            UnicodeDecodeError, RecursionError) as exc:
        # CheckpointError is a ValueError: our own reasons pass through the same door
        reason = str(exc) if isinstance(exc, CheckpointError) else f"{type(exc).__name__}: {exc}"
        raise CheckpointError(f"{path} is not a readable tinynn checkpoint: {reason}") from None


# the first bytes of a zip: a local file header, or the end record of an empty archive
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _read_arrays(path):
    """``{name: array}`` for every member, after checking the archive as a whole."""
    if os.path.isdir(path):
        raise CheckpointError("it is a folder")
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] not in _ZIP_MAGIC:
        raise CheckpointError(f"it is not an .npz archive (the zip files tinynn.save writes); "
                              f"it starts with {head!r}")
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        _check_sizes(members, os.path.getsize(path))
        return {member.filename[:-len(".npy")]: _read_member(archive, member)
                for member in members}


def _check_sizes(members, file_size):
    """Refuse members numpy.savez never writes, and sizes the file cannot hold (a zip
    bomb declares gigabytes in a few bytes)."""
    for member in members:
        if not member.filename.endswith(".npy"):
            raise CheckpointError(f"it holds {member.filename!r}, which is not an array "
                                  f"(tinynn.save writes .npy members only)")
        if member.compress_type != zipfile.ZIP_STORED or member.file_size != member.compress_size:
            raise CheckpointError(f"its member {member.filename!r} is compressed; tinynn.save "
                                  f"writes uncompressed members only")
    declared = sum(member.file_size for member in members)
    if declared > file_size:
        raise CheckpointError(f"its members declare {declared:,} bytes in a {file_size:,}-byte "
                              f"file (truncated, or a zip bomb)")


def _read_member(archive, member):
    """One ``.npy`` member: its header checked (no objects, size matching) before reading."""
    with archive.open(member) as f:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(f)
        else:
            raise CheckpointError(f"{member.filename}: .npy format version {version} is not "
                                  f"supported")
        if dtype.hasobject:
            raise CheckpointError(f"{member.filename} holds Python objects (pickled data); a "
                                  f"tinynn checkpoint holds plain arrays only, so it was refused "
                                  f"unread")
        needed = f.tell() + math.prod(shape) * dtype.itemsize
        if needed != member.file_size:
            raise CheckpointError(f"{member.filename}: its header declares shape {shape} of "
                                  f"{dtype} ({needed:,} bytes with the header) but the member has "
                                  f"{member.file_size:,}")
    with archive.open(member) as f:
        array = npy_format.read_array(f, allow_pickle=False)
        f.read(1)  # reach the end of the member, where zipfile checks its CRC
    return array


def _read_structure(raw):
    if raw is None:
        raise CheckpointError(f"it has no {_STRUCTURE_KEY} entry (an .npz file, but not one "
                              f"written by tinynn.save)")
    if raw.dtype != numpy.uint8 or raw.ndim != 1:
        raise CheckpointError(f"its {_STRUCTURE_KEY} entry is not JSON text")
    return json.loads(raw.tobytes().decode("utf-8"))
