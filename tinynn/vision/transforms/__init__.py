"""torchvision.transforms for tinynn: ``from tinynn.vision import transforms``.

``tinynn.transforms`` is this same module (its old name, kept by ``tinynn/transforms.py``).
"""
from .transforms import *  # noqa: F401,F403
from .transforms import __all__
