"""The DataLoader (``torch.utils.data.DataLoader``): batches of a dataset, epoch after epoch.

    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    for xb, yb in loader:                       # xb: (64, ...), yb: (64,)
        xb, yb = xb.to(device), yb.to(device)   # batches are made where the data lives

How one batch is made:

1. the *batch sampler* gives the batch's indices: ``BatchSampler(sampler, batch_size,
   drop_last)`` by default, over ``RandomSampler`` (``shuffle=True``), the ``sampler``
   you pass, or ``SequentialSampler``; or the ``batch_sampler`` you pass;
2. the dataset's samples at those indices are fetched and collated. Fast path: when
   ``collate_fn`` is None and the dataset has ``get_batch(indices)`` (TensorDataset,
   Subset, ConcatDataset, MNIST...), the loader calls it once with the ``(B,)`` int64
   indices and yields its already-collated result: one fancy-indexing copy per array,
   whatever the sampler. Otherwise each ``dataset[i]`` (or ``dataset.__getitems__``)
   goes through ``collate_fn`` (``default_collate`` when None).

Loading runs in the main process: ``num_workers``, ``pin_memory``, ``persistent_workers``,
``worker_init_fn``, ``prefetch_factor`` and ``timeout`` are accepted so that PyTorch code
runs unchanged, and do not change the batches (``worker_init_fn`` is never called,
as in PyTorch with ``num_workers=0``; ``get_worker_info()`` is None).
"""
import itertools

from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, as_index_array

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]


def get_worker_info():
    """None: tinynn loads data in the main process, where PyTorch's answer is None too."""
    return None


class DataLoader:
    """Iterates over ``dataset`` in batches, like ``torch.utils.data.DataLoader``.

    Arguments as PyTorch's: ``batch_size=1`` (None: no batching, single samples),
    ``shuffle`` (a new random order every epoch, drawn from ``generator`` or the global
    generator, so ``tinynn.manual_seed`` reproduces it), ``sampler`` (an iterable of
    indices, e.g. ``SubsetRandomSampler``; excludes ``shuffle``), ``batch_sampler`` (an
    iterable of index lists; excludes ``batch_size``, ``shuffle``, ``sampler`` and
    ``drop_last``), ``collate_fn``, ``drop_last`` (leave out the short last batch).

    ``len(loader)`` is the number of batches: ``ceil(N / batch_size)``, or
    ``floor(N / batch_size)`` with ``drop_last=True``. The worker options are accepted
    and ignored: tinynn loads in the main process (see the module docstring).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        streamed = isinstance(dataset, IterableDataset)
        if streamed:  # a stream has no indices to sample
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
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
        if sampler is None and not streamed:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            if streamed:
                BatchSampler([], batch_size, drop_last)  # only to check the arguments
            else:
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
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            return self._stream()
        if self.batch_sampler is None:  # no batching: one sample at a time
            convert = default_convert if self.collate_fn is None else self.collate_fn
            return (convert(self.dataset[index]) for index in self.sampler)
        return (self._fetch(indices) for indices in self._index_batches())

    def _index_batches(self):
        """This epoch's batches of indices: int64 arrays from our BatchSampler, else as given."""
        batch_sampler = self.batch_sampler
        if isinstance(batch_sampler, BatchSampler) and type(batch_sampler).__iter__ is BatchSampler.__iter__:
            return batch_sampler.index_batches()
        return iter(batch_sampler)  # a user's batch sampler (or a subclass's own __iter__)

    def _fetch(self, indices):
        """The collated batch of the samples at ``indices``."""
        get_batch = getattr(self.dataset, "get_batch", None)
        if get_batch is not None and self.collate_fn in (None, default_collate):
            return get_batch(as_index_array(indices))  # the fast path: one call per batch
        indices = indices.tolist() if hasattr(indices, "tolist") else indices
        get_items = getattr(self.dataset, "__getitems__", None)
        samples = get_items(indices) if get_items is not None else [self.dataset[i] for i in indices]
        return (default_collate if self.collate_fn is None else self.collate_fn)(samples)

    def _stream(self):
        """Batches of an IterableDataset, taken from its stream in order."""
        samples = iter(self.dataset)
        if self.batch_size is None:
            convert = default_convert if self.collate_fn is None else self.collate_fn
            yield from (convert(sample) for sample in samples)
            return
        collate = default_collate if self.collate_fn is None else self.collate_fn
        while batch := list(itertools.islice(samples, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield collate(batch)
