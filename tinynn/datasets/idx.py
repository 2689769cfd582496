"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number ``0x00 0x00 <type code> <ndim>``, then ``ndim``
big-endian uint32 sizes, then the values in C order, big-endian. MNIST images are
``uint8`` of shape ``(N, 28, 28)`` (``idx3``), labels ``uint8`` of shape ``(N,)`` (``idx1``).

Everything is parsed with one ``np.frombuffer`` call; the header is checked first, so a
broken or truncated file gives an ``IDXError`` that names the file, never a crash
deep in NumPy.
"""
import gzip
import math
import os
import zlib

import numpy as np

from ..serialization import atomic_file

__all__ = ["IDXError", "parse_idx", "read_idx", "read_idx_bytes", "encode_idx", "write_idx"]

# type code -> big-endian dtype, as in the format's description on LeCun's MNIST page
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_TO_CODE = {dt.newbyteorder("="): code for code, dt in _CODE_TO_DTYPE.items()}

_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (bad magic, bad dims, wrong length, bad gzip)."""


def parse_idx(buffer, name="<bytes>"):
    """Parse the bytes of an (uncompressed) IDX file into a NumPy array.

    ``buffer``: bytes-like holding the whole file. ``name`` is used in error messages.
    Returns an array of shape ``dims`` in native byte order (``uint8`` for MNIST);
    it is writeable and does not share memory with ``buffer``.
    """
    buffer = memoryview(buffer).cast("B")
    if len(buffer) < 4:
        raise IDXError(f"{name}: not an IDX file: only {len(buffer)} bytes, "
                       f"the 4-byte magic number alone needs 4")
    zero0, zero1, code, ndim = buffer[0], buffer[1], buffer[2], buffer[3]
    if zero0 != 0 or zero1 != 0:
        raise IDXError(f"{name}: not an IDX file: magic number starts with "
                       f"0x{zero0:02x} 0x{zero1:02x}, expected 0x00 0x00")
    if code not in _CODE_TO_DTYPE:
        raise IDXError(f"{name}: unknown IDX type code 0x{code:02x} "
                       f"(known: {', '.join(f'0x{c:02x}' for c in _CODE_TO_DTYPE)})")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(buffer) < header_len:
        raise IDXError(f"{name}: truncated header: {ndim} dimensions need {header_len} "
                       f"bytes, the file has {len(buffer)}")
    dims = tuple(int(d) for d in np.frombuffer(buffer, dtype=">u4", count=ndim, offset=4))
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow on bogus dims
    got = len(buffer) - header_len
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise IDXError(f"{name}: {what}: shape {dims} of {dtype.newbyteorder('=').name} "
                       f"needs {expected} data bytes after the {header_len}-byte header, "
                       f"found {got}")
    values = np.frombuffer(buffer, dtype=dtype, offset=header_len).reshape(dims)
    # astype copies: native byte order, writeable, and no reference to the file's bytes
    return values.astype(dtype.newbyteorder("="))


def read_idx_bytes(path):
    """Return the uncompressed IDX bytes of ``path``, gunzipping if it is gzip data.

    Compression is detected from the content (gzip magic ``1f 8b``), not the file name,
    so a renamed file still reads. A corrupt or truncated gzip stream raises ``IDXError``.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise IDXError(f"{path}: corrupt or truncated gzip data ({exc})") from exc


def read_idx(path):
    """Read an IDX file (raw or ``.gz``) into a NumPy array; errors name ``path``."""
    return parse_idx(read_idx_bytes(path), name=os.fspath(path))


def encode_idx(array):
    """The IDX bytes (header + big-endian values) of a NumPy array with >= 1 dimension."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _DTYPE_TO_CODE:
        raise IDXError(f"cannot write dtype {array.dtype} as IDX "
                       f"(supported: uint8, int8, int16, int32, float32, float64)")
    if array.ndim == 0 or array.ndim > 255:
        raise IDXError(f"IDX needs 1 to 255 dimensions, got shape {array.shape}")
    code = _DTYPE_TO_CODE[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    big_endian = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code])
    return header + big_endian.tobytes()


def write_idx(path, array, compresslevel=6):
    """Write ``array`` as an IDX file; gzip it when ``path`` ends in ``.gz``.

    The bytes go to a temporary file in the same folder, renamed over ``path`` only
    when complete, so a crash never leaves a half-written file under the final name.
    ``mtime=0`` keeps the gzip output reproducible.
    """
    path = os.fspath(path)
    data = encode_idx(array)
    if path.endswith(".gz"):
        data = gzip.compress(data, compresslevel=compresslevel, mtime=0)
    with atomic_file(path) as f:
        f.write(data)
