"""The array backend: NumPy always, CuPy when it is installed and a GPU answers.

Every call whose spelling differs between NumPy and CuPy lives in this module, so the
rest of tinynn writes ``xp = get_array_module(x)`` and never names either library.
CuPy is imported lazily, on the first request for the GPU: ``import tinynn`` stays
light and works where CuPy is not installed.
"""
import numpy

__all__ = ["Device", "device", "is_array", "get_array_module", "device_of", "to_device", "to_numpy",
           "is_writeable", "scatter_add", "as_strided", "is_available", "device_count", "Generator",
           "default_generator", "manual_seed", "random_uniform", "random_normal",
           "keep_freed_cpu_memory"]

_INSTALL_HINT = ("install the GPU extra (pip install 'tinynn[gpu]', which pulls "
                 "cupy-cuda12x; 'tinynn[gpu-cuda13]' pulls cupy-cuda13x for CUDA 13) on a "
                 "machine with an NVIDIA GPU and driver")


class _CupyBackend:
    """The GPU side: CuPy's module and the few calls spelled differently from NumPy."""

    def __init__(self, cupy, cupyx):
        self.xp = cupy
        self.array_type = cupy.ndarray
        self._cupyx = cupyx

    def asnumpy(self, x):
        return self.xp.asnumpy(x)

    def asarray(self, x, index=0):
        with self.xp.cuda.Device(index):
            return self.xp.asarray(x)

    def device_index(self, x):
        return x.device.id

    def device_count(self):
        return self.xp.cuda.runtime.getDeviceCount()

    def scatter_add(self, target, indices, values):
        self._cupyx.scatter_add(target, indices, values)

    def as_strided(self, x, shape, strides):
        return self.xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)

    def seed(self, seed):
        self.xp.random.seed(seed)

    def uniform(self, shape, dtype, index=0):
        with self.xp.cuda.Device(index):
            return self.xp.random.random_sample(shape).astype(dtype, copy=False)

    def normal(self, shape, dtype, index=0):
        with self.xp.cuda.Device(index):
            return self.xp.random.standard_normal(shape).astype(dtype, copy=False)


_gpu = None            # the loaded GPU backend, or None
_gpu_error = None      # why loading it failed, to repeat in error messages
_seed = None           # the last manual_seed, applied to the GPU stream when CuPy loads later


def _load_gpu():
    """Import CuPy once and check that a GPU answers; remember the outcome."""
    global _gpu, _gpu_error
    if _gpu is not None or _gpu_error is not None:
        return _gpu
    try:
        import cupy
        import cupyx
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("CuPy found no CUDA device")
        gpu = _CupyBackend(cupy, cupyx)
        if _seed is not None:  # manual_seed ran before the GPU was first asked for
            gpu.seed(_seed)
        _gpu = gpu
    except Exception as exc:  # ImportError, CUDA driver errors, ...
        _gpu_error = f"{type(exc).__name__}: {exc}"
    return _gpu


def _require_gpu(index=None):
    """The GPU backend; with ``index``, also check that device exists."""
    gpu = _load_gpu()
    if gpu is None:
        raise RuntimeError(f"CUDA was requested but is not available ({_gpu_error}); {_INSTALL_HINT}")
    if index:
        count = gpu.device_count()
        if index >= count:
            raise RuntimeError(f"cuda:{index} was requested but only {count} CUDA "
                               f"device{'s are' if count != 1 else ' is'} visible "
                               f"(valid: cuda:0 to cuda:{count - 1})")
    return gpu


def is_available():
    """True when CuPy imports and at least one CUDA device answers."""
    return _load_gpu() is not None


def device_count():
    """The number of visible CUDA devices (0 without a working CuPy)."""
    return _gpu.device_count() if is_available() else 0


class Device:
    """Where a tensor's array lives: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:1")``.

    ``"numpy"`` and ``"cupy"`` are accepted as aliases of ``"cpu"`` and ``"cuda"``.
    """

    _ALIASES = {"cpu": "cpu", "numpy": "cpu", "cuda": "cuda", "cupy": "cuda", "gpu": "cuda"}

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
        name, _, number = spec.partition(":")
        if name not in self._ALIASES:
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda', 'cuda:N', "
                             f"'numpy' or 'cupy'")
        if number:
            if not number.isdigit() or index is not None:
                raise ValueError(f"invalid device string {spec!r}")
            index = int(number)
        self.type = self._ALIASES[name]
        if self.type == "cpu" and index not in (None, 0):
            raise ValueError(f"the cpu device has no index {index}")
        self.index = None if self.type == "cpu" else index

    @property
    def xp(self):
        """The array module of this device (numpy or cupy)."""
        return numpy if self.type == "cpu" else _require_gpu(self.index).xp

    def _key(self):
        return (self.type, self.index or 0)

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        return isinstance(other, Device) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


device = Device
CPU = Device("cpu")


def _is_cpu_array(x):
    return isinstance(x, (numpy.ndarray, numpy.generic))


def _is_gpu_array(x):
    return _gpu is not None and isinstance(x, _gpu.array_type)


def is_array(x):
    """True for a NumPy array, or a CuPy array when CuPy is loaded."""
    return isinstance(x, numpy.ndarray) or _is_gpu_array(x)


