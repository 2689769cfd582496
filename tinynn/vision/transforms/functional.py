"""torchvision.transforms.functional for tinynn: the image operations behind the transforms.

An *image* is one of two kinds, and every function returns the kind it was given:

- a **Tensor** of shape ``(..., H, W)``, torchvision's tensor image (usually ``(C, H, W)``;
  leading dimensions all get the same operation). The result is a new Tensor, outside
  the autograd graph.
- a **NumPy/CuPy array** of shape ``(H, W)`` or ``(H, W, C)``, what ``to_tensor`` takes
  (where torchvision takes a PIL image). The result is a new array of the same layout
  and dtype: a uint8 image stays uint8 (interpolated values rounded half to even, as
  torchvision rounds uint8 tensors), so ``Resize`` can come before ``ToTensor``.

Geometry, as torchvision's tensor path has it. Pixel ``(row i, column j)`` covers the unit
square whose centre is ``(j + 0.5, i + 0.5)``; sizes are ``(h, w)``, points ``(x, y)``
with y pointing down.

- ``resize`` nearest: output index i reads input ``floor(i * in / out)`` (computed in
  integers, so exact); ``nearest-exact`` reads ``floor((i + 0.5) * in / out)``.
- ``resize`` bilinear: output i samples the input at ``(i + 0.5) * in / out - 0.5``
  (``align_corners=False``; clamped at the borders). With ``antialias=True`` (the
  default) a downscale averages over a triangle filter ``in / out`` input pixels wide,
  as PIL and torchvision do, instead of reading only the two nearest pixels.
- ``rotate`` / ``affine``: in coordinates centred on the image, the forward map is
  ``p' = c + M (p - c) + t`` with ``M = scale * R(angle) * ShearY * ShearX``. Each output
  pixel centre is mapped back through the inverse, and the input is sampled there
  (nearest: the closest pixel centre, ties to even; bilinear: the four around it).
  Points falling outside the input take ``fill``; bilinear treats the input as if it
  were surrounded by ``fill``.

The kernels are vectorised gathers over whole images and batches (``take`` and fancy
indexing on the array module of the input: NumPy or CuPy); the only Python loops run
over the few taps of a resize filter or the four corners of a bilinear sample. They are
this module's own (``tinynn.nn.functional.interpolate`` is the differentiable relative;
a transform needs no autograd, and keeps integer images integer).

The batched forms (``Transform.apply_batch``) reuse these kernels with one extra leading
axis of samples, each with its own random parameters.
"""
import enum
import math
import numbers

import numpy

from ...backend import get_array_module, is_array
from ...tensor import Tensor

__all__ = ["InterpolationMode", "to_tensor", "normalize", "resize", "crop", "center_crop",
           "pad", "hflip", "vflip", "rotate", "affine", "convert_image_dtype",
           "get_dimensions", "get_image_size", "get_image_num_channels"]


