"""torchvision.utils for tinynn: ``make_grid`` and ``save_image``.

    grid = make_grid(images, nrow=8, padding=2)    # (B, C, H, W) -> (C', H', W') Tensor
    save_image(images, "samples.png", nrow=8)      # that grid, written as a PNG file

``make_grid`` lays images out as torchvision does: ``min(nrow, B)`` per row, ``padding``
pixels of ``pad_value`` around and between them, so the grid is ``ymaps * (H + padding)
+ padding`` high and ``xmaps * (W + padding) + padding`` wide; one-channel images become
three channels (the grey copied to R, G and B), and a single image comes back alone,
without padding.

``save_image`` maps values as torchvision (``x * 255 + 0.5``, clamped to [0, 255],
truncated to uint8) and writes a PNG with ``zlib`` and ``struct`` only, no imaging
library: 8-bit grey (when R, G and B are all equal, as for digits), grey + alpha, RGB or
RGBA. A file name is written atomically (a temporary file in the same folder, renamed
when complete), so a crash never leaves half an image or spoils an existing one.
"""
import math
import numbers
import os
import struct
import warnings
import zlib

import numpy

from .. import backend
from ..backend import get_array_module, is_array
from ..serialization import atomic_write_bytes
from ..tensor import Tensor

__all__ = ["make_grid", "save_image", "encode_png"]


def _image_array(image):
    if isinstance(image, Tensor):
        return image.array
    if is_array(image):
        return image
    raise TypeError(f"make_grid: tensor or list of tensors expected, got {type(image).__name__}")


def _batch(tensor):
    """A Tensor (or array), or a list of same-shaped ones -> one array."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid: got an empty list of images")
        arrays = [_image_array(t) for t in tensor]
        shapes = sorted({tuple(a.shape) for a in arrays})
        if len(shapes) > 1:
            raise ValueError(f"make_grid: all images must have the same shape, got {shapes}")
        return get_array_module(arrays[0]).stack(arrays)
    return _image_array(tensor)


def _normalized(x, value_range, scale_each):
    """Clamp to (low, high) and map that range onto [0, 1]: ``value_range``, or the
    min and max of all images (of each image with ``scale_each``)."""
    xp = get_array_module(x)
    if value_range is not None:
        low = xp.asarray(float(value_range[0]))
        high = xp.asarray(float(value_range[1]))
    elif scale_each:
        low = x.min(axis=(1, 2, 3), keepdims=True)
        high = x.max(axis=(1, 2, 3), keepdims=True)
    else:
        low, high = x.min(), x.max()
    x = xp.clip(x, low.astype(x.dtype), high.astype(x.dtype))
    # the span is taken in float64 and at least 1e-5 (a constant image does not divide by 0)
    span = xp.maximum(high.astype(xp.float64) - low.astype(xp.float64), 1e-5)
    return (x - low.astype(x.dtype)) / span.astype(x.dtype)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0, **kwargs):
    """Lay a batch of images out in a grid, as torchvision does.

    ``tensor``: a ``(B, C, H, W)`` Tensor (``(C, H, W)`` and ``(H, W)`` are one image) or a
    list of same-shaped ``(C, H, W)`` Tensors. ``nrow`` images per row, ``padding`` pixels
    of ``pad_value`` around each. ``normalize=True`` maps ``value_range`` (default: the
    min and max, per image with ``scale_each``) onto [0, 1], clamping what is outside.
    Returns a ``(C, H', W')`` Tensor (``C`` 3 for one-channel images), outside autograd.
    """
    if "range" in kwargs:  # torchvision's name before 0.12
        warnings.warn("make_grid: the argument range is deprecated; use value_range",
                      DeprecationWarning, stacklevel=2)
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid() got unexpected keyword arguments {sorted(kwargs)}")
    x = _batch(tensor)
    xp = get_array_module(x)
    if x.ndim == 2:                                   # (H, W): one grey image
        x = x[None]
    if x.ndim == 3:                                   # (C, H, W): one image
        if x.shape[0] == 1:
            x = xp.concatenate([x, x, x], axis=0)
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or "
                         f"(H, W), got shape {tuple(x.shape)}")
    if x.shape[1] == 1:                               # grey -> RGB, as torchvision
        x = xp.concatenate([x, x, x], axis=1)
    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. "
                            "min and max are numbers")
        x = _normalized(x, value_range, scale_each)
    if x.shape[0] == 1:                               # one image: no padding, as torchvision
        return Tensor(x[0].copy())
    if not isinstance(nrow, numbers.Integral) or nrow < 1:
        raise ValueError(f"make_grid: nrow must be a positive int, got {nrow!r}")
    count, channels, h, w = x.shape
    xmaps = min(nrow, count)
    ymaps = math.ceil(count / xmaps)
    cell_h, cell_w = h + padding, w + padding
    # each cell: `padding` rows above and columns left of its image; empty cells stay pad
    cells = xp.full((ymaps * xmaps, channels, cell_h, cell_w), pad_value, dtype=x.dtype)
    cells[:count, :, padding:, padding:] = x
    cells = cells.reshape(ymaps, xmaps, channels, cell_h, cell_w).transpose(2, 0, 3, 1, 4)
    grid = xp.full((channels, ymaps * cell_h + padding, xmaps * cell_w + padding), pad_value,
                   dtype=x.dtype)
    grid[:, :ymaps * cell_h, :xmaps * cell_w] = cells.reshape(channels, ymaps * cell_h,
                                                              xmaps * cell_w)
    return Tensor(grid)


# ---------------------------------------------------------------------------- PNG

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> grey, grey + alpha, RGB, RGBA


def _chunk(kind, data):
    """A PNG chunk: length, type, data, CRC-32 of type and data (all big-endian)."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(pixels, compress_level=6):
    """``(H, W)`` or ``(H, W, C)`` uint8 NumPy array (C = 1 grey, 2 grey + alpha, 3 RGB,
    4 RGBA) -> the bytes of a PNG file: 8 bits per channel, no interlacing, every row
    stored with filter type 0 (as it is), all rows in one zlib stream (IDAT)."""
    pixels = numpy.asarray(pixels)
    if pixels.dtype != numpy.uint8:
        raise TypeError(f"encode_png: expected uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in _COLOR_TYPES:
        raise ValueError(f"encode_png: expected an (H, W) or (H, W, C) image with C in 1..4, "
                         f"got shape {pixels.shape}")
    h, w, channels = pixels.shape
    if h == 0 or w == 0:
        raise ValueError(f"encode_png: a PNG needs at least one pixel, got shape {pixels.shape}")
    rows = numpy.zeros((h, 1 + w * channels), dtype=numpy.uint8)   # column 0: filter byte 0
    rows[:, 1:] = pixels.reshape(h, w * channels)
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return (_PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), compress_level))
            + _chunk(b"IEND", b""))


