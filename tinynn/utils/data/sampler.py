"""Samplers: which dataset indices an epoch visits, and in what order (``torch.utils.data.sampler``).

    from tinynn.utils.data import DataLoader, SubsetRandomSampler
    order = np.random.permutation(len(ds)); split = int(0.8 * len(ds))
    train = DataLoader(ds, batch_size=64, sampler=SubsetRandomSampler(order[:split]))
    valid = DataLoader(ds, batch_size=64, sampler=SubsetRandomSampler(order[split:]))

A sampler is any iterable of indices with a length. The ones here also draw a whole
epoch at once as an int64 NumPy array (``_index_array``), so that ``BatchSampler`` cuts
batches out of one array and the DataLoader fetches each batch with one fancy-indexing
call (``dataset.get_batch``), never with a Python loop over samples. A subclass that
overrides ``__iter__`` is iterated instead (see ``epoch_indices``), so its order wins.

Random samplers draw from their ``generator`` (a ``tinynn.Generator``) when one is
given, else from the global generator at the moment the epoch starts, so
``tinynn.manual_seed`` makes every epoch reproducible.
"""
import itertools

import numpy as np

from ... import backend
from ...tensor import Tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]


def random_source(generator):
    """``generator``, or the global one; looked up at call time so that ``manual_seed`` applies."""
    return backend.default_generator if generator is None else generator


def as_index_array(indices):
    """Indices (list, range, ndarray or Tensor) as a 1-D int64 NumPy array."""
    if isinstance(indices, Tensor):
        indices = backend.to_numpy(indices.array)
    array = np.asarray(indices, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of indices, got shape {array.shape}")
    return array


def _is_positive_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _check_num_samples(num_samples):
    if not _is_positive_int(num_samples):
        raise ValueError(f"num_samples should be a positive integer value, but got "
                         f"num_samples={num_samples}")


def epoch_indices(sampler):
    """One epoch of ``sampler`` as an int64 array when it can be drawn in one go, else None.

    True for the samplers of this module (and subclasses that keep their ``__iter__``),
    for lists, ranges, NumPy arrays and Tensors of indices. Any other iterable (a
    generator, a user's Sampler) is None: the caller iterates it, lazily.
    """
    if isinstance(sampler, (list, tuple, range, np.ndarray, Tensor)):
        return as_index_array(sampler)
    cls = type(sampler)
    owner = next((c for c in cls.__mro__ if "_index_array" in vars(c)), None)
    # The class that knows the vectorised draw must also be the one whose __iter__ is used.
    if owner is not None and cls.__iter__ is owner.__iter__:
        return sampler._index_array()
    return None


class Sampler:
    """Base class of all samplers: subclasses give ``__iter__`` (indices) and usually ``__len__``.

    ``data_source`` is accepted for old code and not used, as in PyTorch.
    """

    def __init__(self, data_source=None):
        pass

    def __class_getitem__(cls, item):  # ``Sampler[int]`` in typed code means Sampler
        return cls

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, in that order, every epoch."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order of ``data_source``'s indices every epoch.

    Without replacement: a permutation (``num_samples`` larger than the dataset gives
    whole permutations one after another, the last one cut). With ``replacement=True``:
    ``num_samples`` independent uniform draws from ``0..len - 1``.
    ``num_samples`` defaults to ``len(data_source)``.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_num_samples(self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        n, generator = len(self.data_source), random_source(self.generator)
        if n == 0:
            raise ValueError("RandomSampler: cannot draw indices from an empty data_source")
        if self.replacement:
            draws = generator.uniform((self.num_samples,), np.float64)
            return np.minimum((draws * n).astype(np.int64), n - 1)
        rounds = -(-self.num_samples // n)  # ceil: enough whole permutations
        return np.concatenate([generator.permutation(n) for _ in range(rounds)])[:self.num_samples]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a fresh random order every epoch (no replacement).

    The usual validation split: two samplers over one dataset, one with the training
    indices and one with the validation indices.
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        self._indices = as_index_array(indices)

    def _index_array(self):
        return self._indices[random_source(self.generator).permutation(len(self._indices))]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return len(self._indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices from ``0..len(weights) - 1``, index i with probability
    ``weights[i] / sum(weights)`` (weights need not sum to 1).

    With ``replacement=True`` (the default) draws are independent; without, every index
    appears at most once (each draw is proportional to the weights of those not yet drawn).
    Balancing classes: ``weights = 1 / class_count[labels]``.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_num_samples(num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        array = backend.to_numpy(weights.array) if isinstance(weights, Tensor) else weights
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(array.shape)}")
        _check_distribution(array, num_samples, replacement)
        self.weights = Tensor(array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator
        self._cumulative = np.cumsum(array)

    def _index_array(self):
        weights = self._cumulative  # the cumulative weights; their last entry is the total
        generator = random_source(self.generator)
        if self.replacement:
            # u uniform in [0, total): index i where cumulative[i-1] <= u < cumulative[i].
            u = generator.uniform((self.num_samples,), np.float64) * weights[-1]
            picks = np.searchsorted(weights, u, side="right")
            return np.minimum(picks, len(weights) - 1).astype(np.int64)
        # Without replacement, an exponential race: index i finishes at time E_i / w_i
        # (E_i ~ Exp(1)); the first num_samples to finish are a draw without replacement.
        u = generator.uniform((len(weights),), np.float64)
        with np.errstate(divide="ignore"):
            finish = -np.log1p(-u) / np.diff(weights, prepend=0.0)  # zero weight: inf, never drawn
        return np.argsort(finish, kind="stable")[:self.num_samples].astype(np.int64)

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


def _check_distribution(weights, num_samples, replacement):
    """PyTorch's multinomial checks, made when the sampler is built (PyTorch: on iteration)."""
    if weights.size == 0 or not np.isfinite(weights).all() or weights.min() < 0:
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0 "
                           "or inf or nan)")
    if weights.sum() <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > len(weights):
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement ({num_samples} > {len(weights)})")
    if not replacement and np.count_nonzero(weights) < num_samples:
        raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough "
                           "non-negative category to sample)")


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    ``list(BatchSampler(SequentialSampler(range(10)), 3, drop_last=False))`` is
    ``[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]``; with ``drop_last=True`` the short last
    batch is left out. ``sampler`` may be any iterable of indices.
    """

    def __init__(self, sampler, batch_size, drop_last):
        if not _is_positive_int(batch_size):
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def index_batches(self):
        """This epoch's batches as int64 NumPy arrays (what the DataLoader fetches)."""
        order, size = epoch_indices(self.sampler), self.batch_size
        if order is not None:  # the whole epoch is known: slice it
            stop = len(order) - len(order) % size if self.drop_last else len(order)
            for start in range(0, stop, size):
                yield order[start:start + size]
            return
        indices = iter(self.sampler)  # any iterable, possibly endless: consume it lazily
        while batch := list(itertools.islice(indices, size)):
            if len(batch) < size and self.drop_last:
                return
            yield as_index_array(batch)

    def __iter__(self):
        return (batch.tolist() for batch in self.index_batches())

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
