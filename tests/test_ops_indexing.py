"""Indexing ops: masked_fill(_), masked_select, gather, scatter(_), scatter_add(_),
index_select, index_add(_), take_along_dim.

The contract is PyTorch's documentation: its worked examples are checked verbatim, the
rest against NumPy references (``numpy.add.at`` for repeated indices). Gradient rules:
gather/index_select/take_along_dim send the gradient back with a scatter-add (repeated
indices accumulate); scatter gives the overwritten positions of ``input`` zero gradient
and ``src`` the gathered gradient. In-place variants follow tinynn's in-place rules.
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


def I(data, like):
    """An int64 index tensor on the device of ``like`` (usable inside gradcheck lambdas)."""
    return tinynn.tensor(np.asarray(data, dtype=np.int64), device=like.device)


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])


# ---------------------------------------------------------------------------- masked_fill


def test_masked_fill_values_and_broadcast(device):
    x = tinynn.arange(12.0, device=device).reshape(3, 4)
    out = x.masked_fill(T(MASK, device), -1.0)
    np.testing.assert_array_equal(arr(out), np.where(MASK, -1.0, arr(x)))
    assert out.dtype == tinynn.float32
    np.testing.assert_array_equal(arr(x), np.arange(12.0).reshape(3, 4))  # input untouched
    row = T([True, False, False, True], device)
    np.testing.assert_array_equal(arr(tinynn.masked_fill(x, row, 0)), np.where(row.cpu().numpy(), 0, arr(x)))
    col = T([[False], [True], [False]], device)
    expected = np.where([[0], [1], [0]], 7.5, arr(x))
    np.testing.assert_array_equal(arr(x.masked_fill(col, T(7.5, device))), expected)


def test_masked_fill_keeps_integer_dtype(device):
    x = T([[1, 2], [3, 4]], device)
    out = x.masked_fill(x > 2, 0)
    assert out.dtype == tinynn.int64
    np.testing.assert_array_equal(arr(out), [[1, 2], [0, 0]])


def test_masked_fill_minus_inf_attention_mask(device):
    scores = T([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]], device)
    causal = T([[1, 1, 0], [1, 1, 1]], device)
    probs = scores.masked_fill(causal == 0, float("-inf")).softmax(-1)
    e1, e2 = np.exp(1.0), np.exp(2.0)
    np.testing.assert_allclose(arr(probs)[0], [e1 / (e1 + e2), e2 / (e1 + e2), 0], rtol=1e-6)
    np.testing.assert_allclose(arr(probs)[1], [1 / 3] * 3, rtol=1e-6)


def test_masked_fill_gradients(device):
    x = T(np.arange(12.0).reshape(3, 4), device, requires_grad=True)
    value = T(2.0, device, requires_grad=True)
    out = x.masked_fill(T(MASK, device), value)
    upstream = np.arange(1.0, 13.0).reshape(3, 4)
    (out * T(upstream.astype(np.float32), device)).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), np.where(MASK, 0.0, upstream))
    assert value.grad.shape == () and value.grad.item() == upstream[MASK].sum()


def test_masked_fill_inplace(device):
    x = tinynn.zeros(2, 3, device=device)
    alias = x.data
    out = x.masked_fill_(T([True, False, True], device), 5.0)
    assert out is x
    np.testing.assert_array_equal(arr(alias), [[5, 0, 5], [5, 0, 5]])


def test_masked_fill_errors(device):
    x = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="boolean"):
        x.masked_fill(T([1.0, 0.0, 1.0], device), 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value tensor.*1 dimension"):
        x.masked_fill(T([True, False, True], device), T([1.0], device))
    with pytest.raises(RuntimeError):
        tinynn.zeros(3, device=device).masked_fill_(T(np.ones((2, 3), bool), device), 1.0)


# ---------------------------------------------------------------------------- masked_select


def test_masked_select_doc_example(device):
    x = T([[0.3552, -2.3825, -0.8297, 0.3477], [-1.2035, 1.2252, 0.5002, 0.6248],
           [0.1307, -2.0608, 0.1244, 2.0139]], device)
    mask = x.ge(0.5)
    out = tinynn.masked_select(x, mask)
    np.testing.assert_allclose(arr(out), [1.2252, 0.5002, 0.6248, 2.0139])
    assert out.ndim == 1 and out.dtype == tinynn.float32
    np.testing.assert_array_equal(arr(x.masked_select(mask)), arr(out))


def test_masked_select_broadcasts_both_ways(device):
    x = tinynn.arange(12.0, device=device).reshape(3, 4)
    column2 = T([False, False, True, False], device)
    np.testing.assert_array_equal(arr(x.masked_select(column2)), [2.0, 6.0, 10.0])
    np.testing.assert_array_equal(arr(x.masked_select(T([[False], [False], [True]], device))), [8, 9, 10, 11])
    row = tinynn.arange(4.0, device=device)
    expected = np.broadcast_to(np.arange(4.0), (3, 4))[MASK]
    np.testing.assert_array_equal(arr(row.masked_select(T(MASK, device))), expected)


def test_masked_select_gradient_sums_over_broadcast(device):
    row = T([1.0, 2.0, 3.0, 4.0], device, requires_grad=True)
    row.masked_select(T(MASK, device)).sum().backward()
    np.testing.assert_array_equal(arr(row.grad), MASK.sum(0).astype(np.float32))


def test_masked_select_requires_bool_mask(device):
    with pytest.raises(RuntimeError, match="BoolTensor"):
        tinynn.zeros(3, device=device).masked_select(T([1, 0, 1], device))


# ---------------------------------------------------------------------------- gather


def test_gather_doc_example(device):
    t = T([[1, 2], [3, 4]], device)
    out = tinynn.gather(t, 1, T([[0, 0], [1, 0]], device))
    np.testing.assert_array_equal(arr(out), [[1, 1], [4, 3]])
    assert out.dtype == tinynn.int64
    np.testing.assert_array_equal(arr(t.gather(0, T([[0, 0], [1, 0]], device))), [[1, 2], [3, 2]])


def test_gather_index_smaller_or_longer_than_input(device):
    x = T(np.arange(12.0).reshape(3, 4), device)
    out = x.gather(1, T([[3, 0], [1, 1]], device))  # index smaller than x outside dim 1
    np.testing.assert_array_equal(arr(out), [[3.0, 0.0], [5.0, 5.0]])
    out = x.gather(-1, T([[0, 1, 2, 3, 3, 3]], device))  # longer than x along dim
    np.testing.assert_array_equal(arr(out), [[0, 1, 2, 3, 3, 3]])


def test_gather_gradient_accumulates_repeated_indices(device):
    x = T(np.arange(6.0).reshape(2, 3), device, requires_grad=True)
    x.gather(1, T([[0, 0, 2, 0], [1, 1, 1, 1]], device)).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [[3, 0, 1], [0, 4, 0]])


def test_gather_errors(device):
    x = tinynn.zeros(2, 2, device=device)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.gather(1, T([0, 1], device))
    with pytest.raises(RuntimeError,
                       match=r"index \[3, 1\] to be smaller than self \[2, 2\] apart from dimension 1"):
        x.gather(1, T([[0], [1], [0]], device))
    with pytest.raises(RuntimeError, match="index 2 is out of bounds for dimension 1 with size 2"):
        x.gather(1, T([[0, 2], [1, 0]], device))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(0, T([[-1, 0]], device))
    with pytest.raises(RuntimeError, match="int64"):
        x.gather(1, T([[0.0, 1.0], [1.0, 0.0]], device))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.gather(2, T([[0]], device))


# ---------------------------------------------------------------------------- scatter


def test_scatter_doc_examples(device):
    src = tinynn.arange(1, 11, device=device).reshape((2, 5))
    index = T([[0, 1, 2, 0]], device)
    out = tinynn.zeros(3, 5, dtype=src.dtype, device=device).scatter_(0, index, src)
    np.testing.assert_array_equal(arr(out), [[1, 0, 0, 4, 0], [0, 2, 0, 0, 0], [0, 0, 3, 0, 0]])
    index = T([[0, 1, 2], [0, 1, 4]], device)
    out = tinynn.zeros(3, 5, dtype=src.dtype, device=device).scatter_(1, index, src)
    np.testing.assert_array_equal(arr(out), [[1, 2, 3, 0, 0], [6, 7, 0, 0, 8], [0, 0, 0, 0, 0]])


def test_scatter_value_and_reduce_doc_examples(device):
    index = T([[2], [3]], device)
    out = tinynn.full((2, 4), 2.0, device=device).scatter_(1, index, 1.23, reduce="multiply")
    np.testing.assert_allclose(arr(out), [[2, 2, 2.46, 2], [2, 2, 2, 2.46]], rtol=1e-6)
    out = tinynn.full((2, 4), 2.0, device=device).scatter_(1, index, 1.23, reduce="add")
    np.testing.assert_allclose(arr(out), [[2, 2, 3.23, 2], [2, 2, 2, 3.23]], rtol=1e-6)
    out = tinynn.full((2, 4), 2.0, device=device).scatter(1, index, value=1.23)
    np.testing.assert_allclose(arr(out), [[2, 2, 1.23, 2], [2, 2, 2, 1.23]], rtol=1e-6)
    assert out.dtype == tinynn.float32


def test_scatter_out_of_place_forms(device):
    x = tinynn.zeros(2, 3, device=device)
    index = T([[2, 0], [1, 2]], device)
    src = T([[1.0, 2.0], [3.0, 4.0]], device)
    out = tinynn.scatter(x, 1, index, src)
    np.testing.assert_array_equal(arr(out), [[2, 0, 1], [0, 3, 4]])
    np.testing.assert_array_equal(arr(x), np.zeros((2, 3)))  # out-of-place leaves x alone
    np.testing.assert_array_equal(arr(tinynn.scatter(x, -1, index, value=9.0)), [[9, 0, 9], [0, 9, 9]])
    np.testing.assert_array_equal(arr(x.scatter(1, index, src, reduce="add")), [[2, 0, 1], [0, 3, 4]])


def test_scatter_reduce_with_repeated_indices(device):
    x = np.arange(1.0, 7.0).reshape(2, 3)
    index = np.array([[0, 0, 2], [1, 1, 1]])
    src = np.array([[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]])
    expected_add, expected_mul = x.copy(), x.copy()
    rows = np.arange(2)[:, None].repeat(3, 1)
    np.add.at(expected_add, (rows, index), src)
    np.multiply.at(expected_mul, (rows, index), src)
    out = T(x, device).scatter(1, T(index, device), T(src, device), reduce="add")
    np.testing.assert_allclose(arr(out), expected_add)
    out = T(x, device).scatter(1, T(index, device), T(src, device), reduce="multiply")
    np.testing.assert_allclose(arr(out), expected_mul)


def test_one_hot_program(device):
    y = T([3, 0, 9, 3], device)
    one_hot = tinynn.zeros(4, 10, device=device).scatter_(1, y.unsqueeze(1), 1)
    assert one_hot.dtype == tinynn.float32 and one_hot.shape == (4, 10)
    np.testing.assert_array_equal(arr(one_hot), np.eye(10, dtype=np.float32)[[3, 0, 9, 3]])


def test_scatter_gradient_rule(device):
    x = T(np.arange(8.0).reshape(2, 4), device, requires_grad=True)
    src = T(np.arange(10.0, 16.0).reshape(2, 3), device, requires_grad=True)
    index = T([[3, 0], [1, 2]], device)  # smaller than src: src[:, 2] is never read
    out = x.scatter(1, index, src)
    np.testing.assert_array_equal(arr(out), [[11, 1, 2, 10], [4, 13, 14, 7]])
    upstream = np.arange(1.0, 9.0).reshape(2, 4)
    out.backward(T(upstream.astype(np.float32), device))
    np.testing.assert_array_equal(arr(x.grad), [[0, 2, 3, 0], [5, 0, 0, 8]])
    np.testing.assert_array_equal(arr(src.grad), [[4, 1, 0], [6, 7, 0]])


def test_scatter_value_gradient_zeroes_overwritten_input(device):
    x = T(np.ones((2, 3)), device, requires_grad=True)
    x.scatter(0, T([[1, 0, 1]], device), 5.0).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [[1, 0, 1], [0, 1, 0]])


def test_scatter_errors(device):
    x = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        x.scatter(1, T([0, 1], device), tinynn.ones(2, device=device))
    with pytest.raises(RuntimeError, match=r"to be smaller than src \[1, 1\]"):
        x.scatter(1, T([[0, 1]], device), tinynn.ones(1, 1, device=device))
    with pytest.raises(RuntimeError, match=r"index \[3, 1\] to be smaller than self \[2, 3\]"):
        x.scatter(1, T([[0], [1], [0]], device), tinynn.ones(3, 1, device=device))
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1 with size 3"):
        x.scatter(1, T([[3]], device), 1.0)
    with pytest.raises(RuntimeError, match="int64"):
        x.scatter(1, T([[1.0]], device), 1.0)
    with pytest.raises(RuntimeError, match="dtype"):
        x.scatter(1, T([[1]], device), T([[1]], device))  # int64 src into float32 self
    with pytest.raises(RuntimeError, match="add or multiply"):
        x.scatter(1, T([[1]], device), 1.0, reduce="max")
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.scatter(-3, T([[1]], device), 1.0)


# ---------------------------------------------------------------------------- scatter_add


def test_scatter_add_doc_examples(device):
    src = tinynn.ones((2, 5), device=device)
    index = T([[0, 1, 2, 0, 0]], device)
    out = tinynn.zeros(3, 5, dtype=src.dtype, device=device).scatter_add_(0, index, src)
    np.testing.assert_array_equal(arr(out), [[1, 0, 0, 1, 1], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0]])
    index = T([[0, 1, 2, 0, 0], [0, 1, 2, 2, 2]], device)
    out = tinynn.zeros(3, 5, dtype=src.dtype, device=device).scatter_add_(0, index, src)
    np.testing.assert_array_equal(arr(out), [[2, 0, 0, 1, 1], [0, 2, 0, 0, 0], [0, 0, 2, 1, 1]])
    out = tinynn.scatter_add(tinynn.zeros(3, 5, device=device), 0, index, src)
    np.testing.assert_array_equal(arr(out), [[2, 0, 0, 1, 1], [0, 2, 0, 0, 0], [0, 0, 2, 1, 1]])


def test_scatter_add_gradients(device):
    x = T(np.zeros((2, 3)), device, requires_grad=True)
    src = T(np.ones((2, 2)), device, requires_grad=True)
    index = T([[0, 0], [2, 2]], device)
    upstream = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    x.scatter_add(1, index, src).backward(T(upstream, device))
    np.testing.assert_array_equal(arr(x.grad), upstream)
    np.testing.assert_array_equal(arr(src.grad), [[1, 1], [6, 6]])


# ---------------------------------------------------------------------------- index_select


def test_index_select_doc_style(device):
    x = T(np.arange(12.0).reshape(3, 4), device)
    indices = T([0, 2], device)
    np.testing.assert_array_equal(arr(tinynn.index_select(x, 0, indices)), [[0, 1, 2, 3], [8, 9, 10, 11]])
    np.testing.assert_array_equal(arr(x.index_select(1, indices)), [[0, 2], [4, 6], [8, 10]])
    np.testing.assert_array_equal(arr(x.index_select(-1, T([3, 3], device))), [[3, 3], [7, 7], [11, 11]])
    scalar_index = x.index_select(0, T(1, device))
    assert scalar_index.shape == (1, 4)


def test_index_select_gradient_accumulates(device):
    x = T(np.zeros((3, 2)), device, requires_grad=True)
    x.index_select(0, T([2, 0, 2, 2], device)).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [[1, 1], [0, 0], [3, 3]])


def test_index_select_errors(device):
    x = tinynn.zeros(3, 4, device=device)
    with pytest.raises(IndexError, match="vector"):
        x.index_select(0, T([[0, 1]], device))
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, T([0, 3], device))
    with pytest.raises(RuntimeError, match="int32 or int64"):
        x.index_select(0, T([0.0], device))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.index_select(2, T([0], device))


# ---------------------------------------------------------------------------- index_add


def test_index_add_doc_example(device):
    x = tinynn.ones(5, 3, device=device)
    t = T([[1, 2, 3], [4, 5, 6], [7, 8, 9]], device, dtype=tinynn.float)
    index = T([0, 4, 2], device)
    out = x.index_add_(0, index, t)
    assert out is x
    np.testing.assert_array_equal(arr(x), [[2, 3, 4], [1, 1, 1], [8, 9, 10], [1, 1, 1], [5, 6, 7]])
    x.index_add_(0, index, t, alpha=-1)
    np.testing.assert_array_equal(arr(x), np.ones((5, 3)))


def test_index_add_out_of_place_repeated_and_dim1(device):
    x = tinynn.zeros(2, 3, device=device)
    source = T([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], device)
    out = tinynn.index_add(x, 1, T([0, 2, 0, 0], device), source, alpha=2)
    np.testing.assert_array_equal(arr(out), [[16, 0, 4], [40, 0, 12]])
    np.testing.assert_array_equal(arr(x), np.zeros((2, 3)))
    out = x.index_add(-1, T([1, 1, 1, 1], device), source)
    np.testing.assert_array_equal(arr(out), [[0, 10, 0], [0, 26, 0]])


def test_index_add_gradients(device):
    x = T(np.zeros((3, 2)), device, requires_grad=True)
    source = T(np.ones((2, 2)), device, requires_grad=True)
    upstream = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32)
    x.index_add(0, T([2, 2], device), source, alpha=3).backward(T(upstream, device))
    np.testing.assert_array_equal(arr(x.grad), upstream)
    np.testing.assert_array_equal(arr(source.grad), [[15, 18], [15, 18]])


def test_index_add_errors(device):
    x = tinynn.zeros(3, 2, device=device)
    with pytest.raises(RuntimeError, match=r"Number of indices \(3\).*source.size\(dim\).*2"):
        x.index_add(0, T([0, 1, 2], device), tinynn.ones(2, 2, device=device))
    with pytest.raises(IndexError, match="vector"):
        x.index_add(0, T([[0, 1]], device), tinynn.ones(2, 2, device=device))
    with pytest.raises(IndexError):
        x.index_add(0, T([0, 3], device), tinynn.ones(2, 2, device=device))


# ---------------------------------------------------------------------------- take_along_dim


def test_take_along_dim_doc_example(device):
    t = T([[10, 30, 20], [60, 40, 50]], device)
    max_idx = tinynn.argmax(t)
    np.testing.assert_array_equal(arr(tinynn.take_along_dim(t, max_idx)), [60])
    sorted_idx = tinynn.argsort(t, dim=1)
    out = tinynn.take_along_dim(t, sorted_idx, dim=1)
    np.testing.assert_array_equal(arr(out), [[10, 20, 30], [40, 50, 60]])
    np.testing.assert_array_equal(arr(t.take_along_dim(sorted_idx, 1)), [[10, 20, 30], [40, 50, 60]])


def test_take_along_dim_broadcasts_and_accumulates(device):
    x = T(np.arange(12.0).reshape(3, 4), device, requires_grad=True)
    out = x.take_along_dim(T([[0, 0, 3]], device), dim=1)  # index broadcast over the rows
    np.testing.assert_array_equal(arr(out), [[0, 0, 3], [4, 4, 7], [8, 8, 11]])
    out.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [[2, 0, 0, 1]] * 3)


# ---------------------------------------------------------------------------- in-place rules

def _mask23(h):
    return tinynn.tensor(MASK[:2, :3], device=h.device)


# (id, in-place op, its out-of-place twin); ``h`` is (2, 3) float32, ``s`` a 0-d float32.
INPLACE = [
    ("masked_fill_", lambda h, s: h.masked_fill_(_mask23(h), s), lambda h, s: h.masked_fill(_mask23(h), s)),
    ("scatter_", lambda h, s: h.scatter_(1, I([[2], [0]], h), s.expand(2, 1)),
     lambda h, s: h.scatter(1, I([[2], [0]], h), s.expand(2, 1))),
    ("scatter_add_", lambda h, s: h.scatter_add_(0, I([[1, 1, 0]], h), s.expand(1, 3)),
     lambda h, s: h.scatter_add(0, I([[1, 1, 0]], h), s.expand(1, 3))),
    ("index_add_", lambda h, s: h.index_add_(1, I([2, 2], h), s.expand(2, 2), alpha=2.0),
     lambda h, s: h.index_add(1, I([2, 2], h), s.expand(2, 2), alpha=2.0)),
]
INPLACE_IDS = [e[0] for e in INPLACE]


@pytest.mark.parametrize("name, op, _", INPLACE, ids=INPLACE_IDS)
def test_inplace_on_leaf_requiring_grad_is_an_error(device, name, op, _):
    leaf = tinynn.zeros(2, 3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        op(leaf, T(1.0, device))


@pytest.mark.parametrize("name, op, _", INPLACE, ids=INPLACE_IDS)
def test_inplace_under_no_grad_writes_the_array(device, name, op, _):
    leaf = tinynn.zeros(2, 3, device=device, requires_grad=True)
    alias = leaf.data
    with tinynn.no_grad():
        out = op(leaf, T(1.0, device))
    assert out is leaf and leaf.is_leaf and leaf.requires_grad
    assert arr(leaf).any()
    np.testing.assert_array_equal(arr(alias), arr(leaf))


@pytest.mark.parametrize("name, op, out_of_place", INPLACE, ids=INPLACE_IDS)
def test_inplace_on_nonleaf_records_a_node(device, name, op, out_of_place):
    """``h = x * 1; h.op_(..., s)`` gives the values and gradients of the out-of-place op."""
    def run(inplace):
        x = T(np.arange(6, dtype=np.float32).reshape(2, 3), device, requires_grad=True)
        s = T(1.5, device, requires_grad=True)
        h = x * 1.0
        out = op(h, s) if inplace else out_of_place(h, s)
        if inplace:
            assert out is h and h.grad_fn is not None
        out.backward(T(np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3), device))
        return arr(out), arr(x.grad), arr(s.grad)

    for a, b in zip(run(True), run(False)):
        np.testing.assert_array_equal(a, b)


def test_inplace_on_nonleaf_matches_out_of_place_values(device):
    x = T(np.arange(6.0).reshape(2, 3), device, requires_grad=True)
    h = x * 2.0
    h.scatter_(1, T([[0], [2]], device), 0.0)
    np.testing.assert_array_equal(arr(h), [[0, 2, 4], [6, 8, 0]])
    h.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [[0, 2, 2], [2, 2, 0]])


# ---------------------------------------------------------------------------- gradcheck table

MASK_T = lambda a: tinynn.tensor(MASK, device=a.device)  # noqa: E731

# (id, fn, input shapes, domain)
OPS = [
    ("masked_fill", lambda a: a.masked_fill(MASK_T(a), 0.5), [(3, 4)], "normal"),
    ("masked_fill_row_mask", lambda a: tinynn.masked_fill(a, MASK_T(a)[0], -2.0), [(3, 4)], "normal"),
    ("masked_fill_tensor_value", lambda a, v: a.masked_fill(MASK_T(a), v), [(3, 4), ()], "normal"),
    ("masked_fill_nonleaf_inplace", lambda a, v: (a * 1.0).masked_fill_(MASK_T(a), v), [(3, 4), ()], "normal"),
    ("masked_select", lambda a: a.masked_select(MASK_T(a)), [(3, 4)], "normal"),
    ("masked_select_broadcast", lambda a: tinynn.masked_select(a, MASK_T(a)), [(1, 4)], "normal"),
    ("gather_dim1", lambda a: a.gather(1, I([[0, 0, 3], [2, 1, 1], [3, 3, 3]], a)), [(3, 4)], "normal"),
    ("gather_dim0_small", lambda a: tinynn.gather(a, 0, I([[2, 0], [2, 2]], a)), [(3, 4)], "normal"),
    ("gather_3d_neg", lambda a: a.gather(-2, I(np.zeros((2, 5, 2), int) + [[0], [2], [1], [2], [2]], a)),
     [(2, 3, 2)], "normal"),
    ("scatter_src", lambda a, s: a.scatter(1, I([[3, 0], [1, 2]], a), s), [(2, 4), (2, 3)], "normal"),
    ("scatter_src_dim0", lambda a, s: tinynn.scatter(a, 0, I([[1, 0, 2]], a), s), [(3, 3), (2, 3)], "normal"),
    ("scatter_value", lambda a: a.scatter(1, I([[3], [0]], a), 2.0), [(2, 4)], "normal"),
    ("scatter_add_reduce", lambda a, s: a.scatter(1, I([[0, 0, 2]], a), s, reduce="add"),
     [(2, 3), (1, 3)], "normal"),
    ("scatter_multiply_reduce", lambda a, s: a.scatter(1, I([[0, 0, 2], [1, 1, 1]], a), s, reduce="multiply"),
     [(2, 3), (2, 3)], "nonzero"),
    ("scatter_value_multiply", lambda a: a.scatter(0, I([[1, 0, 1]], a), 1.5, reduce="multiply"),
     [(2, 3)], "normal"),
    ("scatter_add", lambda a, s: a.scatter_add(1, I([[0, 0, 2], [1, 1, 1]], a), s), [(2, 3), (2, 4)], "normal"),
    ("scatter_add_fn_3d", lambda a, s: tinynn.scatter_add(a, 2, I(np.zeros((2, 2, 3), int), a), s),
     [(2, 2, 2), (2, 2, 3)], "normal"),
    ("scatter_add_nonleaf_inplace", lambda a, s: (a * 1.0).scatter_add_(0, I([[1, 1, 0]], a), s),
     [(2, 3), (1, 3)], "normal"),
    ("index_select_dim0", lambda a: a.index_select(0, I([2, 0, 2], a)), [(3, 4)], "normal"),
    ("index_select_dim1", lambda a: tinynn.index_select(a, -2, I([1, 1, 3, 0], a)), [(2, 4, 3)], "normal"),
    ("index_add", lambda a, s: a.index_add(0, I([2, 0, 2], a), s), [(3, 4), (3, 4)], "normal"),
    ("index_add_alpha_dim1", lambda a, s: tinynn.index_add(a, 1, I([1, 1], a), s, alpha=-0.5),
     [(2, 3), (2, 2)], "normal"),
    ("index_add_nonleaf_inplace", lambda a, s: (a * 1.0).index_add_(0, I([1], a), s),
     [(2, 3), (1, 3)], "normal"),
    ("take_along_dim", lambda a: a.take_along_dim(I([[0, 3, 3]], a), dim=1), [(2, 4)], "normal"),
    ("take_along_dim_flat", lambda a: tinynn.take_along_dim(a, I([5, 0, 5], a)), [(2, 3)], "normal"),
]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=[e[0] for e in OPS])
def test_gradcheck(device, name, fn, shapes, domain):
    check_op(fn, shapes, domain, device)


# ---------------------------------------------------------------------------- properties

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
shapes_1to3 = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def _draw_dim(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1))


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_gather_scatter_roundtrip(device, shape, data):
    """gather with a permutation along dim, then scatter it back, gives the input again."""
    ndim = len(shape)
    dim = _draw_dim(data, ndim)
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    x = make_inputs([shape], "normal", np.float64, seed=int(rng.integers(1000)), device=device)[0].detach()
    perm = np.argsort(rng.random(shape), axis=dim)  # an independent permutation per slice
    gathered = x.gather(dim, T(perm, device))
    np.testing.assert_array_equal(arr(gathered), np.take_along_axis(arr(x), perm, axis=dim))
    back = tinynn.zeros_like(x).scatter(dim, T(perm, device), gathered)
    np.testing.assert_array_equal(arr(back), arr(x))


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_scatter_add_and_index_add_match_numpy(device, shape, data):
    ndim = len(shape)
    dim = _draw_dim(data, ndim)
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    x_np = rng.standard_normal(shape)
    # scatter_add: an index no larger than x, repeated values allowed.
    index_shape = tuple(int(rng.integers(1, n + 1)) for n in shape)
    index = rng.integers(0, shape[dim], index_shape)
    src = rng.standard_normal(index_shape)
    expected = x_np.copy()
    coords = list(np.indices(index_shape))
    coords[dim] = index
    np.add.at(expected, tuple(coords), src)
    out = T(x_np, device).scatter_add(dim, T(index, device), T(src, device))
    np.testing.assert_allclose(arr(out), expected)
    # index_add: a 1-D index of any length along dim.
    n = int(rng.integers(1, 5))
    idx = rng.integers(0, shape[dim], n)
    source_shape = list(shape)
    source_shape[dim] = n
    source = rng.standard_normal(source_shape)
    expected = x_np.copy()
    np.add.at(np.moveaxis(expected, dim, 0), idx, 2.0 * np.moveaxis(source, dim, 0))
    out = T(x_np, device).index_add(dim, T(idx, device), T(source, device), alpha=2.0)
    np.testing.assert_allclose(arr(out), expected)
    np.testing.assert_array_equal(arr(T(x_np, device).index_select(dim, T(idx, device))),
                                  np.take(x_np, idx, axis=dim))


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_gather_gradcheck_over_dims(device, shape, data):
    ndim = len(shape)
    dim = _draw_dim(data, ndim)
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    index_shape = tuple(int(rng.integers(1, n + 1)) for n in shape)
    index_shape = index_shape[:dim % ndim] + (int(rng.integers(1, 5)),) + index_shape[dim % ndim + 1:]
    index = rng.integers(0, shape[dim], index_shape)
    check_op(lambda a: a.gather(dim, I(index, a)), [shape], "normal", device)


@SETTINGS
@given(shape=shapes_1to3, data=st.data())
def test_masked_ops_match_numpy(device, shape, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 999)))
    x_np = rng.standard_normal(shape)
    # A mask broadcastable to x: some of x's trailing dims, some of them size 1.
    lead = data.draw(st.integers(0, len(shape)))
    mask_shape = tuple(n if rng.random() < 0.7 else 1 for n in shape[lead:])
    mask = rng.random(mask_shape) < 0.5
    x = T(x_np, device)
    np.testing.assert_array_equal(arr(x.masked_fill(T(mask, device), 3.0)), np.where(mask, 3.0, x_np))
    np.testing.assert_array_equal(arr(x.masked_select(T(mask, device))), x_np[np.broadcast_to(mask, shape)])
