"""torchvision.transforms for tinynn: ``from tinynn.vision import transforms``.

The transform classes live in ``transforms.py``, the operations behind them in
``functional.py`` (torchvision's ``transforms.functional``, imported as ``F``).
``tinynn.transforms`` is this same module (its old name, kept by ``tinynn/transforms.py``).
"""
from . import functional
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _classes

__all__ = list(_classes) + ["functional"]
