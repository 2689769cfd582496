"""DistributedDataParallel: one replica of the model per rank; gradients averaged in backward.

Every rank runs the same script on its own share of each batch (``DistributedSampler``).
Wrapping the model

    model = nn.parallel.DistributedDataParallel(model)

1. copies rank 0's parameters and buffers to every rank, so all replicas start equal;
2. during ``loss.backward()`` averages each parameter's gradient over the ranks, so that
   ``optimizer.step()`` takes the same step everywhere: the step of one process that saw
   the whole global batch (the losses being means over each rank's equal share).

How the averaging overlaps the backward pass: the parameters are grouped into *buckets*
of about ``bucket_cap_mb`` MiB, in reverse order of ``parameters()`` (roughly the order in
which backward produces their gradients). A post-accumulate-grad hook on each parameter
marks it ready; when every gradient of a bucket is ready, the bucket is copied into one
flat buffer and a non-blocking allreduce (MPI ``Iallreduce``) starts on it while backward
goes on with the layers below. Buckets start strictly in order, so every rank issues the
same collectives in the same order. At the end of the pass (a callback queued with the
engine) the requests are waited for, each buffer is divided by the world size and copied
back into the ``.grad`` of its parameters: when ``backward()`` returns, the gradients are
averaged.

``no_sync()`` skips the averaging for the forward/backward passes inside it (gradient
accumulation); the first synchronised backward after it averages the accumulated sums.
"""
import contextlib
import numbers
import time
import weakref

from ... import backend
from ... import distributed as dist
from ...engine import queue_callback, register_post_accumulate_grad_hook
from ...grad_mode import is_grad_enabled
from ...tensor import Tensor
from ..module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over the ranks of ``tinynn.distributed``.

    Call ``tinynn.distributed.init_process_group()`` first. ``device_ids``: None for a
    CPU model, ``[i]`` (or None) for a model on ``cuda:i``. ``broadcast_buffers``: copy rank
    0's buffers (BatchNorm's running statistics) to every rank at the start of each
    forward. ``bucket_cap_mb``: bucket size in MiB (default 25; 0 puts each parameter in a
    bucket of its own). ``find_unused_parameters``: parameters that get no gradient in a
    backward pass count as zeros (without it such a pass raises an error naming them);
    a parameter that no rank used keeps its ``.grad``.

    ``output_device``, ``dim``, ``check_reduction``, ``gradient_as_bucket_view`` and
    ``static_graph`` are accepted for PyTorch code and change nothing here; ``process_group``
    must be None (the one group of all ranks). ``module`` is the wrapped model;
    ``state_dict()`` keys start with ``module.``, as in PyTorch. ``reducer.stats`` counts
    the bytes reduced and the seconds spent waiting for them (benchmarks).
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a tinynn.nn.Module, got "
                            f"{type(module).__name__}")
        dist._check_group(process_group)
        world = dist._require_world()
        self.module = module
        self.device_ids = _check_device(module, device_ids, output_device)
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.bucket_cap_mb = _check_bucket_cap(bucket_cap_mb)
        self.require_backward_grad_sync = True   # False inside no_sync()
        self.require_forward_param_sync = True   # the last forward was a synchronised one
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        _check_same_model(world, module)
        # Every replica starts as rank 0's.
        _broadcast_coalesced(world, [t.array for t in list(module.parameters()) +
                                     list(module.buffers())])
        # The buckets' allreduces get a communicator of their own: with unused parameters
        # they may start in another order, relative to other collectives (SyncBatchNorm's),
        # on each rank.
        buckets = world.duplicate()
        buckets.prepare(named[0][1].array)
        self.reducer = _Reducer(buckets, named, int(self.bucket_cap_mb * 1024 * 1024),
                                self.find_unused_parameters)

    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if self.require_forward_param_sync and self.broadcast_buffers:
            _broadcast_coalesced(dist._require_world(),
                                 [b.array for b in self.module.buffers()])
        output = self.module(*inputs, **kwargs)
        self.require_forward_param_sync = sync
        if sync:
            self.reducer.expect_backward()
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context, forward/backward passes accumulate gradients locally; the
        first synchronised backward after it averages the sums. Put the forward inside."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def extra_repr(self):
        return (f"buckets={len(self.reducer.buckets)}, bucket_cap_mb={self.bucket_cap_mb}, "
                f"find_unused_parameters={self.find_unused_parameters}")


class _Bucket:
    """Parameters whose gradients are reduced together, in one flat buffer."""

    def __init__(self, indices, params):
        self.indices = indices          # positions in the reducer's parameter list
        self.offsets, start = [], 0
        for p in params:
            self.offsets.append((start, p.numel()))
            start += p.numel()
        self.numel = start
        self.buffer = None              # allocated at the first launch, then reused
        self.pending = len(indices)     # gradients not ready yet in this pass
        self.work = None                # the allreduce in flight


