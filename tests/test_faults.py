"""Faults: a run killed while writing a checkpoint or downloading, a full disk, and files
that tinynn.load must refuse (truncated, bit-flipped, wrong format, hostile).

What must hold: a reader finds the old complete file or the new complete file, never a
torn one; a temporary file is never taken for the real one and the next write removes
it; a refused file is named in one clear error and no code in it runs.
"""
import errno
import io
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import tinynn
from tinynn import serialization
from tinynn.serialization import CheckpointError

from fixtures_mnist import FILES, make_arrays, resources_for, write_mirror, write_raw

TESTS = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(TESTS), "examples")
posix_only = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and pids are POSIX")


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".part"))


def checkpoint(version, size=256):
    """A checkpoint whose every value says which version it is."""
    return {"version": version, "w": np.full((size, size), version, dtype=np.float32)}


def assert_whole(path, versions):
    """``path`` loads, and is one complete version from ``versions``."""
    state = tinynn.load(path)
    assert state["version"] in versions
    assert (state["w"] == state["version"]).all()  # not half of one and half of another
    return state["version"]


# ------------------------------------------------------------ killed while saving

WRITER = r"""
import os, sys, time
import numpy as np
import tinynn
from tinynn import serialization

path, version, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def pause(*args, **kwargs):
    print("paused", flush=True)
    time.sleep(60)

if stop == "mid-write":          # half the bytes written, then the process is killed
    real_fdopen = os.fdopen
    class Half:
        def __init__(self, f): self.f = f
        def __enter__(self): return self
        def __exit__(self, *exc): self.f.close()
        def __getattr__(self, name): return getattr(self.f, name)
        def write(self, data):
            self.f.write(data[: len(data) // 2]); self.f.flush(); pause()
    serialization.os.fdopen = lambda fd, mode: Half(real_fdopen(fd, mode))
elif stop == "before-rename":    # everything written and synced, not yet renamed
    serialization.os.replace = pause
elif stop == "loop":             # new versions as fast as it can, until killed
    while True:
        version += 1
        tinynn.save({"version": version, "w": np.full((512, 512), version, np.float32)}, path)
        if version % 10**6 == 1:
            print("saved one", flush=True)
tinynn.save({"version": version, "w": np.full((256, 256), version, np.float32)}, path)
"""


def start_writer(path, version, stop):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(version), stop],
                            stdout=subprocess.PIPE, text=True)


@posix_only
@pytest.mark.parametrize("stop", ["mid-write", "before-rename"])
def test_killed_while_saving_leaves_the_old_checkpoint_whole(tmp_path, stop):
    path = tmp_path / "ck.npz"
    tinynn.save(checkpoint(1), path)
    old = path.read_bytes()
    writer = start_writer(path, 2, stop)
    assert writer.stdout.readline() == "paused\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    assert path.read_bytes() == old and assert_whole(path, {1}) == 1
    assert len(temporaries(tmp_path)) == 1  # the torn temporary: hidden, never read as ck.npz
    tinynn.save(checkpoint(3), path)        # the next write removes the dead writer's file
    assert os.listdir(tmp_path) == ["ck.npz"] and assert_whole(path, {3}) == 3


@posix_only
def test_killed_at_random_times_while_saving_in_a_loop(tmp_path):
    path = tmp_path / "ck.npz"
    tinynn.save(checkpoint(0), path)
    rng = random.Random(0)
    for trial in range(1, 6):
        first = trial * 10**6  # writer `trial` saves versions first + 1, first + 2, ...
        writer = start_writer(path, first, "loop")
        assert writer.stdout.readline() == "saved one\n"
        time.sleep(rng.uniform(0, 0.1))  # a save takes a few ms: kills land in all its steps
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        # a version this writer finished, complete: never torn, never an older one
        assert_whole(path, range(first + 1, first + 10**6))
    tinynn.save(checkpoint(1), path)
    assert os.listdir(tmp_path) == ["ck.npz"]


