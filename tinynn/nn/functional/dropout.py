"""Dropout: ``F.dropout``."""
from ... import backend
from ...ops import activation

__all__ = ["dropout"]


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0  # all dropped: zeros, not 0 * inf = NaN
    keep = backend.random_uniform(input.shape, input.dtype, input.device) >= p
    scale = keep * input.dtype.type(1.0 / (1.0 - p))
    return activation.Mask.apply(input, mask=scale.astype(input.dtype, copy=False))
