"""``FakeData``: random images that are the same every time for the same index."""
import operator

import numpy as np

from ..backend import Generator
from ..creation import randint, randn
from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` random images of ``image_size`` (``(C, H, W)``) with random targets in
    ``[0, num_classes)``, as torchvision's ``FakeData``.

    Item ``i`` is generated as torchvision does it, on tinynn's random numbers: a generator
    seeded with ``i + random_offset`` draws ``randn(*image_size)`` and then the target
    (``randint(0, num_classes, (1,))``), so the same index always gives the same item and
    the global random state is not touched. The float image becomes 8-bit pixels as
    torchvision's ``ToPILImage`` makes them (``x.mul(255).byte()``: truncated toward zero,
    wrapping modulo 256). Without a transform the image is a uint8 array, ``(H, W, C)``
    (``(H, W)`` for one channel), standing in for torchvision's PIL image; ``ToTensor``
    turns it into a ``(C, H, W)`` float32 Tensor. ``target_transform`` receives the int
    target. ``get_batch(indices)`` collates a batch (the DataLoader's fast path).
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __len__(self):
        return self.size

    def _generate(self, index):
        """The uint8 image and the int target of item ``index`` (already in range)."""
        generator = Generator().manual_seed(index + self.random_offset)
        image = randn(*self.image_size, generator=generator).array
        target = int(randint(0, self.num_classes, (1,), generator=generator).array[0])
        pixels = (np.trunc(image * np.float32(255)).astype(np.int64) % 256).astype(np.uint8)
        if pixels.ndim == 3:  # (C, H, W) -> (H, W, C); one channel -> (H, W), like mode "L"
            pixels = pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0)
        return np.ascontiguousarray(pixels), target

    def _index(self, index):
        index = operator.index(index)
        if index < 0:  # Python's negative indices (torchvision would seed with a negative)
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        return index

    def __getitem__(self, index):
        return self._item(*self._generate(self._index(index)))

    def get_batch(self, indices):
        """``indices``: ``(B,)`` int64 -> ``(images, labels)`` Tensors, already collated
        (each image is still generated from its own seed)."""
        items = [self._generate(self._index(i)) for i in np.asarray(indices).tolist()]
        images = np.stack([image for image, _ in items])
        labels = np.array([target for _, target in items], dtype=np.int64)
        return self._batch(images, labels)

    def extra_repr(self):
        return ""
