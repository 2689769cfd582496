"""``tinynn.distributed``: data-parallel training over MPI, with ``torch.distributed``'s API.

MPI starts N copies of one script; each copy is a *rank* (0 .. N-1) and all of them
together the *world*:

    mpiexec -n 2 python train.py                        # one machine, two processes
    mpiexec -n 8 -f hosts python train.py               # several machines (MPICH host file)

    import tinynn.distributed as dist
    dist.init_process_group("mpi")                       # rank and world size come from MPI
    model = nn.parallel.DistributedDataParallel(model)  # averages gradients in backward()
    sampler = data.DistributedSampler(train_set)        # each rank its own share of the data
    t = tinynn.tensor([float(dist.get_rank())])
    dist.all_reduce(t, op=dist.ReduceOp.SUM)             # in place: every rank gets 0 + 1 = 1
    dist.destroy_process_group()

MPI comes from the optional extra: ``pip install 'tinynn[mpi]'`` (mpi4py and mpich, which
brings ``mpiexec``); ``import tinynn`` never imports it. Collectives write their result
into the given tensors (in place, never recorded by autograd); with ``async_op=True`` they
return a ``Work`` whose ``wait()`` finishes them. How arrays travel (MPI buffers, NCCL
for GPU tensors) is decided in ``tinynn.distributed.backend`` only.

Faults: after ``init_process_group``, an uncaught exception on any rank prints its
traceback and calls ``MPI_Abort``, which stops every rank, so the others never wait
forever for it (``destroy_process_group`` restores the previous ``sys.excepthook``).
A rank that leaves without an exception (``sys.exit``) cannot be noticed that way: a
watchdog aborts every rank when one has waited ``timeout`` (default 30 minutes, as
PyTorch's) in a single collective.
"""
import datetime
import enum
import numbers

from .. import backend as arrays
from ..tensor import Tensor
from .backend import Communicator, Work, mpi_available, nccl_available

__all__ = ["ReduceOp", "Work", "group", "is_available", "is_mpi_available", "is_nccl_available",
           "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "barrier", "all_reduce", "broadcast", "all_gather",
           "all_gather_into_tensor", "gather", "reduce"]


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' values, elementwise.

    AVG is the sum divided by the world size (floating-point tensors only); BAND, BOR,
    BXOR are bitwise (integer and bool tensors). On bool tensors SUM and MAX are "or",
    PRODUCT and MIN "and".
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self):
        return f"<ReduceOp.{self.name}>"


class _Group:
    """The default group: every rank. tinynn has no ``new_group``; ``group=None`` or
    ``group=dist.group.WORLD`` mean this one."""

    def __repr__(self):
        return "<tinynn.distributed group WORLD>"


class group:   # noqa: N801 (torch.distributed.group)
    WORLD = _Group()


_world = None   # the Communicator of the default process group once init_process_group ran

NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                   "init_process_group.")


def is_available():
    """True when the 'mpi' backend can be used (mpi4py is installed); imports nothing."""
    return mpi_available()


is_mpi_available = is_available


def is_nccl_available():
    """True when CuPy with NCCL is installed and a GPU answers."""
    return nccl_available()


