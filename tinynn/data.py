"""``import tinynn.data`` is a shorter spelling of ``tinynn.utils.data`` (same objects)."""
from .utils.data import *  # noqa: F401,F403
from .utils.data import __all__  # noqa: F401
