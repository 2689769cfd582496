"""Checks that need several MPI ranks; tests/test_distributed.py runs them as

    mpiexec -n 2 python tests/distributed/checks.py [check names...]   (default: all)

Every rank runs every check (the functions ``check_*`` below, in order). A check that
raises is reported, not fatal: after each one the ranks exchange their outcome, and rank 0
prints one line ``RESULTS {json}`` mapping each check to each rank's "ok" or traceback.
"""
import datetime
import json
import os
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))   # the repository
sys.path.insert(0, os.path.dirname(HERE))                     # tests/ (fake_cupy)

import tinynn  # noqa: E402
import tinynn.distributed as dist  # noqa: E402
import tinynn.nn as nn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn import optim  # noqa: E402
from tinynn.nn.parallel import DistributedDataParallel as DDP  # noqa: E402
from tinynn.nn.sync_batchnorm import SyncBatchNorm  # noqa: E402
from tinynn.utils.data import DataLoader, TensorDataset  # noqa: E402
from tinynn.utils.data.distributed import DistributedSampler  # noqa: E402

RANK = SIZE = None


def raises(exc_type, words, fn, *args, **kwargs):
    """Assert that ``fn(*args, **kwargs)`` raises ``exc_type`` with all ``words`` in its message."""
    try:
        fn(*args, **kwargs)
    except exc_type as exc:
        for word in words:
            assert word in str(exc), f"{word!r} not in {exc}"
        return str(exc)
    raise AssertionError(f"{fn.__name__} did not raise {exc_type.__name__}")


# ---------------------------------------------------------------------------- collectives

def check_collectives():
    r, n = RANK, SIZE
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    mine = tinynn.tensor([1.0, -2.0, 3.0], dtype=tinynn.float64) * (r + 1)  # rank r: (r+1) * base
    base = np.array([1.0, -2.0, 3.0])
    factors = np.arange(1, n + 1)
    expected = {dist.ReduceOp.SUM: base * factors.sum(), dist.ReduceOp.AVG: base * factors.mean(),
                dist.ReduceOp.PRODUCT: base ** n * np.prod(factors),
                dist.ReduceOp.MAX: np.where(base > 0, base * n, base),
                dist.ReduceOp.MIN: np.where(base > 0, base, base * n)}
    for op, want in expected.items():
        t = mine.clone()
        assert dist.all_reduce(t, op=op) is None
        np.testing.assert_allclose(t.numpy(), want, rtol=0, atol=1e-12, err_msg=str(op))
    ints = tinynn.tensor([1 << r, 3, 5 + r])
    dist.all_reduce(ints)
    assert ints.tolist() == [sum(1 << k for k in range(n)), 3 * n, sum(5 + k for k in range(n))]
    for op, want in ((dist.ReduceOp.BAND, 0), (dist.ReduceOp.BOR, 3), (dist.ReduceOp.BXOR, 3)):
        t = tinynn.tensor([1 << r])
        dist.all_reduce(t, op=op)
        assert t.item() == want, (op, t.item())
    flags = tinynn.tensor([r == 0, False, True])
    dist.all_reduce(flags)                       # bool SUM is "or"
    assert flags.tolist() == [True, False, True]
    # A non-contiguous view is reduced in place (its base array changes).
    base2d = tinynn.arange(6, dtype=tinynn.float32).reshape(2, 3) * (r + 1)
    view = base2d.T
    dist.all_reduce(view, op=dist.ReduceOp.MAX)
    assert base2d.tolist() == (tinynn.arange(6, dtype=tinynn.float32).reshape(2, 3) * n).tolist()
    # async_op: a Work to wait for.
    t = tinynn.tensor([float(r)])
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() is True and work.is_completed()
    assert t.item() == sum(range(n))
    # broadcast from the last rank, into a float32 tensor.
    b = tinynn.tensor([float(r), 10.0 * r])
    dist.broadcast(b, src=n - 1)
    assert b.tolist() == [n - 1.0, 10.0 * (n - 1)]
    # all_gather into a list, and into one tensor.
    out = [tinynn.zeros(2, dtype=tinynn.int64) for _ in range(n)]
    dist.all_gather(out, tinynn.tensor([r, 100 + r]))
    assert [o.tolist() for o in out] == [[k, 100 + k] for k in range(n)]
    flat = tinynn.zeros(n * 2)
    dist.all_gather_into_tensor(flat, tinynn.tensor([r, -r], dtype=tinynn.float32))
    assert flat.tolist() == [v for k in range(n) for v in (k, -k)]
    # gather to the last rank; the others pass no list.
    dst = n - 1
    lst = [tinynn.zeros(1) for _ in range(n)] if r == dst else None
    dist.gather(tinynn.tensor([r + 0.5]), lst, dst=dst)
    if r == dst:
        assert [x.item() for x in lst] == [k + 0.5 for k in range(n)]
    # reduce to rank 0: the others keep their input.
    t = tinynn.tensor([r + 1.0])
    dist.reduce(t, dst=0, op=dist.ReduceOp.PRODUCT)
    assert t.item() == (float(np.prod(factors)) if r == 0 else r + 1.0)
    dist.barrier()
    assert dist.barrier(async_op=True).wait()


