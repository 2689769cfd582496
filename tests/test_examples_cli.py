"""The examples as a user runs them: every bad flag, path and file ends in one line on
stderr with the right exit status, before any download or training; --resume continues.

Each case runs a script as its own process through ``tests/run_example.py``, which
serves tiny generated MNIST files from a local folder: fast, and never the network.
"""
import glob
import os
import pickle
import subprocess
import sys
import types

import pytest

import tinynn
from fixtures_mnist import FILES, make_arrays, write_mirror, write_raw

TESTS = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(TESTS), "examples")
HARNESS = os.path.join(TESTS, "run_example.py")

ROOT_IGNORES_MODES = os.name != "posix" or os.geteuid() == 0
needs_unprivileged = pytest.mark.skipif(ROOT_IGNORES_MODES, reason="file modes do not stop root")
needs_read_only_sys = pytest.mark.skipif(
    not os.path.isdir("/sys") or (os.access("/sys", os.W_OK) and not ROOT_IGNORES_MODES),
    reason="needs a /sys where files cannot be created")


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    """``mirror``: a folder serving tiny MNIST files; ``data``: a --data-dir holding them."""
    base = tmp_path_factory.mktemp("mnist")
    arrays = make_arrays(n_train=40, n_test=12)
    mirror, data = base / "mirror", base / "data"
    write_mirror(mirror, arrays)
    write_raw(data / "MNIST" / "raw", arrays)
    return types.SimpleNamespace(mirror=mirror, data=data)


