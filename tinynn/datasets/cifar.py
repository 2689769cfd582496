"""CIFAR-10 and CIFAR-100, with torchvision's download, folder layout, class attributes
and API.

    ds = CIFAR10("data", train=True, transform=transforms.ToTensor(), download=True)
    ds.data, ds.targets          # (50000, 32, 32, 3) uint8 NumPy array (HWC), list of ints
    image, label = ds[0]         # (3, 32, 32) float32 Tensor, int
    ds.classes                   # ['airplane', 'automobile', ...] from the meta file

``download=True`` fetches ``url`` (the official archive) to ``root/filename`` unless a
copy whose MD5 is ``tgz_md5`` is already there, and extracts it with ``extract_tar``
(archive.py: no member may escape ``root``, no links, the files' MD5s checked before
anything appears in ``root``). Every time, with or without ``download``, the batch files
of both splits and the meta file are checked against the MD5s of ``train_list``,
``test_list`` and ``meta``, as torchvision's ``_check_integrity`` does. The batches are
Python 2 pickles, read with the restricted unpickler of safe_pickle.py (lists, dicts,
strings, numbers and NumPy arrays only) with ``encoding='latin1'`` as torchvision reads
them; keys may be ``str`` or ``bytes`` (``'data'`` or ``b'data'``).

The class attributes are the configuration (tests point them at generated archives):
``base_folder``, ``url``, ``filename``, ``tgz_md5``, ``train_list`` / ``test_list``
(``[file name, MD5]`` pairs), ``meta`` (``{'filename', 'key', 'md5'}``) and ``fetch``
(``fetch(url) -> (stream, total_bytes)``).
"""
import hashlib
import os
import pickle

import numpy as np

from .archive import ArchiveError, extract_tar
from .download import (_SOURCE_ERRORS, DatasetError, DownloadError, _is_disk_error,
                       check_folder, download_url, urlopen_fetch)
from .mnist import DatasetNotFoundError
from .safe_pickle import restricted_load
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_md5(path, md5):
    """None if ``path`` is a file with MD5 ``md5``, else the reason it is not."""
    if not os.path.isfile(path):
        return "missing"
    try:
        got = _md5(path)
    except OSError as exc:
        return f"cannot read it: {exc.strerror or exc}"
    return None if got == md5 else f"MD5 {got}, expected {md5}"