def check_collective_argument_errors():
    r, n = RANK, SIZE
    t = tinynn.ones(2)
    raises(ValueError, ["src=", "ranks 0 to"], dist.broadcast, t, src=n)
    raises(TypeError, ["ReduceOp"], dist.all_reduce, t, op="sum")
    raises(ValueError, ["AVG", "floating-point", "int64"], dist.all_reduce,
           tinynn.tensor([1, 2]), op=dist.ReduceOp.AVG)
    raises(ValueError, ["BXOR", "integer"], dist.all_reduce, t, op=dist.ReduceOp.BXOR)
    raises(TypeError, ["tinynn.Tensor", "ndarray"], dist.all_reduce, np.ones(2))
    raises(ValueError, ["world size = 2", "got 1"], dist.all_gather, [tinynn.ones(2)], t)
    raises(RuntimeError, ["shape (3,)", "(2,)"], dist.all_gather, [tinynn.ones(3)] * n, t)
    raises(ValueError, ["only the default group"], dist.all_reduce, t, group="workers")
    raises(RuntimeError, ["twice"], dist.init_process_group, "mpi")
    if r == 0:
        raises(ValueError, ["must be specified on destination"], dist.gather, t, None, dst=0)
    else:
        raises(ValueError, ["must NOT be specified"], dist.gather, t, [t, t], dst=0)
    # init_process_group checks world_size/rank against MPI (after leaving the group).
    dist.destroy_process_group()
    assert not dist.is_initialized()
    raises(ValueError, ["init_process_group"], dist.get_rank)
    raises(ValueError, ["world_size=3", "mpiexec -n 2"], dist.init_process_group, world_size=3)
    raises(ValueError, ["backend 'gloo'", "only backend is 'mpi'"], dist.init_process_group,
           "gloo")
    dist.init_process_group("mpi", world_size=n, rank=r,
                            timeout=datetime.timedelta(seconds=60))
    assert dist.get_rank() == r


