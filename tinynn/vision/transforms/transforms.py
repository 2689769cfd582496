"""Image transforms with torchvision's names.

    Compose, Lambda                  chain transforms / wrap a function
    ToTensor, Normalize              (H, W[, C]) array -> (C, H, W) float Tensor; per channel
    ConvertImageDtype                uint8 <-> float with torchvision's scaling
    Resize, CenterCrop, Pad          deterministic geometry
    RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, RandomRotation, RandomAffine
                                     random geometry, seeded by ``tinynn.manual_seed``

Each transform works on one sample (``t(image)``), as in torchvision: a Tensor image
``(..., H, W)``, or (before ``ToTensor``) an ``(H, W)`` / ``(H, W, C)`` array, which stays an
array of its dtype (see ``functional.py`` for the geometry and rounding). Most also have
a batched path, ``t.apply_batch(batch)``, that does the same to a whole ``(B, H, W)`` /
``(B, H, W, C)`` array or ``(B, C, H, W)`` Tensor in a few array calls, each sample with
its own random parameters; datasets use it in ``get_batch`` so the DataLoader never
loops over samples. ``t.supports_batch`` says whether a transform has that path
(Compose: only if every part has it).

    transform = Compose([RandomCrop(28, padding=2), ToTensor(), Normalize((0.1307,), (0.3081,))])
    x = transform(image)                  # (28, 28) uint8 -> (1, 28, 28) float32 Tensor
    xb = transform.apply_batch(images)    # (B, 28, 28) uint8 -> (B, 1, 28, 28) float32

Transforms prepare data: their outputs are new Tensors (or arrays) outside the autograd
graph.
"""
import numbers

import numpy

from ... import backend
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode

__all__ = ["Transform", "Compose", "ToTensor", "Normalize", "Lambda", "InterpolationMode",
           "Resize", "CenterCrop", "Pad", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomAffine", "ConvertImageDtype"]


class Transform:
    """Base class: ``__call__`` on one sample; ``apply_batch`` when ``supports_batch``."""
    supports_batch = False

    def __call__(self, x):
        raise NotImplementedError

    def apply_batch(self, batch):
        raise TypeError(f"{type(self).__name__} has no batched path (supports_batch is "
                        f"False); apply it to each sample instead")

    def __repr__(self):
        return f"{type(self).__name__}()"


class Compose(Transform):
    """Apply ``transforms`` in order. Batched only when every transform is."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    @property
    def supports_batch(self):
        return all(getattr(t, "supports_batch", False) for t in self.transforms)

    def apply_batch(self, batch):
        for t in self.transforms:
            if not getattr(t, "supports_batch", False):
                raise TypeError(f"Compose.apply_batch: {t!r} has no batched path; "
                                f"apply the Compose to each sample instead")
        for t in self.transforms:
            batch = t.apply_batch(batch)
        return batch

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor(Transform):
    """``(H, W)`` or ``(H, W, C)`` array -> ``(C, H, W)`` Tensor; uint8 becomes float32
    in [0, 1]. Batched: ``(B, H, W)`` or ``(B, H, W, C)`` -> ``(B, C, H, W)``."""
    supports_batch = True

    def __call__(self, pic):
        return F.to_tensor(pic)

    def apply_batch(self, batch):
        array = F._image_array(batch, "ToTensor.apply_batch")
        if array.ndim == 3:
            array = array[:, None]                 # (B, 1, H, W)
        elif array.ndim == 4:
            array = array.transpose(0, 3, 1, 2)    # BHWC -> BCHW
        else:
            raise ValueError(f"ToTensor.apply_batch: expected a (B, H, W) or (B, H, W, C) "
                             f"batch, got shape {tuple(array.shape)}")
        return Tensor(F._scale(array))


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel, on a float ``(..., C, H, W)`` Tensor.

    ``mean`` and ``std`` have one value per channel (or one for all). Per sample the
    input is ``(C, H, W)``; batched, ``(B, C, H, W)``: the same broadcast. The
    arithmetic is torchvision's (subtract, then divide, in the input's dtype), so the
    results agree bit for bit. ``inplace=True`` overwrites the input's array.
    """
    supports_batch = True

    def __init__(self, mean, std, inplace=False):
        self.mean = F._as_floats(mean, "mean")
        self.std = F._as_floats(std, "std")
        self.inplace = inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std {self.std} contains a zero (division by zero)")
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has "
                             f"{len(self.std)}")

    def __call__(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def apply_batch(self, batch):
        """``(B, C, H, W)`` float -> normalized ``(B, C, H, W)`` Tensor."""
        if getattr(batch, "ndim", None) != 4:
            raise ValueError(f"Normalize.apply_batch: expected a (B, C, H, W) batch, "
                             f"got shape {tuple(getattr(batch, 'shape', ()))}")
        return self(batch)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda(Transform):
    """Wrap a function of one sample as a transform. No batched path: a function
    written for one sample is not known to work on a batch."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, x):
        return self.lambd(x)


# ---------------------------------------------------------------- geometry and dtype

class _ImageTransform(Transform):
    """A transform of an image's pixels, for both kinds of image (a Tensor ``(..., H, W)``
    or an ``(H, W[, C])`` array; see ``functional.py``).

    ``t(img)`` transforms one image; a random transform draws one set of parameters for
    all of it (a Tensor with leading dims gets the same crop everywhere, as torchvision).
    ``t.apply_batch(batch)`` transforms ``(B, ...)`` at once, each sample with its own
    parameters, drawn together: the same numbers in the same order as B calls of ``t``,
    so both paths give the same results under the same seed.
    """
    supports_batch = True

    def __call__(self, img):
        return self._apply(img, batched=False)

    def apply_batch(self, batch):
        return self._apply(batch, batched=True)

    def _apply(self, img, batched):
        who = type(self).__name__ + (".apply_batch" if batched else "")
        planes, repack, has_channels = F._planes(img, who, batched)
        count = planes.shape[0] if batched else 1
        return repack(self._transform(planes, has_channels, count, batched))

    def _transform(self, planes, has_channels, count, batched):
        """``planes``: the pixels, H and W last; ``count``: how many parameter sets."""
        raise NotImplementedError


def _uniform(count, k):
    """``(count, k)`` uniforms in [0, 1), float64, from tinynn's generator: seeded by
    ``tinynn.manual_seed``, as torchvision's draws follow ``torch.manual_seed``."""
    return backend.default_generator.uniform((count, k), numpy.float64)