class CIFAR10(VisionDataset):
    """CIFAR-10: 60,000 colour images of 32x32 pixels in ten classes, 50,000 for training
    (five batch files) and 10,000 for testing.

    Attributes, as torchvision's: ``data`` (a ``(N, 32, 32, 3)`` uint8 NumPy array, HWC),
    ``targets`` (a list of ints), ``classes`` (read from the meta file) and
    ``class_to_idx``. ``ds[i]`` is ``(image, target)``: the ``(32, 32, 3)`` uint8 image
    (standing in for torchvision's PIL image) passed through ``transform`` -- ToTensor
    gives a ``(3, 32, 32)`` float32 Tensor -- and the int target through
    ``target_transform``. ``get_batch(indices)`` returns a whole collated batch (the
    DataLoader's fast path).

    Missing files raise ``DatasetNotFoundError``; a file whose MD5 does not match, or that
    is not a CIFAR batch, a ``DatasetError`` naming it; a failed download a
    ``DownloadError`` that says what to put where by hand. All are RuntimeErrors, as
    torchvision raises.
    """
    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [
        ["test_batch", "40351d587109b95175f43aff81a1287e"],
    ]
    meta = {
        "filename": "batches.meta",
        "key": "label_names",
        "md5": "5ff9c542aee3614f3951f8cda6e48888",
    }
    fetch = staticmethod(urlopen_fetch)

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        self._verify()
        self._load_meta()
        batches = [self._read_batch(name) for name, _ in
                   (self.train_list if self.train else self.test_list)]
        images = np.concatenate([data for data, _ in batches])
        # the rows are channel-major (1024 red, 1024 green, 1024 blue values): to HWC, in
        # one contiguous array so that batches are cheap to gather
        self.data = np.ascontiguousarray(images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = [label for _, labels in batches for label in labels]

    # ------------------------------------------------------------------ files

    @property
    def folder(self):
        """``root/base_folder``: where the batch files are."""
        return os.path.join(self.root, self.base_folder)

    def _expected_files(self):
        """``[[name, md5], ...]``: both splits' batches (as torchvision's
        ``_check_integrity``) and the meta file."""
        return ([list(entry) for entry in self.train_list + self.test_list]
                + [[self.meta["filename"], self.meta["md5"]]])

    def _problems(self, folder):
        """``{file name: reason}`` for each expected file in ``folder`` that is missing or
        fails its MD5 (empty when the dataset is complete and verified)."""
        problems = {}
        for name, md5 in self._expected_files():
            reason = _check_md5(os.path.join(folder, name), md5)
            if reason is not None:
                problems[name] = reason
        return problems

    def _check_integrity(self):
        """True when every batch file and the meta file match their MD5s."""
        return not self._problems(self.folder)

    def _verify(self):
        problems = self._problems(self.folder)
        missing = [name for name, reason in problems.items() if reason == "missing"]
        name = type(self).__name__
        if missing:
            raise DatasetNotFoundError(
                f"{name} not found or incomplete: {', '.join(missing)} missing in "
                f"{self.folder}. Pass download=True to download it.")
        if problems:
            details = "; ".join(f"{os.path.join(self.folder, f)}: {r}"
                                for f, r in problems.items())
            raise DatasetError(f"{name} is corrupted: {details}. Pass download=True to "
                               f"download and extract it again.")

    def _load_pickle(self, name):
        path = os.path.join(self.folder, name)
        try:
            obj = restricted_load(path)
        except pickle.UnpicklingError as exc:
            raise DatasetError(f"{path}: cannot read it as a {type(self).__name__} file: "
                               f"{exc}") from None
        except OSError as exc:
            raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}: expected a dict, found a {type(obj).__name__}")
        # Python 2 strings read as str with latin1 (torchvision's way), as bytes otherwise
        return path, {(k.decode("latin1") if isinstance(k, bytes) else k): v
                      for k, v in obj.items()}

    def _read_batch(self, name):
        """``(data, labels)`` of one batch file: ``(N, 3072)`` uint8 and a list of ints."""
        path, entry = self._load_pickle(name)
        data = entry.get("data")
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
                and data.shape[1] == 3 * 32 * 32):
            raise DatasetError(f"{path}: 'data' should be a uint8 array of shape (N, 3072), "
                               f"found {_describe(data)}")
        key = "labels" if "labels" in entry else "fine_labels"
        labels = entry.get(key)
        if not isinstance(labels, (list, tuple, np.ndarray)) or len(labels) != len(data):
            raise DatasetError(f"{path}: expected {len(data)} labels under 'labels' or "
                               f"'fine_labels', found {_describe(labels)}")
        try:
            values = [int(y) for y in labels]
        except (TypeError, ValueError):
            raise DatasetError(f"{path}: the labels are not all integers") from None
        bad = [y for y in values if not 0 <= y < len(self.classes)]
        if bad:
            raise DatasetError(f"{path}: label {bad[0]} is outside 0..{len(self.classes) - 1} "
                               f"({len(self.classes)} classes in the meta file)")
        return data, values

    def _load_meta(self):
        path, meta = self._load_pickle(self.meta["filename"])
        names = meta.get(self.meta["key"])
        if not isinstance(names, list) or not names:
            raise DatasetError(f"{path}: expected a list of class names under "
                               f"{self.meta['key']!r}, found {_describe(names)}")
        self.classes = [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    # ------------------------------------------------------------------ download

    def download(self):
        """Download and extract the archive unless the verified files are already there."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        cls = type(self)
        check_folder(self.root)  # an unusable root fails now, before any download
        archive = os.path.join(self.root, cls.filename)
        if _check_md5(archive, cls.tgz_md5) is None:
            print(f"Using downloaded and verified file: {archive}")
        else:
            if os.path.isfile(archive):
                print(f"{archive} failed its checksum; downloading it again")
            print(f"Downloading {cls.url} to {archive}")
            try:
                download_url(cls.url, archive, cls.tgz_md5, fetch=cls.fetch)
            except _SOURCE_ERRORS as exc:
                if _is_disk_error(exc):
                    raise DatasetError(f"cannot write {archive}: {exc.strerror}") from None
                raise DownloadError(f"could not download {cls.__name__} from {cls.url}: "
                                    f"{type(exc).__name__}: {exc}\n{self._by_hand()}") from None
        extract_tar(archive, self.root, check=self._check_extracted)

    def _check_extracted(self, staging):
        """Refuse an extraction whose files do not match the MD5s (before it is moved into
        ``root``)."""
        problems = self._problems(os.path.join(staging, self.base_folder))
        if problems:
            details = "; ".join(f"{self.base_folder}/{f}: {r}" for f, r in problems.items())
            raise ArchiveError(f"{os.path.join(self.root, self.filename)} does not hold the "
                               f"expected {type(self).__name__} files ({details}); nothing "
                               f"was extracted")

    def _by_hand(self):
        """What to fetch and where to put it when the download fails."""
        cls = type(self)
        lines = [f"To install it by hand, download {cls.url} (or any copy of {cls.filename}, "
                 f"MD5 {cls.tgz_md5}) and put it in {os.path.abspath(self.root)}; "
                 f"download=True then checks and extracts it. Or put the extracted files in "
                 f"{os.path.abspath(self.folder)}:"]
        lines += [f"  {name}  (MD5 {md5})" for name, md5 in self._expected_files()]
        return "\n".join(lines)

    # ------------------------------------------------------------------ items

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data[index], self.targets[index]
        return self._item(np.array(image), target)  # a copy, as torchvision's PIL image is

    def get_batch(self, indices):
        """``indices``: ``(B,)`` int64 -> ``(images, labels)`` Tensors, already collated.

        Images: ``transform.apply_batch`` on the ``(B, 32, 32, 3)`` uint8 batch when the
        transform supports it (ToTensor -> ``(B, 3, 32, 32)`` float32), else the transform
        per sample, stacked; the uint8 batch itself when ``transform`` is None. Labels:
        ``(B,)`` int64 (``target_transform`` applied per sample if set).
        """
        indices = np.asarray(indices, dtype=np.int64)
        images = np.asarray(self.data)[indices]
        targets = self.targets
        if isinstance(targets, list):  # read per call: a replaced or edited list is seen
            labels = np.fromiter(map(targets.__getitem__, indices.tolist()), dtype=np.int64,
                                 count=len(indices))
        else:
            labels = np.asarray(targets)[indices].astype(np.int64)
        return self._batch(images, labels)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: as CIFAR-10 with 100 classes; the targets are the fine labels
    (``'fine_labels'``), the class names the meta file's ``'fine_label_names'``."""
    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [
        ["train", "16019d7e3df5f24257cddd939b257f8d"],
    ]
    test_list = [
        ["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"],
    ]
    meta = {
        "filename": "meta",
        "key": "fine_label_names",
        "md5": "7973b15100ade9c7d40fb424638fde48",
    }


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"
