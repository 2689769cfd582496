"""Tests for tinynn.utils.data: datasets, random_split, default_collate and the DataLoader."""
import collections

import numpy as np
import pytest

import tinynn
import tinynn.data
from tinynn.utils import data


def make_dataset(n=10):
    x = tinynn.Tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = tinynn.Tensor(np.arange(n, dtype=np.int64))
    return data.TensorDataset(x, y)


def labels_of(loader):
    """The label batches of one epoch, as int lists (labels equal sample indices)."""
    return [yb.array.tolist() for _, yb in loader]


class ListDataset(data.Dataset):
    """A dataset with only __getitem__/__len__ (no get_batch)."""

    def __init__(self, samples):
        self.samples = samples
        self.getitem_calls = 0

    def __getitem__(self, index):
        self.getitem_calls += 1
        return self.samples[index]

    def __len__(self):
        return len(self.samples)


class SpyDataset(data.TensorDataset):
    """A TensorDataset that counts get_batch and __getitem__ calls."""

    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.batch_calls, self.item_calls = [], 0

    def get_batch(self, indices):
        self.batch_calls.append(indices)
        return super().get_batch(indices)

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)


# ------------------------------------------------------------------ imports

def test_both_import_paths_give_the_same_module_objects():
    assert tinynn.data.DataLoader is data.DataLoader
    assert tinynn.data.TensorDataset is data.TensorDataset


# ------------------------------------------------------------------ TensorDataset

def test_tensor_dataset_items_and_len():
    ds = make_dataset(5)
    assert len(ds) == 5
    x, y = ds[2]
    np.testing.assert_array_equal(x.array, [6, 7, 8])
    assert y.item() == 2 and y.dtype == tinynn.int64


def test_tensor_dataset_size_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        data.TensorDataset(tinynn.zeros(3, 2), tinynn.zeros(4))


def test_tensor_dataset_get_batch_is_contiguous_and_matches_samples():
    ds = make_dataset(10)
    idx = np.array([7, 1, 4], dtype=np.int64)
    xb, yb = ds.get_batch(idx)
    assert xb.shape == (3, 3) and xb.dtype == tinynn.float32 and xb.array.flags.c_contiguous
    np.testing.assert_array_equal(yb.array, idx)
    for row, i in zip(xb.array, idx):
        np.testing.assert_array_equal(row, ds[int(i)][0].array)


def test_get_batch_of_a_non_contiguous_tensor_is_contiguous():
    x = tinynn.Tensor(np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2])
    (xb,) = data.TensorDataset(x).get_batch(np.array([3, 0], dtype=np.int64))
    assert xb.array.flags.c_contiguous
    np.testing.assert_array_equal(xb.array, x.array[[3, 0]])


# ------------------------------------------------------------------ DataLoader basics

@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (9, 3, True, 3), (2, 5, False, 1),
    (2, 5, True, 0)])