def _randint(u, n):
    """Uniforms in [0, 1) -> integers in [0, n)."""
    return numpy.minimum(numpy.floor(u * n).astype(numpy.int64), n - 1)


class Resize(_ImageTransform):
    """Resize to ``size``: ``(h, w)``, or an int for the smaller edge (the other keeps
    the aspect ratio, truncated; ``max_size`` caps it). ``interpolation``: BILINEAR
    (default; antialiased when shrinking, as torchvision's ``antialias=True``), NEAREST
    or NEAREST_EXACT. A uint8 array stays uint8 (rounded), as a PIL image would before
    ``ToTensor``. Batched: the same size for every sample."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        F._resized_shape(1, 1, size, max_size)  # check size and max_size now
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interpolation(interpolation, F._RESIZE_MODES, "Resize")
        self.antialias = antialias

    def _transform(self, planes, has_channels, count, batched):
        out_hw = F._resized_shape(*planes.shape[-2:], self.size, self.max_size)
        return F._resize_planes(planes, out_hw, self.interpolation, self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(_ImageTransform):
    """Crop the centre ``size`` (int or ``(h, w)``); zeros around an image smaller than
    that."""

    def __init__(self, size):
        self.size = F._pair(size, "size", "CenterCrop")

    def _transform(self, planes, has_channels, count, batched):
        return F._center_crop_planes(planes, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad(_ImageTransform):
    """Pad the borders: ``padding`` an int, ``(left/right, top/bottom)`` or ``(left, top,
    right, bottom)``; ``padding_mode`` constant (``fill``: a number or one per channel),
    edge, reflect or symmetric (see ``functional.pad``)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        self._ltrb = F._padding_ltrb(padding, "Pad")
        F._check_padding_mode(padding_mode, "Pad")
        _check_fill(fill, "Pad")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def _transform(self, planes, has_channels, count, batched):
        return F._pad_planes(planes, has_channels, self._ltrb, self.fill, self.padding_mode)

    def __repr__(self):
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


def _check_fill(fill, who):
    if fill is not None and not isinstance(fill, (numbers.Number, list, tuple)):
        raise TypeError(f"{who}: fill should be a number or a sequence of numbers, got {fill!r}")