def start_example(mnist, script, *args, env=None):
    """Start ``examples/<script>`` with ``args`` as a user would, in its own process."""
    command = [sys.executable, HARNESS, str(mnist.mirror), os.path.join(EXAMPLES, script),
               *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def finish(process):
    """Wait for a started example; returns it as ``subprocess.run`` would."""
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_example(mnist, script, *args, env=None):
    """Run ``examples/<script>`` with ``args`` as a user would; returns the finished process."""
    return finish(start_example(mnist, script, *args, env=env))


def assert_one_line_error(result, prog, status, *fragments):
    """One line ``prog: error: ...`` on stderr holding every fragment, no traceback."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{prog}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.returncode == status, result.stderr


def leftovers(*folders):
    """Temporary files (``*.part``) anywhere under ``folders``."""
    return [path for folder in folders
            for path in glob.glob(os.path.join(str(folder), "**", "*.part"), recursive=True)
            + glob.glob(os.path.join(str(folder), "**", ".*.part"), recursive=True)]


# ------------------------------------------------------------------ bad flags

BAD_FLAGS = [
    ("train_cnn.py", ["--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
    ("train_cnn.py", ["--epochs", "-2"], "argument --epochs: expected a positive integer, got -2"),
    ("train_mlp.py", ["--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
    ("train_mlp.py", ["--epochs", "-2"], "argument --epochs: expected a positive integer"),
    ("train_cnn.py", ["--limit-train", "0"], "argument --limit-train: expected a positive integer"),
    ("train_cnn.py", ["--limit-train", "-5"], "argument --limit-train: expected a positive int"),
    ("train_cnn.py", ["--log-interval", "0"], "argument --log-interval: expected a positive int"),
    ("train_resnet.py", ["--width", "0"], "argument --width: expected a positive integer, got 0"),
    ("train_cnn.py", ["--batch-size", "0"], "argument --batch-size: expected a positive integer"),
    ("train_mlp.py", ["--batch-size", "-1"], "argument --batch-size: expected a positive integer"),
    ("train_cnn.py", ["--lr", "0"], "argument --lr: expected a positive number, got 0"),
    ("train_cnn.py", ["--lr", "nan"], "argument --lr: expected a positive number, got nan"),
    ("train_cnn.py", ["--momentum", "-0.5"], "argument --momentum: expected a number >= 0"),
    ("train_cnn.py", ["--seed", "-1"], "argument --seed: expected an integer >= 0, got -1"),
    ("train_cnn.py", ["--epochs", "three"], "--epochs: expected a positive integer, got 'three'"),
    ("train_cnn.py", ["--bogus"], "unrecognized arguments: --bogus"),
]


@pytest.fixture(scope="module")
def bad_flag_runs(mnist, tmp_path_factory):
    """Every BAD_FLAGS case started at once (they are independent): the module waits for
    the slowest, not for their sum. ``{index: (process, data_dir)}``."""
    runs = {}
    for i, (script, args, _) in enumerate(BAD_FLAGS):
        data_dir = tmp_path_factory.mktemp("bad-flag") / "data"
        runs[i] = (start_example(mnist, script, "--data-dir", data_dir, *args), data_dir)
    yield runs
    for process, _ in runs.values():
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.parametrize("case", range(len(BAD_FLAGS)),
                         ids=[f"{s} {' '.join(a)}" for s, a, _ in BAD_FLAGS])
def test_bad_flag_is_one_line_before_any_work(bad_flag_runs, case):
    script, _, message = BAD_FLAGS[case]
    process, data_dir = bad_flag_runs[case]
    result = finish(process)
    assert_one_line_error(result, script, 2, message)
    assert not data_dir.exists() and result.stdout == ""  # nothing downloaded, nothing printed


@pytest.mark.skipif(tinynn.cuda.is_available(), reason="CuPy and a GPU are here")
def test_cupy_backend_without_a_gpu_is_one_line(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--backend", "cupy")
    assert_one_line_error(result, "train_cnn.py", 2, "--backend cupy needs CuPy", "pip install")


# ------------------------------------------------------------------ --save

def test_save_to_a_folder(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--save", tmp_path)
    assert_one_line_error(result, "train_cnn.py", 2, f"--save {tmp_path} is a folder")
    assert not (tmp_path / "d").exists()


def test_save_into_a_missing_folder(mnist, tmp_path):
    target = tmp_path / "no" / "ck.npz"
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--save", target)
    assert_one_line_error(result, "train_cnn.py", 2, f"the folder {tmp_path / 'no'} does not exist")
    assert not (tmp_path / "d").exists()


@needs_read_only_sys
def test_save_where_nothing_can_be_written(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--save",
                         "/sys/tinynn-ck.npz")
    assert_one_line_error(result, "train_cnn.py", 2,
                          "--save /sys/tinynn-ck.npz: cannot write in /sys")
    assert not (tmp_path / "d").exists()


@needs_unprivileged
def test_save_into_a_read_only_folder(mnist, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--save",
                             folder / "ck.npz")
    finally:
        folder.chmod(0o755)
    assert_one_line_error(result, "train_cnn.py", 2, "cannot write in", "Permission denied")


def test_save_never_overwrites_a_file_that_is_not_a_checkpoint(mnist, tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("my notes")
    result = run_example(mnist, "train_cnn.py", "--data-dir", mnist.data, "--save", precious)
    assert_one_line_error(result, "train_cnn.py", 2, "exists and is not a tinynn checkpoint",
                          "refusing to overwrite")
    assert precious.read_text() == "my notes"


# ------------------------------------------------------------------ --resume files

def test_resume_from_a_missing_file_fails_before_the_download(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--resume",
                         tmp_path / "ck.npz")
    assert_one_line_error(result, "train_cnn.py", 2,
                          f"--resume {tmp_path / 'ck.npz'}: no such file")
    assert not (tmp_path / "d").exists()


def test_resume_from_a_folder(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--resume", tmp_path)
    assert_one_line_error(result, "train_cnn.py", 2, "is a folder")


class _TouchesMarker:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.mark.parametrize("kind", ["text", "pickle", "npy"])
def test_resume_from_a_file_that_is_not_a_checkpoint(mnist, tmp_path, kind):
    path, marker = tmp_path / "ck.npz", tmp_path / "unpickled"
    if kind == "text":
        path.write_text("epoch 3, accuracy 99%\n")
    elif kind == "pickle":
        path.write_bytes(pickle.dumps(_TouchesMarker(marker)))
    else:
        import numpy as np
        with open(path, "wb") as f:
            np.save(f, np.array([_TouchesMarker(marker)], dtype=object), allow_pickle=True)
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--resume", path)
    assert_one_line_error(result, "train_cnn.py", 2, f"{path} is not a readable tinynn checkpoint")
    assert "pickle" not in result.stderr.lower()  # never the advice to unpickle it
    assert not marker.exists() and not (tmp_path / "d").exists()


def test_resume_from_a_state_dict_that_is_not_a_training_checkpoint(mnist, tmp_path):
    from tinynn.models import CNN
    path = tmp_path / "weights.npz"
    tinynn.save(CNN().state_dict(), path)
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--resume", path)
    assert_one_line_error(result, "train_cnn.py", 2,
                          "is a tinynn file but not a training checkpoint")
    assert not (tmp_path / "d").exists()


# ------------------------------------------------------------------ --data-dir

def test_data_dir_that_is_a_file(mnist, tmp_path):
    path = tmp_path / "data"
    path.write_text("")
    result = run_example(mnist, "train_cnn.py", "--data-dir", path)
    assert_one_line_error(result, "train_cnn.py", 2, f"cannot use {path} as the dataset folder",
                          "it is a file, not a folder")
    assert result.stdout == ""


def test_data_dir_that_cannot_be_created(mnist, tmp_path):
    (tmp_path / "file").write_text("")
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "file" / "data")
    assert_one_line_error(result, "train_cnn.py", 2, "cannot write to",
                          f"{tmp_path / 'file'} is a file, not a folder")


@needs_read_only_sys
def test_data_dir_where_nothing_can_be_written(mnist):
    result = run_example(mnist, "train_cnn.py", "--data-dir", "/sys/tinynn-data")
    assert_one_line_error(result, "train_cnn.py", 2, "cannot write to /sys/tinynn-data/MNIST/raw")
    assert "Downloading" not in result.stdout


@needs_unprivileged
def test_read_only_raw_folder_fails_before_any_download(mnist, tmp_path):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    raw.chmod(0o555)
    try:
        result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "data")
    finally:
        raw.chmod(0o755)
    assert_one_line_error(result, "train_cnn.py", 2, f"cannot write to {raw}: Permission denied")
    assert "Downloading" not in result.stdout and os.listdir(raw) == []


def test_when_every_source_fails_the_error_says_what_to_place_where(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "data",
                         env={"EXAMPLE_MIRROR_DOWN": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("train_cnn.py: error: could not download MNIST")
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert f"in {raw}:" in result.stderr
    for name in FILES:
        assert f"  {name}  (MD5 " in result.stderr
    assert os.listdir(raw) == [] and not leftovers(tmp_path)


def test_a_corrupt_cached_file_is_reported_and_replaced(mnist, tmp_path):
    data = tmp_path / "data"
    raw = data / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in FILES:
        (raw / name).write_bytes((mnist.data / "MNIST" / "raw" / name).read_bytes())
    broken = raw / FILES[2]
    broken.write_bytes(broken.read_bytes()[:100])
    result = run_example(mnist, "train_cnn.py", "--data-dir", data, "--epochs", "1",
                         "--batch-size", "40")
    assert result.returncode == 0, result.stderr
    assert f"{broken} failed its checksum; downloading it again" in result.stdout
    assert broken.read_bytes() == (mnist.mirror / FILES[2]).read_bytes()
    assert not leftovers(tmp_path)


# ------------------------------------------------------------------ resuming

def epoch_lrs(stdout):
    """``{epoch: lr}`` from the ``[3] Test Loss: ... (lr 0.0125, ...)`` lines."""
    lrs = {}
    for line in stdout.splitlines():
        if line.startswith("[") and "(lr " in line:
            lrs[int(line[1:line.index("]")])] = float(line.split("(lr ")[1].split(",")[0])
    return lrs


def test_resume_with_more_epochs_continues_the_schedule(mnist, tmp_path):
    ck = tmp_path / "ck.npz"
    common = ["--data-dir", mnist.data, "--batch-size", "20", "--save", ck]
    first = run_example(mnist, "train_cnn.py", "--epochs", "2", *common)
    assert first.returncode == 0, first.stderr
    assert epoch_lrs(first.stdout) == {1: 0.05, 2: 0.025}        # cosine over 2 epochs
    second = run_example(mnist, "train_cnn.py", "--epochs", "3", "--resume", ck, *common)
    assert second.returncode == 0, second.stderr
    assert f"resumed from {ck} at epoch 3 of 3" in second.stdout
    # the cosine rebuilt for 3 epochs, at epoch 3: 0.05 * (1 + cos(2 pi / 3)) / 2, not 0
    assert epoch_lrs(second.stdout) == {3: 0.0125}
    assert tinynn.load(ck)["epoch"] == 3
    assert not leftovers(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert ck.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file the user writes


def test_resume_with_no_more_epochs_says_nothing_to_do(mnist, tmp_path):
    ck = tmp_path / "ck.npz"
    common = ["--data-dir", mnist.data, "--batch-size", "40", "--save", ck]
    assert run_example(mnist, "train_mlp.py", "--epochs", "2", *common).returncode == 0
    saved = ck.read_bytes()
    for epochs in ("2", "1"):  # as many epochs as the checkpoint holds, then fewer
        result = run_example(mnist, "train_mlp.py", "--epochs", epochs, "--resume", ck, *common)
        assert result.returncode == 0 and result.stderr == ""
        assert result.stdout.strip() == (f"train_mlp.py: nothing to do: {ck} already holds 2 "
                                          f"epochs and --epochs is {epochs}; pass a larger "
                                          f"--epochs to train further")
        assert ck.read_bytes() == saved  # untouched


def test_resume_takes_this_runs_training_flags_and_says_so(mnist, tmp_path):
    ck = tmp_path / "ck.npz"
    common = ["--data-dir", mnist.data, "--batch-size", "40", "--save", ck]
    assert run_example(mnist, "train_mlp.py", "--epochs", "1", *common).returncode == 0
    result = run_example(mnist, "train_mlp.py", "--epochs", "2", "--lr", "0.002", "--resume", ck,
                         *common)
    assert result.returncode == 0, result.stderr
    assert "this run changes --lr 0.002 (was 0.001)" in result.stdout
    assert epoch_lrs(result.stdout) == {2: 0.002}  # no schedule: the new --lr itself


def test_resume_with_another_model_names_the_flags_that_differ(mnist, tmp_path):
    ck = tmp_path / "ck.npz"
    made = run_example(mnist, "train_resnet.py", "--data-dir", mnist.data, "--width", "2",
                       "--epochs", "1", "--batch-size", "40", "--save", ck)
    assert made.returncode == 0, made.stderr
    result = run_example(mnist, "train_resnet.py", "--data-dir", tmp_path / "d", "--width", "3",
                         "--arch", "resnet34", "--epochs", "2", "--resume", ck)
    assert_one_line_error(result, "train_resnet.py", 2, "was made with a different model",
                          "--arch resnet18 (this run: resnet34)", "--width 2 (this run: 3)")
    assert not (tmp_path / "d").exists()  # found before the data
    other = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d", "--epochs", "2",
                        "--resume", ck)
    assert_one_line_error(other, "train_cnn.py", 2,
                          "was written by train_resnet.py, not train_cnn.py")


# ------------------------------------------------------------------ --save-samples

def test_save_samples_writes_a_png_of_the_predictions(mnist, tmp_path):
    target = tmp_path / "samples.png"
    result = run_example(mnist, "train_cnn.py", "--data-dir", mnist.data, "--epochs", "1",
                         "--batch-size", "20", "--save-samples", target)
    assert result.returncode == 0, result.stderr
    assert "predictions for the first 12 test digits" in result.stdout
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_samples_needs_a_png_name(mnist, tmp_path):
    result = run_example(mnist, "train_cnn.py", "--data-dir", tmp_path / "d",
                         "--save-samples", tmp_path / "samples.txt")
    assert_one_line_error(result, "train_cnn.py", 2, "--save-samples", ".png")
