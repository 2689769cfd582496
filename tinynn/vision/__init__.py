"""torchvision for tinynn: ``import tinynn.vision as torchvision``.

    torchvision.datasets     tinynn.datasets (the same module: MNIST, FashionMNIST, ...)
    torchvision.transforms   image transforms (also tinynn.transforms, the same module)
    torchvision.utils        make_grid, save_image (PNG files, no imaging library)
    torchvision.models       tinynn.models (the same module: the lecture's MLP, CNN and
                             ResNets; ResNets for small images, no pretrained weights)

The modules that live elsewhere are registered under their second name in
``sys.modules``, so ``import tinynn.vision.datasets`` and
``from tinynn.vision.datasets import MNIST`` give the very same objects as
``tinynn.datasets``: one class ``MNIST``, not two copies.
"""
import sys

from .. import datasets, models
from . import transforms, utils

__all__ = ["datasets", "models", "transforms", "utils"]


def _alias(name, module):
    """Register ``module`` (and its already imported submodules) as ``name``, and make it
    an attribute of the package ``name`` belongs to."""
    sys.modules.setdefault(name, module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    prefix = module.__name__ + "."
    for full_name, submodule in list(sys.modules.items()):
        if full_name.startswith(prefix):
            sys.modules.setdefault(name + "." + full_name[len(prefix):], submodule)


_alias(__name__ + ".datasets", datasets)
_alias(__name__ + ".models", models)
_alias("tinynn.transforms", transforms)
