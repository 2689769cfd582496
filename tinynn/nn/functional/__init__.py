"""``tinynn.nn.functional``: the stateless forms of the layers, as ``torch.nn.functional``.

One file per section of PyTorch's documentation; each one's ``__all__`` joins this namespace.
"""
from .activation import *      # noqa: F401,F403
from .conv import *            # noqa: F401,F403
from .dropout import *         # noqa: F401,F403
from .linear import *          # noqa: F401,F403
from .loss import *            # noqa: F401,F403
from .normalization import *   # noqa: F401,F403
from .sparse import *          # noqa: F401,F403
from .vision import *          # noqa: F401,F403
