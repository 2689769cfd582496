"""Random sampling: ``normal``, ``bernoulli``, ``multinomial`` and the in-place fillers
``normal_``, ``uniform_``, ``bernoulli_``, ``random_``, ``exponential_``, ``log_normal_``.

Every draw starts from uniform or normal samples made on the tensor's device by
``backend.random_uniform`` / ``random_normal``, so ``tinynn.manual_seed`` makes them
reproducible on both backends (and a ``generator=`` argument draws from that generator).
Samples carry no gradient, as in PyTorch.
"""
import numbers

import numpy

from .. import backend, dtypes
from ..autograd import Function
from ..checks import shape_args
from ..tensor import Tensor, register_methods
from .inplace import inplace

__all__ = ["normal", "bernoulli", "multinomial", "poisson"]


class Sample(Function):
    """Random values that depend on no input's value: every input gets a zero gradient.

    PyTorch keeps ``normal(mean, std)`` of a mean that requires grad, and ``h.uniform_()`` of
    a non-leaf, in the graph this way (their derivative is zero).
    """

    backward_name = "NormalBackward0"

    def forward(self, *inputs, values):
        self.shapes = [None if x is None else x.shape for x in inputs]
        return values

    def backward(self, grad):
        xp = backend.get_array_module(grad)
        return tuple(None if shape is None else xp.zeros(shape, dtype=grad.dtype)
                     for shape in self.shapes)


def _uniform(shape, dtype, device, generator=None):
    return backend.random_uniform(tuple(shape), numpy.dtype(dtype), device, generator)


def _standard_normal(shape, dtype, device, generator=None):
    return backend.random_normal(tuple(shape), numpy.dtype(dtype), device, generator)


def _lowest(value):
    """The smallest entry of a number, an array or a Tensor (None when empty)."""
    array = value.array if isinstance(value, Tensor) else value
    if hasattr(array, "min"):
        return float(array.min()) if array.size else None
    return value


def _check_std(std):
    low = _lowest(std)
    if low is not None and low < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {low}")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, out=None):
    """Samples of N(mean, std**2), in PyTorch's four forms:

    ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor, std=1.0)``,
    ``normal(mean, std_tensor)`` and ``normal(mean, std, size)`` (numbers and a size).
    """
    _check_std(std)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal(mean, std, size): give a size when mean and std are numbers")
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        device = backend.Device("cpu" if device is None else device)
        array = _standard_normal(shape_args((size,)), dtype, device, generator) * std + mean
        return Tensor(array.astype(numpy.dtype(dtype), copy=False), requires_grad=requires_grad)
    if size is not None:
        raise RuntimeError("normal: size is only accepted when mean and std are numbers")
    like = tensors[0]
    dtype = dtypes.result_dtype(*tensors)
    if dtype.kind != "f":
        raise RuntimeError(f"normal expects floating-point mean and std, got {dtype}")
    mean_a = mean.array if isinstance(mean, Tensor) else mean
    std_a = std.array if isinstance(std, Tensor) else std
    shape = numpy.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    array = _standard_normal(shape, dtype, like.device, generator) * std_a + mean_a
    return Sample.apply(*tensors, values=array.astype(numpy.dtype(dtype), copy=False))


