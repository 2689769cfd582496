"""Samplers (tinynn.utils.data.sampler) against PyTorch's documented behaviour, and the
DataLoader driven by them: exact orders where deterministic, properties where random."""
import collections

import numpy as np
import pytest

import tinynn
from tinynn.utils import data
from tinynn.utils.data import SubsetRandomSampler  # the import students write
from tinynn.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                       WeightedRandomSampler)


def make_dataset(n=10, device=None):
    x = tinynn.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2), device=device)
    y = tinynn.tensor(np.arange(n, dtype=np.int64), device=device)
    return data.TensorDataset(x, y)


def labels(loader):
    return [yb.tolist() for _, yb in loader]


class CountingDataset(data.TensorDataset):
    """A TensorDataset that records get_batch calls and counts __getitem__ calls."""

    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.batch_calls, self.item_calls = [], 0

    def get_batch(self, indices):
        self.batch_calls.append(indices.copy())
        return super().get_batch(indices)

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)


def counting_dataset(n):
    return CountingDataset(tinynn.tensor(np.arange(n, dtype=np.float32)), tinynn.tensor(np.arange(n)))


# ------------------------------------------------------------------ module layout

def test_import_paths_give_the_same_objects():
    import tinynn.data
    import tinynn.utils.data.dataloader as dataloader
    import tinynn.utils.data.dataset as dataset
    import tinynn.utils.data.sampler as sampler
    assert data.SubsetRandomSampler is sampler.SubsetRandomSampler is tinynn.data.SubsetRandomSampler
    assert data.DataLoader is dataloader.DataLoader is tinynn.data.DataLoader
    assert data.default_collate is dataloader.default_collate
    assert data.ConcatDataset is dataset.ConcatDataset and data.Subset is dataset.Subset
    assert data.get_worker_info() is None
    for name in ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                 "WeightedRandomSampler", "BatchSampler", "DataLoader", "TensorDataset",
                 "ConcatDataset", "Subset", "random_split", "default_collate"]:
        assert name in data.__all__ and name in tinynn.data.__all__


# ------------------------------------------------------------------ SequentialSampler, BatchSampler

def test_sequential_sampler_is_in_order():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4] and len(s) == 5
    assert all(type(i) is int for i in s)
    assert list(SequentialSampler([])) == []


@pytest.mark.parametrize("n, size, drop_last, expected", [
    (10, 3, False, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]),       # PyTorch's docstring example
    (10, 3, True, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
    (9, 3, False, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
    (9, 3, True, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
    (2, 5, False, [[0, 1]]),
    (2, 5, True, []),
])
def test_batch_sampler_exact_batches_and_len(n, size, drop_last, expected):
    bs = BatchSampler(SequentialSampler(range(n)), batch_size=size, drop_last=drop_last)
    assert list(bs) == expected
    assert len(bs) == len(expected)
    assert all(isinstance(b, list) for b in bs)
    # any iterable of indices, consumed lazily (a generator has no length, a list has)
    assert list(BatchSampler(iter(range(n)), size, drop_last)) == expected
    assert list(BatchSampler(list(range(n)), size, drop_last)) == expected


def test_batch_sampler_argument_errors():
    for bad in [0, -1, 2.5, True, None]:
        message = f"batch_size should be a positive integer value, but got batch_size={bad}"
        with pytest.raises(ValueError, match=message):
            BatchSampler(range(4), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(4), 2, 1)


def test_batch_sampler_keeps_a_user_samplers_order():
    class Reverse(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    assert list(BatchSampler(Reverse(5), 2, False)) == [[4, 3], [2, 1], [0]]

    class EvenOnly(SequentialSampler):  # a subclass that overrides __iter__ must win
        def __iter__(self):
            return iter(range(0, len(self.data_source), 2))

    assert list(BatchSampler(EvenOnly(range(7)), 3, False)) == [[0, 2, 4], [6]]


def test_base_sampler_needs_iter_and_can_be_subscripted_like_a_generic():
    with pytest.raises(NotImplementedError):
        iter(Sampler())

    class Typed(Sampler[int]):  # typed PyTorch code subclasses Sampler[int] / Dataset[tuple]
        def __iter__(self):
            return iter([2, 0])

    class TypedDataset(data.Dataset[tuple]):
        pass

    assert list(Typed()) == [2, 0] and issubclass(TypedDataset, data.Dataset)


# ------------------------------------------------------------------ RandomSampler

def test_random_sampler_is_a_permutation_and_changes_each_epoch():
    s = RandomSampler(range(20))
    epochs = [list(s) for _ in range(3)]
    assert len(s) == 20 and all(sorted(e) == list(range(20)) for e in epochs)
    assert all(type(i) is int for i in epochs[0])
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]


def test_random_sampler_num_samples_and_replacement():
    longer = list(RandomSampler(range(4), num_samples=10))
    assert len(longer) == 10
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3]  # whole permutations first
    assert set(longer[8:]) <= {0, 1, 2, 3} and len(set(longer[8:])) == 2
    shorter = list(RandomSampler(range(10), num_samples=4))
    assert len(shorter) == 4 and len(set(shorter)) == 4
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=3000))
    assert len(drawn) == 3000 and set(drawn) == {0, 1, 2}
    counts = np.bincount(drawn, minlength=3)
    assert np.all(np.abs(counts - 1000) < 150)  # uniform


