"""tinynn.distributed, DistributedDataParallel, SyncBatchNorm and DistributedSampler.

What needs several processes runs under MPI, started here: one ``mpiexec -n 2`` run of
``tests/distributed/checks.py`` does every multi-rank check (collectives, DDP against one
process, SyncBatchNorm, no_sync, buckets, unused parameters...) and each check is one test
below; ``tests/distributed/faults.py`` makes a rank fail. Those tests are skipped, saying
why, only when mpi4py or mpiexec is missing (``pip install 'tinynn[mpi]'``). The rest runs
in this process without MPI: the sampler, SyncBatchNorm's arithmetic (two ranks simulated
by two threads), argument errors, and the engine hooks that DDP relies on.
"""
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.distributed as dist
import tinynn.nn as nn
from tinynn.engine import queue_callback, register_post_accumulate_grad_hook
from tinynn.nn.parallel import DistributedDataParallel
from tinynn.nn.sync_batchnorm import SyncBatchNorm, SyncBatchNormFunction
from tinynn.utils import data
from tinynn.utils.data.distributed import DistributedSampler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "tests", "distributed")


def _find_mpiexec():
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside_python if os.access(beside_python, os.X_OK) else shutil.which("mpiexec")


MPIEXEC = _find_mpiexec()
if importlib.util.find_spec("mpi4py") is None:
    MPI_MISSING = "mpi4py is not installed (pip install 'tinynn[mpi]')"
elif MPIEXEC is None:
    MPI_MISSING = "no mpiexec beside this Python or on PATH (pip install mpich)"
else:
    MPI_MISSING = None
needs_mpi = pytest.mark.skipif(MPI_MISSING is not None, reason=str(MPI_MISSING))


