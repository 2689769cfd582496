"""torchvision's dataset API (issue #13): MNIST's Tensor ``data``/``targets`` and deprecated
names, KMNIST, CIFAR10/CIFAR100 (download, safe extraction, restricted unpickling, MD5s),
FakeData. Small generated files only; the network is never used (``file://`` sources)."""
import hashlib
import os
import pickle
import socket
import subprocess
import sys
import tarfile
import warnings

import numpy as np
import pytest

import tinynn
from tinynn import transforms as T
from tinynn.datasets import (CIFAR10, CIFAR100, KMNIST, MNIST, ArchiveError, DatasetError,
                             DatasetNotFoundError, DownloadError, FakeData, FashionMNIST)
from tinynn.datasets import archive as archive_module
from tinynn.datasets import download as dl
from tinynn.datasets.safe_pickle import restricted_loads
from tinynn.utils.data import DataLoader

from fixtures_cifar import (archive_members, chw_rows, make_cifar, md5, member, point_at,
                            py2_pickle, serve, tar_gz_bytes, write_extracted)
from fixtures_mnist import FILES, make_arrays, resources_for, write_raw


def listdir(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


class _RunsShell:
    """A pickle that runs a shell command when loaded by an unrestricted unpickler."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# ======================================================================= MNIST family

@pytest.fixture
def arrays():
    return make_arrays()


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
def test_data_and_targets_are_uint8_and_int64_tensors(tmp_path, arrays, cls):
    write_raw(os.path.join(tmp_path, cls.folder_name, "raw"), arrays)
    ds = cls(tmp_path)
    test = cls(tmp_path, train=False)
    # torchvision: data is a uint8 tensor (N, 28, 28), targets an int64 tensor (N,)
    assert isinstance(ds.data, tinynn.Tensor) and isinstance(ds.targets, tinynn.Tensor)
    assert ds.data.dtype == tinynn.uint8 and tuple(ds.data.shape) == (7, 28, 28)
    assert ds.targets.dtype == tinynn.int64 and tuple(ds.targets.shape) == (7,)
    np.testing.assert_array_equal(ds.data.numpy(), arrays[FILES[0]])
    np.testing.assert_array_equal(ds.targets.numpy(), arrays[FILES[1]])
    np.testing.assert_array_equal(test.data.numpy(), arrays[FILES[2]])
    assert len(ds) == 7 and len(test) == 3
    image, label = ds[4]  # items are unchanged: the uint8 image, an int label
    assert image.dtype == np.uint8 and image.shape == (28, 28) and type(label) is int
    np.testing.assert_array_equal(image, arrays[FILES[0]][4])
    assert label == arrays[FILES[1]][4]


def test_deprecated_names_warn_and_give_data_and_targets(tmp_path, arrays):
    write_raw(os.path.join(tmp_path, "MNIST", "raw"), arrays)
    for train in (True, False):
        ds = MNIST(tmp_path, train=train)
        # torchvision's warnings, whatever the split (they are plain aliases)
        for old, new in [("train_data", "data"), ("test_data", "data"),
                         ("train_labels", "targets"), ("test_labels", "targets")]:
            with pytest.warns(UserWarning, match=f"^{old} has been renamed {new}$"):
                value = getattr(ds, old)
            assert value is getattr(ds, new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds.data, ds.targets  # the current names do not warn


def test_old_programs_that_assign_the_old_names_still_work(tmp_path, arrays):
    write_raw(os.path.join(tmp_path, "MNIST", "raw"), arrays)
    ds = MNIST(tmp_path)
    with pytest.warns(UserWarning, match="train_data has been renamed data"):
        ds.train_data = ds.data[:2]
    with pytest.warns(UserWarning, match="train_labels has been renamed targets"):
        ds.train_labels = ds.targets[:2]
    assert len(ds) == 2 and tuple(ds.data.shape) == (2, 28, 28)


def test_data_and_targets_can_be_subset_like_torchvision(tmp_path, arrays):
    write_raw(os.path.join(tmp_path, "MNIST", "raw"), arrays)
    ds = MNIST(tmp_path, transform=T.ToTensor())
    keep = np.flatnonzero(arrays[FILES[1]] % 2 == 0)
    mask = ds.targets % 2 == 0                     # a bool Tensor
    ds.data, ds.targets = ds.data[mask], ds.targets[mask]
    assert len(ds) == len(keep)
    np.testing.assert_array_equal(ds.data.numpy(), arrays[FILES[0]][keep])
    images, labels = ds.get_batch(np.arange(len(keep)))
    assert tuple(images.shape) == (len(keep), 1, 28, 28) and labels.dtype == tinynn.int64
    np.testing.assert_array_equal(labels.numpy(), arrays[FILES[1]][keep])
    ds.data = arrays[FILES[0]][:3]                 # NumPy arrays are accepted too
    ds.targets = arrays[FILES[1]][:3].astype(np.int64)
    assert isinstance(ds.data, tinynn.Tensor) and len(ds) == 3
    assert ds[2][1] == int(arrays[FILES[1]][2])


def test_get_batch_still_uses_the_batched_transform(tmp_path, arrays, monkeypatch):
    write_raw(os.path.join(tmp_path, "MNIST", "raw"), arrays)
    ds = MNIST(tmp_path, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
    expected = np.stack([ds[i][0].numpy() for i in (3, 0)])
    monkeypatch.setattr(T.Compose, "__call__", lambda self, x: pytest.fail("per-sample call"))
    images, labels = ds.get_batch(np.array([3, 0]))
    np.testing.assert_array_equal(images.numpy(), expected)
    assert labels.tolist() == [int(arrays[FILES[1]][3]), int(arrays[FILES[1]][0])]


def test_classes_and_class_to_idx_are_torchvisions():
    assert MNIST.classes == ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
                             "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    assert FashionMNIST.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert KMNIST.classes == ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


def test_class_to_idx_and_repr(tmp_path, arrays):
    write_raw(os.path.join(tmp_path, "KMNIST", "raw"), arrays)
    ds = KMNIST(tmp_path, train=False, transform=T.ToTensor())
    assert ds.class_to_idx == {"o": 0, "ki": 1, "su": 2, "tsu": 3, "na": 4, "ha": 5, "ma": 6,
                               "ya": 7, "re": 8, "wo": 9}
    assert repr(ds).splitlines() == ["Dataset KMNIST", "    Number of datapoints: 3",
                                     f"    Root location: {tmp_path}", "    Split: Test",
                                     "    Transform: ToTensor()"]


def test_kmnist_uses_torchvisions_mirror_and_checksums():
    assert KMNIST.mirrors == ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    assert [(r.filename, r.md5) for r in KMNIST.resources] == [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    assert KMNIST.fallback is None and KMNIST.folder_name == "KMNIST"
    assert issubclass(KMNIST, MNIST)


def test_kmnist_downloads_from_its_mirror(tmp_path, arrays, monkeypatch):
    from fixtures_mnist import write_mirror
    monkeypatch.setattr(KMNIST, "resources", resources_for(arrays))
    monkeypatch.setattr(KMNIST, "mirrors", [write_mirror(tmp_path / "mirror", arrays)])
    ds = KMNIST(tmp_path / "root", download=True)
    assert listdir(tmp_path / "root" / "KMNIST" / "raw") == sorted(FILES)
    np.testing.assert_array_equal(ds.data.numpy(), arrays[FILES[0]])


def test_kmnist_failed_download_says_what_to_place_where(tmp_path, monkeypatch):
    monkeypatch.setattr(KMNIST, "mirrors", ["file:///nonexistent-kmnist-mirror/"])
    monkeypatch.setattr(MNIST, "fallback", staticmethod(
        lambda *a: pytest.fail("the PyPI fallback is MNIST's only")))
    root = tmp_path / "root"
    with pytest.raises(DownloadError) as info:
        KMNIST(root, download=True)
    message = str(info.value)
    raw = os.path.abspath(root / "KMNIST" / "raw")
    assert "could not download KMNIST" in message
    assert f"put them, under these names, in {raw}" in message
    for resource in dl.KMNIST_RESOURCES:
        assert f"{resource.filename}  (MD5 {resource.md5})" in message
    assert "file:///nonexistent-kmnist-mirror/train-images-idx3-ubyte.gz" in message
    assert "fallback" not in message
    assert listdir(raw) == []


def test_the_names_are_in_the_torchvision_namespace():
    import tinynn.vision as torchvision
    for name in ("MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "FakeData"):
        assert getattr(torchvision.datasets, name) is getattr(tinynn.datasets, name)
        assert name in tinynn.datasets.__all__


# ============================================================== the restricted unpickler

def test_python2_pickles_read_with_latin1_or_bytes():
    rows = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    data = py2_pickle({"data": rows, "labels": [3, 1], "batch_label": "training batch 1"})
    assert data.startswith(b"\x80\x02}") and b"U\x04data" in data  # BINSTRING keys
    as_str = restricted_loads(data)                       # torchvision's encoding="latin1"
    assert sorted(as_str) == ["batch_label", "data", "labels"]
    np.testing.assert_array_equal(as_str["data"], rows)
    assert as_str["data"].dtype == np.uint8 and as_str["labels"] == [3, 1]
    as_bytes = restricted_loads(data, encoding="bytes")
    assert sorted(as_bytes) == [b"batch_label", b"data", b"labels"]
    np.testing.assert_array_equal(as_bytes[b"data"], rows)


class _AllocatesMemory:
    def __reduce__(self):
        return np.ndarray, ((1 << 40,),)


@pytest.mark.parametrize("obj, message", [
    (np.array([1, "x"], dtype=object), "Python objects"),
    (_AllocatesMemory(), "corrupt"),              # ndarray may only go to _reconstruct
    (pickle.UnpicklingError, "refusing to unpickle _pickle.UnpicklingError"),
])
def test_restricted_unpickler_admits_data_only(obj, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        restricted_loads(pickle.dumps(obj, protocol=4))


def test_a_truncated_pickle_is_one_clear_error():
    data = py2_pickle({"data": np.zeros((1, 3072), np.uint8)})
    for cut in (1, 40):   # without its STOP opcode; inside the array's bytes
        with pytest.raises(pickle.UnpicklingError, match="truncated"):
            restricted_loads(data[:-cut])


# ============================================================================= CIFAR

@pytest.fixture
def cifar10(tmp_path, monkeypatch):
    """CIFAR10 pointed at a generated archive served from a local folder. Returns
    ``(root, expected, archive bytes, fetched URLs)``."""
    files, expected = make_cifar("cifar10")
    archive = tar_gz_bytes(archive_members(CIFAR10.base_folder, files))
    url = serve(tmp_path / "server", CIFAR10.filename, archive)
    point_at(monkeypatch, CIFAR10, expected, url, md5(archive))
    fetched = []

    def fetch(u):
        fetched.append(u)
        return dl.urlopen_fetch(u)
    monkeypatch.setattr(CIFAR10, "fetch", staticmethod(fetch))
    return tmp_path / "root", expected, archive, fetched


def test_cifar_class_attributes_are_torchvisions():
    assert CIFAR10.base_folder == "cifar-10-batches-py"
    assert CIFAR10.url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert CIFAR10.filename == "cifar-10-python.tar.gz"
    assert CIFAR10.tgz_md5 == "c58f30108f718f92721af3b95e74349a"
    assert CIFAR10.train_list == [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    assert CIFAR10.test_list == [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    assert CIFAR10.meta == {"filename": "batches.meta", "key": "label_names",
                            "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    assert CIFAR100.base_folder == "cifar-100-python"
    assert CIFAR100.url == "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    assert CIFAR100.filename == "cifar-100-python.tar.gz"
    assert CIFAR100.tgz_md5 == "eb9058c3a382ffc7106e4002c42a8d85"
    assert CIFAR100.train_list == [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    assert CIFAR100.test_list == [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    assert CIFAR100.meta == {"filename": "meta", "key": "fine_label_names",
                             "md5": "7973b15100ade9c7d40fb424638fde48"}
    assert issubclass(CIFAR100, CIFAR10)


def test_cifar10_downloads_extracts_and_loads(cifar10, capsys):
    root, expected, archive, fetched = cifar10
    ds = CIFAR10(root, train=True, download=True)
    assert fetched == [CIFAR10.url]
    assert listdir(root) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]  # nothing else
    assert (root / "cifar-10-python.tar.gz").read_bytes() == archive
    assert listdir(root / "cifar-10-batches-py") == sorted(
        ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
         "test_batch", "batches.meta"])
    # torchvision's layout: data (N, 32, 32, 3) uint8 HWC, targets a list of ints
    assert isinstance(ds.data, np.ndarray) and ds.data.dtype == np.uint8
    assert ds.data.shape == (10, 32, 32, 3) and ds.data.flags.c_contiguous
    np.testing.assert_array_equal(ds.data, expected["train_images"])
    assert ds.targets == expected["train_labels"]
    assert all(type(y) is int for y in ds.targets)
    assert ds.classes == expected["classes"] and ds.classes[0] == "airplane"
    assert ds.class_to_idx["truck"] == 9 and len(ds) == 10
    # CIFAR's rows are channel-major: row[c * 1024 + y * 32 + x] is pixel (y, x, c)
    row = chw_rows(expected["train_images"][3:4])[0]
    assert ds.data[3, 5, 7, 2] == row[2 * 1024 + 5 * 32 + 7]
    out = capsys.readouterr().out
    assert f"Downloading {CIFAR10.url}" in out and "Extracting" in out

    test = CIFAR10(root, train=False, download=True)   # verified: nothing fetched again
    assert fetched == [CIFAR10.url]
    assert "Files already downloaded and verified" in capsys.readouterr().out
    np.testing.assert_array_equal(test.data, expected["test_images"])
    assert test.targets == expected["test_labels"]
    assert CIFAR10(root, train=False).targets == expected["test_labels"]  # download=False


def test_cifar10_items_transforms_and_batches(cifar10, monkeypatch):
    root, expected, _, _ = cifar10
    raw = CIFAR10(root, download=True)
    image, target = raw[6]
    assert image.dtype == np.uint8 and image.shape == (32, 32, 3) and type(target) is int
    np.testing.assert_array_equal(image, expected["train_images"][6])
    image[:] = 0
    assert raw.data[6].any()                         # a copy, as torchvision's PIL image

    ds = CIFAR10(root, transform=T.ToTensor(), target_transform=lambda y: y + 100)
    image, target = ds[6]
    assert isinstance(image, tinynn.Tensor) and tuple(image.shape) == (3, 32, 32)
    assert image.dtype == tinynn.float32
    np.testing.assert_array_equal(image.numpy(), expected["train_images"][6].transpose(2, 0, 1)
                                  / np.float32(255))
    assert target == expected["train_labels"][6] + 100

    plain = CIFAR10(root, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,) * 3, (0.2,) * 3)]))
    idx = np.array([9, 0, 4])
    expected_batch = np.stack([plain[int(i)][0].numpy() for i in idx])
    with monkeypatch.context() as patch:
        patch.setattr(T.Compose, "__call__", lambda self, x: pytest.fail("per-sample call"))
        images, labels = plain.get_batch(idx)
    assert tuple(images.shape) == (3, 3, 32, 32) and images.dtype == tinynn.float32
    np.testing.assert_allclose(images.numpy(), expected_batch, rtol=0, atol=1e-6)
    assert labels.dtype == tinynn.int64
    assert labels.tolist() == [expected["train_labels"][i] for i in idx]

    loader = DataLoader(CIFAR10(root, train=False, transform=T.ToTensor()), batch_size=2)
    shapes = [(tuple(x.shape), tuple(y.shape)) for x, y in loader]
    assert shapes == [((2, 3, 32, 32), (2,)), ((1, 3, 32, 32), (1,))]
    raw.targets[0] = 7                               # an edited target list is seen
    assert raw.get_batch(np.array([0]))[1].tolist() == [7]


def test_cifar100_reads_fine_labels_and_fine_label_names(tmp_path, monkeypatch):
    files, expected = make_cifar("cifar100")
    archive = tar_gz_bytes(archive_members(CIFAR100.base_folder, files))
    point_at(monkeypatch, CIFAR100, expected, serve(tmp_path / "server", CIFAR100.filename,
                                                     archive), md5(archive))
    ds = CIFAR100(tmp_path / "root", download=True)
    assert listdir(tmp_path / "root") == ["cifar-100-python", "cifar-100-python.tar.gz"]
    assert len(ds.classes) == 100 and ds.classes[7] == "class_07"
    assert ds.targets == expected["train_labels"] and ds.data.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(ds.data, expected["train_images"])
    test = CIFAR100(tmp_path / "root", train=False)
    assert test.targets == expected["test_labels"]
    assert repr(test).splitlines()[-1] == "    Split: Test"


def test_batches_with_bytes_keys_are_read_too(tmp_path, monkeypatch):
    files, expected = make_cifar(keys=bytes, pickler=lambda o: pickle.dumps(o, protocol=4))
    write_extracted(tmp_path, CIFAR10.base_folder, files)
    point_at(monkeypatch, CIFAR10, expected, "file:///unused", "0" * 32)
    ds = CIFAR10(tmp_path)
    np.testing.assert_array_equal(ds.data, expected["train_images"])
    assert ds.targets == expected["train_labels"] and ds.classes == expected["classes"]


def test_extracted_files_placed_by_hand_need_no_download(tmp_path, monkeypatch):
    files, expected = make_cifar()
    write_extracted(tmp_path, CIFAR10.base_folder, files)
    point_at(monkeypatch, CIFAR10, expected, "file:///nonexistent/c.tar.gz", "0" * 32)
    assert len(CIFAR10(tmp_path, download=True)) == 10


def test_missing_cifar_says_to_pass_download_true(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download=True") as info:
        CIFAR10(tmp_path)
    assert "data_batch_1" in str(info.value) and isinstance(info.value, RuntimeError)


def test_a_batch_file_with_a_wrong_md5_is_refused_without_download(cifar10):
    root, expected, _, fetched = cifar10
    CIFAR10(root, download=True)
    path = root / CIFAR10.base_folder / "data_batch_3"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF   # one flipped byte inside the pixels: still a valid pickle
    path.write_bytes(bytes(data))
    (root / CIFAR10.base_folder / "my_notes.txt").write_text("mine")
    for train in (True, False):   # both splits are checked, as torchvision does
        with pytest.raises(DatasetError, match="CIFAR10 is corrupted") as info:
            CIFAR10(root, train=train)
        assert f"{path}: MD5 {md5(bytes(data))}, expected {expected['train_list'][2][1]}" \
            in str(info.value)
    # download=True repairs it from the verified archive already in root: no fetch
    ds = CIFAR10(root, download=True)
    assert fetched == [CIFAR10.url]
    np.testing.assert_array_equal(ds.data, expected["train_images"])
    assert (root / CIFAR10.base_folder / "my_notes.txt").read_text() == "mine"
    assert listdir(root) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_a_wrong_archive_checksum_is_refused_and_leaves_nothing(cifar10, monkeypatch):
    root, expected, archive, _ = cifar10
    monkeypatch.setattr(CIFAR10, "tgz_md5", hashlib.md5(b"another archive").hexdigest())
    with pytest.raises(DownloadError) as info:
        CIFAR10(root, download=True)
    message = str(info.value)
    assert f"MD5 {md5(archive)} does not match the expected {CIFAR10.tgz_md5}" in message
    assert listdir(root) == []                       # no archive, no temporary, no folder
    _assert_says_what_to_place_where(message, root, expected)


def test_an_unreachable_source_says_what_to_place_where(cifar10, monkeypatch):
    root, expected, archive, _ = cifar10
    monkeypatch.setattr(CIFAR10, "url", "file:///nonexistent-server/cifar-10-python.tar.gz")
    with pytest.raises(DownloadError, match="could not download CIFAR10 from file:///nonex") \
            as info:
        CIFAR10(root, download=True)
    _assert_says_what_to_place_where(str(info.value), root, expected)
    assert listdir(root) == []
    (root / CIFAR10.filename).write_bytes(archive)    # the archive placed by hand
    ds = CIFAR10(root, download=True)
    np.testing.assert_array_equal(ds.data, expected["train_images"])


def _assert_says_what_to_place_where(message, root, expected):
    assert f"MD5 {CIFAR10.tgz_md5}) and put it in {os.path.abspath(root)}" in message
    assert f"Or put the extracted files in {os.path.abspath(root / CIFAR10.base_folder)}" \
        in message
    for name, checksum in expected["train_list"] + expected["test_list"]:
        assert f"  {name}  (MD5 {checksum})" in message
    assert f"  batches.meta  (MD5 {expected['meta']['md5']})" in message


def test_a_truncated_archive_is_refused_and_nothing_is_extracted(cifar10, monkeypatch):
    root, _, archive, _ = cifar10
    truncated = archive[:len(archive) // 2]
    monkeypatch.setattr(CIFAR10, "url", serve(root.parent / "server2", CIFAR10.filename,
                                              truncated))
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(truncated))   # its MD5 cannot catch it
    with pytest.raises(ArchiveError, match="is corrupt or truncated") as info:
        CIFAR10(root, download=True)
    assert str(root / CIFAR10.filename) in str(info.value)
    assert listdir(root) == [CIFAR10.filename]   # no cifar-10-batches-py, no staging folder


def test_an_archive_whose_files_fail_their_md5_is_not_extracted(cifar10, monkeypatch):
    root, expected, _, _ = cifar10
    wrong = [[name, "0" * 32] if name == "test_batch" else [name, checksum]
             for name, checksum in expected["test_list"]]
    monkeypatch.setattr(CIFAR10, "test_list", wrong)
    with pytest.raises(ArchiveError, match="does not hold the expected CIFAR10 files .*"
                                           "test_batch: MD5 .*, expected 0{32}"):
        CIFAR10(root, download=True)
    assert listdir(root) == [CIFAR10.filename]


def test_a_malicious_batch_pickle_is_refused_unrun(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    files, expected = make_cifar()
    for protocol in (2, 4):
        files["data_batch_2"] = pickle.dumps(_RunsShell(marker), protocol=protocol)
        expected["train_list"][1][1] = md5(files["data_batch_2"])  # its MD5 is "right"
        write_extracted(tmp_path / "root", CIFAR10.base_folder, files)
        point_at(monkeypatch, CIFAR10, expected, "file:///unused", "0" * 32)
        with pytest.raises(DatasetError, match="data_batch_2: cannot read it as a CIFAR10 "
                                               "file: refusing to unpickle posix.system"):
            CIFAR10(tmp_path / "root")
        assert not marker.exists()
        assert len(CIFAR10(tmp_path / "root", train=False)) == 3   # the other split is fine


@pytest.mark.parametrize("hostile", ["dotdot", "absolute", "symlink", "symlink_write_through",
                                     "hardlink", "fifo"])
def test_archive_members_that_could_escape_the_root_are_refused(cifar10, monkeypatch, hostile):
    root, expected, _, _ = cifar10
    outside = root.parent / "outside"
    files, _ = make_cifar()
    good = archive_members(CIFAR10.base_folder, files)
    evil = {
        "dotdot": [member("cifar-10-batches-py/../../outside", b"evil")],
        "absolute": [member(str(outside), b"evil")],
        "symlink": [member("cifar-10-batches-py/link", kind=tarfile.SYMTYPE,
                           linkname=str(outside))],
        "symlink_write_through": [member("link", kind=tarfile.SYMTYPE,
                                         linkname=str(root.parent)),
                                  member("link/outside", b"evil")],
        "hardlink": [member("cifar-10-batches-py/hard", kind=tarfile.LNKTYPE,
                            linkname="/etc/passwd")],
        "fifo": [member("cifar-10-batches-py/pipe", kind=tarfile.FIFOTYPE)],
    }[hostile]
    archive = tar_gz_bytes(good[:3] + evil + good[3:])   # some files come before it
    monkeypatch.setattr(CIFAR10, "url", serve(root.parent / "server2", CIFAR10.filename,
                                              archive))
    monkeypatch.setattr(CIFAR10, "tgz_md5", md5(archive))
    with pytest.raises(ArchiveError, match="refusing member") as info:
        CIFAR10(root, download=True)
    reason = {"dotdot": "'..' would escape", "absolute": "absolute path",
              "symlink": "symbolic link", "symlink_write_through": "symbolic link",
              "hardlink": "hard link", "fifo": "only plain files and folders"}[hostile]
    assert reason in str(info.value) and evil[0][0].name in str(info.value)
    assert not os.path.lexists(outside)
    assert listdir(root) == [CIFAR10.filename]    # nothing extracted, no staging folder


def test_a_full_disk_while_extracting_leaves_nothing(cifar10, monkeypatch):
    root, _, _, _ = cifar10
    real_copy = archive_module.shutil.copyfileobj
    calls = []

    def copy_then_fill_disk(src, dst, length=0):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_copy(src, dst, length)
    monkeypatch.setattr(archive_module.shutil, "copyfileobj", copy_then_fill_disk)
    with pytest.raises(DatasetError, match=f"cannot write into {root}: No space left"):
        CIFAR10(root, download=True)
    assert listdir(root) == [CIFAR10.filename]


def test_a_staging_folder_left_by_a_killed_process_is_removed(cifar10):
    root, _, _, _ = cifar10
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = root / f".{CIFAR10.filename}.{socket.gethostname()}.{dead.pid}.0123456789ab.extracting"
    os.makedirs(stale / CIFAR10.base_folder)
    CIFAR10(root, download=True)
    assert listdir(root) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]


def test_extract_tar_skips_the_archive_root_and_refuses_clashes(tmp_path):
    path = tmp_path / "a.tar.gz"
    path.write_bytes(tar_gz_bytes([member(".", kind=tarfile.DIRTYPE), member("./d/x", b"1")]))
    archive_module.extract_tar(path, tmp_path / "out", log=lambda msg: None)
    assert (tmp_path / "out" / "d" / "x").read_bytes() == b"1"
    path.write_bytes(tar_gz_bytes([member("d", b"a file"), member("d/x", b"1")]))
    with pytest.raises(ArchiveError, match="cannot extract it"):
        archive_module.extract_tar(path, tmp_path / "out2", log=lambda msg: None)
    assert listdir(tmp_path / "out2") == []
    path.write_bytes(b"not an archive at all")
    with pytest.raises(ArchiveError, match="corrupt or truncated"):
        archive_module.extract_tar(path, tmp_path / "out3", log=lambda msg: None)
    assert listdir(tmp_path / "out3") == []


def test_cifar_root_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "data").write_text("")
    with pytest.raises(DatasetError, match="it is a file, not a folder"):
        CIFAR10(tmp_path / "data", download=True)


# ========================================================================== FakeData

def test_fake_data_shapes_dtypes_and_length():
    ds = FakeData()                                   # torchvision's defaults
    assert len(ds) == 1000 and ds.image_size == (3, 224, 224) and ds.num_classes == 10
    image, target = ds[0]
    assert image.dtype == np.uint8 and image.shape == (224, 224, 3)  # HWC, as a PIL image
    assert type(target) is int and 0 <= target < 10
    gray = FakeData(size=4, image_size=(1, 28, 28), num_classes=3)
    assert gray[3][0].shape == (28, 28) and {gray[i][1] for i in range(4)} <= {0, 1, 2}
    with pytest.raises(IndexError, match="FakeData index out of range"):
        gray[4]
    assert np.array_equal(gray[-1][0], gray[3][0])


def test_fake_data_is_deterministic_per_index_and_offset():
    a, b = FakeData(size=20, image_size=(3, 8, 6)), FakeData(size=20, image_size=(3, 8, 6))
    for i in (0, 7, 19):
        assert np.array_equal(a[i][0], b[i][0]) and a[i][1] == b[i][1]
    assert not np.array_equal(a[1][0], a[2][0])
    shifted = FakeData(size=20, image_size=(3, 8, 6), random_offset=5)
    assert np.array_equal(shifted[2][0], a[7][0]) and shifted[2][1] == a[7][1]
    assert len({a[i][1] for i in range(20)}) > 1


def test_fake_data_follows_torchvisions_recipe_and_leaves_the_global_rng_alone():
    ds = FakeData(size=10, image_size=(3, 5, 4), num_classes=7, random_offset=2)
    image, target = ds[3]
    # torchvision: manual_seed(index + random_offset); randn(*image_size); randint(0, n, (1,))
    # then ToPILImage's x.mul(255).byte() (truncation, modulo 256), HWC
    tinynn.manual_seed(5)
    x = tinynn.randn(3, 5, 4).numpy()
    expected_target = int(tinynn.randint(0, 7, (1,)).numpy()[0])
    expected = (np.trunc(x * np.float32(255)).astype(np.int64) % 256).astype(np.uint8)
    np.testing.assert_array_equal(image, expected.transpose(1, 2, 0))
    assert target == expected_target

    tinynn.manual_seed(0)
    first = tinynn.randn(4).numpy()
    tinynn.manual_seed(0)
    ds[1], ds[2]
    assert np.array_equal(tinynn.randn(4).numpy(), first)


def test_fake_data_transforms_and_batches():
    ds = FakeData(size=5, image_size=(3, 6, 4), transform=T.ToTensor(),
                  target_transform=lambda y: y * 10)
    image, target = ds[2]
    assert tuple(image.shape) == (3, 6, 4) and image.dtype == tinynn.float32 and target % 10 == 0
    np.testing.assert_array_equal(image.numpy(),
                                  FakeData(size=5, image_size=(3, 6, 4))[2][0]
                                  .transpose(2, 0, 1) / np.float32(255))
    images, labels = ds.get_batch(np.array([4, 2]))
    assert tuple(images.shape) == (2, 3, 6, 4)
    np.testing.assert_array_equal(images.numpy()[1], image.numpy())
    assert labels.tolist() == [ds[4][1], target]
    batches = list(DataLoader(ds, batch_size=2))
    assert [tuple(x.shape) for x, _ in batches] == [(2, 3, 6, 4), (2, 3, 6, 4), (1, 3, 6, 4)]
    assert repr(ds).splitlines()[:2] == ["Dataset FakeData", "    Number of datapoints: 5"]