def check_gpu_arrays_through_host_copies():
    """The CuPy path without NCCL, on fake_cupy (NumPy pretending to be a GPU)."""
    import fake_cupy
    from tinynn import backend
    saved = backend._gpu, backend._gpu_error
    backend._gpu, backend._gpu_error = fake_cupy.make_backend(), None
    try:
        cuda = tinynn.device("cuda")
        t = tinynn.tensor([1.0, 2.0], device=cuda) * (RANK + 1)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.device == cuda and t.cpu().tolist() == [1.5, 3.0]
        b = tinynn.tensor([float(RANK)], device=cuda)
        dist.broadcast(b, src=1)
        assert b.cpu().tolist() == [1.0]
        out = [tinynn.zeros(1, device=cuda) for _ in range(SIZE)]
        dist.all_gather(out, tinynn.tensor([RANK + 1.0], device=cuda))
        assert [o.cpu().item() for o in out] == [1.0, 2.0]
        raises(RuntimeError, ["cuda", "cpu", "same device"], dist.all_gather,
               [tinynn.zeros(1) for _ in range(SIZE)], tinynn.zeros(1, device=cuda))
        # DDP on a "GPU" model: its gradients travel through the host too.
        x, y = batch_data(8, seed=3)
        tinynn.manual_seed(0)
        model = mlp().to(cuda)
        ref = mlp().to(cuda)
        ref.load_state_dict(model.state_dict())
        ddp = DDP(model, device_ids=[0])
        F.cross_entropy(ddp(shard(x).to(cuda)), shard(y).to(cuda)).backward()
        F.cross_entropy(ref(x.to(cuda)), y.to(cuda)).backward()
        for p, q in zip(model.parameters(), ref.parameters()):
            assert p.grad.device == cuda
            np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), atol=1e-12)
    finally:
        backend._gpu, backend._gpu_error = saved


# ---------------------------------------------------------------------------- DDP

def mlp():
    return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 5)).double()


class SmallCNN(nn.Module):
    """conv -> (batch norm) -> relu -> pool -> linear, on (N, 1, 8, 8) input, float64."""

    def __init__(self, batch_norm=False):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.bn2 = nn.BatchNorm2d(6) if batch_norm else nn.Identity()
        self.fc = nn.Linear(6 * 2 * 2, 5)
        self.double()

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(x.flatten(1))


def batch_data(count, seed, image=False):
    """The same global batch on every rank (inputs float64, labels in 0..4)."""
    rng = np.random.default_rng(seed)
    shape = (count, 1, 8, 8) if image else (count, 12)
    return tinynn.tensor(rng.standard_normal(shape)), tinynn.tensor(rng.integers(0, 5, count))


def shard(t):
    """This rank's contiguous share of a global batch."""
    per = t.shape[0] // SIZE
    return t[RANK * per:(RANK + 1) * per]


def train(model, batches, opt_cls=optim.SGD, local=False, **opt_kwargs):
    """Steps of cross entropy + optimizer over ``batches``; ``local``: feed this rank's shard."""
    opt = opt_cls(model.parameters(), **(opt_kwargs or {"lr": 0.1, "momentum": 0.9}))
    for x, y in batches:
        opt.zero_grad()
        if local:
            x, y = shard(x), shard(y)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model


def params_of(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def assert_same(a, b, atol):
    assert a.keys() == b.keys(), (a.keys(), b.keys())
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=atol, err_msg=k)


def assert_equal_on_every_rank(module):
    """Bitwise the same parameters and buffers on every rank."""
    flat = np.concatenate([v.astype(np.float64).ravel() for v in params_of(module).values()])
    everyone = [np.zeros_like(flat) for _ in range(SIZE)]
    tensors = [tinynn.tensor(e) for e in everyone]
    dist.all_gather(tensors, tinynn.tensor(flat))
    for k, t in enumerate(tensors):
        assert np.array_equal(t.numpy(), flat), f"rank {k} differs from rank {RANK}"


def check_ddp_matches_one_process_mlp():
    """3 steps of DDP, 2 ranks x 32 = 3 steps of one process on the 64 samples (float64)."""
    tinynn.manual_seed(100 + RANK)                      # different init per rank ...
    model = mlp()
    ddp = DDP(model)                                    # ... until DDP copies rank 0's
    tinynn.manual_seed(100)
    reference = mlp()
    batches = [batch_data(64, seed=s) for s in range(3)]
    train(ddp, batches, local=True)
    train(reference, batches)
    assert_same(params_of(model), params_of(reference), 1e-10)
    assert_equal_on_every_rank(model)
    assert ddp.reducer.stats["backward_passes"] == 3