class RandomCrop(_ImageTransform):
    """Crop a random ``size`` window (int or ``(h, w)``), after padding the image by
    ``padding`` (as ``Pad``, with ``fill`` and ``padding_mode``) if given, and by
    ``size - image size`` on both sides of a too small edge if ``pad_if_needed``.
    Every window position is equally likely."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0,
                 padding_mode="constant"):
        self.size = F._pair(size, "size", "RandomCrop")
        self._ltrb = None if padding is None else F._padding_ltrb(padding, "RandomCrop")
        F._check_padding_mode(padding_mode, "RandomCrop")
        _check_fill(fill, "RandomCrop")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """``(top, left, height, width)`` of a random crop of ``output_size`` in ``img``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        _check_crop_fits(h, w, th, tw)
        if (h, w) == (th, tw):
            return 0, 0, h, w
        u = _uniform(1, 2)[0]
        return int(_randint(u[0], h - th + 1)), int(_randint(u[1], w - tw + 1)), th, tw

    def _transform(self, planes, has_channels, count, batched):
        def padded(ltrb):
            return F._pad_planes(planes, has_channels, ltrb, self.fill, self.padding_mode,
                                 "RandomCrop")

        if self._ltrb is not None:
            planes = padded(self._ltrb)
        th, tw = self.size
        if self.pad_if_needed and planes.shape[-1] < tw:
            grow = tw - planes.shape[-1]
            planes = padded((grow, 0, grow, 0))
        if self.pad_if_needed and planes.shape[-2] < th:
            grow = th - planes.shape[-2]
            planes = padded((0, grow, 0, grow))
        h, w = planes.shape[-2:]
        _check_crop_fits(h, w, th, tw)
        if (h, w) == (th, tw):
            return planes.copy()
        u = _uniform(count, 2)
        tops, lefts = _randint(u[:, 0], h - th + 1), _randint(u[:, 1], w - tw + 1)
        if not batched:
            return F._crop_planes(planes, int(tops[0]), int(lefts[0]), th, tw)
        return F._crop_windows(planes, tops, lefts, th, tw)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


def _check_crop_fits(h, w, th, tw):
    if h < th or w < tw:
        raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                         f"{(h, w)}")


class RandomHorizontalFlip(_ImageTransform):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def _transform(self, planes, has_channels, count, batched):
        return F._flip_where(planes, _uniform(count, 1)[:, 0] < self.p, -1, batched)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability ``p``."""

    def _transform(self, planes, has_channels, count, batched):
        return F._flip_where(planes, _uniform(count, 1)[:, 0] < self.p, -2, batched)


def _degree_range(value, name, who):
    """A number d -> [-d, d]; a pair -> itself, as floats."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"{who}: if {name} is a single number, it must be positive, "
                             f"got {value}")
        return [-float(value), float(value)]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{who}: if {name} is a sequence, it must be of len 2, got {value!r}")
    return [float(v) for v in value]


def _check_center(center, who):
    if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
        raise ValueError(f"{who}: center should be a sequence of length 2, got {center!r}")


