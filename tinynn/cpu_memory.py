"""Keep freed CPU memory for reuse, so a training step does not page-fault its buffers in.

A training step allocates and frees the same arrays every batch. With glibc's default
settings each large freed block goes back to the operating system (blocks from 128 KB
are separate mappings; the top of the heap is trimmed once 128 KB-ish is free), and the
next batch faults the same pages in again, zero-filled by the kernel: about 1 ms per
4 MB, which halved the lecture MLP's and CNN's speed. So ``import tinynn`` asks glibc
to serve blocks under 32 MB from its heap and to keep up to 1 GB of freed heap: from the
second step on, a step reuses the pages of the one before. Peak memory is unchanged (it
is the step's working set either way); memory freed after training stays with the
process until it exits, as with PyTorch's allocator.

This is the default because the default path must be the fast one. It is skipped when
the environment already tunes glibc's allocator (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``glibc.malloc`` in ``GLIBC_TUNABLES``) or sets ``TINYNN_KEEP_FREED_MEMORY=0``,
and does nothing where the C library is not glibc (macOS, musl, Windows).
"""
import ctypes
import ctypes.util
import os

__all__ = ["keep_freed_cpu_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # mallopt parameters (malloc.h)
_LARGEST_HEAP_BLOCK = 32 << 20                   # glibc's upper limit for M_MMAP_THRESHOLD
_ENVIRONMENT_TUNES_MALLOC = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def keep_freed_cpu_memory(limit_bytes=1 << 30):
    """Ask glibc to keep up to ``limit_bytes`` of freed memory instead of unmapping it.

    ``import tinynn`` already calls this (see the module docstring); call it again to
    change the limit. Returns True when glibc took both settings, False where the C
    library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    limit = min(int(limit_bytes), 2 ** 31 - 1)
    return bool(mallopt(_M_MMAP_THRESHOLD, _LARGEST_HEAP_BLOCK)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))


def apply_default():
    """What ``import tinynn`` runs: keep freed memory unless the environment says otherwise."""
    if os.environ.get("TINYNN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if (any(name in os.environ for name in _ENVIRONMENT_TUNES_MALLOC)
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")):
        return False
    return keep_freed_cpu_memory()
