"""Selection ops: sort, argsort, topk, kthvalue, unique, nonzero.

The contract is PyTorch's documentation: the worked examples of each page are checked
verbatim, the rest against NumPy reference computations. Values' gradients go to the
chosen indices only (one element per output, also at ties); indices are int64 and not
differentiable. Every test runs on "cpu" and on the (fake or real) "cuda" device.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn
from opcheck import check_op, make_inputs


def arr(t):
    """A tensor's values as a NumPy array, from any device."""
    return t.detach().cpu().numpy()


def T(data, device, **kwargs):
    return tinynn.tensor(data, device=device, **kwargs)


# ---------------------------------------------------------------------------- sort / argsort


def test_sort_doc_example_shape_and_fields(device):
    x = T([[-0.2162, 0.0608, 0.6719, 2.3332], [0.9497, 0.0061, -0.5793, 0.6058]], device)
    result = tinynn.sort(x)
    values, indices = result  # a namedtuple (values, indices)
    assert result.values is values and result.indices is indices
    np.testing.assert_allclose(arr(values), np.sort(arr(x), axis=-1))
    np.testing.assert_array_equal(arr(indices), [[0, 1, 2, 3], [2, 1, 3, 0]])
    assert indices.dtype == tinynn.int64 and values.dtype == tinynn.float32
    assert values.device == indices.device == x.device


def test_sort_dim0_descending_and_method(device):
    x = T([[6, 1], [1, 4], [2, 5]], device)
    values, indices = x.sort(dim=0, descending=True)
    np.testing.assert_array_equal(arr(values), [[6, 5], [2, 4], [1, 1]])
    np.testing.assert_array_equal(arr(indices), [[0, 2], [2, 1], [1, 0]])
    assert values.dtype == tinynn.int64  # ints stay ints
    values, indices = tinynn.sort(x, 0)
    np.testing.assert_array_equal(arr(values), [[1, 1], [2, 4], [6, 5]])
    np.testing.assert_array_equal(arr(indices), [[1, 0], [2, 1], [0, 2]])


def test_sort_stable_doc_example(device):
    # torch.sort docs: x = torch.tensor([0, 1] * 9); x.sort(stable=True)
    x = T([0, 1] * 9, device)
    values, indices = x.sort(stable=True)
    np.testing.assert_array_equal(arr(values), [0] * 9 + [1] * 9)
    np.testing.assert_array_equal(arr(indices), list(range(0, 18, 2)) + list(range(1, 18, 2)))
    np.testing.assert_array_equal(arr(tinynn.argsort(x, stable=True)), arr(indices))


def test_sort_stable_descending_keeps_order_of_equal_elements(device):
    x = T([2, 1, 2, 3, 1], device)
    values, indices = tinynn.sort(x, descending=True, stable=True)
    np.testing.assert_array_equal(arr(values), [3, 2, 2, 1, 1])
    np.testing.assert_array_equal(arr(indices), [3, 0, 2, 1, 4])