def check_ddp_matches_one_process_cnn_adam():
    tinynn.manual_seed(7)
    model, reference = SmallCNN(), SmallCNN()
    reference.load_state_dict(model.state_dict())
    ddp = DDP(model, bucket_cap_mb=0.0005)              # a few parameters per bucket
    batches = [batch_data(64, seed=10 + s, image=True) for s in range(3)]
    train(ddp, batches, optim.Adam, local=True, lr=0.01)
    train(reference, batches, optim.Adam, lr=0.01)
    assert_same(params_of(model), params_of(reference), 1e-10)
    assert_equal_on_every_rank(model)


def check_sync_batchnorm_matches_one_process():
    """DDP + SyncBatchNorm on 2 x 32 = BatchNorm on 64: parameters and running statistics."""
    tinynn.manual_seed(3)
    reference = SmallCNN(batch_norm=True)
    model = SmallCNN(batch_norm=True)
    model.load_state_dict(reference.state_dict())
    model = SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(model.bn, SyncBatchNorm) and isinstance(model.bn2, SyncBatchNorm)
    ddp = DDP(model)
    batches = [batch_data(64, seed=20 + s, image=True) for s in range(3)]
    train(ddp, batches, local=True)
    train(reference, batches)
    assert_same(params_of(model), params_of(reference), 1e-10)   # running stats included
    assert_equal_on_every_rank(model)
    # Eval mode uses the (identical) running statistics: the same logits as the reference.
    x, _ = batch_data(16, seed=99, image=True)
    ddp.eval()
    reference.eval()
    with tinynn.no_grad():
        np.testing.assert_allclose(ddp(x).numpy(), reference(x).numpy(), atol=1e-10)


def check_plain_batchnorm_is_not_synchronised():
    """Without SyncBatchNorm each rank normalises its own half: not the one-process result
    (the check above is not passing by accident); rank 0's buffers are broadcast."""
    tinynn.manual_seed(3)
    reference = SmallCNN(batch_norm=True)
    model = SmallCNN(batch_norm=True)
    model.load_state_dict(reference.state_dict())
    ddp = DDP(model)
    batches = [batch_data(64, seed=20 + s, image=True) for s in range(2)]
    train(ddp, batches, local=True)
    train(reference, batches)
    diff = max(np.abs(a - b).max() for a, b in zip(params_of(model).values(),
                                                   params_of(reference).values()))
    assert diff > 1e-6, diff
    x, _ = batch_data(4, seed=5, image=True)
    ddp(x)                                  # broadcast_buffers: rank 0's running stats
    assert_equal_on_every_rank(model)


def check_no_sync_accumulates_then_syncs_once():
    tinynn.manual_seed(11)
    model, reference = mlp(), mlp()
    reference.load_state_dict(model.state_dict())
    ddp = DDP(model)
    micro = [batch_data(64, seed=30 + s) for s in range(3)]
    before = ddp.reducer.stats["bytes_reduced"]
    with ddp.no_sync():
        for x, y in micro[:2]:
            F.cross_entropy(ddp(shard(x)), shard(y)).backward()
    assert ddp.reducer.stats["bytes_reduced"] == before        # no communication yet
    local = model[0].weight.grad.numpy().copy()
    gathered = [tinynn.zeros(*local.shape, dtype=tinynn.float64) for _ in range(SIZE)]
    dist.all_gather(gathered, tinynn.tensor(local))
    assert not np.allclose(gathered[0].numpy(), gathered[1].numpy())   # still rank-local
    x, y = micro[2]
    F.cross_entropy(ddp(shard(x)), shard(y)).backward()        # synchronises the sum
    assert ddp.reducer.stats["backward_passes"] == 1
    for x, y in micro:
        F.cross_entropy(reference(x), y).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-10, err_msg=name)