class RandomRotation(_ImageTransform):
    """Rotate by an angle drawn uniformly from ``degrees`` (d: [-d, d]; or (min, max)),
    counter-clockwise, about ``center`` ((x, y) from the top-left corner; default the
    image centre); ``expand=True`` grows the output to hold the whole image. Outside
    the input: ``fill``. ``interpolation``: NEAREST (default) or BILINEAR."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False,
                 center=None, fill=0):
        self.degrees = _degree_range(degrees, "degrees", "RandomRotation")
        self.interpolation = F._interpolation(interpolation, F._WARP_MODES, "RandomRotation")
        _check_center(center, "RandomRotation")
        _check_fill(fill, "RandomRotation")
        self.expand, self.center, self.fill = expand, center, fill

    @property
    def supports_batch(self):
        """Not with ``expand``: each angle would give its own output size."""
        return not self.expand

    @staticmethod
    def get_params(degrees):
        """A random angle in degrees from the range ``degrees`` = [min, max]."""
        low, high = degrees
        return float(low + _uniform(1, 1)[0, 0] * (high - low))

    def _transform(self, planes, has_channels, count, batched):
        if batched and self.expand:
            raise TypeError("RandomRotation(expand=True) has no batched path: every angle "
                            "gives its own output size; apply it to each sample instead")
        low, high = self.degrees
        angles = low + _uniform(count, 1)[:, 0] * (high - low)
        h, w = planes.shape[-2:]
        inverse = F._affine_inverse(-angles, (0.0, 0.0), 1.0, (0.0, 0.0),
                                    F._centre_offset(self.center, h, w))
        out_hw = F._expanded_size(float(angles[0]), h, w) if self.expand else (h, w)
        return F._warp(planes, inverse, out_hw, self.interpolation, self.fill, has_channels,
                       batched, "RandomRotation")

    def __repr__(self):
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}, fill={self.fill})")


class RandomAffine(_ImageTransform):
    """A random affine map keeping the image centre (or ``center``) fixed:

    - ``degrees``: rotation drawn from [-d, d] or (min, max), clockwise as torchvision's
      ``affine`` (0: none);
    - ``translate=(a, b)``: shifts drawn from ``-a * width < dx < a * width`` and
      ``-b * height < dy < b * height``, rounded to whole pixels;
    - ``scale=(lo, hi)``: a factor drawn from ``[lo, hi]``;
    - ``shear``: degrees parallel to x drawn from [-s, s] or (min, max); four values
      give x and y ranges.

    ``interpolation`` NEAREST (default) or BILINEAR; ``fill`` outside the input.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        who = "RandomAffine"
        self.degrees = _degree_range(degrees, "degrees", who)
        if translate is not None:
            if not isinstance(translate, (list, tuple)) or len(translate) != 2:
                raise ValueError(f"{who}: translate should be a sequence of length 2, "
                                 f"got {translate!r}")
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"{who}: translation values should be between 0 and 1, "
                                 f"got {translate!r}")
        if scale is not None:
            if not isinstance(scale, (list, tuple)) or len(scale) != 2:
                raise ValueError(f"{who}: scale should be a sequence of length 2, got {scale!r}")
            if not all(s > 0 for s in scale):
                raise ValueError(f"{who}: scale values should be positive, got {scale!r}")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = _degree_range(shear, "shear", who)
            elif isinstance(shear, (list, tuple)) and len(shear) in (2, 4):
                shear = [float(s) for s in shear]
            else:
                raise ValueError(f"{who}: shear should be a number or a sequence of length "
                                 f"2 or 4, got {shear!r}")
        self.interpolation = F._interpolation(interpolation, F._WARP_MODES, who)
        _check_center(center, who)
        _check_fill(fill, who)
        self.translate, self.scale, self.shear = translate, scale, shear
        self.fill, self.center = fill, center

    @staticmethod
    def _draw(u, degrees, translate, scale_ranges, shears, width, height):
        """Parameters from uniforms ``u`` ``(n, 6)``: angles, (n, 2) shifts, scales,
        (n, 2) shears."""
        low, high = degrees
        angle = low + u[:, 0] * (high - low)
        shift = numpy.zeros((len(u), 2))
        if translate is not None:
            reach = numpy.array([translate[0] * width, translate[1] * height])
            shift = numpy.rint(reach * (2 * u[:, 1:3] - 1))
        scale = numpy.ones(len(u))
        if scale_ranges is not None:
            scale = scale_ranges[0] + u[:, 3] * (scale_ranges[1] - scale_ranges[0])
        shear = numpy.zeros((len(u), 2))
        if shears is not None:
            shear[:, 0] = shears[0] + u[:, 4] * (shears[1] - shears[0])
            if len(shears) == 4:
                shear[:, 1] = shears[2] + u[:, 5] * (shears[3] - shears[2])
        return angle, shift, scale, shear

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """``(angle, (dx, dy), scale, (shear_x, shear_y))`` for an image of
        ``img_size = [width, height]``."""
        angle, shift, scale, shear = RandomAffine._draw(
            _uniform(1, 6), degrees, translate, scale_ranges, shears, *img_size)
        return (float(angle[0]), (int(shift[0, 0]), int(shift[0, 1])), float(scale[0]),
                (float(shear[0, 0]), float(shear[0, 1])))

    def _transform(self, planes, has_channels, count, batched):
        h, w = planes.shape[-2:]
        angle, shift, scale, shear = self._draw(_uniform(count, 6), self.degrees,
                                                self.translate, self.scale, self.shear, w, h)
        inverse = F._affine_inverse(angle, shift, scale, shear,
                                    F._centre_offset(self.center, h, w))
        return F._warp(planes, inverse, (h, w), self.interpolation, self.fill, has_channels,
                       batched, "RandomAffine")

    def __repr__(self):
        parts = [f"degrees={self.degrees}"]
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={getattr(self, name)}")
        parts.append(f"interpolation={self.interpolation.value}")
        if self.fill:
            parts.append(f"fill={self.fill}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ConvertImageDtype(Transform):
    """Convert an image to ``dtype``, scaling the values as torchvision does (uint8 ->
    float: / 255; float -> uint8: * 255.999, truncated; see
    ``functional.convert_image_dtype``). Tensors and arrays, any layout; batched too."""
    supports_batch = True

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def apply_batch(self, batch):
        return F.convert_image_dtype(batch, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}(dtype={self.dtype})"