def test_sort_nan_is_the_largest_value(device):
    x = T([1.0, float("nan"), 0.0, 2.0], device)
    values, indices = x.sort()
    np.testing.assert_array_equal(arr(values), [0.0, 1.0, 2.0, np.nan])
    np.testing.assert_array_equal(arr(indices), [2, 0, 3, 1])
    values, indices = x.sort(descending=True)
    np.testing.assert_array_equal(arr(values), [np.nan, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(arr(indices), [1, 3, 0, 2])


def test_sort_of_0d_tensor(device):
    values, indices = T(3.5, device).sort()
    assert values.shape == () and indices.shape == ()
    assert values.item() == 3.5 and indices.item() == 0


def test_argsort_doc_style(device):
    a = T([[0.0785, 1.5267, -0.8521, 0.4065], [0.1598, 0.0788, -0.0745, -1.2700],
           [1.2208, 1.0722, -0.7064, 1.2564], [0.0669, -0.2318, -0.8229, -0.9280]], device)
    expected = [[2, 0, 3, 1], [3, 2, 1, 0], [2, 1, 0, 3], [3, 2, 1, 0]]
    np.testing.assert_array_equal(arr(tinynn.argsort(a, dim=1)), expected)
    np.testing.assert_array_equal(arr(a.argsort(1)), expected)
    np.testing.assert_array_equal(arr(a.argsort(dim=1, descending=True)), np.array(expected)[:, ::-1])
    assert a.argsort().dtype == tinynn.int64


def test_sort_gradient_goes_to_source_positions_at_ties(device):
    x = T([1.0, 3.0, 3.0, 2.0, 3.0], device, requires_grad=True)
    values, indices = x.sort(descending=True)
    upstream = T([10.0, 20.0, 30.0, 40.0, 50.0], device)
    (values * upstream).sum().backward()
    # Each sorted slot sends its gradient to exactly the element it came from.
    np.testing.assert_array_equal(arr(x.grad)[arr(indices)], arr(upstream))
    assert not indices.requires_grad and values.requires_grad


# ---------------------------------------------------------------------------- topk


def test_topk_doc_example(device):
    x = tinynn.arange(1.0, 6.0, device=device)
    result = tinynn.topk(x, 3)
    np.testing.assert_array_equal(arr(result.values), [5.0, 4.0, 3.0])
    np.testing.assert_array_equal(arr(result.indices), [4, 3, 2])
    assert result.indices.dtype == tinynn.int64


def test_topk_smallest_dims_and_method(device):
    x = T([[1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]], device)
    values, indices = x.topk(3, dim=1, largest=True)
    np.testing.assert_array_equal(arr(values), [[4, 3, 2], [8, 6, 4]])
    np.testing.assert_array_equal(arr(indices), [[3, 2, 1], [3, 2, 1]])
    values, indices = tinynn.topk(x, 2, dim=1, largest=False)
    np.testing.assert_array_equal(arr(values), [[1, 2], [2, 4]])
    np.testing.assert_array_equal(arr(indices), [[0, 1], [0, 1]])
    values, indices = x.topk(1, 0)
    np.testing.assert_array_equal(arr(values), [[2, 4, 6, 8]])
    np.testing.assert_array_equal(arr(indices), [[1, 1, 1, 1]])


def test_topk_unsorted_returns_the_same_set(device):
    x = tinynn.arange(1, 11, device=device)
    values, indices = x.topk(k=5, dim=0, sorted=False)
    assert sorted(arr(values).tolist()) == [6, 7, 8, 9, 10]
    np.testing.assert_array_equal(arr(x)[arr(indices)], arr(values))


def test_topk_k_zero_and_k_equal_size(device):
    x = T([3.0, 1.0, 2.0], device)
    values, indices = x.topk(0)
    assert values.shape == (0,) and indices.shape == (0,)
    values, indices = x.topk(3)
    np.testing.assert_array_equal(arr(values), [3.0, 2.0, 1.0])


def test_topk_nan_counts_as_largest(device):
    x = T([1.0, float("nan"), 3.0, 2.0], device)
    values, indices = x.topk(2)
    assert np.isnan(arr(values)[0]) and arr(values)[1] == 3.0
    np.testing.assert_array_equal(arr(indices), [1, 2])
    values, indices = x.topk(2, largest=False)
    np.testing.assert_array_equal(arr(values), [1.0, 2.0])
    np.testing.assert_array_equal(arr(indices), [0, 3])


def test_topk_and_kthvalue_on_long_rows_match_numpy(device):
    x_np = np.random.default_rng(3).standard_normal((6, 50))
    x = T(x_np, device)
    for k in (1, 7, 50):
        values, indices = x.topk(k, dim=1)
        np.testing.assert_array_equal(arr(values), -np.sort(-x_np, axis=1)[:, :k])
        np.testing.assert_array_equal(np.take_along_axis(x_np, arr(indices), 1), arr(values))
        values, _ = x.topk(k, dim=1, largest=False)
        np.testing.assert_array_equal(arr(values), np.sort(x_np, axis=1)[:, :k])
    values, _ = x.topk(4, dim=0, largest=False)
    np.testing.assert_array_equal(arr(values), np.sort(x_np, axis=0)[:4])
    values, indices = x.kthvalue(20, dim=1)
    np.testing.assert_array_equal(arr(values), np.sort(x_np, axis=1)[:, 19])
    np.testing.assert_array_equal(x_np[np.arange(6), arr(indices)], arr(values))


def test_topk_gradient_goes_only_to_the_returned_index_at_ties(device):
    x = T([[3.0, 1.0, 3.0, 2.0], [0.5, 0.5, 0.5, 0.1]], device, requires_grad=True)
    values, indices = x.topk(1, dim=1)
    values.sum().backward()
    g = arr(x.grad)
    assert g.sum() == 2.0  # one whole unit per row, never split over the tie
    np.testing.assert_array_equal(g[np.arange(2), arr(indices)[:, 0]], [1.0, 1.0])
    assert arr(values).tolist() == [[3.0], [0.5]]


def test_top5_accuracy_program(device):
    """The classic ImageNet-example accuracy helper runs unchanged."""
    def accuracy(output, target, topk=(1,)):
        with tinynn.no_grad():
            maxk = max(topk)
            batch_size = target.size(0)
            _, pred = output.topk(maxk, 1, True, True)
            pred = pred.t()
            correct = pred.eq(target.view(1, -1).expand_as(pred))
            res = []
            for k in topk:
                correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
                res.append(correct_k.mul_(100.0 / batch_size))
            return res

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((8, 10)).astype(np.float32)
    target = np.array([int(np.argsort(-row)[i % 7]) for i, row in enumerate(logits)])
    top1, top5 = accuracy(T(logits, device), T(target, device), topk=(1, 5))
    ranks = np.array([i % 7 for i in range(8)])
    assert top1.item() == pytest.approx(100.0 * np.mean(ranks < 1))
    assert top5.item() == pytest.approx(100.0 * np.mean(ranks < 5))
    assert top5.shape == (1,)


# ---------------------------------------------------------------------------- kthvalue


def test_kthvalue_doc_examples(device):
    x = tinynn.arange(1.0, 6.0, device=device)
    result = tinynn.kthvalue(x, 4)
    assert result.values.shape == () and result.values.item() == 4.0
    assert result.indices.item() == 3 and result.indices.dtype == tinynn.int64
    x = T([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device)
    values, indices = tinynn.kthvalue(x, 2, 0, True)
    np.testing.assert_array_equal(arr(values), [[4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(arr(indices), [[1, 1, 1]])


def test_kthvalue_default_last_dim_and_method(device):
    x = T([[5.0, 1.0, 4.0], [0.0, 9.0, -1.0]], device)
    values, indices = x.kthvalue(2)
    np.testing.assert_array_equal(arr(values), [4.0, 0.0])
    np.testing.assert_array_equal(arr(indices), [2, 0])
    values, indices = x.kthvalue(1, dim=-1, keepdim=True)
    assert values.shape == (2, 1)
    np.testing.assert_array_equal(arr(values), [[1.0], [-1.0]])


def test_kthvalue_gradient_at_ties_goes_to_one_index(device):
    x = T([[1.0, 2.0, 2.0, 5.0]], device, requires_grad=True)
    values, indices = x.kthvalue(2, dim=1)
    values.backward(T([7.0], device))
    g = arr(x.grad)[0]
    assert values.item() == 2.0 and arr(indices)[0] in (1, 2)
    expected = np.zeros(4)
    expected[arr(indices)[0]] = 7.0
    np.testing.assert_array_equal(g, expected)


# ---------------------------------------------------------------------------- unique


def test_unique_doc_examples(device):
    output = tinynn.unique(T([1, 3, 2, 3], device))
    np.testing.assert_array_equal(arr(output), [1, 2, 3])
    assert output.dtype == tinynn.int64
    output, inverse = tinynn.unique(T([1, 3, 2, 3], device), sorted=True, return_inverse=True)
    np.testing.assert_array_equal(arr(output), [1, 2, 3])
    np.testing.assert_array_equal(arr(inverse), [0, 2, 1, 2])
    output, inverse = tinynn.unique(T([[1, 3], [2, 3]], device), sorted=True, return_inverse=True)
    np.testing.assert_array_equal(arr(output), [1, 2, 3])
    np.testing.assert_array_equal(arr(inverse), [[0, 2], [1, 2]])
    assert inverse.dtype == tinynn.int64


def test_unique_counts_and_all_three(device):
    x = T([2.5, -1.0, 2.5, 2.5, 0.0], device)
    output, counts = x.unique(return_counts=True)
    np.testing.assert_array_equal(arr(output), [-1.0, 0.0, 2.5])
    np.testing.assert_array_equal(arr(counts), [1, 1, 3])
    assert output.dtype == tinynn.float32 and counts.dtype == tinynn.int64
    output, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(arr(inverse), [2, 0, 2, 2, 1])
    np.testing.assert_array_equal(arr(counts), [1, 1, 3])


def test_unique_dim_doc_example(device):
    a = np.array([[[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]],
                  [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1]],
                  [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]]])
    t = T(a, device)
    output, inverse, counts = tinynn.unique(t, dim=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(arr(output), [a[1], a[0]])  # sub-tensors in ascending order
    np.testing.assert_array_equal(arr(inverse), [1, 0, 1])
    np.testing.assert_array_equal(arr(counts), [1, 2])
    output = tinynn.unique(t, dim=1)
    np.testing.assert_array_equal(arr(output), np.unique(a, axis=1))
    output, counts = t.unique(dim=2, return_counts=True)
    np.testing.assert_array_equal(arr(output), np.unique(a, axis=2))
    np.testing.assert_array_equal(arr(counts), [2, 2])


def test_unique_unsorted_has_the_same_elements(device):
    x = T([3, 1, 3, 2, 1], device)
    output, inverse = tinynn.unique(x, sorted=False, return_inverse=True)
    assert sorted(arr(output).tolist()) == [1, 2, 3]
    np.testing.assert_array_equal(arr(output)[arr(inverse)], arr(x))


def test_unique_is_not_differentiable(device):
    x = T([1.0, 2.0, 1.0], device, requires_grad=True)
    assert not tinynn.unique(x).requires_grad


# ---------------------------------------------------------------------------- nonzero


def test_nonzero_doc_examples(device):
    out = tinynn.nonzero(T([1, 1, 1, 0, 1], device))
    np.testing.assert_array_equal(arr(out), [[0], [1], [2], [4]])
    assert out.dtype == tinynn.int64
    diag = T([[0.6, 0.0, 0.0, 0.0], [0.0, 0.4, 0.0, 0.0], [0.0, 0.0, 1.2, 0.0], [0.0, 0.0, 0.0, -0.4]], device)
    np.testing.assert_array_equal(arr(diag.nonzero()), [[0, 0], [1, 1], [2, 2], [3, 3]])
    rows = tinynn.nonzero(T([1, 1, 1, 0, 1], device), as_tuple=True)
    assert isinstance(rows, tuple) and len(rows) == 1
    np.testing.assert_array_equal(arr(rows[0]), [0, 1, 2, 4])
    i, j = diag.nonzero(as_tuple=True)
    np.testing.assert_array_equal(arr(i), [0, 1, 2, 3])
    np.testing.assert_array_equal(arr(j), [0, 1, 2, 3])
    assert i.dtype == tinynn.int64


def test_nonzero_0d_and_empty(device):
    scalar = tinynn.nonzero(T(5, device), as_tuple=True)
    assert len(scalar) == 1
    np.testing.assert_array_equal(arr(scalar[0]), [0])
    assert tinynn.nonzero(T(5, device)).shape == (1, 0)
    assert tinynn.nonzero(T(0, device)).shape == (0, 0)
    assert tinynn.nonzero(tinynn.zeros(2, 3, device=device)).shape == (0, 2)


def test_nonzero_as_tuple_indexes_the_nonzero_values(device):
    x = T([[[0, 0, 1], [0, 0, 1]], [[1, 1, 0], [1, 0, 0]]], device)
    np.testing.assert_array_equal(arr(x.nonzero()), [[0, 0, 2], [0, 1, 2], [1, 0, 0], [1, 0, 1], [1, 1, 0]])
    np.testing.assert_array_equal(arr(x[x.nonzero(as_tuple=True)]), [1, 1, 1, 1, 1])
    mask = T([True, False, True], device)
    np.testing.assert_array_equal(arr(mask.nonzero()), [[0], [2]])


# ---------------------------------------------------------------------------- errors


def test_topk_k_larger_than_size_is_an_error_naming_both(device):
    x = tinynn.arange(5.0, device=device)
    with pytest.raises(RuntimeError, match=r"k \(6\).*size 5"):
        x.topk(6)
    with pytest.raises(RuntimeError):
        tinynn.topk(x, -1)


def test_kthvalue_k_out_of_range(device):
    x = tinynn.arange(5.0, device=device)
    for k in (0, 6):
        with pytest.raises(RuntimeError, match=rf"k \({k}\)"):
            x.kthvalue(k)


@pytest.mark.parametrize("call", [
    lambda x: x.sort(dim=2),
    lambda x: tinynn.argsort(x, dim=-3),
    lambda x: x.topk(1, dim=2),
    lambda x: x.kthvalue(1, dim=5),
    lambda x: x.unique(dim=2),
], ids=["sort", "argsort", "topk", "kthvalue", "unique"])
def test_bad_dim_is_an_index_error(device, call):
    x = tinynn.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match="Dimension out of range"):
        call(x)


# ---------------------------------------------------------------------------- gradcheck table

# (id, fn, input shapes, domain): values come from "distinct" inputs, away from ties.
OPS = [
    ("sort_last", lambda a: a.sort().values, [(3, 5)], "distinct"),
    ("sort_dim0_desc", lambda a: tinynn.sort(a, 0, descending=True).values, [(4, 3)], "distinct"),
    ("sort_3d_mid", lambda a: a.sort(dim=1, stable=True)[0], [(2, 4, 3)], "distinct"),
    ("sort_1d", lambda a: a.sort(descending=True).values, [(6,)], "distinct"),
    ("topk_last", lambda a: a.topk(2).values, [(3, 5)], "distinct"),
    ("topk_smallest_dim0", lambda a: tinynn.topk(a, 3, dim=0, largest=False).values, [(4, 3)], "distinct"),
    ("topk_unsorted", lambda a: a.topk(3, dim=-1, sorted=False).values, [(2, 5)], "distinct"),
    ("topk_3d_neg", lambda a: a.topk(2, -2)[0], [(2, 4, 3)], "distinct"),
    ("kthvalue", lambda a: a.kthvalue(2, 1).values, [(3, 4)], "distinct"),
    ("kthvalue_keepdim", lambda a: tinynn.kthvalue(a, 3, dim=0, keepdim=True).values, [(4, 3)], "distinct"),
    ("kthvalue_1d", lambda a: a.kthvalue(5)[0], [(5,)], "distinct"),
]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=[e[0] for e in OPS])
def test_gradcheck(device, name, fn, shapes, domain):
    check_op(fn, shapes, domain, device)


# ---------------------------------------------------------------------------- properties

# The device fixture only selects a backend, so sharing it between examples is safe.
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
shapes_1to3 = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_sort_is_a_sorting_permutation(device, shape, data):
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    descending = data.draw(st.booleans())
    # Small integers: plenty of ties, where stable sorting has one right answer.
    x_np = np.random.default_rng(data.draw(st.integers(0, 999))).integers(0, 3, shape).astype(np.float64)
    x = T(x_np, device)
    values, indices = x.sort(dim=dim, descending=descending, stable=True)
    ref_idx = np.argsort(-x_np if descending else x_np, axis=dim, kind="stable")
    np.testing.assert_array_equal(arr(indices), ref_idx)
    np.testing.assert_array_equal(arr(values), np.take_along_axis(x_np, ref_idx, axis=dim))
    positions = np.arange(shape[dim]).reshape([-1 if d == dim % ndim else 1 for d in range(ndim)])
    np.testing.assert_array_equal(np.sort(arr(indices), axis=dim), np.broadcast_to(positions, shape))
    np.testing.assert_array_equal(arr(tinynn.take_along_dim(x, indices, dim)), arr(values))
    np.testing.assert_array_equal(arr(x.argsort(dim, descending=descending, stable=True)), ref_idx)


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_topk_values_are_the_sorted_prefix(device, shape, data):
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    k = data.draw(st.integers(0, shape[dim]))
    largest = data.draw(st.booleans())
    seed = data.draw(st.integers(0, 999))
    x = make_inputs([shape], "normal", np.float64, seed=seed, device=device)[0].detach()
    values, indices = x.topk(k, dim=dim, largest=largest)
    prefix = arr(x.sort(dim=dim, descending=largest).values)
    np.testing.assert_array_equal(arr(values), np.take(prefix, np.arange(k), axis=dim))
    np.testing.assert_array_equal(arr(x.gather(dim, indices)), arr(values))


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_kthvalue_matches_numpy(device, shape, data):
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    k = data.draw(st.integers(1, shape[dim]))
    keepdim = data.draw(st.booleans())
    x_np = np.random.default_rng(data.draw(st.integers(0, 999))).integers(-3, 3, shape).astype(np.float32)
    values, indices = T(x_np, device).kthvalue(k, dim, keepdim)
    expected = np.take(np.sort(x_np, axis=dim), [k - 1], axis=dim)
    np.testing.assert_array_equal(arr(values), expected if keepdim else expected.squeeze(dim))
    idx = arr(indices) if keepdim else np.expand_dims(arr(indices), dim)
    np.testing.assert_array_equal(np.take_along_axis(x_np, idx, axis=dim), expected)


@SETTINGS
@given(shape=shapes_1to3, seed=st.integers(0, 999), with_dim=st.booleans())
def test_unique_matches_numpy(device, shape, seed, with_dim):
    x_np = np.random.default_rng(seed).integers(0, 3, shape)
    dim = (seed % len(shape)) if with_dim else None
    output, inverse, counts = T(x_np, device).unique(return_inverse=True, return_counts=True, dim=dim)
    ref, ref_inv, ref_counts = np.unique(x_np, return_inverse=True, return_counts=True, axis=dim)
    np.testing.assert_array_equal(arr(output), ref)
    np.testing.assert_array_equal(arr(counts), ref_counts)
    if dim is None:
        np.testing.assert_array_equal(arr(inverse), ref_inv.reshape(shape))
        np.testing.assert_array_equal(arr(output)[arr(inverse)], x_np)
    else:
        np.testing.assert_array_equal(arr(inverse), ref_inv.reshape(-1))
        np.testing.assert_array_equal(np.take(arr(output), arr(inverse), axis=dim), x_np)


@SETTINGS
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 999))
def test_nonzero_matches_numpy(device, shape, seed):
    x_np = np.random.default_rng(seed).integers(0, 2, shape) * 1.5
    out = tinynn.nonzero(T(x_np, device))
    np.testing.assert_array_equal(arr(out), np.argwhere(x_np))
    assert out.shape == (int(np.count_nonzero(x_np)), len(shape))
    for got, ref in zip(tinynn.nonzero(T(x_np, device), as_tuple=True), np.nonzero(x_np)):
        np.testing.assert_array_equal(arr(got), ref)
