"""``tinynn.transforms`` is ``tinynn.vision.transforms``: one module under two names.

The transforms moved to ``tinynn/vision/transforms/`` (torchvision's layout); this file
keeps ``from tinynn import transforms`` and ``import tinynn.transforms`` working by putting
that module in this one's place.
"""
import sys

from .vision import transforms as _transforms

sys.modules[__name__] = _transforms
