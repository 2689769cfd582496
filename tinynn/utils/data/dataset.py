"""Datasets (``torch.utils.data.dataset``): ``Dataset``, ``IterableDataset``, ``TensorDataset``,
``ConcatDataset``, ``ChainDataset``, ``Subset`` and ``random_split``.

A map-style dataset has ``dataset[i]`` (one sample) and ``len(dataset)``. The ones backed
by arrays also have ``get_batch(indices)``: ``(B,)`` int64 indices in, a whole collated
batch out, made by one fancy-indexing copy per array. The DataLoader uses it whenever it
exists and no custom ``collate_fn`` is given.
"""
import bisect
import itertools
import math
import warnings

import numpy as np

from ... import backend
from ...tensor import Tensor
from .collate import CannotMerge, default_collate, merge_batches
from .sampler import as_index_array, random_source

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset",
           "Subset", "random_split"]


class Dataset:
    """Base class of map-style datasets: ``dataset[i]`` is one sample, ``len(dataset)`` their count."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])

    def __class_getitem__(cls, item):  # ``Dataset[tuple]`` in typed code means Dataset
        return cls


class IterableDataset(Dataset):
    """Base class of datasets read as a stream: subclasses give ``__iter__`` (samples in order).

    The DataLoader batches the stream as it comes (no sampler, no shuffling).
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several IterableDatasets read one after the other (also spelt ``ds1 + ds2``)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


def _fetch_batch(dataset, indices):
    """``dataset``'s samples at ``indices``, collated: by ``get_batch`` when it has one."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    return default_collate([dataset[int(i)] for i in indices])


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
    """The samples of several datasets one after the other (also spelt ``ds1 + ds2``).

    ``cumulative_sizes[k]`` is the total length of the first ``k + 1`` datasets.
    Negative indices count from the end, as for a list.
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]

    def get_batch(self, indices):
        """Fetch the rows of each part with that part's ``get_batch`` (or its items), then put
        them back in the order of ``indices``: one call per part touched, not per sample."""
        indices = as_index_array(indices)
        n = len(self)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            bad = indices[(indices < -n) | (indices >= n)][0]
            raise IndexError(f"index {bad} is out of range for a ConcatDataset of length {n}")
        indices = np.where(indices < 0, indices + n, indices)
        which = np.searchsorted(self.cumulative_sizes, indices, side="right")
        starts = np.array([0] + self.cumulative_sizes[:-1], dtype=np.int64)
        local = indices - starts[which]
        parts = np.unique(which)
        if len(parts) == 1:  # the whole batch comes from one dataset
            return _fetch_batch(self.datasets[parts[0]], local)
        positions = [np.flatnonzero(which == k) for k in parts]
        batches = [_fetch_batch(self.datasets[k], local[rows]) for k, rows in zip(parts, positions)]
        # Row j of the joined batches is sample positions[j] of this batch: invert that.
        try:
            return merge_batches(batches, np.argsort(np.concatenate(positions)))
        except CannotMerge:
            return default_collate([self[int(i)] for i in indices])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i] == ds[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices
        self._indices = as_index_array(indices)  # for get_batch's one-step index mapping

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[int(self._indices[i]) for i in index]]
        return self.dataset[int(self._indices[index])]

    def __len__(self):
        return len(self._indices)

    def get_batch(self, indices):
        """Map ``indices`` through this subset, then batch them from the parent dataset."""
        return _fetch_batch(self.dataset, self._indices[indices])


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
    order = random_source(generator).permutation(n).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length:end]) for end, length in zip(ends, lengths)]
