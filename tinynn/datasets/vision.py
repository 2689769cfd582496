"""``VisionDataset``: what torchvision's image datasets share (root, transforms, repr),
and the batched fast path (``get_batch``) that the DataLoader uses for them."""
import os

import numpy as np

from ..ops.shape import stack
from ..tensor import Tensor
from ..utils.data import Dataset
from .download import DatasetError

__all__ = ["VisionDataset"]


class VisionDataset(Dataset):
    """Base class of the image datasets, as torchvision's: ``root`` (``~`` expanded; None
    for generated data), ``transform`` (applied to the image), ``target_transform``
    (applied to the target), and a repr listing them.

    A ``root`` that exists but is a file is refused at once with a ``DatasetError``.
    """
    _repr_indent = 4

    def __init__(self, root=None, transform=None, target_transform=None):
        if root is not None:
            root = os.path.expanduser(os.fspath(root))
            if os.path.exists(root) and not os.path.isdir(root):
                raise DatasetError(f"cannot use {root} as the dataset folder: it is a file, "
                                   f"not a folder")
        self.root = root
        self.transform = transform
        self.target_transform = target_transform

    def extra_repr(self):
        return ""

    def __repr__(self):
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transform is not None:
            body += ("Transform: " + repr(self.transform)).splitlines()
        if self.target_transform is not None:
            body += ("Target transform: " + repr(self.target_transform)).splitlines()
        pad = " " * self._repr_indent
        return "\n".join([f"Dataset {type(self).__name__}"] + [pad + line for line in body])

    # ------------------------------------------------------------ one item, a batch

    def _item(self, image, target):
        """``(transform(image), target_transform(target))`` for one sample."""
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _batch(self, images, labels):
        """Collate a batch: ``images`` a uint8 NumPy batch (``(B, H, W)`` or
        ``(B, H, W, C)``), ``labels`` ``(B,)`` int64.

        Images: ``transform.apply_batch`` on the whole batch when the transform supports it
        (ToTensor -> ``(B, C, H, W)`` float32), else the transform per sample, stacked; the
        uint8 batch itself when ``transform`` is None. Labels: ``(B,)`` int64
        (``target_transform`` applied per sample if set).
        """
        transform = self.transform
        if transform is None:
            image_batch = Tensor(images)
        elif getattr(transform, "supports_batch", False):
            image_batch = _as_tensor(transform.apply_batch(images))
        else:  # an arbitrary callable only promises to handle one sample
            image_batch = _stack([transform(image) for image in images])
        if self.target_transform is None:
            label_batch = Tensor(labels)
        else:
            label_batch = _stack([self.target_transform(int(y)) for y in labels])
        return image_batch, label_batch


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _stack(items):
    """Collate per-sample results: Tensors with ``tinynn.stack``, anything else
    (arrays, numbers) through NumPy."""
    if all(isinstance(item, Tensor) for item in items):
        return stack(items)
    return Tensor(np.stack([np.asarray(item) for item in items]))