# ------------------------------------------------------------ the examples, killed

def start_example(mirror, *args, env=None):
    command = [sys.executable, os.path.join(TESTS, "run_example.py"), str(mirror),
               os.path.join(EXAMPLES, "train_cnn.py"), *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@posix_only
def test_training_run_killed_at_random_leaves_a_checkpoint_to_resume(tmp_path):
    mirror, data = tmp_path / "mirror", tmp_path / "data"
    arrays = make_arrays(n_train=40, n_test=12)
    write_mirror(mirror, arrays)
    write_raw(data / "MNIST" / "raw", arrays)
    path = tmp_path / "ck.npz"
    flags = ["--data-dir", data, "--batch-size", "40", "--save", path]
    run = start_example(mirror, "--epochs", "100", *flags)
    wait_for(path.exists)
    time.sleep(random.Random(1).uniform(0.1, 0.6))  # some epochs and checkpoints later
    run.send_signal(signal.SIGKILL)
    run.communicate()
    epoch = tinynn.load(path)["epoch"]             # complete, whatever the moment
    resumed = start_example(mirror, "--epochs", epoch + 1, "--resume", path, *flags)
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert tinynn.load(path)["epoch"] == epoch + 1
    assert not temporaries(tmp_path)  # a kill mid-write left one: the next save removed it


@posix_only
def test_run_killed_during_the_download_leaves_no_torn_dataset_file(tmp_path):
    mirror, data = tmp_path / "mirror", tmp_path / "data"
    write_mirror(mirror, make_arrays(n_train=300, n_test=12))  # 235 KB: several reads
    raw = data / "MNIST" / "raw"
    # Each file stalls for a minute after its first chunk: the kill lands inside a file
    # (a short delay raced the download's end: the run was sometimes killed between files).
    run = start_example(mirror, "--data-dir", data, "--epochs", "1",
                        env={"EXAMPLE_FETCH_DELAY": "60"})
    wait_for(lambda: raw.is_dir() and temporaries(raw))  # in the middle of a file
    run.send_signal(signal.SIGKILL)
    run.communicate()
    for name in os.listdir(raw):  # under a real name: only whole, verified files
        if not name.endswith(".part"):
            assert (raw / name).read_bytes() == (mirror / name).read_bytes(), name
    assert temporaries(raw)
    again = start_example(mirror, "--data-dir", data, "--epochs", "1", "--batch-size", "300")
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr
    assert sorted(os.listdir(raw)) == sorted(FILES)  # the leftover is gone
    for name in FILES:
        assert (raw / name).read_bytes() == (mirror / name).read_bytes()


# ------------------------------------------------------------ a full disk

class DiskFull:
    """A file whose writes fail as on a full disk once ``room`` bytes are written."""

    def __init__(self, f, room):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            self.f.write(data[:self.room])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def fill_the_disk(monkeypatch, room, after_writes=0):
    """From the ``after_writes``-th file on, writes through ``atomic_file`` hit a full disk."""
    real_fdopen = os.fdopen
    opened = []

    def fdopen(fd, mode):
        opened.append(fd)
        f = real_fdopen(fd, mode)
        return DiskFull(f, room) if len(opened) > after_writes else f
    monkeypatch.setattr(serialization.os, "fdopen", fdopen)


@pytest.mark.parametrize("room", [0, 1000, 10**9])
def test_full_disk_keeps_the_old_checkpoint(tmp_path, monkeypatch, room):
    path = tmp_path / "ck.npz"
    tinynn.save(checkpoint(1), path)
    old = path.read_bytes()
    if room == 10**9:  # the data fit, the disk fills when it is synced
        def no_space(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(serialization.os, "fsync", no_space)
    else:
        fill_the_disk(monkeypatch, room)
    with pytest.raises(OSError) as info:
        tinynn.save(checkpoint(2), path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["ck.npz"]


def test_full_disk_during_training_is_one_line_and_keeps_the_last_checkpoint(
        tmp_path, monkeypatch, capsys):
    from tinynn.datasets import MNIST
    arrays = make_arrays(n_train=40, n_test=12)
    write_raw(tmp_path / "data" / "MNIST" / "raw", arrays)
    monkeypatch.setattr(MNIST, "resources", resources_for(arrays))
    monkeypatch.setattr(MNIST, "fallback", None)
    monkeypatch.syspath_prepend(EXAMPLES)
    monkeypatch.setattr(sys, "argv", ["train_cnn.py"])
    import train_cnn
    path = tmp_path / "ck.npz"
    fill_the_disk(monkeypatch, room=100, after_writes=1)  # epoch 1 saves, epoch 2 cannot
    with pytest.raises(SystemExit) as info:
        train_cnn.main(["--data-dir", str(tmp_path / "data"), "--epochs", "3",
                        "--batch-size", "40", "--save", str(path)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err == (f"train_cnn.py: error: cannot write the checkpoint {path} after epoch 2: "
                   f"No space left on device; the previous checkpoint is unchanged\n")
    monkeypatch.undo()
    assert tinynn.load(path)["epoch"] == 1 and not temporaries(tmp_path)


# ------------------------------------------------------------ files load must refuse

class _CreatesMarker:
    """Unpickling this creates ``marker``: proof that code in a file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.fixture
def no_unpickling(monkeypatch):
    """Fail the test if anything is unpickled."""
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)


def refused(path, *fragments):
    """``tinynn.load(path)`` raises one CheckpointError naming ``path`` and ``fragments``."""
    with pytest.raises(CheckpointError) as info:
        tinynn.load(path)
    message = str(info.value)
    assert message.startswith(f"{path} is not a readable tinynn checkpoint: "), message
    assert "\n" not in message and "allow_pickle" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    tinynn.save({"model": {"w": tinynn.randn(40, 40), "b": tinynn.zeros(40)}, "epoch": 3}, path)
    return path.read_bytes()


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.2, 0.5, 0.8, 0.99])
def test_truncated_files_are_refused(tmp_path, good, no_unpickling, fraction):
    path = tmp_path / "ck.npz"
    path.write_bytes(good[: int(len(good) * fraction)])
    refused(path)


def test_bit_flips_are_refused_or_harmless(tmp_path, good, no_unpickling):
    """Every flipped bit is caught (CRC, sizes, headers) unless it lies where zip keeps
    nothing we read (timestamps, version fields): then the content is exactly right."""
    path = tmp_path / "ck.npz"
    original = tinynn.load(_write(tmp_path / "orig.npz", good))
    rng = random.Random(0)
    positions = sorted(rng.sample(range(len(good)), 150))
    caught = 0
    for position in positions:
        flipped = bytearray(good)
        flipped[position] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(flipped))
        try:
            state = tinynn.load(path)
        except CheckpointError as exc:
            assert str(exc).startswith(f"{path} is not a readable tinynn checkpoint")
            caught += 1
            continue
        assert state["epoch"] == original["epoch"]
        for key in ("w", "b"):
            np.testing.assert_array_equal(state["model"][key].numpy(),
                                          original["model"][key].numpy())
    assert caught > 100  # the data and the structure are nearly all of the file


def _write(path, data):
    path.write_bytes(data)
    return path


def test_text_file_is_refused_without_advice_to_unpickle(tmp_path, no_unpickling):
    path = _write(tmp_path / "ck.npz", b"epoch 3, accuracy 99%\n")
    message = refused(path, "not an .npz archive", "b'epoch 3,")
    assert "pickle" not in message.lower()


def test_pickle_file_is_refused_and_never_run(tmp_path, no_unpickling):
    marker = tmp_path / "ran"
    path = _write(tmp_path / "ck.npz", pickle.dumps({"model": _CreatesMarker(marker)}))
    refused(path, "not an .npz archive")
    assert not marker.exists()


def test_npz_holding_an_object_array_is_refused_and_never_run(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    path = tmp_path / "ck.npz"
    np.savez(path, __structure__=np.frombuffer(b"{}", np.uint8),
             a0=np.array([_CreatesMarker(marker)], dtype=object))
    refused(path, "a0.npy holds Python objects (pickled data)", "refused unread")
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["npy", "torch-like zip", "empty zip", "gzip"])
def test_other_formats_are_refused(tmp_path, no_unpickling, kind, good):
    path = tmp_path / "ck.npz"
    if kind == "npy":
        with open(path, "wb") as f:
            np.save(f, np.ones(3))
        expected = "not an .npz archive"
    elif kind == "torch-like zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        expected = "it holds 'archive/data.pkl', which is not an array"
    elif kind == "empty zip":
        zipfile.ZipFile(path, "w").close()
        expected = "has no __structure__ entry"
    else:
        import gzip
        path.write_bytes(gzip.compress(good))
        expected = "not an .npz archive"
    refused(path, expected)


def test_zip_bomb_is_refused_before_it_is_expanded(tmp_path, monkeypatch):
    """A deflated member that would expand to 64 MB from a file of under 1 MB."""
    path = tmp_path / "ck.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (16 * 2**20,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("a0.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(2**22)
            for _ in range(16):
                member.write(zeros)
        z.writestr("__structure__.npy", b"")
    assert path.stat().st_size < 2**20
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda *a, **k: pytest.fail("an array was read"))
    refused(path, "a0.npy' is compressed")


def test_declared_sizes_beyond_the_file_are_refused(tmp_path, monkeypatch):
    """Stored members whose directory declares a terabyte."""
    path = tmp_path / "ck.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.ones(4, np.float32))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a0.npy", buffer.getvalue())
        for info in z.filelist:
            info.file_size = info.compress_size = 2**40  # written into the central directory
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda *a, **k: pytest.fail("an array was read"))
    refused(path)


def test_npy_header_larger_than_its_data_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**12,)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a0.npy", header.getvalue() + bytes(16))
        z.writestr("__structure__.npy", b"")
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda *a, **k: pytest.fail("an array was read"))
    refused(path, "a0.npy: its header declares shape (1000000000000,)")


def npz_with_structure(path, structure, **arrays):
    text = structure if isinstance(structure, str) else json.dumps(structure)
    np.savez(path, __structure__=np.frombuffer(text.encode(), np.uint8), **arrays)
    return path


@pytest.mark.parametrize("structure, arrays, expected", [
    ({"__dict__": {"w": {"__array__": "a7", "kind": "tensor", "device": "cpu",
                         "requires_grad": False}}}, {"a0": np.ones(2)},
     "its structure names the array 'a7', which the file does not hold"),
    ({"__array__": ["a0"], "kind": "tensor"}, {"a0": np.ones(2)}, "names the array ['a0']"),
    ({"__array__": "a0", "kind": "module"}, {"a0": np.ones(2)}, "unknown array kind 'module'"),
    ({"__array__": "a0", "kind": "tensor", "device": "tpu:9", "requires_grad": False},
     {"a0": np.ones(2)}, ""),
    ({"__eval__": "__import__('os').system('true')"}, {}, "unknown entry"),
    ("[" * 100000 + "]" * 100000, {}, "RecursionError"),
    ("{not json", {}, "JSONDecodeError"),
])
def test_hostile_structures_are_refused(tmp_path, no_unpickling, structure, arrays, expected):
    path = npz_with_structure(tmp_path / "ck.npz", structure, **arrays)
    refused(path, expected)


def test_structure_that_is_not_text_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    np.savez(path, __structure__=np.ones(3, np.float32))
    refused(path, "__structure__ entry is not JSON text")


def test_refused_files_are_left_as_they_were(tmp_path, good):
    path = _write(tmp_path / "ck.npz", good[: len(good) // 2])
    before = sorted(os.listdir(tmp_path))
    refused(path)
    assert path.read_bytes() == good[: len(good) // 2]
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, renamed or removed