class _Reducer:
    """The buckets and the per-pass state of the gradient averaging (see the module doc)."""

    def __init__(self, world, named_params, bucket_bytes, find_unused):
        self.world, self.find_unused = world, find_unused
        self.names = [name for name, _ in named_params]
        self.params = [p for _, p in named_params]
        self.buckets, self.bucket_of = _assign_buckets(self.params, bucket_bytes)
        self.ready = [False] * len(self.params)
        self.expecting = False          # a synchronised forward ran: its backward reduces
        self.in_pass = False            # some gradient of this backward pass arrived
        self.next_bucket = 0            # buckets start in order, the same on every rank
        self.stats = {"backward_passes": 0, "buckets_reduced": 0, "bytes_reduced": 0,
                      "wait_seconds": 0.0, "copy_seconds": 0.0}
        me = weakref.ref(self)          # the hooks must not keep a discarded model alive
        self.hooks = [register_post_accumulate_grad_hook(p, _make_hook(me, i))
                      for i, p in enumerate(self.params)]
        weakref.finalize(self, _remove_hooks, self.hooks)

    def expect_backward(self):
        self.expecting = True

    def on_gradient(self, index):
        """A parameter's ``.grad`` has its gradient of this pass."""
        if not self.expecting or self.ready[index]:
            return
        if not self.in_pass:
            self.in_pass = True
            queue_callback(self.finish)
        self.ready[index] = True
        bucket = self.buckets[self.bucket_of[index]]
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            self._launch(self.buckets[self.next_bucket])
            self.next_bucket += 1
        for bucket in self.buckets[:self.next_bucket]:
            bucket.work.is_completed()    # MPI progresses a request only inside MPI calls

    def _launch(self, bucket):
        start_time = time.perf_counter()
        first = self.params[bucket.indices[0]].array
        xp = backend.get_array_module(first)
        flags = len(bucket.indices) if self.find_unused else 0   # "used" counts, after the grads
        if bucket.buffer is None or backend.get_array_module(bucket.buffer) is not xp \
                or backend.device_of(bucket.buffer) != backend.device_of(first):
            bucket.buffer = xp.empty(bucket.numel + flags, dtype=first.dtype)
        buffer, used = bucket.buffer, []
        for index, (start, count) in zip(bucket.indices, bucket.offsets):
            grad = self.params[index].grad
            if grad is None:      # unused here (find_unused_parameters): contributes zeros
                buffer[start:start + count] = 0
            else:
                buffer[start:start + count] = grad.array.reshape(-1)
            used.append(0.0 if grad is None else 1.0)
        if flags:
            buffer[bucket.numel:] = xp.asarray(used, dtype=buffer.dtype)
        bucket.work = self.world.allreduce(buffer, "sum", blocking=False)
        self.stats["copy_seconds"] += time.perf_counter() - start_time
        self.stats["bytes_reduced"] += buffer.nbytes
        self.stats["buckets_reduced"] += 1

    def finish(self):
        """End of the backward pass: reduce what is left, wait, write the averages."""
        self.in_pass = False
        try:
            missing = [i for i, ready in enumerate(self.ready) if not ready]
            if missing and not self.find_unused:
                names = [self.names[i] for i in missing]
                raise RuntimeError(
                    f"DistributedDataParallel: {len(names)} parameter(s) received no gradient in "
                    f"this backward pass, so their gradients cannot be averaged across ranks: "
                    f"{names}. Pass find_unused_parameters=True to DistributedDataParallel "
                    f"(their gradients then count as zeros), or make sure every parameter "
                    f"takes part in computing the loss.")
            for index in missing:
                self.ready[index] = True
                self.buckets[self.bucket_of[index]].pending -= 1
            self._launch_ready_buckets()
            for bucket in self.buckets:
                self._write_average(bucket)
            self.stats["backward_passes"] += 1
        finally:
            for bucket in self.buckets[:self.next_bucket]:   # after an error too: MPI may still
                if bucket.work is not None:                  # be writing into the buffers
                    bucket.work.wait()
                    bucket.work = None
            for bucket in self.buckets:
                bucket.pending = len(bucket.indices)
            self.ready = [False] * len(self.params)
            self.next_bucket, self.expecting = 0, False

    def _write_average(self, bucket):
        work, bucket.work = bucket.work, None
        work.wait()
        self.stats["wait_seconds"] += work.wait_seconds
        start_time = time.perf_counter()
        buffer = bucket.buffer
        grads = buffer[:bucket.numel]
        grads /= self.world.size
        counts = backend.to_numpy(buffer[bucket.numel:]) if self.find_unused else None
        for j, (index, (start, count)) in enumerate(zip(bucket.indices, bucket.offsets)):
            if counts is not None and counts[j] == 0:
                continue                  # no rank used it: its .grad stays as it was
            p = self.params[index]
            average = grads[start:start + count].reshape(p.array.shape)
            if p.grad is None or not backend.is_writeable(p.grad.array):
                p.grad = Tensor(average.copy())
            else:
                p.grad.array[...] = average
        self.stats["copy_seconds"] += time.perf_counter() - start_time