def test_random_sampler_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=0"):
        RandomSampler(range(3), replacement=0)
    for bad in [0, -2, 1.5]:
        message = f"num_samples should be a positive integer value, but got num_samples={bad}"
        with pytest.raises(ValueError, match=message):
            RandomSampler(range(3), num_samples=bad)
    with pytest.raises(ValueError, match="num_samples=0"):  # an empty dataset, as PyTorch
        RandomSampler([])


# ------------------------------------------------------------------ SubsetRandomSampler

def test_subset_random_sampler_permutes_exactly_its_indices():
    indices = [7, 3, 9, 12, 0]
    s = data.SubsetRandomSampler(indices)
    epochs = [list(s) for _ in range(4)]
    assert len(s) == 5 and all(sorted(e) == sorted(indices) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1
    assert s.indices is indices
    assert sorted(data.SubsetRandomSampler(np.array([4, 1]))) == [1, 4]
    assert sorted(data.SubsetRandomSampler(tinynn.tensor([5, 2, 8]))) == [2, 5, 8]
    assert sorted(data.SubsetRandomSampler(range(3, 6))) == [3, 4, 5]


def test_validation_split_idiom_is_disjoint_and_complete():
    n, valid_size = 50, 0.2
    dataset = make_dataset(n)
    order = list(range(n))
    np.random.default_rng(0).shuffle(order)
    split = int(np.floor(valid_size * n))
    train_idx, valid_idx = order[split:], order[:split]
    train_loader = data.DataLoader(dataset, batch_size=8, sampler=SubsetRandomSampler(train_idx))
    valid_loader = data.DataLoader(dataset, batch_size=8, sampler=SubsetRandomSampler(valid_idx))
    assert len(train_loader) == 5 and len(valid_loader) == 2
    seen_train = sum(labels(train_loader), [])
    seen_valid = sum(labels(valid_loader), [])
    assert sorted(seen_train) == sorted(train_idx) and sorted(seen_valid) == sorted(valid_idx)
    assert not set(seen_train) & set(seen_valid)
    assert sorted(seen_train + seen_valid) == list(range(n))
    for xb, yb in train_loader:  # each row is its own sample
        np.testing.assert_array_equal(xb.numpy(), dataset.tensors[0].numpy()[yb.numpy()])


# ------------------------------------------------------------------ WeightedRandomSampler

def test_weighted_sampler_counts_follow_the_weights():
    weights = [0.1, 0.0, 0.6, 0.3]
    s = WeightedRandomSampler(weights, num_samples=20000)
    draws = list(s)
    assert len(s) == 20000 and len(draws) == 20000 and s.replacement is True
    counts = np.bincount(draws, minlength=4) / 20000
    np.testing.assert_allclose(counts, weights, atol=0.015)
    assert counts[1] == 0  # zero weight: never drawn
    assert s.weights.dtype == tinynn.float64


def test_weighted_sampler_unnormalised_tensor_weights_and_class_balancing():
    targets = np.array([0] * 90 + [1] * 10)
    class_weight = 1.0 / np.bincount(targets)
    weights = tinynn.tensor(class_weight[targets])  # the usual "balance the classes" recipe
    draws = np.array(list(WeightedRandomSampler(weights, num_samples=10000)))
    share_of_rare = np.mean(targets[draws] == 1)
    assert abs(share_of_rare - 0.5) < 0.03


def test_weighted_sampler_without_replacement_draws_distinct_indices():
    weights = [5.0, 1.0, 0.0, 2.0, 1.0]
    for _ in range(20):
        draws = list(WeightedRandomSampler(weights, 4, replacement=False))
        assert len(draws) == len(set(draws)) == 4 and 2 not in draws
    firsts = collections.Counter(list(WeightedRandomSampler(weights, 1, replacement=False))[0]
                                 for _ in range(3000))
    # the first draw is proportional to the weights: 5/9, 1/9, 0, 2/9, 1/9
    np.testing.assert_allclose([firsts[i] / 3000 for i in range(5)], np.array([5, 1, 0, 2, 1]) / 9,
                               atol=0.03)


def test_weighted_sampler_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([1.0, 2.0], 2, replacement="yes")
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given .* shape \(2, 2\)"):
        WeightedRandomSampler([[1.0, 2.0], [3.0, 4.0]], 2)
    with pytest.raises(RuntimeError, match="invalid multinomial distribution"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        WeightedRandomSampler([0.0, 0.0], 2)
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        WeightedRandomSampler([1.0, 2.0], 3, replacement=False)
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        WeightedRandomSampler([1.0, 0.0, 0.0], 2, replacement=False)


# ------------------------------------------------------------------ reproducibility

SAMPLERS = {
    "random": lambda g: RandomSampler(range(30), generator=g),
    "random-replacement": lambda g: RandomSampler(range(30), True, num_samples=40, generator=g),
    "subset": lambda g: data.SubsetRandomSampler(list(range(5, 35)), generator=g),
    "weighted": lambda g: WeightedRandomSampler(np.arange(1.0, 31.0), 30, generator=g),
    "weighted-no-replacement": lambda g: WeightedRandomSampler(np.arange(1.0, 31.0), 20, False, generator=g),
}


@pytest.mark.parametrize("kind", SAMPLERS)
def test_random_samplers_are_reproducible_under_manual_seed(kind):
    sampler = SAMPLERS[kind](None)
    tinynn.manual_seed(7)
    first = [list(sampler), list(sampler)]
    tinynn.manual_seed(7)
    assert [list(sampler), list(sampler)] == first
    assert first[0] != first[1]  # a new draw each epoch
    tinynn.manual_seed(8)
    assert list(sampler) != first[0]


@pytest.mark.parametrize("kind", SAMPLERS)
def test_random_samplers_follow_their_generator(kind):
    def epochs(seed):
        sampler = SAMPLERS[kind](tinynn.Generator().manual_seed(seed))
        tinynn.manual_seed(np.random.randint(10_000))  # the global seed must not matter
        return [list(sampler), list(sampler)]

    assert epochs(3) == epochs(3)
    assert epochs(3) != epochs(4)


# ------------------------------------------------------------------ DataLoader with samplers

def test_loader_with_a_sampler_uses_its_order_and_the_fast_path():
    ds = counting_dataset(10)
    loader = data.DataLoader(ds, batch_size=3, sampler=[9, 0, 8, 1, 7, 2, 6])
    assert len(loader) == 3
    assert labels(loader) == [[9, 0, 8], [1, 7, 2], [6]]
    assert ds.item_calls == 0  # one fancy-indexing call per batch, no __getitem__
    assert [b.tolist() for b in ds.batch_calls] == [[9, 0, 8], [1, 7, 2], [6]]
    assert all(b.dtype == np.int64 for b in ds.batch_calls)


@pytest.mark.parametrize("sampler", [
    lambda n: data.SubsetRandomSampler(range(0, n, 2)),
    lambda n: RandomSampler(range(n), replacement=True, num_samples=n),
    lambda n: WeightedRandomSampler(np.ones(n), n),
])
def test_random_samplers_batch_through_get_batch(sampler):
    ds = counting_dataset(12)
    loader = data.DataLoader(ds, batch_size=4, sampler=sampler(12))
    batches = list(loader)
    assert len(batches) == len(loader) == len(ds.batch_calls)
    assert ds.item_calls == 0
    for (xb, yb), indices in zip(batches, ds.batch_calls):
        assert yb.tolist() == indices.tolist() and xb.tolist() == [float(i) for i in indices]


def test_loader_with_a_python_generator_sampler_fetches_batches_in_one_call():
    ds = counting_dataset(7)

    class Odd(Sampler):
        def __iter__(self):
            return (i for i in range(7) if i % 2)

        def __len__(self):
            return 3

    loader = data.DataLoader(ds, batch_size=2, sampler=Odd())
    assert labels(loader) == [[1, 3], [5]] and len(loader) == 2
    assert ds.item_calls == 0 and len(ds.batch_calls) == 2


def test_loader_with_a_batch_sampler():
    ds = counting_dataset(10)
    bs = BatchSampler(SequentialSampler(ds), batch_size=4, drop_last=True)
    loader = data.DataLoader(ds, batch_sampler=bs)
    assert len(loader) == 2 and labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert loader.batch_size is None and loader.drop_last is False and ds.item_calls == 0
    loader = data.DataLoader(ds, batch_sampler=[[3, 3], [0, 9, 1]])  # any iterable of lists
    assert labels(loader) == [[3, 3], [0, 9, 1]]

    class Pairs(BatchSampler):  # a subclass's own __iter__ is what the loader follows
        def __iter__(self):
            return iter([[1, 0], [3, 2]])

        def __len__(self):
            return 2

    assert labels(data.DataLoader(ds, batch_sampler=Pairs(range(4), 2, False))) == [[1, 0], [3, 2]]


def test_loader_mutual_exclusion_errors():
    ds = make_dataset(6)
    sampler = SequentialSampler(ds)
    with pytest.raises(ValueError, match="^sampler option is mutually exclusive with shuffle$"):
        data.DataLoader(ds, sampler=sampler, shuffle=True)
    message = "^batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last$"
    batch_sampler = BatchSampler(sampler, 2, False)
    for kwargs in [dict(batch_size=2), dict(shuffle=True), dict(sampler=sampler), dict(drop_last=True)]:
        with pytest.raises(ValueError, match=message):
            data.DataLoader(ds, batch_sampler=batch_sampler, **kwargs)
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        data.DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        data.DataLoader(ds, num_workers=-1)
    # shuffle=False with a sampler is allowed, as in PyTorch
    assert labels(data.DataLoader(ds, batch_size=3, sampler=sampler, shuffle=False)) == [[0, 1, 2], [3, 4, 5]]


def test_loader_drop_last_with_a_sampler():
    loader = data.DataLoader(make_dataset(10), batch_size=4, drop_last=True,
                             sampler=data.SubsetRandomSampler(range(10)))
    batches = labels(loader)
    assert len(loader) == len(batches) == 2 and all(len(b) == 4 for b in batches)
    assert len(set(sum(batches, []))) == 8


def test_loader_collate_fn_receives_the_samples():
    ds = counting_dataset(6)
    seen = []

    def collate(samples):
        seen.append(samples)
        return [int(y.item()) for _, y in samples]

    loader = data.DataLoader(ds, batch_size=4, sampler=[5, 1, 4, 0, 2], collate_fn=collate)
    assert list(loader) == [[5, 1, 4, 0], [2]]
    assert ds.batch_calls == [] and ds.item_calls == 5
    assert all(isinstance(s, tuple) and len(s) == 2 for s in seen[0])


def test_loader_uses_getitems_when_the_dataset_has_it():
    class Batched(data.Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 5

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [(i * 10, str(i)) for i in indices]

    ds = Batched()
    batches = list(data.DataLoader(ds, batch_size=3))
    assert ds.calls == [[0, 1, 2], [3, 4]]
    assert batches[0][0].tolist() == [0, 10, 20] and batches[0][1] == ["0", "1", "2"]


def test_worker_options_change_nothing():
    calls = []
    plain = labels(data.DataLoader(make_dataset(9), batch_size=4))
    loader = data.DataLoader(make_dataset(9), batch_size=4, num_workers=3, pin_memory=True,
                             persistent_workers=True, worker_init_fn=calls.append,
                             prefetch_factor=4, timeout=5)
    assert labels(loader) == plain and calls == []
    assert "main process" in data.DataLoader.__doc__ + data.dataloader.__doc__


def test_loader_shuffle_and_generator_are_reproducible():
    def epochs(**kwargs):
        loader = data.DataLoader(make_dataset(20), batch_size=6, **kwargs)
        return [labels(loader), labels(loader)]

    tinynn.manual_seed(11)
    first = epochs(shuffle=True)
    tinynn.manual_seed(11)
    assert epochs(shuffle=True) == first
    assert epochs(shuffle=True, generator=tinynn.Generator().manual_seed(2)) == \
        epochs(shuffle=True, generator=tinynn.Generator().manual_seed(2))
    tinynn.manual_seed(11)
    sub = epochs(sampler=data.SubsetRandomSampler(range(20)))
    tinynn.manual_seed(11)
    assert epochs(sampler=data.SubsetRandomSampler(range(20))) == sub


def test_loader_with_samplers_on_the_device(device):
    ds = make_dataset(12, device=device)
    loader = data.DataLoader(ds, batch_size=5, sampler=data.SubsetRandomSampler(range(1, 12, 2)))
    batches = list(loader)
    assert [len(yb) for _, yb in batches] == [5, 1]
    for xb, yb in batches:
        assert xb.device == ds.tensors[0].device and yb.device == ds.tensors[1].device
        np.testing.assert_array_equal(xb.cpu().numpy(), ds.tensors[0].cpu().numpy()[yb.cpu().numpy()])
    assert sorted(sum((yb.cpu().tolist() for _, yb in batches), [])) == [1, 3, 5, 7, 9, 11]


# ------------------------------------------------------------------ IterableDataset

class Stream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter([(float(i), i) for i in range(self.n)])

    def __len__(self):
        return self.n


def test_iterable_dataset_is_batched_in_order():
    loader = data.DataLoader(Stream(7), batch_size=3)
    assert len(loader) == 3 and [yb.tolist() for _, yb in loader] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [yb.tolist() for _, yb in data.DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert [y for _, y in data.DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]
    chained = Stream(2) + Stream(3)
    assert len(chained) == 5 and [y for _, y in chained] == [0, 1, 0, 1, 2]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        data.DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        data.DataLoader(Stream(3), sampler=[0, 1])
