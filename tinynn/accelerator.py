"""``tinynn.accelerator``: device-agnostic code's question "is there a GPU, and which?".

The one accelerator tinynn knows is CUDA through CuPy.
"""
from . import backend

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available():
    return backend.is_available()


def current_accelerator(check_available=False):
    """``tinynn.device('cuda')`` when a GPU is usable, else None."""
    return backend.Device("cuda") if backend.is_available() else None


def device_count():
    return backend.device_count()
