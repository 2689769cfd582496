"""Dropout: ``F.dropout``, ``F.dropout1d``, ``F.dropout2d``, ``F.dropout3d``, ``F.alpha_dropout``.

Each multiplies the input by a fixed random mask (``Mask``: the gradient is the same
mask times the upstream gradient). ``dropout`` draws one keep/drop per element; the
channel-wise forms draw one per (sample, channel) and zero whole feature maps (the mask
has shape (N, C, 1, ..., 1) and broadcasts); ``alpha_dropout`` keeps SELU's mean and
variance by setting dropped values to SELU's negative saturation and then applying an
affine correction. Kept values are scaled so that the expected output equals the input.
``inplace=True`` writes the result into the input (PyTorch's in-place rules).
"""
import warnings

from ... import backend
from ...ops import activation
from ...ops.inplace import inplace as _inplace
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]

# SELU's scale * alpha: the value (before the affine correction) that alpha dropout gives
# dropped units, so that SELU's self-normalising mean 0 / variance 1 is kept.
_SELU_ALPHA_PRIME = 1.7580993408473766


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, shape):
    """A float mask of ``shape``: 1/(1-p) where kept (probability 1-p), 0 where dropped."""
    keep = backend.random_uniform(shape, input.dtype, input.device) >= p
    return (keep * input.dtype.type(1.0 / (1.0 - p))).astype(input.dtype, copy=False)


def _apply(input, inplace, name, out_of_place):
    """Run ``out_of_place(input)``, or write its result into ``input`` when inplace."""
    if inplace:
        return _inplace(input, name, out_of_place)
    return out_of_place(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (training only)."""
    _check_p(p)
    if not training or p == 0.0:
        return input

    def run(x):
        if p == 1.0:
            return x * 0.0  # all dropped: zeros, not 0 * inf = NaN
        return activation.Mask.apply(x, mask=_keep_mask(x, p, x.shape))

    return _apply(input, inplace, "dropout_", run)


def _feature_dropout(input, p, training, inplace, name):
    """Channel-wise dropout of (N, C, *): one keep/drop per (n, c), broadcast over *."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input

    def run(x):
        if p == 1.0:
            return x * 0.0
        shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
        return activation.Mask.apply(x, mask=_keep_mask(x, p, shape))

    return _apply(input, inplace, name, run)


def _unbatched_feature_dropout(input, p, training, inplace, name):
    """Channel-wise dropout of an unbatched (C, *) input: as a batch of one."""
    if not training or p == 0.0:
        return input
    return _apply(input, inplace, name,
                  lambda x: _feature_dropout(x.unsqueeze(0), p, True, False, name).squeeze(0))


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or unbatched (C, L) input with probability ``p``;
    kept channels are scaled by ``1/(1-p)``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise dropout "
                           f"on inputs with 1 spatial dimension, a channel dimension, and an "
                           f"optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 2:   # unbatched (C, L): its channels are dim 0
        return _unbatched_feature_dropout(input, p, training, inplace, "dropout1d_")
    return _feature_dropout(input, p, training, inplace, "dropout1d_")


def _warn_deprecated_rank(name, ndim, spatial_dims):
    """PyTorch's warning when dropout2d/3d gets an input of neither rank it is meant for."""
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will "
                  f"result in an error in a future release. To retain the behavior and silence "
                  f"this warning, please use dropout instead. Note that {name} exists to provide "
                  f"channel-wise dropout on inputs with {spatial_dims} spatial dimensions, a "
                  f"channel dimension, and an optional batch dimension (i.e. {spatial_dims + 1}D "
                  f"or {spatial_dims + 2}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (feature maps) of (N, C, H, W) input with probability ``p``; kept
    channels are scaled by ``1/(1-p)``.

    As in PyTorch, a 3-D input is read as (N, C, L) (1-D channel dropout, with a warning:
    use dropout1d for that), and inputs other than 3-D or 4-D warn that they are deprecated.
    """
    _check_p(p)
    ndim = input.ndim
    if ndim not in (3, 4):
        _warn_deprecated_rank("dropout2d", ndim, spatial_dims=2)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout2d_")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    _check_p(p)
    ndim = input.ndim
    if ndim not in (4, 5):
        _warn_deprecated_rank("dropout3d", ndim, spatial_dims=3)
    if ndim == 4:   # unbatched (C, D, H, W)
        return _unbatched_feature_dropout(input, p, training, inplace, "dropout3d_")
    return _feature_dropout(input, p, training, inplace, "dropout3d_")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout for SELU networks (note: ``training`` defaults to False, as in PyTorch).

    Each element is dropped with probability ``p``; dropped elements take SELU's negative
    saturation value -alpha' (alpha' = scale * alpha = 1.7581), then everything goes
    through ``a * x + b`` with a = 1 / sqrt((alpha'^2 p + 1)(1 - p)) and b = a alpha' p,
    which keeps a zero-mean, unit-variance input at mean 0 and variance 1:

        kept:     a * x + a alpha' p          dropped:  -a alpha' (1 - p)
    """
    _check_p(p)
    if not training or p == 0.0:
        return input

    def run(x):
        if p == 1.0:
            return x * 0.0
        keep = backend.random_uniform(x.shape, x.dtype, x.device) >= p
        a = 1.0 / ((_SELU_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** 0.5
        scale = (keep * x.dtype.type(a)).astype(x.dtype, copy=False)
        # b = a alpha' p for kept elements, a alpha' p - a alpha' = -a alpha' (1 - p) for dropped.
        shift = ((keep - 1.0) * (_SELU_ALPHA_PRIME * a) + _SELU_ALPHA_PRIME * a * p).astype(
            x.dtype, copy=False)
        return activation.Mask.apply(x, mask=scale) + Tensor(shift)

    return _apply(input, inplace, "alpha_dropout_", run)
