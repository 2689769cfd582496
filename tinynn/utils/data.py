"""Datasets, samplers and the DataLoader, with PyTorch's names and behaviour.

    from tinynn.utils import data
    ds = data.TensorDataset(x, y)                            # x: (N, ...), y: (N,)
    train, val = data.random_split(ds, [0.8, 0.2])
    loader = data.DataLoader(train, batch_size=64, shuffle=True)
    for xb, yb in loader:                                    # xb: (64, ...), yb: (64,)
        xb, yb = xb.to(device), yb.to(device)                # batches are made on the CPU

Fast path: when ``collate_fn`` is None and the dataset has ``get_batch(indices)``
(``indices``: ``(B,)`` int64 NumPy array), the loader calls it once per batch and yields
its already-collated result. TensorDataset, Subset and MNIST have it, so they are
batched by one fancy-indexing copy per array instead of a Python loop over samples.
Other datasets go through ``dataset[i]`` per sample and ``collate_fn``/``default_collate``.

Shuffling draws from ``generator`` when one is given, else from
``tinynn.backend.default_generator``, so ``tinynn.manual_seed`` makes it reproducible.
"""
import bisect
import collections.abc
import itertools
import math
import warnings

import numpy as np

from .. import backend
from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "ConcatDataset", "Subset", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler", "DataLoader",
           "default_collate", "default_convert"]


def _generator(generator):
    # Looked up at call time so that manual_seed (which reseeds it) always applies.
    return backend.default_generator if generator is None else generator


def _index_array(indices):
    """Indices (list, range, ndarray or Tensor) as a 1-D int64 NumPy array."""
    if isinstance(indices, Tensor):
        indices = backend.to_numpy(indices.array)
    array = np.asarray(indices, dtype=np.int64)
    if array.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of indices, got shape {array.shape}")
    return array


# ----------------------------------------------------------------------------- datasets

class Dataset:
    """Base class of map-style datasets: ``dataset[i]`` is one sample, ``len(dataset)`` their count."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are slices along the first dimension: ``ds[i] == (t0[i], t1[i], ...)``.

    Every tensor must have the same size ``N`` in dimension 0.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in tensors) or len({t.shape[0] for t in tensors}) != 1:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"Size mismatch between tensors: TensorDataset needs the same size "
                             f"in dimension 0, got shapes {shapes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """``(B,)`` int64 indices -> a tuple of ``(B, ...)`` contiguous tensors (not in the graph)."""
        batch = []
        for t in self.tensors:
            rows = t.array[backend.to_device(indices, t.device)]  # one fancy-indexing copy
            batch.append(Tensor(backend.get_array_module(rows).ascontiguousarray(rows)))
        return tuple(batch)


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other (``ds1 + ds2``)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1] if self.cumulative_sizes else 0

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i] == ds[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._indices = _index_array(indices)  # for get_batch's one-step index mapping

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[int(self._indices[i]) for i in index]]
        return self.dataset[int(self._indices[index])]

    def __len__(self):
        return len(self._indices)

    def get_batch(self, indices):
        """Map ``indices`` through this subset, then batch them from the parent dataset."""
        parent_indices = self._indices[indices]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(parent_indices)
        return default_collate([self.dataset[int(i)] for i in parent_indices])


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1: each
    split gets ``floor(len * fraction)`` and the remainder is dealt out one by one,
    round-robin from the first split (as PyTorch does).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * fraction)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
        lengths = counts
    if any(length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the "
                         f"input dataset ({n})!")
    order = _generator(generator).permutation(n).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length:end]) for end, length in zip(ends, lengths)]


# ----------------------------------------------------------------------------- samplers

class Sampler:
    """Base class: an iterable of dataset indices with a length."""

    def __iter__(self):
        raise NotImplementedError

    def _index_array(self):
        """This epoch's indices as one int64 array (subclasses may override with a vectorised version)."""
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation every epoch (or ``num_samples`` draws with replacement)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        n, generator = len(self.data_source), _generator(self.generator)
        if self.replacement:
            draws = generator.uniform((self.num_samples,), np.float64)
            return np.minimum((draws * n).astype(np.int64), n - 1)
        # Without replacement: whole permutations, as many as num_samples needs.
        rounds = [generator.permutation(n) for _ in range(-(-self.num_samples // max(n, 1)))]
        return np.concatenate(rounds or [np.zeros(0, np.int64)])[:self.num_samples]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into batches of ``batch_size`` (lists, as PyTorch yields)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def index_batches(self):
        """This epoch's batches as int64 NumPy arrays (what the DataLoader uses)."""
        if isinstance(self.sampler, Sampler):  # the order is known up front: slice it
            order, size = self.sampler._index_array(), self.batch_size
            stop = len(order) - len(order) % size if self.drop_last else len(order)
            for start in range(0, stop, size):
                yield order[start:start + size]
            return
        indices = iter(self.sampler)  # any iterable, possibly endless: consume it lazily
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield _index_array(batch)

    def __iter__(self):
        return (batch.tolist() for batch in self.index_batches())

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# ----------------------------------------------------------------------------- collate

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def _is_text_array(array):
    return array.dtype.kind in "OSUV"  # object, bytes, str, void: nothing to stack


def default_collate(batch):
    """Merge a list of samples into a batch, like ``torch.utils.data.default_collate``.

    Tensors are stacked into ``(B, ...)``; NumPy arrays likewise (dtype kept); Python
    ints -> int64, floats -> float64 (as PyTorch), bools -> bool tensors of shape
    ``(B,)``; NumPy scalars keep their dtype; strings stay a list; tuples, lists, dicts
    and namedtuples are collated field by field (a tuple of samples gives a tuple).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if _is_text_array(np.asarray(elem)):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        array = np.stack(batch) if isinstance(elem, np.ndarray) else np.asarray(batch)
        return Tensor(array)
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        array = np.asarray(batch)  # ints -> int64; a float among them makes it float32, as torch
        return Tensor(array.astype(np.int64 if array.dtype.kind in "iub" else np.float32))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """One sample as tensors without batching (``batch_size=None``): NumPy arrays and
    scalars become Tensors, containers are converted element-wise, the rest is kept."""
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        return data if _is_text_array(np.asarray(data)) else Tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return tuple(default_convert(d) for d in data)
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


# ----------------------------------------------------------------------------- loader

class DataLoader:
    """Iterates over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    ``len(loader)`` is the number of batches: ``ceil(N / batch_size)``, or
    ``floor(N / batch_size)`` with ``drop_last=True``. Each ``iter(loader)`` (each epoch)
    draws a new order when ``shuffle=True``. ``batch_size=None`` turns batching off:
    the loader yields single samples. ``num_workers``, ``pin_memory`` and the other
    worker options are accepted for compatibility and ignored (loading runs in this
    process; the fast path makes workers unnecessary for array-backed datasets).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device=""):
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn

    def __len__(self):
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)

    def _index_batches(self):
        if hasattr(self.batch_sampler, "index_batches"):
            return self.batch_sampler.index_batches()
        return (_index_array(batch) for batch in self.batch_sampler)

    def __iter__(self):
        if self.batch_sampler is None:  # no batching: one sample at a time
            convert = default_convert if self.collate_fn is None else self.collate_fn
            return (convert(self.dataset[index]) for index in self.sampler)
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None and self.collate_fn in (None, default_collate):
            return (get_batch(indices) for indices in self._index_batches())
        collate = default_collate if self.collate_fn is None else self.collate_fn
        return (collate([self.dataset[int(i)] for i in indices]) for indices in self._index_batches())
