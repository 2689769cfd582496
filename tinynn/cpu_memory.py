"""Keep freed CPU memory for reuse, so a training step does not page-fault its buffers in.

A training step allocates and frees the same arrays every batch. With glibc's default
settings each large freed block goes back to the operating system (blocks from 128 KB
are separate mappings; the top of the heap is trimmed once 128 KB-ish is free), and the
next batch faults the same pages in again, zero-filled by the kernel: about 1 ms per
4 MB, which halved the lecture MLP's and CNN's speed. So ``import tinynn`` asks glibc to
serve every block from its heap (a block with a mapping of its own goes back to the OS
when freed: ResNet-18 width 64's 115 MB im2col columns were faulted in again every step)
and to keep up to 1 GB of freed heap. From the second step on, a step reuses the pages of
the one before. Peak memory is unchanged (it is the step's working set either way);
memory freed after training stays with the process until it exits, as with PyTorch's
allocator.

This is the default because the default path must be the fast one. It is skipped when
the environment already tunes glibc's allocator (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_MAX_``, ``glibc.malloc`` in
``GLIBC_TUNABLES``) or sets ``TINYNN_KEEP_FREED_MEMORY=0``,
and does nothing where the C library is not glibc (macOS, musl, Windows).
"""
import ctypes
import ctypes.util
import os

__all__ = ["keep_freed_cpu_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4   # mallopt parameters (malloc.h)
_ENVIRONMENT_TUNES_MALLOC = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_")


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
    # No block gets its own mapping (those are unmapped on free, whatever their size), and
    # the heap keeps up to ``limit`` freed bytes at its top.
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, limit))


def apply_default():
    """What ``import tinynn`` runs: keep freed memory unless the environment says otherwise."""
    if os.environ.get("TINYNN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if (any(name in os.environ for name in _ENVIRONMENT_TUNES_MALLOC)
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")):
        return False
    return keep_freed_cpu_memory()
