"""cuDNN's switches, settable as in PyTorch; tinynn's GPU path does not use cuDNN."""
from .. import backend

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """True where a GPU is usable (the flags then apply to nothing, but are accepted)."""
    return backend.is_available()


def version():
    return None