def _broadcast_coalesced(world, arrays):
    """Rank 0's values into ``arrays`` on every rank: one broadcast per dtype and device
    (a flat buffer), not one per array (a ResNet has 60 BatchNorm buffers)."""
    groups = {}
    for array in arrays:
        key = (array.dtype.str, str(backend.device_of(array)))
        groups.setdefault(key, []).append(array)
    for group in groups.values():
        xp = backend.get_array_module(group[0])
        flat = xp.concatenate([a.reshape(-1) for a in group]) if len(group) > 1 \
            else xp.ascontiguousarray(group[0]).reshape(-1)
        world.broadcast(flat, 0).wait()
        if world.rank != 0:
            start = 0
            for array in group:
                array[...] = flat[start:start + array.size].reshape(array.shape)
                start += array.size


def _make_hook(reducer_ref, index):
    def hook(param):
        reducer = reducer_ref()
        if reducer is not None:
            reducer.on_gradient(index)
    return hook


def _remove_hooks(handles):
    for handle in handles:
        handle.remove()


def _assign_buckets(params, bucket_bytes):
    """Buckets of at most about ``bucket_bytes`` (a bucket closes once it reaches the cap),
    filled in reverse parameter order, one open bucket per (dtype, device). Returns the
    buckets, in the order they close, and each parameter's bucket index."""
    closed, open_buckets = [], {}
    for index in reversed(range(len(params))):
        p = params[index]
        key = (p.dtype.name, str(p.device))
        members = open_buckets.setdefault(key, [])
        members.append(index)
        if sum(params[i].array.nbytes for i in members) >= bucket_bytes:
            closed.append(open_buckets.pop(key))
    closed.extend(open_buckets.values())
    buckets = [_Bucket(indices, [params[i] for i in indices]) for indices in closed]
    bucket_of = [0] * len(params)
    for b, bucket in enumerate(buckets):
        for index in bucket.indices:
            bucket_of[index] = b
    return buckets, bucket_of


def _check_bucket_cap(bucket_cap_mb):
    if bucket_cap_mb is None:
        return 25
    if not isinstance(bucket_cap_mb, numbers.Real) or isinstance(bucket_cap_mb, bool) \
            or bucket_cap_mb < 0:
        raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a number >= 0 (MiB), "
                         f"got {bucket_cap_mb!r}")
    return bucket_cap_mb


def _check_device(module, device_ids, output_device):
    devices = {p.device for p in module.parameters()}
    if len(devices) > 1:
        raise ValueError(f"DistributedDataParallel: the module's parameters are on several devices "
                         f"({', '.join(sorted(map(str, devices)))}); put the whole replica on "
                         f"one device (one GPU per rank)")
    if device_ids is None:
        return None
    if not isinstance(device_ids, (list, tuple)) or len(device_ids) != 1:
        raise ValueError(f"device_ids can only be None or contain a single element (got "
                         f"{device_ids!r})")
    device = next(iter(devices), backend.Device("cpu"))
    wanted = device_ids[0]
    wanted = backend.Device("cuda", wanted) if isinstance(wanted, numbers.Integral) \
        else backend.Device(wanted)
    if device.type == "cpu" or wanted != device:
        raise ValueError(f"DistributedDataParallel device_ids and output_device arguments only "
                         f"work with single-device GPU modules or CPU modules, but got "
                         f"device_ids {list(device_ids)}, output_device {output_device}, and "
                         f"module parameters on {device}. Leave device_ids out for a CPU "
                         f"module, or move the module to {wanted} first.")
    return list(device_ids)


def _check_same_model(world, module):
    """Every rank must wrap the same architecture: compare names, shapes and dtypes."""
    mine = [(name, tuple(t.shape), t.dtype.name) for name, t in
            list(module.named_parameters()) + list(module.named_buffers())]
    everyone = world.allgather_object(mine)
    for rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            diff = next(((a, b) for a, b in zip(everyone[0], theirs) if a != b),
                        (f"{len(everyone[0])} parameters and buffers",
                         f"{len(theirs)} parameters and buffers"))
            raise RuntimeError(f"DistributedDataParallel expects the same model on every rank, "
                               f"but rank {rank} has {diff[1]} where rank 0 has {diff[0]}")