def is_initialized():
    return _world is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the world of processes that ``mpiexec`` started (the default process group).

    ``backend`` must be "mpi" (or None); the rank and the world size come from MPI, so
    ``world_size`` and ``rank``, when given, must agree with it. ``timeout`` (a timedelta
    or seconds; default 30 minutes) is how long one collective may wait before every rank
    is aborted. ``init_method``, ``store`` and ``pg_options`` are accepted for PyTorch code
    and not needed by MPI. GPU tensors use NCCL through CuPy under this same backend.
    Installs an excepthook that calls ``MPI_Abort`` on an uncaught exception (see above).
    """
    global _world
    if _world is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(getattr(backend, "value", backend)).lower()
    if name != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not available in tinynn: "
                         f"the only backend is 'mpi' (start the ranks with mpiexec -n N python "
                         f"script.py); GPU tensors use NCCL through CuPy under 'mpi'")
    seconds = _timeout_seconds(timeout)
    world = Communicator()
    world.abort_on_uncaught_exception()   # before the checks: one rank failing stops them all
    for value, actual, what in ((world_size, world.size, "world_size"), (rank, world.rank, "rank")):
        if value is not None and value != -1 and value != actual:
            world.close()
            raise ValueError(f"init_process_group: {what}={value}, but MPI says this process "
                             f"has {what} {actual} (mpiexec -n {world.size} started the ranks "
                             f"0..{world.size - 1}); leave {what} out")
    if world.size > 1:
        world.start_watchdog(seconds)
    _world = world


def _timeout_seconds(timeout):
    if timeout is None:
        return 30 * 60.0
    seconds = timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else timeout
    if not isinstance(seconds, numbers.Real) or isinstance(seconds, bool) or not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be a positive datetime.timedelta "
                         f"(or seconds), got {timeout!r}")
    return float(seconds)


def destroy_process_group(group=None):
    """Leave the default process group (MPI itself stays up until the process exits)."""
    global _world
    _check_group(group)
    if _world is not None:
        _world.close()
    _world = None


def _require_world():
    if _world is None:
        raise ValueError(NOT_INITIALIZED)
    return _world


def _check_group(g):
    if g is not None and g is not group.WORLD:
        raise ValueError(f"tinynn.distributed has only the default group of all ranks: pass "
                         f"group=None (got {g!r})")


def get_rank(group=None):
    """This process's rank, 0 .. world size - 1."""
    _check_group(group)
    return _require_world().rank


def get_world_size(group=None):
    """The number of ranks."""
    _check_group(group)
    return _require_world().size


def get_backend(group=None):
    _check_group(group)
    _require_world()
    return "mpi"


# ---------------------------------------------------------------------------- argument checks

def _start(name, tensor, group):
    """The communicator, after checking the group and that ``tensor`` is a Tensor."""
    _check_group(group)
    world = _require_world()
    _check_tensor(name, tensor)
    return world


def _check_tensor(name, tensor, what="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: {what} must be a tinynn.Tensor, got {type(tensor).__name__}")


def _check_rank(name, world, value, what):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) \
            or not 0 <= value < world.size:
        raise ValueError(f"{name}: {what}={value!r} is not a rank of this group (ranks 0 to "
                         f"{world.size - 1})")
    return int(value)


