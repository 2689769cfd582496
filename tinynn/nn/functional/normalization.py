"""Normalisation functions: ``F.batch_norm``."""
from ...ops.batchnorm import batch_norm

__all__ = ["batch_norm"]