def _check_png(fp, format):
    """Only PNG is written: by ``format``, else by the file name's extension."""
    if format is not None:
        ok = str(format).lower() == "png"
    elif isinstance(fp, (str, os.PathLike)):
        ok = os.path.splitext(os.fspath(fp))[1].lower() == ".png"
    else:
        ok = True                                     # a file object: PNG unless told
    if not ok:
        raise ValueError(f"save_image writes PNG files only (no imaging library); got "
                         f"fp={fp!r}, format={format!r}: use a name ending in .png")


def save_image(tensor, fp, format=None, **kwargs):
    """Save an image, or a batch as a ``make_grid`` grid (``**kwargs`` are make_grid's:
    ``nrow``, ``padding``, ``normalize``, ``value_range``, ``scale_each``, ``pad_value``),
    as a PNG file: ``fp`` a path (written atomically) or a binary file object.

    Float values in [0, 1] map to 0..255 as torchvision's ``mul(255).add_(0.5).clamp_(0,
    255)`` then truncation to uint8.
    """
    _check_png(fp, format)
    grid = make_grid(tensor, **kwargs).array
    if grid.dtype.kind != "f":
        raise TypeError(f"save_image: expected float images with values in [0, 1], got "
                        f"{grid.dtype} (convert with ConvertImageDtype(tinynn.float32))")
    xp = get_array_module(grid)
    levels = xp.clip(xp.nan_to_num(grid * 255 + 0.5), 0, 255).astype(xp.uint8)
    pixels = backend.to_numpy(levels).transpose(1, 2, 0)       # (C, H, W) -> (H, W, C)
    if pixels.shape[2] == 3 and (pixels[..., 0] == pixels[..., 1]).all() \
            and (pixels[..., 1] == pixels[..., 2]).all():
        pixels = pixels[..., 0]                       # grey in RGB: store one channel
    data = encode_png(pixels)
    if isinstance(fp, (str, os.PathLike)):
        atomic_write_bytes(fp, data)
    else:
        fp.write(data)