def _check_op(name, op, tensor):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a tinynn.distributed.ReduceOp (SUM, AVG, PRODUCT, "
                        f"MIN, MAX, BAND, BOR, BXOR), got {op!r}")
    kind = tensor.dtype.kind
    if op is ReduceOp.AVG and kind not in "fc":
        raise ValueError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {tensor.dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise ValueError(f"{name}: {op} needs an integer or bool tensor, got {tensor.dtype}")
    return op.value


def _check_like(name, tensors, like, what):
    """Every entry of ``tensors`` is a Tensor with ``like``'s shape, dtype and device."""
    for i, t in enumerate(tensors):
        _check_tensor(name, t, f"{what}[{i}]")
        if tuple(t.shape) != tuple(like.shape) or t.dtype != like.dtype:
            raise RuntimeError(f"{name}: {what}[{i}] has shape {tuple(t.shape)} and dtype "
                               f"{t.dtype}, but the input tensor has shape {tuple(like.shape)} "
                               f"and dtype {like.dtype}; they must match")
        if t.device != like.device:
            raise RuntimeError(f"{name}: {what}[{i}] is on {t.device} but the input tensor is on "
                               f"{like.device}; every tensor must be on the same device")


def _check_list(name, tensors, world, what):
    if not isinstance(tensors, (list, tuple)) or len(tensors) != world.size:
        count = len(tensors) if isinstance(tensors, (list, tuple)) else type(tensors).__name__
        raise ValueError(f"{name}: {what} must be a list of world size = {world.size} tensors, "
                         f"got {count}")


def _result(work, async_op):
    """What a collective returns: its Work with async_op=True, else None once it is done."""
    if async_op:
        return work
    work.wait()
    return None


def _scatter_rows(rows, tensors):
    """A function that copies row i of ``rows`` (size, ...) into ``tensors[i]``."""
    def copy():
        for row, t in zip(rows, tensors):
            t.array[...] = row
    return copy


# ---------------------------------------------------------------------------- collectives

def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank has called ``barrier``."""
    _check_group(group)
    return _result(_require_world().barrier(blocking=not async_op), async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks with ``op``; every rank's ``tensor`` gets the result."""
    world = _start("all_reduce", tensor, group)
    work = world.allreduce(tensor.array, _check_op("all_reduce", op, tensor), blocking=not async_op)
    return _result(work, async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Every rank's ``tensor`` becomes a copy of rank ``src``'s."""
    world = _start("broadcast", tensor, group)
    src = _check_rank("broadcast", world, src if group_src is None else group_src, "src")
    return _result(world.broadcast(tensor.array, src, blocking=not async_op), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[i]`` (world size tensors shaped like ``tensor``) gets rank i's ``tensor``,
    on every rank."""
    world = _start("all_gather", tensor, group)
    _check_list("all_gather", tensor_list, world, "tensor_list")
    _check_like("all_gather", tensor_list, tensor, "tensor_list")
    xp = arrays.get_array_module(tensor.array)
    rows = xp.empty((world.size,) + tensor.array.shape, tensor.array.dtype)
    work = world.allgather(tensor.array, rows, blocking=not async_op)
    work.add_finish(_scatter_rows(rows, tensor_list))
    return _result(work, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``output_tensor`` (world size * input's elements: ``(size * N, ...)`` or
    ``(size, N, ...)``) gets every rank's ``input_tensor`` in rank order, in one buffer."""
    world = _start("all_gather_into_tensor", input_tensor, group)
    _check_tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    if output_tensor.numel() != world.size * input_tensor.numel() \
            or output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError(f"all_gather_into_tensor: output_tensor of shape "
                           f"{tuple(output_tensor.shape)} ({output_tensor.dtype}) must hold world "
                           f"size = {world.size} times the input of shape "
                           f"{tuple(input_tensor.shape)} ({input_tensor.dtype})")
    if output_tensor.device != input_tensor.device:
        raise RuntimeError(f"all_gather_into_tensor: output_tensor is on {output_tensor.device} "
                           f"but input_tensor is on {input_tensor.device}")
    work = world.allgather(input_tensor.array, output_tensor.array, blocking=not async_op)
    return _result(work, async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank ``dst``'s ``gather_list[i]`` gets rank i's ``tensor``; the other ranks pass no
    ``gather_list``."""
    world = _start("gather", tensor, group)
    dst = _check_rank("gather", world, 0 if dst is None and group_dst is None else
                      (dst if group_dst is None else group_dst), "dst")
    if world.rank != dst:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                             "ranks.")
        return _result(world.gather(tensor.array, None, dst, blocking=not async_op), async_op)
    if gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    _check_list("gather", gather_list, world, "gather_list")
    _check_like("gather", gather_list, tensor, "gather_list")
    xp = arrays.get_array_module(tensor.array)
    rows = xp.empty((world.size,) + tensor.array.shape, tensor.array.dtype)
    work = world.gather(tensor.array, rows, dst, blocking=not async_op)
    work.add_finish(_scatter_rows(rows, gather_list))
    return _result(work, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over all ranks with ``op`` into rank ``dst``'s ``tensor``; the
    other ranks' tensors are left as they were."""
    world = _start("reduce", tensor, group)
    dst = _check_rank("reduce", world, dst if group_dst is None else group_dst, "dst")
    work = world.reduce(tensor.array, dst, _check_op("reduce", op, tensor), blocking=not async_op)
    return _result(work, async_op)