def test_len_of_loader(n, batch_size, drop_last, expected):
    loader = data.DataLoader(make_dataset(n), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected
    assert len(list(loader)) == expected
    assert len(loader.dataset) == n


def test_batches_in_order_equal_the_dataset_samples():
    ds = make_dataset(10)
    loader = data.DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert [xb.shape for xb, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    xs = np.concatenate([xb.array for xb, _ in batches])
    np.testing.assert_array_equal(xs, ds.tensors[0].array)
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)


def test_drop_last_drops_the_short_batch():
    loader = data.DataLoader(make_dataset(10), batch_size=4, drop_last=True)
    assert labels_of(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    shuffled = data.DataLoader(make_dataset(10), batch_size=4, shuffle=True, drop_last=True)
    assert [len(b) for b in labels_of(shuffled)] == [4, 4]


def test_default_batch_size_is_one():
    batches = list(data.DataLoader(make_dataset(3)))
    assert len(batches) == 3 and batches[0][0].shape == (1, 3) and batches[0][1].shape == (1,)


def test_shuffle_is_a_permutation_and_changes_between_epochs():
    loader = data.DataLoader(make_dataset(50), batch_size=8, shuffle=True)
    epochs = [sum(labels_of(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(50))  # every sample exactly once
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]
    assert epochs[0] != list(range(50))


def test_shuffle_batches_match_their_samples():
    ds = make_dataset(20)
    for xb, yb in data.DataLoader(ds, batch_size=6, shuffle=True):
        for row, label in zip(xb.array, yb.array):
            np.testing.assert_array_equal(row, ds[int(label)][0].array)


def test_shuffle_is_reproducible_under_manual_seed():
    loader = data.DataLoader(make_dataset(30), batch_size=7, shuffle=True)
    tinynn.manual_seed(123)
    first = [labels_of(loader), labels_of(loader)]
    tinynn.manual_seed(123)
    second = [labels_of(loader), labels_of(loader)]
    assert first == second


def test_shuffle_with_an_explicit_generator_ignores_the_global_seed():
    def epochs(seed):
        g = tinynn.Generator().manual_seed(seed)
        loader = data.DataLoader(make_dataset(30), batch_size=7, shuffle=True, generator=g)
        tinynn.manual_seed(np.random.randint(1000))  # must not matter
        return [labels_of(loader), labels_of(loader)]

    assert epochs(5) == epochs(5)
    assert epochs(5) != epochs(6)


def test_worker_options_are_accepted_and_ignored():
    loader = data.DataLoader(make_dataset(6), batch_size=2, num_workers=4, pin_memory=True)
    assert labels_of(loader) == [[0, 1], [2, 3], [4, 5]]


def test_batch_size_none_yields_single_samples():
    ds = make_dataset(4)
    loader = data.DataLoader(ds, batch_size=None)
    samples = list(loader)
    assert len(loader) == 4 and len(samples) == 4
    x, y = samples[2]
    assert x.shape == (3,) and y.shape == () and y.item() == 2
    # numpy samples are converted to tensors, Python ints stay ints (default_convert)
    np_loader = data.DataLoader(ListDataset([(np.ones(2), 7)]), batch_size=None)
    ((x, y),) = list(np_loader)
    assert isinstance(x, tinynn.Tensor) and x.dtype == tinynn.float64 and y == 7
    with pytest.raises(ValueError):
        data.DataLoader(ds, batch_size=None, drop_last=True)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(make_dataset(4), batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        data.DataLoader(make_dataset(4), shuffle=True, sampler=data.SequentialSampler(range(4)))


def test_custom_sampler_and_batch_sampler():
    ds = make_dataset(6)
    loader = data.DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert labels_of(loader) == [[5, 4], [3, 2], [1, 0]]
    loader = data.DataLoader(ds, batch_sampler=[[0, 5], [2]])
    assert labels_of(loader) == [[0, 5], [2]] and len(loader) == 2
    assert list(data.BatchSampler(data.SequentialSampler(range(5)), 2, False)) == [[0, 1], [2, 3], [4]]


# ------------------------------------------------------------------ fast path vs __getitem__

def test_get_batch_is_called_once_per_batch():
    x = tinynn.Tensor(np.arange(10, dtype=np.float32))
    ds = SpyDataset(x, tinynn.Tensor(np.arange(10)))
    loader = data.DataLoader(ds, batch_size=3, shuffle=True)
    batches = list(loader)
    assert len(ds.batch_calls) == len(loader) == len(batches) == 4
    assert ds.item_calls == 0  # never went through __getitem__
    assert all(i.dtype == np.int64 and i.ndim == 1 for i in ds.batch_calls)


def test_custom_collate_fn_bypasses_get_batch():
    ds = SpyDataset(tinynn.Tensor(np.arange(4)))
    loader = data.DataLoader(ds, batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2]
    assert ds.batch_calls == [] and ds.item_calls == 4


def test_dataset_without_get_batch_goes_through_getitem():
    samples = [(np.full((2, 2), i, dtype=np.float32), i) for i in range(5)]
    ds = ListDataset(samples)
    loader = data.DataLoader(ds, batch_size=2)
    batches = list(loader)
    assert ds.getitem_calls == 5 and len(batches) == 3
    xb, yb = batches[0]
    assert xb.shape == (2, 2, 2) and xb.dtype == tinynn.float32
    assert yb.dtype == tinynn.int64 and yb.array.tolist() == [0, 1]
    assert batches[2][0].shape == (1, 2, 2)


def test_fast_path_and_slow_path_give_the_same_batches():
    ds = make_dataset(11)
    fast = list(data.DataLoader(ds, batch_size=4))
    slow = list(data.DataLoader(ds, batch_size=4, collate_fn=lambda b: data.default_collate(b)))
    for (xf, yf), (xs, ys) in zip(fast, slow):
        assert xf.dtype == xs.dtype and yf.dtype == ys.dtype
        np.testing.assert_array_equal(xf.array, xs.array)
        np.testing.assert_array_equal(yf.array, ys.array)


# ------------------------------------------------------------------ Subset and random_split

def test_subset_items_len_and_get_batch():
    ds = make_dataset(10)
    sub = data.Subset(ds, [8, 2, 5])
    assert len(sub) == 3
    assert sub[0][1].item() == 8 and sub[-1][1].item() == 5
    xb, yb = sub.get_batch(np.array([2, 0], dtype=np.int64))
    assert yb.array.tolist() == [5, 8]
    np.testing.assert_array_equal(xb.array, ds.tensors[0].array[[5, 8]])


def test_subset_uses_the_parents_get_batch():
    ds = SpyDataset(tinynn.Tensor(np.arange(10)))
    loader = data.DataLoader(data.Subset(ds, [9, 7, 5, 3, 1]), batch_size=2)
    assert [b[0].array.tolist() for b in loader] == [[9, 7], [5, 3], [1]]
    assert len(ds.batch_calls) == 3 and ds.item_calls == 0
    np.testing.assert_array_equal(ds.batch_calls[0], [9, 7])


def test_subset_of_a_dataset_without_get_batch_falls_back():
    ds = ListDataset([(np.array([i, i], dtype=np.float32), i) for i in range(6)])
    nested = data.Subset(data.Subset(ds, [5, 4, 3, 2]), [3, 0])
    xb, yb = next(iter(data.DataLoader(nested, batch_size=2)))
    assert yb.array.tolist() == [2, 5]
    np.testing.assert_array_equal(xb.array, [[2, 2], [5, 5]])


def _split_labels(splits):
    return [sorted(int(s[i][1].item()) for i in range(len(s))) for s in splits]


def test_random_split_with_lengths_is_disjoint_and_complete():
    splits = data.random_split(make_dataset(10), [7, 3])
    assert [len(s) for s in splits] == [7, 3]
    a, b = _split_labels(splits)
    assert not set(a) & set(b) and sorted(a + b) == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(make_dataset(10), [5, 4])


def test_random_split_with_fractions_deals_the_remainder_round_robin():
    splits = data.random_split(make_dataset(10), [0.33, 0.33, 0.34])
    # floor gives 3, 3, 3; the one left over goes to the first split
    assert [len(s) for s in splits] == [4, 3, 3]
    assert sorted(sum(_split_labels(splits), [])) == list(range(10))
    assert [len(s) for s in data.random_split(make_dataset(11), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError, match="Fraction at index 0"):
        data.random_split(make_dataset(10), [1.5, -0.5])


def test_random_split_is_reproducible():
    def split(generator):
        return _split_labels(data.random_split(make_dataset(20), [0.5, 0.5], generator=generator))

    assert split(tinynn.Generator().manual_seed(1)) == split(tinynn.Generator().manual_seed(1))
    assert split(tinynn.Generator().manual_seed(1)) != split(tinynn.Generator().manual_seed(2))
    tinynn.manual_seed(3)
    first = split(None)
    tinynn.manual_seed(3)
    assert split(None) == first


def test_concat_dataset_via_add():
    a, b = make_dataset(3), make_dataset(2)
    both = a + b
    assert len(both) == 5 and both[3][1].item() == 0 and both[-1][1].item() == 1
    assert [len(batch[1]) for batch in data.DataLoader(both, batch_size=2)] == [2, 2, 1]


# ------------------------------------------------------------------ default_collate

def test_default_collate_tuples_of_tensor_and_int():
    batch = [(tinynn.tensor([1.0, 2.0]), 3), (tinynn.tensor([4.0, 5.0]), 6)]
    xb, yb = data.default_collate(batch)
    assert isinstance(data.default_collate(batch), tuple)
    assert xb.shape == (2, 2) and xb.dtype == tinynn.float32
    assert yb.dtype == tinynn.int64 and yb.array.tolist() == [3, 6]


def test_default_collate_numbers_and_numpy():
    assert data.default_collate([1, 2, 3]).dtype == tinynn.int64
    assert data.default_collate([1.5, 2.0]).dtype == tinynn.float64  # as torch
    assert data.default_collate([True, False]).dtype == tinynn.bool
    assert data.default_collate([np.float32(1), np.float32(2)]).dtype == tinynn.float32
    stacked = data.default_collate([np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)])
    assert stacked.shape == (2, 2, 3) and stacked.dtype == tinynn.uint8
    assert data.default_collate([np.zeros(2), np.zeros(2)]).dtype == tinynn.float64


def test_default_collate_containers():
    assert data.default_collate(["a", "b"]) == ["a", "b"]
    out = data.default_collate([{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}])
    assert out["x"].array.tolist() == [1, 2]
    assert [t.array.tolist() for t in out["y"]] == [[1.0, 3.0], [2.0, 4.0]]
    Point = collections.namedtuple("Point", ["x", "y"])
    p = data.default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.array.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        data.default_collate([object(), object()])


# ------------------------------------------------------------------ ConcatDataset

def _concat():
    return data.ConcatDataset([make_dataset(3), make_dataset(4), make_dataset(2)])


def test_concat_dataset_len_and_indexing():
    both = _concat()
    assert len(both) == 9 and both.cumulative_sizes == [3, 7, 9]
    # item i of the concatenation: (label within its part)
    expected = [0, 1, 2, 0, 1, 2, 3, 0, 1]
    assert [both[i][1].item() for i in range(9)] == expected
    assert [both[i][1].item() for i in range(-9, 0)] == expected  # negative, as a list
    np.testing.assert_array_equal(both[4][0].array, [3, 4, 5])
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        both[-10]
    with pytest.raises(IndexError):
        both[9]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        data.ConcatDataset([])


def test_concat_dataset_get_batch_fetches_each_part_once_and_keeps_the_order():
    parts = [SpyDataset(tinynn.Tensor(np.arange(3) + 100 * k), tinynn.Tensor(np.arange(3) + 10 * k))
             for k in range(3)]
    both = data.ConcatDataset(parts)
    idx = np.array([8, 0, 4, -1, 3, 1], dtype=np.int64)  # -1 is 8
    xb, yb = both.get_batch(idx)
    assert xb.array.tolist() == [202, 0, 101, 202, 100, 1]
    assert yb.array.tolist() == [22, 0, 11, 22, 10, 1] and yb.dtype == tinynn.int64
    assert xb.array.flags.c_contiguous
    assert [len(p.batch_calls) for p in parts] == [1, 1, 1] and all(p.item_calls == 0 for p in parts)
    np.testing.assert_array_equal(parts[2].batch_calls[0], [2, 2])
    twice = data.ConcatDataset([data.TensorDataset(tinynn.Tensor(np.arange(4)))] * 2)
    (single,) = twice.get_batch(np.array([5, 6], dtype=np.int64))
    assert single.array.tolist() == [1, 2]
    with pytest.raises(IndexError):
        both.get_batch(np.array([9], dtype=np.int64))


def test_concat_dataset_in_a_shuffled_loader():
    both = data.ConcatDataset([make_dataset(5), make_dataset(6)])
    rows = []
    for xb, yb in data.DataLoader(both, batch_size=4, shuffle=True):
        assert xb.shape[1:] == (3,) and xb.dtype == tinynn.float32
        rows += xb.array.tolist()
    expected = np.concatenate([make_dataset(5).tensors[0].array, make_dataset(6).tensors[0].array])
    assert sorted(rows) == sorted(expected.tolist())


def test_concat_dataset_of_per_sample_parts_and_mixed_parts():
    text = ListDataset([(np.array([i, i], dtype=np.float32), f"s{i}") for i in range(3)])
    mixed = data.ConcatDataset([text, make_dataset(2)])
    assert len(mixed) == 5 and mixed[-1][1].item() == 1
    xb, names = data.ConcatDataset([text, text]).get_batch(np.array([4, 0, 2], dtype=np.int64))
    assert names == ["s1", "s0", "s2"] and xb.array.tolist() == [[1, 1], [0, 0], [2, 2]]
    dicts = ListDataset([{"v": i, "tag": str(i)} for i in range(4)])
    out = data.ConcatDataset([dicts, dicts]).get_batch(np.array([5, 2, 4], dtype=np.int64))
    assert out["v"].array.tolist() == [1, 2, 0] and out["tag"] == ["1", "2", "0"]


# ------------------------------------------------------------------ default_collate, PyTorch's examples

def test_default_collate_documented_examples():
    ints = data.default_collate([0, 1, 2, 3])
    assert ints.array.tolist() == [0, 1, 2, 3] and ints.dtype == tinynn.int64
    assert data.default_collate(["a", "b", "c"]) == ["a", "b", "c"]
    mapping = data.default_collate([{"A": 0, "B": 1}, {"A": 100, "B": 100}])
    assert mapping["A"].array.tolist() == [0, 100] and mapping["B"].array.tolist() == [1, 100]
    Point = collections.namedtuple("Point", ["x", "y"])
    point = data.default_collate([Point(0, 0), Point(1, 1)])
    assert isinstance(point, Point) and point.x.array.tolist() == [0, 1]
    pairs = data.default_collate([[0, 1], [2, 3]])
    assert isinstance(pairs, list) and [p.array.tolist() for p in pairs] == [[0, 2], [1, 3]]
    assert data.default_collate([b"x", b"y"]) == [b"x", b"y"]


def test_default_collate_nested_structures():
    samples = [{"image": tinynn.ones(2, 3) * i, "meta": {"id": i, "name": f"n{i}", "scale": 0.5 * i},
                "pair": (np.int32(i), [float(i), True])} for i in range(3)]
    out = data.default_collate(samples)
    assert out["image"].shape == (3, 2, 3) and out["image"].dtype == tinynn.float32
    assert out["image"].array[:, 0, 0].tolist() == [0, 1, 2]
    assert out["meta"]["id"].dtype == tinynn.int64 and out["meta"]["name"] == ["n0", "n1", "n2"]
    assert out["meta"]["scale"].dtype == tinynn.float64
    first, (floats, flags) = out["pair"]
    assert first.dtype == tinynn.int32 and first.array.tolist() == [0, 1, 2]
    assert floats.dtype == tinynn.float64 and flags.dtype == tinynn.bool
    with pytest.raises(TypeError):
        data.default_collate([np.array(["a"]), np.array(["b"])])  # arrays of strings


def test_default_collate_keeps_the_graph_of_tensors():
    a = tinynn.tensor([1.0, 2.0], requires_grad=True)
    b = tinynn.tensor([3.0, 4.0], requires_grad=True)
    data.default_collate([a, b]).sum().backward()
    assert a.grad.array.tolist() == [1.0, 1.0] and b.grad is not None
