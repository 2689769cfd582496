"""tinynn.save / tinynn.load: round trips, no pickle, clear errors, atomic writes."""
import collections
import os
import pickle

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
from tinynn import serialization


def make_model():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_round_trip(tmp_path):
    model = make_model()
    path = tmp_path / "model.npz"
    tinynn.save(model.state_dict(), path)
    loaded = tinynn.load(path)
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # order kept
    for key, value in model.state_dict().items():
        assert isinstance(loaded[key], tinynn.Tensor)
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())
    other = make_model()
    other.load_state_dict(loaded)
    x = tinynn.randn(5, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())


def test_dtypes_and_values_survive(tmp_path):
    obj = {"f32": tinynn.tensor([1.5, -2.0]), "f64": tinynn.tensor(np.array([1e-300, 3.0])),
           "i64": tinynn.tensor([2 ** 40, -1]), "bool": tinynn.tensor([True, False]),
           "scalar": tinynn.tensor(3.25), "grad": tinynn.tensor([1.0], requires_grad=True),
           "array": np.arange(6, dtype=np.int32).reshape(2, 3)}
    tinynn.save(obj, tmp_path / "a.npz")
    back = tinynn.load(tmp_path / "a.npz")
    for key in ("f32", "f64", "i64", "bool", "scalar"):
        assert back[key].dtype == obj[key].dtype and back[key].shape == obj[key].shape
        assert back[key].tolist() == obj[key].tolist()
    assert back["grad"].requires_grad and back["grad"].is_leaf
    assert not back["f32"].requires_grad
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int32
    np.testing.assert_array_equal(back["array"], obj["array"])


