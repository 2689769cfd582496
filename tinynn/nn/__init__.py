"""``tinynn.nn``: modules, parameters, layers (as ``torch.nn``).

One file per kind of layer; each one's ``__all__`` joins this namespace.
"""
from . import functional, init, parallel, utils
from .activation import *      # noqa: F401,F403
from .batchnorm import *       # noqa: F401,F403
from .containers import *      # noqa: F401,F403
from .conv import *            # noqa: F401,F403
from .dropout import *         # noqa: F401,F403
from .lazy import *            # noqa: F401,F403
from .linear import *          # noqa: F401,F403
from .loss import *            # noqa: F401,F403
from .module import *          # noqa: F401,F403
from .normalization import *   # noqa: F401,F403
from .parameter import *       # noqa: F401,F403
from .pooling import *         # noqa: F401,F403
from .rnn import *             # noqa: F401,F403
from .sparse import *          # noqa: F401,F403
from .sync_batchnorm import *  # noqa: F401,F403
from .upsampling import *      # noqa: F401,F403