class InterpolationMode(enum.Enum):
    """How to read an image between pixels (torchvision's enum and values)."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_CONSTANTS = {0: InterpolationMode.NEAREST, 1: InterpolationMode.LANCZOS,
                  2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                  4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}


def _interpolation(value, supported, who):
    """An InterpolationMode, its string value or a PIL constant -> one of ``supported``."""
    if isinstance(value, InterpolationMode):
        mode = value
    elif isinstance(value, str):
        try:
            mode = InterpolationMode(value.lower())
        except ValueError:
            raise ValueError(f"{who}: unknown interpolation {value!r}") from None
    elif isinstance(value, numbers.Integral) and int(value) in _PIL_CONSTANTS:
        mode = _PIL_CONSTANTS[int(value)]
    else:
        raise TypeError(f"{who}: interpolation should be an InterpolationMode, got {value!r}")
    if mode not in supported:
        names = ", ".join(m.name for m in supported)
        raise ValueError(f"{who}: interpolation {mode.name} is not supported here "
                         f"(supported: {names})")
    return mode


_RESIZE_MODES = (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                 InterpolationMode.BILINEAR)
_WARP_MODES = (InterpolationMode.NEAREST, InterpolationMode.BILINEAR)


# ------------------------------------------------------------------ image kinds

def _planes(img, who, batched=False):
    """``img`` -> ``(planes, repack, has_channels)``.

    ``planes`` holds the pixels with H and W as the last two axes (an HWC array is viewed
    channels-first); ``repack(result)`` gives the result back as the kind and layout of
    ``img``; ``has_channels`` says whether axis -3 is a channel axis (for per-channel fill).
    ``batched``: ``img`` has one more leading axis, of samples (``(B, ..., H, W)`` Tensors,
    ``(B, H, W)`` or ``(B, H, W, C)`` arrays).
    """
    extra = 1 if batched else 0
    if isinstance(img, Tensor):
        planes = img.array
        if planes.ndim < 2 + extra:
            shape = "(B, ..., H, W)" if batched else "(..., H, W)"
            raise ValueError(f"{who}: expected a tensor of shape {shape}, "
                             f"got shape {tuple(planes.shape)}")
        return planes, Tensor, planes.ndim >= 3 + extra
    if is_array(img):
        if img.ndim == 2 + extra:
            return img, _fresh, False
        if img.ndim == 3 + extra:
            xp = get_array_module(img)
            return xp.moveaxis(img, -1, -3), _channels_last, True
        shape = "(B, H, W) or (B, H, W, C)" if batched else "(H, W) or (H, W, C)"
        raise ValueError(f"{who}: expected an image array of shape {shape}, "
                         f"got shape {tuple(img.shape)}")
    raise TypeError(f"{who}: expected a Tensor or a NumPy/CuPy image array, "
                    f"got {type(img).__name__}")


def _fresh(planes):
    return get_array_module(planes).ascontiguousarray(planes)


def _channels_last(planes):
    xp = get_array_module(planes)
    return xp.ascontiguousarray(xp.moveaxis(planes, -3, -1))


def _map_planes(img, who, kernel, batched=False):
    """Apply ``kernel(planes, has_channels)`` to ``img``'s pixels; same kind back."""
    planes, repack, has_channels = _planes(img, who, batched)
    return repack(kernel(planes, has_channels))


def get_dimensions(img):
    """``[channels, height, width]`` of an image."""
    planes, _, has_channels = _planes(img, "get_dimensions")
    h, w = planes.shape[-2:]
    return [planes.shape[-3] if has_channels else 1, h, w]


