"""DistributedSampler: each rank its own share of the dataset (``torch.utils.data.distributed``).

    sampler = DistributedSampler(train_set)                  # rank and world size from MPI
    loader = DataLoader(train_set, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)                             # a new shuffle every epoch
        for images, labels in loader: ...

Each epoch, every rank computes the same list: ``range(len(dataset))``, shuffled by a
generator seeded with ``seed + epoch`` (so all ranks agree without talking), then padded by
repeating its first indices up to ``total_size = num_samples * num_replicas`` (or, with
``drop_last=True``, cut down to it). Rank r takes the entries ``r, r + num_replicas, ...``:
the ranks' shares are disjoint and together cover the dataset (plus the padding), and
each has ``num_samples = ceil(len / num_replicas)`` indices (with ``drop_last``:
``ceil((len - num_replicas) / num_replicas)`` when ``len`` does not divide).
"""
import math
import numbers

import numpy as np

from ... import distributed as dist
from ...backend import Generator
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` visits this epoch.

    ``num_replicas`` and ``rank`` default to the world size and rank of
    ``tinynn.distributed`` (initialise it first, or pass both). ``seed`` must be the same
    on every rank; call ``set_epoch(epoch)`` before each epoch, or every epoch repeats the
    order of epoch 0.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available (pip install "
                                   "'tinynn[mpi]'), or pass num_replicas= and rank=")
            if not dist.is_initialized():
                raise ValueError(dist.NOT_INITIALIZED + " (or pass num_replicas= and rank= to "
                                 "DistributedSampler)")
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        if not _is_int(num_replicas) or num_replicas < 1:
            raise ValueError(f"num_replicas should be a positive integer, but got "
                             f"num_replicas={num_replicas!r}")
        if not _is_int(rank) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        if not _is_int(seed):
            raise TypeError(f"seed should be an integer, but got seed={seed!r}")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use the shuffle of epoch ``epoch`` (seeded with ``seed + epoch``) from now on."""
        self.epoch = epoch

    def _index_array(self):
        n = len(self.dataset)
        if self.shuffle:
            order = Generator().manual_seed(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n, dtype=np.int64)
        # Pad by repeating the list from its start (np.resize repeats cyclically), or cut.
        order = np.resize(order, self.total_size) if n else order[:0]
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self._index_array().tolist())

    def __len__(self):
        return self.num_samples


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
