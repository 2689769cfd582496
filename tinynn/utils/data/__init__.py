"""Datasets, samplers and the DataLoader, with PyTorch's names and behaviour (``torch.utils.data``).

    from tinynn.utils import data                            # also: import tinynn.data
    ds = data.TensorDataset(x, y)                            # x: (N, ...), y: (N,)
    train, val = data.random_split(ds, [0.8, 0.2])
    loader = data.DataLoader(train, batch_size=64, shuffle=True)
    for xb, yb in loader:                                    # xb: (64, ...), yb: (64,)
        ...

Modules, as in PyTorch:

- ``dataset``    Dataset, IterableDataset, TensorDataset, ConcatDataset, ChainDataset,
                 Subset, random_split
- ``sampler``    Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,
                 WeightedRandomSampler, BatchSampler
- ``dataloader`` DataLoader, default_collate, default_convert, get_worker_info
- ``collate``    how samples become batches (default_collate and friends)

Array-backed datasets are batched by fancy indexing (``get_batch``), not by a Python
loop over samples, whichever sampler picks the indices; see ``dataloader``.
"""
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .distributed import DistributedSampler
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "Subset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DataLoader", "default_collate",
           "default_convert", "get_worker_info", "DistributedSampler"]
