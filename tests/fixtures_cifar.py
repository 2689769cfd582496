"""Helpers for the CIFAR tests: small batches in CIFAR's exact file format, archives in the
layout of the official ``.tar.gz`` files, and archives with hostile members.

CIFAR's batch files are Python 2 ``cPickle`` dumps (protocol 2): a dict whose keys are
Python 2 ``str`` (pickled as ``BINSTRING``), holding ``'data'``, a ``(N, 3072)`` uint8
array (each row 1024 red, then 1024 green, then 1024 blue values, rows of 32 pixels),
``'labels'`` (CIFAR-100: ``'fine_labels'`` and ``'coarse_labels'``), ``'batch_label'``
and ``'filenames'``; the array is pickled through ``numpy.core.multiarray._reconstruct``
with its raw bytes as a ``str``. ``py2_pickle`` writes exactly that from Python 3.
Nothing here touches the network: the "server" is a folder served by ``file://`` URLs.
"""
import hashlib
import io
import os
import pickle
import struct
import tarfile

import numpy as np

from tinynn.datasets.safe_pickle import _numpy_reconstruct

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]


class Py2Pickler(pickle._Pickler):
    """A protocol-2 pickler that writes ``str`` and ``bytes`` as Python 2's ``str``
    (``SHORT_BINSTRING`` / ``BINSTRING``) and NumPy's ``_reconstruct`` under
    ``numpy.core.multiarray``, as the CIFAR files have them."""
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_string(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_string
    dispatch[bytes] = save_py2_string

    def save_global(self, obj, name=None):
        if obj is _numpy_reconstruct():
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def py2_pickle(obj):
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def md5(data):
    return hashlib.md5(data).hexdigest()


def chw_rows(images_hwc):
    """``(N, 32, 32, 3)`` uint8 images -> CIFAR's ``(N, 3072)`` channel-major rows."""
    return np.ascontiguousarray(images_hwc.transpose(0, 3, 1, 2)).reshape(len(images_hwc), -1)


def make_cifar(kind="cifar10", batch_sizes=(2, 2, 2, 2, 2), n_test=3, seed=0, keys=str,
               pickler=py2_pickle):
    """A small CIFAR-10 (five training batches) or CIFAR-100 (one ``train`` file).

    Returns ``(files, expected)``: ``files`` maps file names to their bytes; ``expected``
    holds ``train_images`` / ``test_images`` ``(N, 32, 32, 3)`` uint8, ``train_labels`` /
    ``test_labels`` lists of ints, ``classes``, and ``train_list`` / ``test_list`` /
    ``meta`` for the class attributes. ``keys=bytes`` writes ``b'data'``-style keys.
    """
    rng = np.random.default_rng(seed)
    cifar100 = kind == "cifar100"
    classes = ([f"class_{i:02d}" for i in range(100)] if cifar100 else CIFAR10_CLASSES)
    label_key = "fine_labels" if cifar100 else "labels"

    def key(name):
        return name.encode() if keys is bytes else name

    def batch(n, label):
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        labels = [int(y) for y in rng.integers(0, len(classes), n)]
        entry = {key("batch_label"): label, key(label_key): labels,
                 key("data"): chw_rows(images),
                 key("filenames"): [f"img_{i}.png" for i in range(n)]}
        if cifar100:
            entry[key("coarse_labels")] = [y // 5 for y in labels]
        return pickler(entry), images, labels

    files, train_images, train_labels = {}, [], []
    train_names = ["train"] if cifar100 else [f"data_batch_{i + 1}" for i in range(len(batch_sizes))]
    sizes = [sum(batch_sizes)] if cifar100 else list(batch_sizes)
    for name, n in zip(train_names, sizes):
        files[name], images, labels = batch(n, f"training batch {name}")
        train_images.append(images)
        train_labels += labels
    test_name = "test" if cifar100 else "test_batch"
    files[test_name], test_images, test_labels = batch(n_test, "testing batch 1 of 1")
    meta_name, meta_key = ("meta", "fine_label_names") if cifar100 else ("batches.meta",
                                                                          "label_names")
    meta = {key(meta_key): classes}
    if cifar100:
        meta[key("coarse_label_names")] = [f"super_{i}" for i in range(20)]
    else:
        meta.update({key("num_cases_per_batch"): batch_sizes[0], key("num_vis"): 3072})
    files[meta_name] = pickler(meta)
    expected = {
        "train_images": np.concatenate(train_images), "train_labels": train_labels,
        "test_images": test_images, "test_labels": test_labels, "classes": classes,
        "train_list": [[name, md5(files[name])] for name in train_names],
        "test_list": [[test_name, md5(files[test_name])]],
        "meta": {"filename": meta_name, "key": meta_key, "md5": md5(files[meta_name])},
    }
    return files, expected


def member(name, data=b"", kind=tarfile.REGTYPE, linkname=""):
    """A ``(TarInfo, bytes)`` pair for ``write_tar``."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info, data


def archive_members(base_folder, files):
    """The members of an official CIFAR archive: the folder, then its files."""
    members = [member(base_folder, kind=tarfile.DIRTYPE)]
    members += [member(f"{base_folder}/{name}", data) for name, data in files.items()]
    return members


def tar_gz_bytes(members):
    """A ``.tar.gz`` (gzip mtime 0: reproducible bytes) holding ``members``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return raw.getvalue()


def serve(folder, name, data):
    """Put ``data`` in ``folder`` as ``name``; return its ``file://`` URL."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    return "file://" + os.path.abspath(path)


def point_at(monkeypatch, cls, expected, url, archive_md5):
    """Point ``cls``'s class attributes at a generated dataset served at ``url``."""
    monkeypatch.setattr(cls, "url", url)
    monkeypatch.setattr(cls, "tgz_md5", archive_md5)
    monkeypatch.setattr(cls, "train_list", expected["train_list"])
    monkeypatch.setattr(cls, "test_list", expected["test_list"])
    monkeypatch.setattr(cls, "meta", expected["meta"])


def write_extracted(root, base_folder, files):
    """The extracted layout, placed by hand: ``root/base_folder/<files>``."""
    folder = os.path.join(root, base_folder)
    os.makedirs(folder, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    return folder