def run_mpi(script, *args, ranks=2, timeout=120):
    """``mpiexec -n ranks python script args``: (exit code, output, seconds). A run that
    outlives ``timeout`` is killed with its whole process group, and the test fails."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    start = time.monotonic()
    proc = subprocess.Popen([MPIEXEC, "-n", str(ranks), sys.executable, script, *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"mpiexec still running after {timeout} s (a hang); output:\n{out[-4000:]}")
    return proc.returncode, out, time.monotonic() - start


# ---------------------------------------------------------------------------- under MPI

CHECKS_SOURCE = open(os.path.join(SCRIPTS, "checks.py")).read()
CHECKS = re.findall(r"^def (check_\w+)\(", CHECKS_SOURCE, re.M)


@pytest.fixture(scope="module")
def mpi_results():
    """Every check of tests/distributed/checks.py, run once on 2 ranks."""
    code, out, _ = run_mpi(os.path.join(SCRIPTS, "checks.py"))
    lines = [line for line in out.splitlines() if line.startswith("RESULTS ")]
    if code != 0 or not lines:
        pytest.fail(f"mpiexec -n 2 tests/distributed/checks.py failed (exit code {code}):\n"
                    f"{out[-4000:]}")
    return json.loads(lines[-1][len("RESULTS "):])


@needs_mpi
@pytest.mark.parametrize("check", CHECKS)
def test_under_mpi(mpi_results, check):
    outcomes = mpi_results[check]
    failed = {rank: text for rank, text in outcomes.items() if text != "ok"}
    assert len(outcomes) == 2 and not failed, "\n".join(
        f"--- rank {rank}:\n{text}" for rank, text in failed.items())


@needs_mpi
def test_a_rank_that_raises_stops_every_rank():
    code, out, seconds = run_mpi(os.path.join(SCRIPTS, "faults.py"), "raise", timeout=60)
    assert code != 0
    assert "ValueError: rank 1 failed on purpose at step 2" in out       # the traceback
    assert "rank 1 of 2 raised ValueError; calling MPI_Abort" in out
    assert "finished" not in out
    assert seconds < 30, seconds


@needs_mpi
def test_a_rank_that_leaves_early_stops_every_rank_after_the_timeout():
    # Every run must stop every rank, soon. Which process notices first is a race on a
    # loaded machine (the process manager may end rank 0 before its watchdog prints), so
    # the watchdog's own message is required in one of up to three runs.
    messages = []
    for _ in range(3):
        code, out, seconds = run_mpi(os.path.join(SCRIPTS, "faults.py"), "exit", timeout=60)
        assert code != 0
        assert "finished" not in out
        assert seconds < 30, seconds
        messages.append(out)
        if "rank 0 of 2 waited more than 2 s" in out and "MPI_Abort" in out:
            return
    pytest.fail("the watchdog never said why it stopped the ranks:\n" + "\n---\n".join(messages))


# ---------------------------------------------------------------------------- no MPI needed

def test_import_tinynn_does_not_import_mpi4py():
    code = ("import sys, tinynn, tinynn.distributed, tinynn.nn.parallel, tinynn.nn.sync_batchnorm,"
            " tinynn.utils.data.distributed; assert 'mpi4py' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_reduce_ops_and_defaults():
    assert {op.name for op in dist.ReduceOp} >= {"SUM", "AVG", "PRODUCT", "MIN", "MAX"}
    assert dist.is_available() == (importlib.util.find_spec("mpi4py") is not None)
    assert not dist.is_initialized()


def test_init_process_group_knows_only_mpi():
    for name in ("gloo", "nccl", "GLOO"):
        with pytest.raises(ValueError, match=f"backend '{name}' is not available.*'mpi'"):
            dist.init_process_group(name)
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="timeout must be a positive"):
        dist.init_process_group("mpi", timeout=-1)


def test_missing_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)       # "import mpi4py" now fails
    assert not dist.is_available()
    with pytest.raises(ImportError, match=re.escape("pip install 'tinynn[mpi]'")):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="Requires distributed package"):
        DistributedSampler(range(4))


def test_collectives_need_init_process_group():
    t = tinynn.ones(2)
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(t),
                 lambda: dist.broadcast(t, 0), lambda: dist.reduce(t, 0)):
        with pytest.raises(ValueError, match="init_process_group"):
            call()
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedDataParallel(nn.Linear(2, 2))
    if dist.is_available():
        with pytest.raises(ValueError, match="num_replicas"):
            DistributedSampler(range(4))


# ---------------------------------------------------------------------------- DistributedSampler

def pytorch_partition(n, replicas, rank, drop_last, order=None):
    """PyTorch's documented DistributedSampler arithmetic, written out with lists."""
    indices = list(range(n)) if order is None else list(order)
    if drop_last and n % replicas:
        num_samples = math.ceil((n - replicas) / replicas)
    else:
        num_samples = math.ceil(n / replicas)
    total = num_samples * replicas
    if not drop_last:
        padding = total - len(indices)
        if padding <= len(indices):
            indices += indices[:padding]
        else:
            indices += (indices * math.ceil(padding / len(indices)))[:padding]
    else:
        indices = indices[:total]
    return indices[rank:total:replicas]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), replicas=st.integers(1, 7), drop_last=st.booleans())
