"""How ``tinynn.distributed`` moves arrays between processes: MPI, through mpi4py.

This is the one module that talks to MPI (and to NCCL): every collective of the package
ends in a method of :class:`Communicator`, on raw arrays.

- NumPy arrays go to MPI through the buffer protocol (mpi4py's upper-case methods:
  ``Allreduce``, ``Iallreduce``, ...): no pickling, and no copy besides MPI's own when the
  array is C-contiguous (a non-contiguous one is reduced in a contiguous copy that is
  written back).
- CuPy arrays go through NCCL (``cupy.cuda.nccl``) when every rank has a GPU of its own
  and NCCL loads; otherwise through host copies and MPI. The choice is made once, by all
  ranks together, at the first collective on a GPU array.

mpi4py is imported on the first ``Communicator()`` (``init_process_group``), never by
``import tinynn``; ``from mpi4py import MPI`` is what initialises MPI.

Non-blocking collectives (``Iallreduce``...) return a :class:`Work`; ``wait()`` completes
it. MPICH progresses a non-blocking collective only while some MPI call runs, so callers
that overlap communication with computation poke ``Work.is_completed()`` now and then.
"""
import contextlib
import importlib
import importlib.util
import socket
import sys
import threading
import time

import numpy

from .. import backend as arrays

__all__ = ["INSTALL_HINT", "mpi_available", "nccl_available", "load_mpi", "Communicator", "Work"]

INSTALL_HINT = ("pip install 'tinynn[mpi]' (or: pip install mpi4py mpich, which also brings "
                "mpiexec into the environment)")


def mpi_available():
    """True when mpi4py can be imported (checked without importing it)."""
    return importlib.util.find_spec("mpi4py") is not None


def nccl_available():
    """True when a GPU answers and its CuPy has NCCL."""
    if not arrays.is_available():
        return False
    try:
        importlib.import_module(arrays.Device("cuda").xp.__name__ + ".cuda.nccl")
    except Exception:
        return False
    return True


def load_mpi():
    """mpi4py's ``MPI`` module (importing it initialises MPI), or a clear ImportError."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(f"tinynn.distributed's 'mpi' backend needs mpi4py, which is not "
                          f"installed ({exc}): {INSTALL_HINT}") from exc
    return MPI


# The MPI reduction of each ReduceOp value; AVG is SUM followed by a division. Booleans
# reduce with the logical operations (SUM/MAX = or, PRODUCT/MIN = and), as in PyTorch.
_MPI_OPS = {"sum": "SUM", "avg": "SUM", "product": "PROD", "min": "MIN", "max": "MAX",
            "band": "BAND", "bor": "BOR", "bxor": "BXOR"}
_MPI_BOOL_OPS = {"sum": "LOR", "max": "LOR", "product": "LAND", "min": "LAND",
                 "band": "LAND", "bor": "LOR", "bxor": "LXOR"}
_NCCL_OPS = {"sum": "NCCL_SUM", "avg": "NCCL_SUM", "product": "NCCL_PROD", "min": "NCCL_MIN",
             "max": "NCCL_MAX"}
_NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
               "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32",
               "int64": "NCCL_INT64", "bool": "NCCL_UINT8"}


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` blocks until it is done and
    returns True; ``is_completed()`` asks without blocking. ``finish`` runs once, after
    completion (copying a staging buffer back, dividing for AVG)."""

    def __init__(self, request=None, finish=None, communicator=None):
        self._request, self._finishers = request, [finish] if finish is not None else []
        self._communicator = communicator
        self._completed = False
        self.wait_seconds = 0.0   # time spent blocked in wait(): the communication not hidden

    def add_finish(self, finish):
        """Run ``finish()`` after completion too (at once if already complete)."""
        if self._completed:
            finish()
        else:
            self._finishers.append(finish)

    def _done(self):
        self._request, self._completed = None, True
        finishers, self._finishers = self._finishers, []
        for finish in finishers:
            finish()

    def is_completed(self):
        if not self._completed and (self._request is None or self._request.Test()):
            self._done()
        return self._completed

    def wait(self, timeout=None):
        if self._completed:
            return True
        if self._request is not None:
            start = time.perf_counter()
            watch = self._communicator.watched("wait") if self._communicator is not None \
                else contextlib.nullcontext()
            with watch:
                self._request.Wait()
            self.wait_seconds += time.perf_counter() - start
        self._done()
        return True