def get_image_size(img):
    """``[width, height]`` of an image (torchvision's order)."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    return get_dimensions(img)[0]


# ------------------------------------------------------------------ ToTensor, Normalize

def _scale(array):
    """uint8 -> float32 in [0, 1], like torchvision (``x.float().div(255)``); other
    dtypes are kept as they are. Always returns a C-contiguous new array."""
    xp = get_array_module(array)
    if array.dtype == xp.uint8:
        out = array.astype(xp.float32, order="C")
        out /= 255  # in place: no second (B, C, H, W) temporary
        return out
    return xp.array(array, order="C", copy=True)


def _image_array(pic, who):
    """The NumPy/CuPy array behind ``pic``; ToTensor takes arrays, as torchvision's
    takes PIL images or ndarrays (not Tensors)."""
    if not is_array(pic):
        raise TypeError(f"{who}: expected a NumPy array, got {type(pic).__name__}")
    return pic


def to_tensor(pic):
    """``(H, W)`` or ``(H, W, C)`` array -> ``(C, H, W)`` Tensor; uint8 becomes float32
    in [0, 1], other dtypes are kept."""
    array = _image_array(pic, "ToTensor")
    if array.ndim == 2:
        array = array[None]                    # (1, H, W): one channel
    elif array.ndim == 3:
        array = array.transpose(2, 0, 1)       # HWC -> CHW
    else:
        raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) image, "
                         f"got shape {tuple(array.shape)}")
    return Tensor(_scale(array))


def _as_floats(values, name):
    """A number or a sequence of numbers -> tuple of floats."""
    if isinstance(values, numbers.Number):
        return (float(values),)
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Normalize: {name} should be a number or a sequence of numbers, "
                        f"got {values!r}") from exc
    if not out:
        raise ValueError(f"Normalize: {name} is empty")
    return out


def normalize(tensor, mean, std, inplace=False):
    """``(x - mean[c]) / std[c]`` per channel on a float ``(..., C, H, W)`` Tensor, in the
    input's dtype (torchvision's arithmetic: subtract, then divide)."""
    mean, std = _as_floats(mean, "mean"), _as_floats(std, "std")
    if any(s == 0 for s in std):
        raise ValueError(f"Normalize: std {std} contains a zero (division by zero)")
    array = tensor.array if isinstance(tensor, Tensor) else tensor
    if not is_array(array):
        raise TypeError(f"Normalize: expected a Tensor, got {type(tensor).__name__}")
    if array.ndim < 3:
        raise ValueError(f"Normalize: expected a (C, H, W) or (B, C, H, W) image, "
                         f"got shape {tuple(array.shape)}")
    if array.dtype.kind != "f":
        raise TypeError(f"Normalize: expected a float tensor, got {array.dtype} "
                        f"(apply ToTensor first)")
    channels = array.shape[-3]
    for name, values in (("mean", mean), ("std", std)):
        if len(values) not in (1, channels):
            raise ValueError(f"Normalize: {name} has {len(values)} values but the image "
                             f"has {channels} channels (shape {tuple(array.shape)})")
    xp = get_array_module(array)
    # (C, 1, 1) in the input's dtype: broadcasts over H, W and any leading batch dims
    mean = xp.asarray(mean, dtype=array.dtype).reshape(-1, 1, 1)
    std = xp.asarray(std, dtype=array.dtype).reshape(-1, 1, 1)
    if inplace:
        array -= mean
        array /= std
        return tensor if isinstance(tensor, Tensor) else Tensor(array)
    out = array - mean
    out /= std
    return Tensor(out)


# ------------------------------------------------------------------ dtypes and fill

def _compute_dtype(dtype):
    """The float dtype to interpolate in: float64 stays float64, the rest use float32."""
    return numpy.float64 if dtype == numpy.float64 else numpy.float32


def _cast_back(values, dtype):
    """Interpolated floats -> the image's dtype; integers rounded half to even (as
    ``torch.round``) and clipped to the dtype's range."""
    if values.dtype == dtype:
        return values
    xp = get_array_module(values)
    if numpy.dtype(dtype).kind in "iu":
        info = numpy.iinfo(dtype)
        values = xp.clip(xp.rint(values), info.min, info.max)
    return values.astype(dtype)


def _fill_values(fill, planes, has_channels, dtype, who):
    """``fill`` (None, a number, or one number per channel) as an array of ``dtype`` that
    broadcasts against ``planes``: 0-d, or ``(C, 1, 1)``."""
    xp = get_array_module(planes)
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number):
        return xp.asarray(fill, dtype=dtype)
    values = [float(v) for v in fill]
    if len(values) == 1:
        return xp.asarray(values[0], dtype=dtype)
    channels = planes.shape[-3] if has_channels else 1
    if len(values) != channels:
        raise ValueError(f"{who}: fill has {len(values)} values but the image has "
                         f"{channels} channels")
    return xp.asarray(values, dtype=dtype).reshape(-1, 1, 1)


# ------------------------------------------------------------------ resize

def _pair(size, name, who):
    """An int or a sequence of 1 or 2 ints -> (h, w)."""
    if isinstance(size, numbers.Integral):
        size = (int(size), int(size))
    elif isinstance(size, (list, tuple)) and len(size) in (1, 2):
        size = (int(size[0]), int(size[-1]))
    else:
        raise ValueError(f"{who}: {name} should be an int or a sequence of 1 or 2 ints, "
                         f"got {size!r}")
    if min(size) <= 0:
        raise ValueError(f"{who}: {name} must be positive, got {size}")
    return size


def _resized_shape(h, w, size, max_size):
    """torchvision's output size: an int (or 1-sequence) is the smaller edge, the other
    edge keeps the aspect ratio (truncated); ``max_size`` caps the longer edge."""
    if isinstance(size, numbers.Integral) or (isinstance(size, (list, tuple)) and len(size) == 1):
        requested = int(size if isinstance(size, numbers.Integral) else size[0])
        if requested <= 0:
            raise ValueError(f"Resize: size must be positive, got {size!r}")
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"Resize: max_size = {max_size} must be strictly greater "
                                 f"than the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if not isinstance(size, (list, tuple)):
        raise TypeError(f"Resize: size should be an int or a sequence, got {size!r}")
    if len(size) != 2:
        raise ValueError(f"Resize: if size is a sequence, it should have 1 or 2 values, "
                         f"got {size!r}")
    if max_size is not None:
        raise ValueError("Resize: max_size should only be passed if size specifies the "
                         "length of the smaller edge, i.e. size should be an int")
    return _pair(size, "size", "Resize")