def test_sampler_partitions_as_pytorch(n, replicas, drop_last):
    shares = [list(DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last))
              for r in range(replicas)]
    for r, share in enumerate(shares):
        assert share == pytorch_partition(n, replicas, r, drop_last)
        assert len(share) == len(DistributedSampler(range(n), replicas, r, drop_last=drop_last))
    everything = sorted(i for share in shares for i in share)
    if drop_last:   # the tail is dropped, nothing repeats
        assert len(set(everything)) == len(everything) == (n // replicas) * replicas
    else:           # every index, plus the padding repeated from the start
        assert set(everything) == set(range(n))
        assert len(everything) == math.ceil(n / replicas) * replicas


def test_sampler_worked_example():
    # 10 samples on 3 ranks: padded with index 0 to 12; rank 1 gets positions 1, 4, 7, 10.
    assert list(DistributedSampler(range(10), 3, 1, shuffle=False)) == [1, 4, 7, 0]
    assert list(DistributedSampler(range(10), 3, 2, shuffle=False, drop_last=True)) == [2, 5, 8]
    # 2 samples on 5 ranks: the list repeats more than once.
    assert [list(DistributedSampler(range(2), 5, r, shuffle=False)) for r in range(5)] == \
        [[0], [1], [0], [1], [0]]


def test_sampler_shuffle_follows_seed_and_epoch():
    def epoch(seed, e, rank=0, replicas=3, n=50):
        s = DistributedSampler(range(n), replicas, rank, seed=seed)
        s.set_epoch(e)
        return list(s)
    tinynn.manual_seed(123)             # the global generator plays no part
    first = epoch(0, 0)
    tinynn.manual_seed(456)
    assert epoch(0, 0) == first                          # deterministic for a seed
    assert epoch(0, 1) != first                          # set_epoch reshuffles
    assert epoch(1, 0) != first and epoch(1, 0) == epoch(0, 1)   # seed + epoch
    order = tinynn.Generator().manual_seed(7 + 2).permutation(50).tolist()
    for rank in range(3):               # the documented recipe, on the seeded permutation
        assert epoch(7, 2, rank) == pytorch_partition(50, 3, rank, False, order)
    shares = [epoch(3, 5, r) for r in range(3)]      # 50 -> 51: one index repeats
    padded = tinynn.Generator().manual_seed(3 + 5).permutation(50).tolist()
    assert sorted(sum(shares, [])) == sorted(padded + padded[:1])


def test_sampler_with_dataloader_and_errors():
    ds = data.TensorDataset(tinynn.arange(10) * 10)
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    loader = data.DataLoader(ds, batch_size=2, sampler=sampler)
    assert len(loader) == 3
    assert [b.tolist() for (b,) in loader] == [[10, 30], [50, 70], [90]]
    assert data.DistributedSampler is DistributedSampler
    with pytest.raises(ValueError, match=re.escape("Invalid rank 3, rank should be in the "
                                                   "interval [0, 2]")):
        DistributedSampler(ds, num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(ds, num_replicas=3, rank=-1)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(ds, num_replicas=0, rank=0)
    assert list(DistributedSampler([], 2, 0)) == []


# ---------------------------------------------------------------------------- SyncBatchNorm

def test_sync_batchnorm_without_a_group_is_batchnorm(device):
    tinynn.manual_seed(0)
    x = tinynn.randn(6, 3, 4, 5, device=device, requires_grad=True)
    bn, sync = nn.BatchNorm2d(3).to(device), SyncBatchNorm(3).to(device)
    g = tinynn.randn(6, 3, 4, 5, device=device)
    outs = []
    for layer in (bn, sync):
        x.grad = None
        out = layer(x)
        out.backward(g)
        outs.append((out.detach().cpu().numpy(), x.grad.cpu().numpy(),
                     layer.weight.grad.cpu().numpy(), layer.running_var.cpu().numpy()))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=re.escape("expected at least 2D input (got 1D input)")):
        sync(tinynn.ones(3, device=device))


def test_convert_sync_batchnorm():
    inner = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4, momentum=None), nn.ReLU())
    model = nn.Sequential(inner, nn.Flatten(), nn.BatchNorm1d(16, affine=False, eps=1e-3))
    model[2].eval()
    others = [getattr(nn, "InstanceNorm2d")(4)] if hasattr(nn, "InstanceNorm2d") else []
    if others:
        model.add_module("instance", others[0])
    weight, running_mean = inner[1].weight, inner[1].running_mean
    keys = list(model.state_dict())
    converted = SyncBatchNorm.convert_sync_batchnorm(model)
    assert converted is model
    bn2, bn1 = model[0][1], model[2]
    assert type(bn2) is SyncBatchNorm and type(bn1) is SyncBatchNorm
    assert bn2.weight is weight and bn2.running_mean is running_mean    # shared, not copied
    assert bn2.momentum is None and bn2.training
    assert bn1.eps == 1e-3 and not bn1.affine and bn1.weight is None and not bn1.training
    for other in others:
        assert type(model.instance) is type(other)                      # not a BatchNorm
    assert list(model.state_dict()) == keys             # checkpoints load either way
    single = nn.BatchNorm2d(5)
    assert type(SyncBatchNorm.convert_sync_batchnorm(single)) is SyncBatchNorm


