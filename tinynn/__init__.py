"""tinynn: a small deep-learning library on NumPy, with an optional CuPy backend.

The public names mirror PyTorch's: ``tinynn.tensor``, ``tinynn.nn``, ``tinynn.optim``...
"""
from . import autograd, backend, cuda
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import Device as device, Generator, manual_seed
from .creation import (arange, as_tensor, empty, eye, from_numpy, full, full_like, linspace, ones,
                       ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor,
                       zeros, zeros_like)
from .dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half, int,
                     int8, int16, int32, int64, long, short, uint8)
from .functions import (abs, allclose, argmax, argmin, cat, clamp, concat, equal, exp, flatten,
                        is_tensor, log, log_softmax, matmul, max, maximum, mean, min, minimum, mm,
                        numel, permute, relu, reshape, sigmoid, softmax, sqrt, squeeze, stack, sum,
                        tanh, transpose, unsqueeze, where)
from .graph import to_dot
from .serialization import load, save
from .summary import summary
from .tensor import Tensor

__version__ = "0.1.0"

# Subpackages, so ``tinynn.nn.Linear`` and ``tinynn.utils.data`` work after ``import tinynn``.
from . import nn, optim, utils  # noqa: E402