def _taps(in_size, out_size, mode, antialias):
    """How one axis is resampled: ``index`` and ``weight``, both ``(out_size, K)``, with
    ``output[i] = sum_k weight[i, k] * input[index[i, k]]``. Small host arrays."""
    i = numpy.arange(out_size)
    if mode is InterpolationMode.NEAREST:
        index = (i * in_size) // out_size                    # floor(i * in / out), exactly
        return numpy.minimum(index, in_size - 1)[:, None], None
    if mode is InterpolationMode.NEAREST_EXACT:
        index = ((2 * i + 1) * in_size) // (2 * out_size)    # floor((i + 0.5) * in / out)
        return numpy.minimum(index, in_size - 1)[:, None], None
    scale = in_size / out_size
    if antialias and scale > 1:
        # downscale: a triangle filter `scale` input pixels either side of the centre
        # (PIL's bilinear filter, used by torchvision's antialias=True), renormalised
        centre = (i + 0.5) * scale
        first = numpy.maximum(numpy.floor(centre - scale + 0.5), 0).astype(numpy.int64)
        stop = numpy.minimum(numpy.floor(centre + scale + 0.5), in_size).astype(numpy.int64)
        index = first[:, None] + numpy.arange(int((stop - first).max()))
        weight = numpy.maximum(0.0, 1.0 - numpy.abs(index + 0.5 - centre[:, None]) / scale)
        weight[index >= stop[:, None]] = 0.0
        weight /= weight.sum(axis=1, keepdims=True)
        return numpy.minimum(index, in_size - 1), weight
    source = numpy.maximum((i + 0.5) * scale - 0.5, 0.0)    # align_corners=False
    low = numpy.minimum(numpy.floor(source).astype(numpy.int64), in_size - 1)
    frac = source - low
    high = numpy.minimum(low + 1, in_size - 1)
    return numpy.stack([low, high], axis=1), numpy.stack([1.0 - frac, frac], axis=1)


def _resample_axis(planes, axis, out_size, mode, antialias):
    """Resample ``planes`` along ``axis`` (-2: rows, -1: columns) to ``out_size``."""
    xp = get_array_module(planes)
    index, weight = _taps(planes.shape[axis], out_size, mode, antialias)
    index = xp.asarray(index)
    if weight is None:                                       # nearest: one gather
        return xp.take(planes, index[:, 0], axis=axis)
    weight = xp.asarray(weight, dtype=planes.dtype)
    out = None
    for k in range(index.shape[1]):                          # the filter's few taps
        w = weight[:, k] if axis == -1 else weight[:, k, None]
        term = xp.take(planes, index[:, k], axis=axis) * w
        out = term if out is None else out + term
    return out