class Communicator:
    """Every process that ``mpiexec`` started (MPI's COMM_WORLD), with collectives on raw
    arrays. Arguments are checked by the caller (``tinynn.distributed``)."""

    def __init__(self):
        self.MPI = load_mpi()
        self.comm = self.MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._nccl = None          # the NCCL communicator, False when GPU arrays use host copies
        self._previous_excepthook = None
        self._blocked = None       # (since, what) while this rank waits in a collective
        self._timeout = None       # seconds the watchdog lets one wait last
        self._watchdog_owner = self
        self.seconds_waiting = 0.0   # total time blocked in collectives (benchmarks read it)

    def duplicate(self):
        """The same ranks, with collectives ordered apart from this communicator's (MPI's
        ``Comm.Dup``): DistributedDataParallel's bucket allreduces, whose order relative to
        other collectives may differ between ranks, run on one. Shares the watchdog.
        Call on every rank at the same point (it is a collective), and ``prepare`` it for
        GPU arrays there too."""
        twin = object.__new__(Communicator)
        twin.__dict__.update(self.__dict__)
        twin.comm = self.comm.Dup()
        twin._nccl, twin._previous_excepthook = None, None
        return twin

    def prepare(self, array):
        """Decide now, on every rank together, how arrays like ``array`` travel (NCCL or
        host copies), instead of at the first collective."""
        self._use_nccl(array)

    # ------------------------------------------------------------------ faults

    def abort_on_uncaught_exception(self):
        """Make an uncaught exception on this rank print its traceback and then call
        ``MPI_Abort``, which ends every rank: the others would otherwise wait forever in
        their next collective for a rank that is gone."""
        previous = self._previous_excepthook = sys.excepthook
        rank, size, comm = self.rank, self.size, self.comm

        def excepthook(exc_type, exc, traceback):
            previous(exc_type, exc, traceback)
            if size > 1:
                sys.stderr.write(f"tinynn.distributed: rank {rank} of {size} raised "
                                 f"{exc_type.__name__}; calling MPI_Abort so that the other "
                                 f"ranks stop instead of waiting for it\n")
                sys.stderr.flush()
                comm.Abort(1)

        sys.excepthook = excepthook

    def start_watchdog(self, timeout):
        """Abort every rank when this one has waited ``timeout`` seconds in one collective:
        a peer that left (``sys.exit``) or called another collective never answers.
        A daemon thread; mpi4py releases the GIL while MPI waits."""
        self._timeout = float(timeout)
        threading.Thread(target=self._watch, name="tinynn.distributed watchdog",
                         daemon=True).start()

    def _watch(self):
        period = min(1.0, self._timeout / 10)
        while self._timeout is not None:
            time.sleep(period)
            blocked, timeout = self._blocked, self._timeout
            if blocked is not None and timeout is not None and \
                    time.monotonic() - blocked[0] > timeout:
                sys.stderr.write(f"tinynn.distributed: rank {self.rank} of {self.size} waited "
                                 f"more than {timeout:g} s (the timeout of init_process_group) "
                                 f"in {blocked[1]} for ranks that did not join it; calling "
                                 f"MPI_Abort\n")
                sys.stderr.flush()
                self.comm.Abort(1)

    @contextlib.contextmanager
    def watched(self, what):
        """Mark this rank as waiting in ``what`` (for the watchdog, and the time count)."""
        owner = self._watchdog_owner
        owner._blocked = since = (time.monotonic(), what)
        try:
            yield
        finally:
            owner._blocked = None
            owner.seconds_waiting += time.monotonic() - since[0]

    def close(self):
        self._timeout = None   # the watchdog thread ends at its next look
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
            self._previous_excepthook = None

    # ------------------------------------------------------------------ collectives

    def barrier(self, blocking=True):
        if blocking:
            with self.watched("barrier"):
                self.comm.Barrier()
            return Work()
        return Work(self.comm.Ibarrier(), communicator=self)

    def allreduce(self, array, op="sum", blocking=True):
        """``array`` becomes the elementwise reduction of every rank's ``array``."""
        if self._use_nccl(array) and op in _NCCL_OPS:
            buf, copy_back = self._device_staging(array)
            self._nccl_call("allReduce", buf, buf, op=op)
            return Work(finish=self._then(copy_back, self._divider(array, op)))
        buf, copy_back = self._staging(array)
        request = self._mpi("Allreduce", blocking, self.MPI.IN_PLACE, buf, op=self._mpi_op(buf, op))
        return Work(request, self._then(copy_back, self._divider(array, op)), self)

    def broadcast(self, array, src, blocking=True):
        """Every rank's ``array`` becomes rank ``src``'s."""
        if self._use_nccl(array):
            buf, copy_back = self._device_staging(array)
            self._nccl_call("bcast", buf, root=src)
            return Work(finish=copy_back)
        buf, copy_back = self._staging(array, send=self.rank == src)
        return Work(self._mpi("Bcast", blocking, buf, root=src), copy_back, self)

    def allgather(self, array, out, blocking=True):
        """``out`` (size * array.size elements, contiguous) receives every rank's ``array``,
        in rank order."""
        if self._use_nccl(array):
            send, _ = self._device_staging(array)
            recv, copy_back = self._device_staging(out)
            self._nccl_call("allGather", send, recv)
            return Work(finish=copy_back)
        send, _ = self._staging(array)
        recv, copy_back = self._staging(out, send=False)
        return Work(self._mpi("Allgather", blocking, send, recv), copy_back, self)

    def gather(self, array, out, dst, blocking=True):
        """Rank ``dst``'s ``out`` (as in ``allgather``) receives every rank's ``array``;
        ``out`` is None on the other ranks. NCCL has no gather: GPU arrays use host copies."""
        send, _ = self._staging(array)
        recv, copy_back = self._staging(out, send=False) if out is not None else (None, None)
        return Work(self._mpi("Gather", blocking, send, recv, root=dst), copy_back, self)

    def reduce(self, array, dst, op="sum", blocking=True):
        """Rank ``dst``'s ``array`` becomes the reduction; the others keep theirs."""
        if self._use_nccl(array) and op in _NCCL_OPS:
            buf, copy_back = self._device_staging(array)
            self._nccl_call("reduce", buf, buf, op=op, root=dst)
            if self.rank != dst:
                return Work()
            return Work(finish=self._then(copy_back, self._divider(array, op)))
        buf, copy_back = self._staging(array, send=True)
        mpi_op = self._mpi_op(buf, op)
        if self.rank == dst:
            request = self._mpi("Reduce", blocking, self.MPI.IN_PLACE, buf, op=mpi_op, root=dst)
            return Work(request, self._then(copy_back, self._divider(array, op)), self)
        request = self._mpi("Reduce", blocking, buf, None, op=mpi_op, root=dst)
        return Work(request, communicator=self)

    def allgather_object(self, obj):
        """Small Python objects (shapes, names) from every rank, pickled: metadata only."""
        with self.watched("allgather"):
            return self.comm.allgather(obj)

    # ------------------------------------------------------------------ plumbing

    def _mpi(self, name, blocking, *args, **kwargs):
        """Run MPI's ``name`` (e.g. "Allreduce"), or its non-blocking twin ("Iallreduce")
        and return the request."""
        if blocking:
            with self.watched(name):
                getattr(self.comm, name)(*args, **kwargs)
            return None
        return getattr(self.comm, "I" + name.lower())(*args, **kwargs)

    def _mpi_op(self, buf, op):
        table = _MPI_BOOL_OPS if buf.dtype == numpy.bool_ else _MPI_OPS
        return getattr(self.MPI, table[op])

    def _staging(self, array, send=True):
        """A C-contiguous host array MPI can use for ``array``, and what copies the result
        back afterwards (None when MPI worked on ``array`` itself). ``send``: whether the
        buffer's current values matter (False for a receive-only buffer)."""
        if isinstance(array, numpy.ndarray):
            if array.flags.c_contiguous:
                return array, None
            buf = numpy.ascontiguousarray(array) if send else numpy.empty(array.shape, array.dtype)
        else:   # a GPU array without NCCL: through the host
            buf = arrays.to_numpy(array) if send else numpy.empty(array.shape, array.dtype)
            buf = numpy.ascontiguousarray(buf)
        xp = arrays.get_array_module(array)

        def copy_back():
            array[...] = buf if xp is numpy else xp.asarray(buf)
        return buf, copy_back

    def _divider(self, array, op):
        """AVG: what divides the summed ``array`` by the number of ranks afterwards."""
        if op != "avg":
            return None

        def divide():
            array[...] /= self.size
        return divide

    @staticmethod
    def _then(first, second):
        if first is None or second is None:
            return first or second

        def both():
            first()
            second()
        return both

    # ------------------------------------------------------------------ NCCL

    def _use_nccl(self, array):
        """True when ``array`` is a GPU array of a type NCCL has, and every rank agreed to
        use NCCL."""
        if isinstance(array, numpy.ndarray) or array.dtype.name not in _NCCL_TYPES:
            return False
        if self._nccl is None:
            self._nccl = self._start_nccl(array)
        return self._nccl is not False

    def _start_nccl(self, array):
        """NCCL's communicator when every rank can use it, else False (host copies). A
        collective: all ranks decide together, so that none waits in MPI for a peer that
        went to NCCL. Ranks sharing one GPU cannot use NCCL."""
        xp = arrays.get_array_module(array)
        try:
            nccl = importlib.import_module(xp.__name__ + ".cuda.nccl")
            where = (socket.gethostname(), xp.cuda.Device().pci_bus_id)
        except Exception:   # no NCCL in this CuPy build, or no real GPU behind the array
            nccl, where = None, None
        everyone = self.comm.allgather(where)
        if any(w is None for w in everyone) or len(set(everyone)) < self.size:
            return False
        uid = self.comm.bcast(nccl.get_unique_id() if self.rank == 0 else None, root=0)
        communicator = nccl.NcclCommunicator(self.size, uid, self.rank)
        communicator.module = nccl
        return communicator

    @staticmethod
    def _device_staging(array):
        """NCCL needs contiguous memory: a contiguous copy of a strided GPU array, and what
        writes it back."""
        if array.flags.c_contiguous:
            return array, None
        buf = arrays.get_array_module(array).ascontiguousarray(array)

        def copy_back():
            array[...] = buf
        return buf, copy_back

    def _nccl_call(self, name, send, recv=None, op=None, root=None):
        """One NCCL collective on the current CuPy stream: later work on that stream (the
        optimizer step) runs after it, so ``Work.wait`` has nothing to wait for."""
        nccl, comm = self._nccl.module, self._nccl
        dtype = getattr(nccl, _NCCL_TYPES[send.dtype.name])
        stream = arrays.get_array_module(send).cuda.get_current_stream().ptr
        if op is not None and send.dtype == numpy.bool_:
            op = "max" if op in ("sum", "max") else "min"
        args = [send.data.ptr] + ([recv.data.ptr] if recv is not None else []) + [send.size, dtype]
        if op is not None:
            args.append(getattr(nccl, _NCCL_OPS[op]))
        if root is not None:
            args.append(root)
        getattr(comm, name)(*args, stream)

