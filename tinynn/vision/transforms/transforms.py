"""Image transforms with torchvision's names: Compose, ToTensor, Normalize, Lambda.

Each transform works on one sample (``t(image)``), as in torchvision. ToTensor and
Normalize also have a batched path, ``t.apply_batch(batch)``, that does the same to a
whole ``(B, H, W)`` / ``(B, C, H, W)`` batch in one NumPy call; datasets use it in
``get_batch`` so the DataLoader never loops over samples. ``t.supports_batch`` says
whether a transform has that path (Compose: only if every part has it).

    transform = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    x = transform(image)                  # (28, 28) uint8 -> (1, 28, 28) float32 Tensor
    xb = transform.apply_batch(images)    # (B, 28, 28) uint8 -> (B, 1, 28, 28) float32

Transforms prepare data: their outputs are new Tensors outside the autograd graph.
"""
import numbers

from ...backend import get_array_module, is_array
from ...tensor import Tensor

__all__ = ["Transform", "Compose", "ToTensor", "Normalize", "Lambda"]


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


def _image_array(pic, who):
    """The NumPy/CuPy array behind ``pic``; ToTensor takes arrays, as torchvision's
    takes PIL images or ndarrays (not Tensors)."""
    if not is_array(pic):
        raise TypeError(f"{who}: expected a NumPy array, got {type(pic).__name__}")
    return pic


def _scale(array):
    """uint8 -> float32 in [0, 1], like torchvision (``x.float().div(255)``); other
    dtypes are kept as they are. Always returns a C-contiguous new array."""
    xp = get_array_module(array)
    if array.dtype == xp.uint8:
        out = array.astype(xp.float32, order="C")
        out /= 255  # in place: no second (B, C, H, W) temporary
        return out
    return xp.array(array, order="C", copy=True)


class ToTensor(Transform):
    """``(H, W)`` or ``(H, W, C)`` array -> ``(C, H, W)`` Tensor; uint8 becomes float32
    in [0, 1]. Batched: ``(B, H, W)`` or ``(B, H, W, C)`` -> ``(B, C, H, W)``."""
    supports_batch = True

    def __call__(self, pic):
        array = _image_array(pic, "ToTensor")
        if array.ndim == 2:
            array = array[None]                    # (1, H, W): one channel
        elif array.ndim == 3:
            array = array.transpose(2, 0, 1)       # HWC -> CHW
        else:
            raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) image, "
                             f"got shape {tuple(array.shape)}")
        return Tensor(_scale(array))

    def apply_batch(self, batch):
        array = _image_array(batch, "ToTensor.apply_batch")
        if array.ndim == 3:
            array = array[:, None]                 # (B, 1, H, W)
        elif array.ndim == 4:
            array = array.transpose(0, 3, 1, 2)    # BHWC -> BCHW
        else:
            raise ValueError(f"ToTensor.apply_batch: expected a (B, H, W) or (B, H, W, C) "
                             f"batch, got shape {tuple(array.shape)}")
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


class Normalize(Transform):
    """``(x - mean[c]) / std[c]`` per channel, on a float ``(..., C, H, W)`` Tensor.

    ``mean`` and ``std`` have one value per channel (or one for all). Per sample the
    input is ``(C, H, W)``; batched, ``(B, C, H, W)``: the same broadcast. The
    arithmetic is torchvision's (subtract, then divide, in the input's dtype), so the
    results agree bit for bit. ``inplace=True`` overwrites the input's array.
    """
    supports_batch = True

    def __init__(self, mean, std, inplace=False):
        self.mean = _as_floats(mean, "mean")
        self.std = _as_floats(std, "std")
        self.inplace = inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std {self.std} contains a zero (division by zero)")
        if len(self.mean) != len(self.std) and 1 not in (len(self.mean), len(self.std)):
            raise ValueError(f"Normalize: mean has {len(self.mean)} values but std has "
                             f"{len(self.std)}")

    def __call__(self, tensor):
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
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: {name} has {len(values)} values but the image "
                                 f"has {channels} channels (shape {tuple(array.shape)})")
        xp = get_array_module(array)
        # (C, 1, 1) in the input's dtype: broadcasts over H, W and any leading batch dims
        mean = xp.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = xp.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        if self.inplace:
            array -= mean
            array /= std
            return tensor if isinstance(tensor, Tensor) else Tensor(array)
        out = array - mean
        out /= std
        return Tensor(out)

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
