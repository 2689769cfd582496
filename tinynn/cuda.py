"""``tinynn.cuda``: is a GPU usable, seeding and a few helpers, as in ``torch.cuda``.

Code written for any accelerator runs unchanged on a machine without one: every function
here answers sensibly (False, 0, nothing to do) when CuPy or a GPU is missing.
"""
from . import backend
from .legacy import make_legacy_types

__all__ = ["is_available", "device_count", "current_device", "get_device_name", "synchronize",
           "manual_seed", "manual_seed_all", "empty_cache", "memory_allocated"]


def is_available():
    """True when CuPy is installed and a CUDA device answers."""
    return backend.is_available()


def device_count():
    return backend.device_count()


def current_device():
    if not is_available():
        raise RuntimeError("CUDA is not available (no GPU or no CuPy): there is no current device")
    return backend._require_gpu().xp.cuda.Device().id


def get_device_name(device=None):
    gpu = backend._require_gpu()
    index = backend.Device(device).index or 0 if device is not None and not isinstance(device, int) \
        else (device or 0)
    return gpu.xp.cuda.runtime.getDeviceProperties(index)["name"].decode()


def synchronize(device=None):
    """Wait for all queued GPU work (use before reading a timer)."""
    if is_available():
        backend._require_gpu().xp.cuda.Device().synchronize()


def manual_seed(seed):
    """Seed the GPU's generator (now, or when CuPy first loads); ``tinynn.manual_seed`` seeds
    the CPU's and the GPU's together."""
    backend.seed_gpu(seed)


manual_seed_all = manual_seed


def empty_cache():
    """Give CuPy's cached, unused GPU memory back to the driver."""
    if is_available():
        backend._require_gpu().xp.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    """Bytes of GPU memory held by tensors (0 without a GPU)."""
    if not is_available():
        return 0
    return backend._require_gpu().xp.get_default_memory_pool().used_bytes()


globals().update(make_legacy_types("cuda", "tinynn.cuda."))  # tinynn.cuda.FloatTensor, ...
