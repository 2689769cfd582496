"""Utilities, as in ``torch.utils``: ``from tinynn.utils import data``."""
from . import data

__all__ = ["data"]