def check_bucket_sizes_give_the_same_result():
    results = []
    for cap in (0, 0.0002, 0.002, 25):
        tinynn.manual_seed(5)
        model = SmallCNN()
        ddp = DDP(model, bucket_cap_mb=cap)
        if cap == 0:
            assert len(ddp.reducer.buckets) == len(list(model.parameters()))   # one each
        if cap == 25:
            assert len(ddp.reducer.buckets) == 1
        train(ddp, [batch_data(64, seed=40 + s, image=True) for s in range(2)], local=True)
        results.append(params_of(model))
    for other in results[1:]:
        assert_same(results[0], other, 0)      # sums of the same numbers: bitwise equal


def check_buckets_start_during_backward():
    """The first bucket's allreduce starts before backward has reached the first layer."""
    tinynn.manual_seed(5)
    model = mlp()
    ddp = DDP(model, bucket_cap_mb=0)
    events = []
    world = ddp.reducer.world
    original = world.allreduce

    def logging_allreduce(array, op="sum", blocking=True):
        events.append("allreduce")
        return original(array, op, blocking)

    world.allreduce = logging_allreduce
    try:
        x, y = batch_data(64, seed=1)
        out = hidden = model[0](shard(x))                 # the first layer's output
        hidden.register_hook(lambda g: events.append("first layer"))
        for layer in list(model)[1:]:
            out = layer(out)
        loss = F.cross_entropy(out, shard(y))
        ddp.reducer.expect_backward()                     # as DDP.forward does
        loss.backward()
    finally:
        world.allreduce = original
    assert events.index("allreduce") < events.index("first layer"), events
    assert events.count("allreduce") == len(ddp.reducer.buckets)


def check_unused_parameters():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.used, self.unused = nn.Linear(12, 8), nn.Linear(8, 5), nn.Linear(8, 5)
            self.double()

        def forward(self, x, head="used"):
            return getattr(self, head)(self.body(x))

    x, y = batch_data(64, seed=2)
    tinynn.manual_seed(1)
    ddp = DDP(TwoHeads())
    message = raises(RuntimeError, ["unused.weight", "unused.bias", "find_unused_parameters=True"],
                     lambda: F.cross_entropy(ddp(shard(x)), shard(y)).backward())
    assert "body.weight" not in message
    # find_unused_parameters=True: zeros for the missing ones; a head no rank used keeps
    # grad None; a head only rank 0 used gets rank 0's gradient / world size.
    tinynn.manual_seed(1)
    model = TwoHeads()
    tinynn.manual_seed(1)
    reference = TwoHeads()
    ddp = DDP(model, find_unused_parameters=True)
    F.cross_entropy(ddp(shard(x)), shard(y)).backward()
    assert model.unused.weight.grad is None
    F.cross_entropy(reference(x), y).backward()
    np.testing.assert_allclose(model.body.weight.grad.numpy(), reference.body.weight.grad.numpy(),
                               atol=1e-10)
    model.zero_grad()
    head = "unused" if RANK == 0 else "used"
    F.cross_entropy(ddp(shard(x), head=head), shard(y)).backward()
    assert model.unused.weight.grad is not None and model.used.weight.grad is not None
    assert_equal_on_every_rank(model)   # parameters untouched, equal
    grads = [tinynn.zeros(5, 8, dtype=tinynn.float64) for _ in range(SIZE)]
    dist.all_gather(grads, model.unused.weight.grad)
    assert np.array_equal(grads[0].numpy(), grads[1].numpy())