def _check_probabilities(p, name):
    low, high = _lowest(p), -_lowest(-p)
    if low is not None and (low < 0 or high > 1):
        raise RuntimeError(f"{name}: expected probabilities in [0, 1], got values from {low} to {high}")


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``), else 0; same shape and dtype as ``input``."""
    probs = input.array if p is None else p
    _check_probabilities(probs, "bernoulli")
    dtype = input.dtype if input.dtype.kind == "f" else dtypes.get_default_dtype()
    draws = _uniform(input.shape, numpy.float64, input.device, generator) < probs
    return Tensor(draws.astype(numpy.dtype(input.dtype if p is not None else dtype)))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row of ``input`` (non-negative weights).

    input (C,) or (N, C) -> int64 (num_samples,) or (N, num_samples). Without replacement
    each row draws distinct categories: an exponential race, where category c finishes at
    time E/w_c and the first ``num_samples`` to finish win (zero weights never do).
    """
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {input.ndim}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (got {num_samples})")
    xp = backend.get_array_module(input.array)
    weights = input.array.reshape(-1, input.shape[-1]).astype(numpy.float64)
    rows, categories = weights.shape
    if float(weights.min()) < 0 or not bool(xp.isfinite(weights).all()):
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0 "
                           "or inf or nan)")
    if not bool((weights.sum(axis=1) > 0).all()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        cdf = xp.cumsum(weights, axis=1)
        cdf /= cdf[:, -1:]
        u = _uniform((rows, num_samples), numpy.float64, input.device, generator)
        # The first category whose cumulative probability passes u: a vectorised searchsorted.
        picks = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
        picks = xp.minimum(picks, categories - 1)
    else:
        if num_samples > categories:
            raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement ({num_samples} > {categories})")
        if int((weights > 0).sum(axis=1).min()) < num_samples:
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not "
                               "enough non-negative category to sample)")
        u = _uniform((rows, categories), numpy.float64, input.device, generator)
        with numpy.errstate(divide="ignore"):
            finish = -xp.log1p(-u) / weights          # inf where the weight is 0
        picks = xp.argsort(finish, axis=1, kind="stable")[:, :num_samples]
    picks = picks.astype(numpy.int64)
    return Tensor(picks[0] if input.ndim == 1 else picks)


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (drawn on the CPU, then moved to its device)."""
    rng = numpy.random.default_rng(int(_uniform((), numpy.float64, "cpu", generator) * 2 ** 62))
    rates = backend.to_numpy(input.array)
    return Tensor(backend.to_device(rng.poisson(rates).astype(rates.dtype), input.device))


# ---------------------------------------------------------------------------- in place

def _fill(tensor, values, name):
    """Overwrite ``tensor`` with ``values`` under PyTorch's in-place rules (a non-leaf stays
    in the graph, with a zero gradient for what it held)."""
    values = values.astype(tensor.array.dtype, copy=False)
    return inplace(tensor, name, lambda t: Sample.apply(t, values=values))


def _bound(bounds, name, default):
    """``from``/``to`` given by keyword (``x.uniform_(to=3)``): Python reserves ``from``."""
    return bounds.pop(name, default)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples of N(mean, std**2)."""
    _check_std(std)
    draws = _standard_normal(self.shape, _sample_dtype(self), self.device, generator)
    return _fill(self, draws * std + mean, "normal_")


def uniform_(self, *bounds, generator=None, **named):
    """Fill with samples of U(from, to), by default U(0, 1): ``x.uniform_(-1, 1)``,
    ``x.uniform_(to=3)``."""
    a, b = (tuple(bounds) + (0.0, 1.0)[len(bounds):])[:2]
    a, b = _bound(named, "from", a), _bound(named, "to", b)
    if named:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(named)}")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    draws = _uniform(self.shape, _sample_dtype(self), self.device, generator)
    return _fill(self, draws * (b - a) + a, "uniform_")


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``, a number or a tensor) or 0."""
    probs = p.array if isinstance(p, Tensor) else p
    _check_probabilities(probs, "bernoulli_")
    return _fill(self, _uniform(self.shape, numpy.float64, self.device, generator) < probs,
                 "bernoulli_")


def random_(self, *bounds, generator=None, **named):
    """Fill with integers: ``random_(to)`` from [0, to), ``random_(from, to)`` from [from, to);
    no bound: [0, 2**mantissa] for floats (every integer representable), the dtype's range
    for integers."""
    if len(bounds) > 2:
        raise TypeError("random_() takes at most 2 bounds (from, to)")
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds if bounds else (0, None)
    low, high = _bound(named, "from", low), _bound(named, "to", high)
    if named:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(named)}")
    if high is None:
        kind = self.array.dtype.kind
        high = (2 ** (numpy.finfo(self.array.dtype).nmant + 1) + 1 if kind == "f" else
                2 if kind == "b" else int(numpy.iinfo(self.array.dtype).max) + 1)
    if not (isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)) or low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    draws = _uniform(self.shape, numpy.float64, self.device, generator)
    xp = backend.get_array_module(draws)
    return _fill(self, xp.floor(draws * float(high - low)) + low, "random_")


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of the exponential distribution of rate ``lambd``."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    draws = _uniform(self.shape, numpy.float64, self.device, generator)
    return _fill(self, -backend.get_array_module(draws).log1p(-draws) / lambd, "exponential_")


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std**2)) samples."""
    draws = _standard_normal(self.shape, numpy.float64, self.device, generator)
    return _fill(self, backend.get_array_module(draws).exp(draws * std + mean), "log_normal_")


def _sample_dtype(tensor):
    kind = tensor.array.dtype.kind
    return tensor.array.dtype if kind == "f" else numpy.float64


register_methods(bernoulli, multinomial, normal_, uniform_, bernoulli_, random_, exponential_,
                 log_normal_)
