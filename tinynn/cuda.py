"""``tinynn.cuda``: is a GPU usable, and a few helpers, as in ``torch.cuda``."""
from . import backend


def is_available():
    """True when CuPy is installed and a CUDA device answers."""
    return backend.is_available()


def device_count():
    return backend._require_gpu().xp.cuda.runtime.getDeviceCount() if is_available() else 0


def synchronize():
    """Wait for all queued GPU work (use before reading a timer)."""
    if is_available():
        backend._require_gpu().xp.cuda.Device().synchronize()


def manual_seed(seed):
    if is_available():
        backend._require_gpu().seed(seed)
