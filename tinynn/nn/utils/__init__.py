"""``tinynn.nn.utils``, as ``torch.nn.utils``: gradient clipping and flat parameter vectors.

    tinynn.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    vec = tinynn.nn.utils.parameters_to_vector(model.parameters())
"""
from . import clip_grad, convert_parameters
from .clip_grad import *            # noqa: F401,F403
from .convert_parameters import *   # noqa: F401,F403

__all__ = clip_grad.__all__ + convert_parameters.__all__