def _resize_planes(planes, out_hw, mode, antialias):
    h, w = planes.shape[-2:]
    oh, ow = out_hw
    if (oh, ow) == (h, w):
        return planes.copy()
    dtype = planes.dtype
    x = planes
    if mode is InterpolationMode.BILINEAR:
        x = x.astype(_compute_dtype(dtype))
    if oh != h:
        x = _resample_axis(x, -2, oh, mode, antialias)
    if ow != w:
        x = _resample_axis(x, -1, ow, mode, antialias)
    return _cast_back(x, dtype)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size``: ``(h, w)``, or an int for the smaller edge (keeping the aspect
    ratio). Interpolation NEAREST, NEAREST_EXACT or BILINEAR (default; antialiased when
    shrinking unless ``antialias=False``)."""
    mode = _interpolation(interpolation, _RESIZE_MODES, "Resize")
    planes, repack, _ = _planes(img, "Resize")
    out_hw = _resized_shape(*planes.shape[-2:], size, max_size)
    return repack(_resize_planes(planes, out_hw, mode, antialias))


# ------------------------------------------------------------------ crop, pad, flip

def _crop_planes(planes, top, left, height, width):
    """The window ``[top, top + height) x [left, left + width)``; zeros where it leaves
    the image (as torchvision's crop pads)."""
    xp = get_array_module(planes)
    h, w = planes.shape[-2:]
    if top >= 0 and left >= 0 and top + height <= h and left + width <= w:
        return planes[..., top:top + height, left:left + width].copy()
    out = xp.zeros(planes.shape[:-2] + (height, width), dtype=planes.dtype)
    t0, l0 = max(top, 0), max(left, 0)
    b0, r0 = min(top + height, h), min(left + width, w)
    if t0 < b0 and l0 < r0:
        out[..., t0 - top:b0 - top, l0 - left:r0 - left] = planes[..., t0:b0, l0:r0]
    return out


def crop(img, top, left, height, width):
    """Crop the window whose top-left pixel is ``(top, left)``; parts of the window
    outside the image are zeros."""
    top, left, height, width = int(top), int(left), int(height), int(width)
    if height <= 0 or width <= 0:
        raise ValueError(f"crop: height and width must be positive, got {(height, width)}")
    return _map_planes(img, "crop", lambda p, _: _crop_planes(p, top, left, height, width))


def _center_window(h, w, out_hw):
    """(top, left) of torchvision's centre crop: ``round((h - out) / 2)`` (Python's
    round, half to even) when the crop fits; centred zero padding when it does not."""
    ch, cw = out_hw
    top = int(round((h - ch) / 2.0)) if ch <= h else -((ch - h) // 2)
    left = int(round((w - cw) / 2.0)) if cw <= w else -((cw - w) // 2)
    return top, left


def _center_crop_planes(planes, out_hw):
    top, left = _center_window(*planes.shape[-2:], out_hw)
    return _crop_planes(planes, top, left, *out_hw)


def center_crop(img, output_size):
    """Crop the centre ``output_size`` (int or ``(h, w)``); a crop larger than the image
    pads it with zeros."""
    out_hw = _pair(output_size, "output_size", "CenterCrop")
    return _map_planes(img, "CenterCrop", lambda p, _: _center_crop_planes(p, out_hw))


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _padding_ltrb(padding, who):
    """int, or a sequence of 1, 2 (left/right, top/bottom) or 4 (left, top, right,
    bottom) ints -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    if not isinstance(padding, (list, tuple)):
        raise TypeError(f"{who}: padding should be an int or a sequence, got {padding!r}")
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    if len(padding) == 4:
        return tuple(int(p) for p in padding)
    raise ValueError(f"{who}: padding must be an int or a 1, 2, or 4 element tuple, "
                     f"not a {len(padding)} element tuple")


def _check_padding_mode(padding_mode, who):
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"{who}: padding_mode should be either constant, edge, reflect or "
                         f"symmetric, got {padding_mode!r}")


def _pad_planes(planes, has_channels, ltrb, fill, padding_mode, who="Pad"):
    """Pad the last two axes by (left, top, right, bottom); negative amounts crop."""
    xp = get_array_module(planes)
    left, top, right, bottom = ltrb
    h, w = planes.shape[-2:]
    if min(ltrb) < 0:
        planes = planes[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in ltrb)
        h, w = planes.shape[-2:]
    if padding_mode == "constant":
        out = xp.empty(planes.shape[:-2] + (h + top + bottom, w + left + right), planes.dtype)
        out[...] = _fill_values(fill, planes, has_channels, planes.dtype, who)
        out[..., top:top + h, left:left + w] = planes
        return out
    widths = [(0, 0)] * (planes.ndim - 2) + [(top, bottom), (left, right)]
    return xp.pad(planes, widths, mode=padding_mode)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: ``padding`` an int, ``(left/right, top/bottom)`` or ``(left, top,
    right, bottom)``; ``padding_mode`` constant (with ``fill``: a number, or one per
    channel), edge, reflect (mirror without the edge pixel) or symmetric (with it).
    Negative padding crops. The non-constant modes are ``numpy.pad``'s."""
    ltrb = _padding_ltrb(padding, "Pad")
    _check_padding_mode(padding_mode, "Pad")
    return _map_planes(img, "Pad", lambda p, c: _pad_planes(p, c, ltrb, fill, padding_mode))


def hflip(img):
    """Mirror left-right."""
    return _map_planes(img, "hflip", lambda p, _: p[..., ::-1].copy())


def vflip(img):
    """Mirror top-bottom."""
    return _map_planes(img, "vflip", lambda p, _: p[..., ::-1, :].copy())


def _flip_where(planes, flags, axis, batched):
    """Flip along ``axis`` the samples whose ``flags`` (host bools, one per sample) are
    set; per sample (``batched=False``) ``flags`` has one entry for the whole image."""
    xp = get_array_module(planes)
    flipped = xp.flip(planes, axis=axis)
    if not batched:
        return (flipped if flags[0] else planes).copy()
    mask = xp.asarray(flags).reshape((-1,) + (1,) * (planes.ndim - 1))
    return xp.where(mask, flipped, planes)


def _crop_windows(planes, tops, lefts, height, width):
    """Batched crop: sample b keeps ``[tops[b], +height) x [lefts[b], +width)``; all
    windows inside the image. One fancy-indexing gather, ``(B, ..., height, width)``."""
    xp = get_array_module(planes)
    count, h, w = planes.shape[0], planes.shape[-2], planes.shape[-1]
    flat = planes.reshape(count, -1, h, w)
    rows = xp.asarray(tops)[:, None] + xp.arange(height)          # (B, height)
    cols = xp.asarray(lefts)[:, None] + xp.arange(width)          # (B, width)
    sample = xp.arange(count)[:, None, None, None]
    plane = xp.arange(flat.shape[1])[None, :, None, None]
    out = flat[sample, plane, rows[:, None, :, None], cols[:, None, None, :]]
    return out.reshape(planes.shape[:-2] + (height, width))


# ------------------------------------------------------------------ rotate, affine

def _affine_inverse(angle, translate, scale, shear, centre):
    """Inverse maps, ``(n, 2, 3)`` float64, of the affine maps ``p' = c + M (p - c) + t``
    in image-centred coordinates (x right, y down), ``M = scale * R(angle) * ShearY *
    ShearX``. Arguments are arrays of n values (degrees; ``translate`` and ``shear`` as
    ``(n, 2)``); a positive angle turns the image clockwise, as torchvision's affine."""
    angle = numpy.radians(numpy.asarray(angle, dtype=numpy.float64).reshape(-1))
    n = angle.shape[0]
    translate = numpy.broadcast_to(numpy.asarray(translate, numpy.float64), (n, 2))
    shear = numpy.radians(numpy.broadcast_to(numpy.asarray(shear, numpy.float64), (n, 2)))
    scale = numpy.broadcast_to(numpy.asarray(scale, numpy.float64).reshape(-1), (n,))
    cos, sin = numpy.cos(angle), numpy.sin(angle)
    rotation = numpy.stack([numpy.stack([cos, -sin], -1), numpy.stack([sin, cos], -1)], -2)
    shear_x = numpy.zeros((n, 2, 2))
    shear_x[:, 0, 0] = shear_x[:, 1, 1] = 1.0
    shear_x[:, 0, 1] = -numpy.tan(shear[:, 0])
    shear_y = numpy.zeros((n, 2, 2))
    shear_y[:, 0, 0] = shear_y[:, 1, 1] = 1.0
    shear_y[:, 1, 0] = -numpy.tan(shear[:, 1])
    forward = scale[:, None, None] * (rotation @ shear_y @ shear_x)
    back = numpy.linalg.inv(forward)
    centre = numpy.asarray(centre, dtype=numpy.float64)
    # p = c + M^-1 (p' - c - t) = M^-1 p' + (c - M^-1 (c + t))
    offset = centre - (back @ (centre + translate)[:, :, None])[:, :, 0]
    return numpy.concatenate([back, offset[:, :, None]], axis=2)


def _centre_offset(center, h, w):
    """A rotation centre given as (x, y) from the top-left corner -> image-centred."""
    if center is None:
        return (0.0, 0.0)
    if len(center) != 2:
        raise ValueError(f"center should be a sequence of 2 numbers (x, y), got {center!r}")
    return (float(center[0]) - w * 0.5, float(center[1]) - h * 0.5)


def _expanded_size(angle, h, w):
    """The (h, w) that holds the whole image turned by ``angle`` degrees (any sign): the
    corners' bounding box about the input's centre, rounded out as PIL does (after
    rounding to 4 decimals, as torchvision drops digits below 1e-4, so that rounding
    noise does not add a pixel); quarter turns just swap or keep (h, w)."""
    if angle % 90 == 0:  # exact quarter turns keep every pixel: PIL and torchvision v2 agree
        return (w, h) if (angle // 90) % 2 else (h, w)
    a = math.radians(angle)
    corners = numpy.array([[-w, -h], [-w, h], [w, h], [w, -h]], dtype=numpy.float64) * 0.5
    rotation = numpy.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    turned = corners @ rotation.T + numpy.array([w, h]) * 0.5
    high = numpy.ceil(numpy.round(turned.max(axis=0), 4))
    low = numpy.floor(numpy.round(turned.min(axis=0), 4))
    ow, oh = (high - low).astype(numpy.int64)
    return int(oh), int(ow)


def _gather(flat, index):
    """``flat``: ``(B, M, H*W)``; ``index``: ``(B, P)`` -> ``(B, M, P)``: sample b's
    plane m read at ``index[b]``, as one ``take`` from the flattened array."""
    xp = get_array_module(flat)
    count, planes, size = flat.shape
    start = (xp.arange(count)[:, None] * planes + xp.arange(planes)[None, :]) * size
    return xp.take(flat.reshape(-1), start[:, :, None] + index[:, None, :])


def _warp(planes, inverse, out_hw, mode, fill, has_channels, batched, who):
    """Sample ``planes`` through ``inverse`` (``(n, 2, 3)`` host array; n = number of
    samples when ``batched``, else 1 for the whole image) onto an ``out_hw`` grid."""
    xp = get_array_module(planes)
    h, w = planes.shape[-2:]
    oh, ow = out_hw
    dtype = planes.dtype
    cdtype = _compute_dtype(dtype)
    count = planes.shape[0] if batched else 1
    flat = planes.reshape(count, -1, h * w)
    if not (flat.dtype.kind == "f" or mode is InterpolationMode.NEAREST):
        flat = flat.astype(cdtype)
    inv = xp.asarray(inverse, dtype=xp.float64)[:, :, :, None, None]     # (n, 2, 3, 1, 1)
    xo = (xp.arange(ow, dtype=xp.float64) + 0.5 - ow * 0.5)[None, None, :]
    yo = (xp.arange(oh, dtype=xp.float64) + 0.5 - oh * 0.5)[None, :, None]
    # source point of every output pixel centre, in input pixel-index coordinates
    u = inv[:, 0, 0] * xo + inv[:, 0, 1] * yo + inv[:, 0, 2] + (w * 0.5 - 0.5)   # (n, oh, ow)
    v = inv[:, 1, 0] * xo + inv[:, 1, 1] * yo + inv[:, 1, 2] + (h * 0.5 - 0.5)
    if mode is InterpolationMode.NEAREST:
        col, row = xp.rint(u), xp.rint(v)
        inside = (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
        index = (xp.clip(row, 0, h - 1) * w + xp.clip(col, 0, w - 1)).astype(xp.int64)
        values = _gather(flat, index.reshape(count, -1))
        cover = inside.astype(cdtype)
    else:
        col0, row0 = xp.floor(u), xp.floor(v)
        fx, fy = (u - col0).astype(cdtype), (v - row0).astype(cdtype)
        values, cover = 0, 0
        for dy, wy in ((0, 1 - fy), (1, fy)):                         # the four corners
            for dx, wx in ((0, 1 - fx), (1, fx)):
                col, row = col0 + dx, row0 + dy
                inside = (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
                weight = wy * wx * inside.astype(cdtype)
                index = (xp.clip(row, 0, h - 1) * w + xp.clip(col, 0, w - 1)).astype(xp.int64)
                values = values + _gather(flat, index.reshape(count, -1)) \
                    * weight.reshape(count, 1, -1)
                cover = cover + weight
    lead = planes.shape[:-2]
    values = values.reshape(lead + (oh, ow))
    cover_shape = ((count,) + (1,) * (len(lead) - 1) if batched else (1,) * len(lead)) + (oh, ow)
    cover = cover.reshape(cover_shape)
    fill = _fill_values(fill, planes, has_channels, cdtype, who)
    if mode is InterpolationMode.NEAREST:
        out = xp.where(cover > 0.5, values, fill.astype(values.dtype))
    else:
        out = values + (1 - cover) * fill
    return _cast_back(out, dtype)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None,
           fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` ((x, y) from the
    top-left corner; default the image centre). ``expand=True`` enlarges the output to
    hold the whole rotated image (assuming rotation about the centre). Outside: ``fill``."""
    mode = _interpolation(interpolation, _WARP_MODES, "rotate")

    def kernel(planes, has_channels):
        h, w = planes.shape[-2:]
        inverse = _affine_inverse([-float(angle)], (0.0, 0.0), 1.0, (0.0, 0.0),
                                  _centre_offset(center, h, w))
        out_hw = _expanded_size(angle, h, w) if expand else (h, w)
        return _warp(planes, inverse, out_hw, mode, fill, has_channels, False, "rotate")

    return _map_planes(img, "rotate", kernel)


def _shear_pair(shear, who):
    if isinstance(shear, numbers.Number):
        return (float(shear), 0.0)
    shear = [float(s) for s in shear]
    if len(shear) == 1:
        return (shear[0], 0.0)
    if len(shear) == 2:
        return tuple(shear)
    raise ValueError(f"{who}: shear should be a number or a sequence of 1 or 2 numbers, "
                     f"got {shear!r}")


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Affine map keeping the centre fixed: rotate by ``angle`` degrees clockwise (as
    torchvision's ``affine``), scale by ``scale``, shear by ``shear`` degrees (x, or
    (x, y)), then translate by ``translate`` = (dx, dy) pixels."""
    mode = _interpolation(interpolation, _WARP_MODES, "affine")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise TypeError(f"affine: translate should be a sequence of 2 numbers, got {translate!r}")
    if scale <= 0:
        raise ValueError(f"affine: scale should be positive, got {scale}")
    shear = _shear_pair(shear, "affine")

    def kernel(planes, has_channels):
        h, w = planes.shape[-2:]
        inverse = _affine_inverse([float(angle)], [float(t) for t in translate], float(scale),
                                  shear, _centre_offset(center, h, w))
        return _warp(planes, inverse, (h, w), mode, fill, has_channels, False, "affine")

    return _map_planes(img, "affine", kernel)


# ------------------------------------------------------------------ dtype conversion

def _max_value(dtype):
    return int(numpy.iinfo(dtype).max)


def _convert_array(array, dtype):
    """torchvision's convert_image_dtype on one array (any layout)."""
    xp = get_array_module(array)
    source, target = numpy.dtype(array.dtype), numpy.dtype(dtype)
    for d in (source, target):
        if d.kind not in "fiu":
            raise TypeError(f"ConvertImageDtype: expected integer or floating images, "
                            f"got {d}")
    if source == target:
        return array
    if source.kind == "f":
        if target.kind == "f":
            return array.astype(target)
        if (source == numpy.float32 and target in (numpy.int32, numpy.int64)) or \
                (source == numpy.float64 and target == numpy.int64):
            raise RuntimeError(f"The cast from {source} to {target} cannot be performed safely.")
        # [0, 1] -> [0, max]: multiply by max + 1 - 1e-3 and truncate, so every integer
        # level gets an equal share of [0, 1] and 1.0 still maps to max
        top = _max_value(target)
        scaled = array * (top + 1.0 - 1e-3)
        info = numpy.iinfo(target)
        return xp.clip(scaled, info.min, info.max).astype(target)
    if target.kind == "f":
        return array.astype(target) / _max_value(source)
    in_max, out_max = _max_value(source), _max_value(target)
    if in_max > out_max:
        return (array // ((in_max + 1) // (out_max + 1))).astype(target)
    return array.astype(target) * ((out_max + 1) // (in_max + 1))


def convert_image_dtype(image, dtype=numpy.float32):
    """Convert an image's dtype and scale its values as torchvision does: integers <->
    floats in [0, 1] (uint8 -> float divides by 255; float -> uint8 multiplies by
    255.999 and truncates), integers by powers of two. Same kind (Tensor or array) back;
    an image already of ``dtype`` is returned as it is."""
    if isinstance(image, Tensor):
        out = _convert_array(image.array, dtype)
        return image if out is image.array else Tensor(out)
    if is_array(image):
        return _convert_array(image, dtype)
    raise TypeError(f"ConvertImageDtype: expected a Tensor or an array, got {type(image).__name__}")