class ThreadRanks:
    """Two "ranks" as two threads, with a summing allreduce built on a barrier."""

    def __init__(self, size):
        self.size, self.barrier, self.slots = size, threading.Barrier(size), [None] * size

    def allreduce_for(self, rank):
        def allreduce(array):
            self.slots[rank] = array.copy()
            self.barrier.wait()
            total = self.slots[0]
            for other in self.slots[1:]:
                total = total + other
            self.barrier.wait()
            array[...] = total
        return allreduce

    def run(self, fn):
        results, errors = [None] * self.size, []

        def target(rank):
            try:
                results[rank] = fn(rank, self.allreduce_for(rank))
            except Exception as exc:   # pragma: no cover - reported below
                errors.append(exc)
                self.barrier.abort()
        threads = [threading.Thread(target=target, args=(r,)) for r in range(self.size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        return results


@pytest.mark.parametrize("shape", [(8, 3), (6, 2, 5), (4, 3, 5, 6)])
def test_sync_batchnorm_arithmetic_equals_batchnorm_on_the_whole_batch(device, shape):
    """Each thread-rank normalises its half with the global statistics: forward, running
    statistics, the input gradient and the (summed) weight and bias gradients are those of
    BatchNorm over the whole batch (float64)."""
    rng = np.random.default_rng(1)
    xp = device.xp
    x = rng.standard_normal(shape) * 3 + 2
    g = rng.standard_normal(shape)
    weight, bias = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    reference = nn.BatchNorm1d(shape[1]) if len(shape) < 4 else nn.BatchNorm2d(shape[1])
    reference = reference.double().to(device)
    reference.weight.data = tinynn.tensor(weight, device=device)
    reference.bias.data = tinynn.tensor(bias, device=device)
    xt = tinynn.tensor(x, device=device, requires_grad=True)
    out = reference(xt)
    out.backward(tinynn.tensor(g, device=device))
    half = shape[0] // 2

    def rank_step(rank, allreduce):
        part = slice(rank * half, (rank + 1) * half)
        fn = SyncBatchNormFunction()
        fn.needs_input_grad = (True, True, True)
        running_mean, running_var = xp.zeros(shape[1]), xp.ones(shape[1])
        y = fn.forward(xp.asarray(x[part]), xp.asarray(weight), xp.asarray(bias),
                       running_mean=running_mean, running_var=running_var, momentum=0.1,
                       eps=1e-5, allreduce=allreduce)
        y = y.copy()
        gx, gw, gb = fn.backward(xp.asarray(g[part]))
        return y, gx, gw, gb, running_mean, running_var

    results = ThreadRanks(2).run(rank_step)
    host = tinynn.backend.to_numpy
    np.testing.assert_allclose(np.concatenate([host(r[0]) for r in results]),
                               out.detach().cpu().numpy(), atol=1e-12)
    np.testing.assert_allclose(np.concatenate([host(r[1]) for r in results]),
                               xt.grad.cpu().numpy(), atol=1e-12)
    np.testing.assert_allclose(host(results[0][2]) + host(results[1][2]),
                               reference.weight.grad.cpu().numpy(), atol=1e-12)
    np.testing.assert_allclose(host(results[0][3]) + host(results[1][3]),
                               reference.bias.grad.cpu().numpy(), atol=1e-12)
    for r in results:
        np.testing.assert_allclose(host(r[4]), reference.running_mean.cpu().numpy(), atol=1e-12)
        np.testing.assert_allclose(host(r[5]), reference.running_var.cpu().numpy(), atol=1e-12)


def test_sync_batchnorm_keeps_float32(device):
    xp = device.xp
    x = xp.asarray(np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32))

    def rank_step(rank, allreduce):
        fn = SyncBatchNormFunction()
        fn.needs_input_grad = (True, True, True)
        w, b = xp.ones(3, dtype=np.float32), xp.zeros(3, dtype=np.float32)
        y = fn.forward(x[rank * 2:rank * 2 + 2], w, b, running_mean=None, running_var=None,
                       momentum=0.1, eps=1e-5, allreduce=allreduce)
        return (y.dtype,) + tuple(a.dtype for a in fn.backward(xp.ones_like(y)))

    for dtypes in ThreadRanks(2).run(rank_step):
        assert all(d == np.float32 for d in dtypes), dtypes


# ---------------------------------------------------------------------------- engine hooks

def test_leaf_is_served_when_its_last_consumer_has_run(device):
    """A parameter of the last layer gets its gradient before backward reaches the first
    layer (DDP starts its allreduce then); a leaf used twice still sees its sum once."""
    events = []
    w1 = tinynn.randn(3, 3, device=device, requires_grad=True)
    w2 = tinynn.randn(3, 3, device=device, requires_grad=True)
    x = tinynn.randn(2, 3, device=device)
    h = x @ w1
    h.register_hook(lambda g: events.append("h"))
    w2.register_hook(lambda g: events.append("w2"))
    register_post_accumulate_grad_hook(w2, lambda t: events.append(("w2 accumulated",
                                                                    t.grad is not None)))
    w1.register_hook(lambda g: events.append("w1"))
    loss = ((h @ w2) @ w2).sum()       # w2 used twice
    loss.backward()
    assert events == ["w2", ("w2 accumulated", True), "h", "w1"]


def test_post_accumulate_grad_hook(device):
    w = tinynn.ones(2, device=device, requires_grad=True)
    seen = []
    handle = register_post_accumulate_grad_hook(w, lambda t: seen.append(t.grad.cpu().tolist()))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert seen == [[3.0, 3.0], [6.0, 6.0]]          # after accumulation, every pass
    tinynn.autograd.grad((w * 2).sum(), [w])         # no .grad accumulation: no call
    assert len(seen) == 2
    (w * 1).sum().backward(inputs=[w])
    assert seen[-1] == [7.0, 7.0]
    handle.remove()
    (w * 3).sum().backward()
    assert len(seen) == 3
    with pytest.raises(RuntimeError, match="non-leaf"):
        register_post_accumulate_grad_hook(w * 2, lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        register_post_accumulate_grad_hook(tinynn.ones(2, device=device), lambda t: None)


def test_queue_callback_runs_once_after_the_pass(device):
    w = tinynn.ones(2, device=device, requires_grad=True)
    calls = []

    def hook(g):
        queue_callback(lambda: calls.append(w.grad is not None))
        return g
    y = w * 2
    y.register_hook(hook)
    (y * y).sum().backward()
    assert calls == [True]                           # after every leaf was served
    (w * 5).sum().backward()
    assert calls == [True]                           # queued callbacks do not linger
    with pytest.raises(RuntimeError, match="during the backward pass"):
        queue_callback(lambda: None)


@needs_mpi
def test_train_cnn_under_mpiexec_trains_on_both_ranks_and_saves_once(tmp_path):
    """``mpiexec -n 2 python examples/train_cnn.py``: one log, one checkpoint, and the test
    accuracy counted over both ranks' halves of the test set."""
    from fixtures_mnist import make_arrays, write_raw
    data = tmp_path / "data"
    write_raw(data / "MNIST" / "raw", make_arrays(n_train=40, n_test=12))
    checkpoint = tmp_path / "cnn.ckpt"
    code, out, _ = run_mpi(os.path.join(ROOT, "examples", "train_cnn.py"), "--data-dir", str(data),
                           "--epochs", "1", "--batch-size", "20", "--save", str(checkpoint))
    assert code == 0, out
    assert out.count("[1] Test Loss") == 1 and "2 ranks of batch 10" in out, out
    assert checkpoint.exists()
    assert tinynn.load(str(checkpoint))["epoch"] == 1


@needs_mpi
def test_train_cnn_under_mpiexec_needs_a_batch_that_divides(tmp_path):
    code, out, _ = run_mpi(os.path.join(ROOT, "examples", "train_cnn.py"), "--data-dir",
                           str(tmp_path / "d"), "--batch-size", "21")
    assert code == 2 and "--batch-size 21 must divide evenly over the 2 ranks" in out, out