def test_nested_optimizer_like_structure(tmp_path):
    state = {
        "state": {0: {"step": 3, "exp_avg": tinynn.ones(2, 2), "exp_avg_sq": tinynn.zeros(2)},
                  1: {"step": 3, "momentum_buffer": None}},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                          "amsgrad": False, "nesterov": True, "params": [0, 1], "name": "all"}],
        "epoch": 7,
        (1, "pair"): [1.5, (2, [3, "x"])],
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "nan": float("nan"),
    }
    tinynn.save(state, tmp_path / "opt.npz")
    back = tinynn.load(tmp_path / "opt.npz")
    assert set(back["state"]) == {0, 1} and all(isinstance(k, int) for k in back["state"])
    assert back["state"][0]["step"] == 3 and back["state"][1]["momentum_buffer"] is None
    assert back["state"][0]["exp_avg"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    group = back["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and isinstance(group["betas"], tuple)
    assert group["params"] == [0, 1] and group["eps"] == 1e-8 and group["amsgrad"] is False
    assert group["nesterov"] is True and group["weight_decay"] == 0 and group["name"] == "all"
    assert isinstance(group["weight_decay"], int) and isinstance(group["lr"], float)
    assert back["epoch"] == 7
    assert back[(1, "pair")] == [1.5, (2, [3, "x"])]
    assert list(back["ordered"]) == ["b", "a"]
    assert np.isnan(back["nan"])


def test_file_is_read_without_pickle(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    tinynn.save({"w": tinynn.ones(3), "meta": {"k": (1, 2)}}, path)
    with np.load(path, allow_pickle=False) as archive:  # no object arrays inside
        for key in archive.files:
            assert archive[key].dtype != object

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle must not be used")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    assert tinynn.load(path)["meta"] == {"k": (1, 2)}


def test_pickled_payload_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"__structure__": np.array([object()], dtype=object)})
    with pytest.raises(RuntimeError, match="not a readable tinynn checkpoint"):
        tinynn.load(path)


def test_unsupported_objects_are_rejected_not_pickled(tmp_path):
    with pytest.raises(TypeError, match="cannot store an object of type"):
        tinynn.save({"fn": lambda x: x}, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)  # nothing half-written


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip", "npy", "no_structure", "bad_json"])
def test_corrupt_files_raise_clear_error(tmp_path, damage):
    path = tmp_path / "ckpt.npz"
    tinynn.save({"w": tinynn.randn(50, 50), "step": 1}, path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(os.urandom(300))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flip":
        middle = len(data) // 2  # inside the weight array: the zip CRC check catches it
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    elif damage == "npy":
        np.save(tmp_path / "plain.npy", np.ones(3))
        os.replace(tmp_path / "plain.npy", path)
    elif damage == "no_structure":
        np.savez(path, w=np.ones(3))
    elif damage == "bad_json":
        np.savez(path, __structure__=np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(RuntimeError, match="ckpt.npz is not a readable tinynn checkpoint"):
        tinynn.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        tinynn.load(tmp_path / "nope.npz")


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_atomic_write_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, failing):
    path = tmp_path / "model.npz"
    tinynn.save({"version": 1, "w": tinynn.ones(2)}, path)
    old_bytes = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.os, failing, crash)
    with pytest.raises(OSError, match="disk full"):
        tinynn.save({"version": 2, "w": tinynn.zeros(2)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert tinynn.load(path)["version"] == 1


def test_interrupted_write_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"

    class Interrupt(BaseException):
        pass

    real_fdopen = serialization.os.fdopen

    def interrupted_fdopen(fd, mode):
        f = real_fdopen(fd, mode)

        class Writer:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                f.close()

            def write(self, data):
                f.write(data[: len(data) // 2])  # half the bytes, then Ctrl-C
                raise Interrupt

        return Writer()

    monkeypatch.setattr(serialization.os, "fdopen", interrupted_fdopen)
    with pytest.raises(Interrupt):
        tinynn.save({"w": tinynn.ones(100)}, path)
    assert os.listdir(tmp_path) == []


def test_save_accepts_str_paths_and_creates_folders(tmp_path):
    path = str(tmp_path / "deep" / "dir" / "m.npz")
    tinynn.save([tinynn.tensor([1.0]), 2], path)
    back = tinynn.load(path)
    assert back[0].tolist() == [1.0] and back[1] == 2


def test_save_does_not_move_or_change_the_model(tmp_path, device):
    model = make_model().to(device)
    arrays = [p.array for p in model.parameters()]
    tinynn.save(model.state_dict(), tmp_path / "m.npz")
    assert all(p.device == device for p in model.parameters())
    assert all(p.array is a for p, a in zip(model.parameters(), arrays))
    back = tinynn.load(tmp_path / "m.npz", map_location="cpu")
    assert all(t.device == "cpu" for t in back.values())
    fresh = make_model().to(device)
    fresh.load_state_dict(tinynn.load(tmp_path / "m.npz"))
    assert all(p.device == device for p in fresh.parameters())  # loaded onto the model's device
    for a, b in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


# ----------------------------------------------------------- permissions, leftovers

@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_file_gets_the_umask_permissions(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        tinynn.save({"w": tinynn.ones(2)}, tmp_path / "m.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == mode


def dead_pid():
    """The id of a process that has just exited (so no process has it, for now)."""
    import subprocess
    import sys
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="stale temporaries are found by pid on POSIX")
def test_next_save_removes_temporaries_of_dead_writers_only(tmp_path):
    import socket
    host = socket.gethostname()
    path = tmp_path / "m.npz"
    stale = tmp_path / f".m.npz.{host}.{dead_pid()}.0123456789ab.part"
    live = tmp_path / f".m.npz.{host}.{os.getpid()}.ba9876543210.part"  # a live writer's
    other_file = tmp_path / f".other.npz.{host}.{dead_pid()}.0123456789ab.part"
    for leftover in (stale, live, other_file):
        leftover.write_bytes(b"half a checkpoint")
    tinynn.save({"w": tinynn.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", live.name, other_file.name])
    assert tinynn.load(path)["w"].tolist() == [1.0, 1.0]


def test_a_temporary_file_is_never_taken_for_the_checkpoint(tmp_path):
    path = tmp_path / "m.npz"
    tinynn.save({"version": 1}, path)
    (tmp_path / ".m.npz.host.1.0123456789ab.part").write_bytes(b"PK\x03\x04 torn")
    assert tinynn.load(path) == {"version": 1}
    with pytest.raises(FileNotFoundError):
        tinynn.load(tmp_path / "other.npz")


def test_load_of_a_folder_says_so(tmp_path):
    with pytest.raises(serialization.CheckpointError, match="is a folder"):
        tinynn.load(tmp_path)


def test_checkpoint_error_is_a_runtime_and_a_value_error():
    assert issubclass(serialization.CheckpointError, RuntimeError)
    assert issubclass(serialization.CheckpointError, ValueError)