def check_rank_dependent_heads_with_sync_batchnorm():
    """Rank 0 uses one head, rank 1 the other, with SyncBatchNorm below them and one
    parameter per bucket: the buckets start in a different order, relative to SyncBatchNorm's
    allreduces, on the two ranks (MPI wants one order per communicator, so the buckets have
    their own; MPICH happens to tolerate the mix, so this checks the values). The result is
    the one-process gradient of the mean of the two ranks' losses."""
    class Net(nn.Module):
        def __init__(self, norm):
            super().__init__()
            self.body, self.bn = nn.Linear(12, 8), norm(8)
            self.first, self.second = nn.Linear(8, 5), nn.Linear(8, 5)
            self.double()

        def forward(self, x, head):
            return getattr(self, head)(self.bn(self.body(x)))

    x, y = batch_data(64, seed=8)
    tinynn.manual_seed(4)
    model = Net(SyncBatchNorm)
    tinynn.manual_seed(4)
    reference = Net(nn.BatchNorm1d)
    ddp = DDP(model, bucket_cap_mb=0, find_unused_parameters=True)
    head = "first" if RANK == 0 else "second"
    F.cross_entropy(ddp(shard(x), head), shard(y)).backward()
    h = reference.bn(reference.body(x))
    ((F.cross_entropy(reference.first(h[:32]), y[:32]) +
      F.cross_entropy(reference.second(h[32:]), y[32:])) / 2).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), atol=1e-10, err_msg=name)


def check_ddp_construction():
    tinynn.manual_seed(RANK)                      # different weights and buffers on each rank
    model = SmallCNN(batch_norm=True)
    model.bn.running_mean.array[...] = RANK
    ddp = DDP(model)
    assert ddp.module is model
    assert_equal_on_every_rank(model)
    assert model.bn.running_mean.tolist() == [0.0] * 4        # rank 0's
    keys = list(ddp.state_dict())
    assert keys and all(k.startswith("module.") for k in keys)
    assert keys[0] == "module.conv.weight"
    plain = SmallCNN(batch_norm=True)
    plain.load_state_dict({k[len("module."):]: v for k, v in ddp.state_dict().items()})
    assert_same(params_of(plain), params_of(model), 0)
    # Bad arguments are clear errors (on every rank alike).
    raises(ValueError, ["device_ids", "CPU module"], DDP, mlp(), device_ids=[0])
    raises(ValueError, ["bucket_cap_mb", "-1"], DDP, mlp(), bucket_cap_mb=-1)
    raises(TypeError, ["tinynn.nn.Module"], DDP, lambda x: x)
    frozen = mlp().requires_grad_(False)
    raises(RuntimeError, ["doesn't have any parameter that requires a gradient"], DDP, frozen)
    different = nn.Linear(4, 3 + RANK)          # not the same model on every rank
    raises(RuntimeError, ["same model on every rank", "rank 1"], DDP, different)


def check_distributed_sampler_defaults_to_the_world():
    ds = TensorDataset(tinynn.arange(11))
    sampler = DistributedSampler(ds, shuffle=False)
    assert (sampler.num_replicas, sampler.rank, len(sampler)) == (SIZE, RANK, 6)
    got = [int(b.item()) for (b,) in DataLoader(ds, batch_size=1, sampler=sampler)]
    everyone = [tinynn.zeros(6, dtype=tinynn.int64) for _ in range(SIZE)]
    dist.all_gather(everyone, tinynn.tensor(got))
    assert sorted(v for e in everyone for v in e.tolist()) == sorted(list(range(11)) + [0])


CHECKS = [name for name in list(globals()) if name.startswith("check_")]


def main(names):
    global RANK, SIZE
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=60))
    RANK, SIZE = dist.get_rank(), dist.get_world_size()
    world = dist._require_world()
    results = {}
    for name in names or CHECKS:
        try:
            globals()[name]()
            outcome = "ok"
        except Exception:
            outcome = traceback.format_exc()
        results[name] = dict(enumerate(world.allgather_object(outcome)))
    if RANK == 0:
        print("RESULTS " + json.dumps(results), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main([n if n.startswith("check_") else "check_" + n for n in sys.argv[1:]])