def get_array_module(x):
    """cupy for a CuPy array, numpy for anything else (like ``cupy.get_array_module``)."""
    return _gpu.xp if _is_gpu_array(x) else numpy


def device_of(x):
    """The Device an array lives on (the cpu for NumPy arrays, scalars and lists)."""
    return Device("cuda", _gpu.device_index(x)) if _is_gpu_array(x) else CPU


def to_device(x, dev):
    """Return the array ``x`` on device ``dev`` (the same object when it is already there)."""
    dev = Device(dev)
    if dev.type == "cpu":
        return to_numpy(x)
    gpu = _require_gpu(dev.index)
    if isinstance(x, gpu.array_type) and gpu.device_index(x) == (dev.index or 0):
        return x
    return gpu.asarray(to_numpy(x), dev.index or 0)


def to_numpy(x):
    """The array as a NumPy array, copying from the GPU when needed."""
    if _is_cpu_array(x):
        return numpy.asarray(x)
    if _gpu is not None and isinstance(x, _gpu.array_type):
        return _gpu.asnumpy(x)
    return numpy.asarray(x)


def is_writeable(x):
    """False for a read-only NumPy view (``broadcast_to``, ``as_strided``); CuPy arrays have
    no such flag (``x.flags.writeable`` does not exist there) and are always writable."""
    return getattr(x.flags, "writeable", True)


def data_pointer(x):
    """The address of an array's first element (equal for an array and its reshaped views)."""
    if _is_cpu_array(x):
        return x.__array_interface__["data"][0]
    return x.data.ptr


def scatter_add(target, indices, values):
    """``target[indices] += values`` in place, adding repeated indices (not last-write-wins)."""
    if _is_cpu_array(target):
        numpy.add.at(target, indices, values)
    else:
        _gpu.scatter_add(target, indices, values)


def as_strided(x, shape, strides):
    """A read-only strided view of ``x`` (NumPy's and CuPy's stride tricks)."""
    if _is_cpu_array(x):
        return numpy.lib.stride_tricks.as_strided(x, shape=shape, strides=strides, writeable=False)
    return _gpu.as_strided(x, shape, strides)


# ---------------------------------------------------------------------------- random

class Generator:
    """A seeded source of random numbers on the CPU, like ``torch.Generator``.

    Used for parameter initialisation, shuffling and CPU dropout; ``manual_seed`` makes
    every run that uses it reproducible.
    """

    def __init__(self, device="cpu"):
        if Device(device).type != "cpu":
            raise ValueError("tinynn.Generator lives on the cpu; GPU random numbers follow "
                             "tinynn.manual_seed")
        self._seed = int(numpy.random.SeedSequence().entropy % (2 ** 63))
        self._rng = numpy.random.default_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self._rng = numpy.random.default_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The generator's state as a plain dict (JSON-able; no pickle needed)."""
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state

    def permutation(self, n):
        """A random permutation of ``range(n)`` as an int64 NumPy array."""
        return self._rng.permutation(n).astype(numpy.int64, copy=False)

    def uniform(self, shape, dtype):
        """Uniform samples in [0, 1)."""
        return self._rng.random(shape, dtype=_sampling_dtype(dtype)).astype(dtype, copy=False)

    def normal(self, shape, dtype):
        """Standard normal samples."""
        return self._rng.standard_normal(shape, dtype=_sampling_dtype(dtype)).astype(dtype, copy=False)


def _sampling_dtype(dtype):
    # NumPy's Generator samples only float32 and float64 directly.
    return numpy.float64 if numpy.dtype(dtype) == numpy.float64 else numpy.float32


default_generator = Generator()


def manual_seed(seed):
    """Seed the CPU generator and the GPU's (now, or when CuPy is first loaded).

    Returns the CPU generator.
    """
    global _seed
    _seed = int(seed)
    default_generator.manual_seed(seed)
    if _gpu is not None:
        _gpu.seed(seed)
    return default_generator


def seed_gpu(seed):
    """Seed the GPU's generator only (now, or when CuPy is first loaded)."""
    global _seed
    _seed = int(seed)
    if _gpu is not None:
        _gpu.seed(seed)


def random_uniform(shape, dtype, dev=CPU, generator=None):
    """Uniform [0, 1) samples of ``dtype`` made directly on ``dev``."""
    dev = Device(dev)
    if dev.type == "cpu" or generator is not None:
        out = to_device((generator or default_generator).uniform(shape, dtype), dev)
    else:
        out = _require_gpu(dev.index).uniform(shape, dtype, dev.index or 0)
    if out.dtype == numpy.float16:  # float16 is drawn as float32: rounding must not reach 1.0
        xp = get_array_module(out)
        xp.minimum(out, numpy.float16(1 - 2 ** -11), out=out)
    return out


def random_normal(shape, dtype, dev=CPU, generator=None):
    """Standard normal samples of ``dtype`` made directly on ``dev``."""
    dev = Device(dev)
    if dev.type == "cpu" or generator is not None:
        return to_device((generator or default_generator).normal(shape, dtype), dev)
    return _require_gpu(dev.index).normal(shape, dtype, dev.index or 0)


# ---------------------------------------------------------------------------- allocator

from .cpu_memory import keep_freed_cpu_memory  # noqa: E402,F401  (import tinynn applies it)
