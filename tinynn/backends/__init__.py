"""``tinynn.backends``: the switches of ``torch.backends`` that portable code reads.

``tinynn.backends.mps.is_available()`` is False (tinynn has no Apple-GPU backend), and the
cuDNN flags (``benchmark``, ``deterministic``) can be set; tinynn's GPU path does not use
cuDNN, so they change nothing, but code that sets them runs.
"""
from . import cudnn, mps

__all__ = ["cudnn", "mps"]
