"""Linear algebra: mm, bmm, mv, dot, outer/ger, addmm and einsum.

PyTorch's documentation is the specification: its worked examples are checked, NumPy
(np.matmul, np.outer, np.einsum) is the reference for values, every op is gradchecked in
float64 on every operand (``OPS`` table, via ``check_op``) and kept float32 in float32, and
the shape / rank / dtype errors carry PyTorch's exception type and wording. Einsum is also
compared with ``numpy.einsum`` over random equations (repeated labels, implicit and explicit
outputs) and gradchecked on each of them. Every tensor lives on the ``device`` fixture's device.
"""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn
from tinynn.autograd import gradcheck
from opcheck import check_op, make_inputs

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def values(t):
    return t.detach().cpu().numpy()


def randn(*shape, device, dtype=tinynn.float64, requires_grad=False):
    return tinynn.randn(shape, device=device, dtype=dtype, requires_grad=requires_grad)


def close(t, expected, rtol=1e-6, atol=1e-9):
    np.testing.assert_allclose(values(t), expected, rtol=rtol, atol=atol)


# ============================================================================ mm

def test_mm_values(device):
    a, b = randn(2, 3, device=device), randn(3, 3, device=device)
    close(tinynn.mm(a, b), values(a) @ values(b))
    close(a.mm(b), values(a) @ values(b))
    assert tinynn.mm(a, b).shape == (2, 3)


def test_mm_integers(device):
    a = tinynn.tensor([[1, 2], [3, 4]], device=device)
    out = tinynn.mm(a, a)
    assert out.dtype == tinynn.int64
    np.testing.assert_array_equal(values(out), [[7, 10], [15, 22]])


def test_mm_errors(device):
    a = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        tinynn.mm(tinynn.zeros(3, device=device), a)
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        tinynn.mm(a, tinynn.zeros(3, device=device))
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        tinynn.mm(tinynn.zeros(2, 2, 3, device=device), a)  # mm does not broadcast
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")):
        tinynn.mm(a, tinynn.zeros(4, 5, device=device))
    with pytest.raises(RuntimeError, match="same dtype"):
        tinynn.mm(a, tinynn.zeros(3, 2, dtype=tinynn.float64, device=device))


# ============================================================================ bmm

def test_bmm_values(device):
    a, b = randn(10, 3, 4, device=device), randn(10, 4, 5, device=device)
    out = tinynn.bmm(a, b)
    assert out.shape == (10, 3, 5)
    close(out, np.matmul(values(a), values(b)))
    close(a.bmm(b), np.matmul(values(a), values(b)))


def test_bmm_errors(device):
    a = tinynn.zeros(2, 3, 4, device=device)
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        tinynn.bmm(tinynn.zeros(3, 4, device=device), a)
    with pytest.raises(RuntimeError, match="batch2 must be a 3D tensor"):
        tinynn.bmm(a, tinynn.zeros(4, 5, device=device))
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [3, 4].")):
        tinynn.bmm(a, tinynn.zeros(3, 4, 5, device=device))  # no batch broadcasting
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5].")):
        tinynn.bmm(a, tinynn.zeros(2, 5, 6, device=device))
    with pytest.raises(RuntimeError, match="same dtype"):
        tinynn.bmm(a, tinynn.zeros(2, 4, 5, dtype=tinynn.float64, device=device))


# ============================================================================ mv

def test_mv_values(device):
    mat, vec = randn(2, 3, device=device), randn(3, device=device)
    out = tinynn.mv(mat, vec)
    assert out.shape == (2,)
    close(out, values(mat) @ values(vec))
    close(mat.mv(vec), values(mat) @ values(vec))


def test_mv_errors(device):
    with pytest.raises(RuntimeError, match="matrix @ vector expected"):
        tinynn.mv(tinynn.zeros(3, device=device), tinynn.zeros(3, device=device))
    with pytest.raises(RuntimeError, match="matrix @ vector expected"):
        tinynn.mv(tinynn.zeros(2, 3, device=device), tinynn.zeros(3, 1, device=device))
    with pytest.raises(RuntimeError, match=r"size mismatch.*3x4.*5"):
        tinynn.mv(tinynn.zeros(3, 4, device=device), tinynn.zeros(5, device=device))


# ============================================================================ dot

def test_dot_doc_examples(device):
    out = tinynn.dot(tinynn.tensor([2, 3], device=device), tinynn.tensor([2, 1], device=device))
    assert out.shape == () and out.dtype == tinynn.int64 and out.item() == 7
    t1, t2 = tinynn.tensor([0, 1], device=device), tinynn.tensor([2, 3], device=device)
    assert tinynn.dot(t1, t2).item() == 3
    assert t1.dot(t2).item() == 3


def test_dot_float(device):
    a, b = randn(5, device=device), randn(5, device=device)
    out = a.dot(b)
    assert out.shape == ()
    close(out, values(a) @ values(b))


def test_dot_errors(device):
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        tinynn.dot(tinynn.zeros(2, 2, device=device), tinynn.zeros(4, device=device))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 1D and 0D tensors"):
        tinynn.dot(tinynn.zeros(2, device=device), tinynn.tensor(1.0, device=device))
    with pytest.raises(RuntimeError, match=re.escape(
            "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
            "elements, but got 3 and 4 elements respectively")):
        tinynn.dot(tinynn.zeros(3, device=device), tinynn.zeros(4, device=device))
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but found "
                                           "Float and Double"):
        tinynn.dot(tinynn.zeros(3, device=device), tinynn.zeros(3, dtype=tinynn.float64, device=device))


# ============================================================================ outer / ger

def test_outer_doc_example(device):
    v1, v2 = tinynn.arange(1.0, 5.0, device=device), tinynn.arange(1.0, 4.0, device=device)
    expected = [[1, 2, 3], [2, 4, 6], [3, 6, 9], [4, 8, 12]]
    np.testing.assert_array_equal(values(tinynn.outer(v1, v2)), expected)
    np.testing.assert_array_equal(values(v1.outer(v2)), expected)
    np.testing.assert_array_equal(values(tinynn.ger(v1, v2)), expected)
    np.testing.assert_array_equal(values(v1.ger(v2)), expected)
    assert tinynn.outer(v1, v2).dtype == tinynn.float32


def test_outer_errors(device):
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument self, but got 2-D"):
        tinynn.outer(tinynn.zeros(2, 2, device=device), tinynn.zeros(3, device=device))
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument vec2, but got 0-D"):
        tinynn.outer(tinynn.zeros(2, device=device), tinynn.tensor(1.0, device=device))


# ============================================================================ addmm

def test_addmm_doc_formula(device):
    M, mat1, mat2 = randn(2, 3, device=device), randn(2, 3, device=device), randn(3, 3, device=device)
    m, a, b = values(M), values(mat1), values(mat2)
    close(tinynn.addmm(M, mat1, mat2), m + a @ b)
    close(tinynn.addmm(M, mat1, mat2, beta=0.5, alpha=-2), 0.5 * m - 2 * (a @ b))
    close(M.addmm(mat1, mat2, alpha=3), m + 3 * (a @ b))


@pytest.mark.parametrize("input_shape", [(3,), (1, 3), (2, 1), (), (2, 3)])
def test_addmm_input_broadcasts(device, input_shape):
    M, mat1, mat2 = randn(*input_shape, device=device), randn(2, 4, device=device), randn(4, 3, device=device)
    out = tinynn.addmm(M, mat1, mat2, beta=2.0)
    assert out.shape == (2, 3)
    close(out, 2 * values(M) + values(mat1) @ values(mat2))


def test_addmm_beta_zero_ignores_nan_and_inf(device):
    M = tinynn.tensor([[np.nan, np.inf, 1.0]], device=device, requires_grad=True)
    mat1, mat2 = randn(2, 4, device=device, dtype=tinynn.float32), randn(4, 3, device=device, dtype=tinynn.float32)
    out = tinynn.addmm(M, mat1, mat2, beta=0)
    assert np.isfinite(values(out)).all()
    close(out, values(mat1) @ values(mat2), rtol=1e-5)
    out.sum().backward()
    np.testing.assert_array_equal(values(M.grad), [[0.0, 0.0, 0.0]])  # beta * grad


def test_addmm_float32_stays_float32_with_python_scalars(device):
    M, mat1, mat2 = (randn(*s, device=device, dtype=tinynn.float32, requires_grad=True)
                     for s in [(3,), (2, 4), (4, 3)])
    out = tinynn.addmm(M, mat1, mat2, beta=0.3, alpha=1.7)
    assert out.dtype == tinynn.float32
    out.sum().backward()
    assert M.grad.dtype == mat1.grad.dtype == mat2.grad.dtype == tinynn.float32
    assert M.grad.shape == (3,)


def test_addmm_errors(device):
    M = tinynn.zeros(2, 3, device=device)
    with pytest.raises(RuntimeError, match="mat1 must be a matrix"):
        tinynn.addmm(M, tinynn.zeros(4, device=device), tinynn.zeros(4, 3, device=device))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix"):
        tinynn.addmm(M, tinynn.zeros(2, 4, device=device), tinynn.zeros(4, device=device))
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (2x4 and 5x3)")):
        tinynn.addmm(M, tinynn.zeros(2, 4, device=device), tinynn.zeros(5, 3, device=device))
    with pytest.raises(RuntimeError, match="expand"):
        tinynn.addmm(tinynn.zeros(4, device=device), tinynn.zeros(2, 4, device=device),
                     tinynn.zeros(4, 3, device=device))


# ============================================================================ einsum: the doc examples

def test_einsum_doc_matmul_and_implicit(device):
    A, B = randn(2, 3, device=device), randn(3, 4, device=device)
    expected = values(A) @ values(B)
    close(tinynn.einsum("ij,jk->ik", A, B), expected)
    close(tinynn.einsum("ij,jk", A, B), expected)          # implicit output: i, k
    close(tinynn.einsum("ij,jk->ki", A, B), expected.T)
    close(tinynn.einsum("ij,jk->ik", [A, B]), expected)    # operands as one list
    close(tinynn.einsum(" i j , j k -> i k ", A, B), expected)  # whitespace between elements


def test_einsum_doc_trace_diagonal_outer(device):
    m = randn(4, 4, device=device)
    trace = tinynn.einsum("ii", m)
    assert trace.shape == ()
    close(trace, np.trace(values(m)))
    close(tinynn.einsum("ii->i", m), np.diag(values(m)))
    x, y = randn(5, device=device), randn(4, device=device)
    close(tinynn.einsum("i,j->ij", x, y), np.outer(values(x), values(y)))


def test_einsum_doc_batch_matmul_and_sublist(device):
    As, Bs = randn(3, 2, 5, device=device), randn(3, 5, 4, device=device)
    expected = np.matmul(values(As), values(Bs))
    close(tinynn.einsum("bij,bjk->bik", As, Bs), expected)
    close(tinynn.einsum(As, [..., 0, 1], Bs, [..., 1, 2], [..., 0, 2]), expected)
    # implicit output: the labels used once (1 and 3); the batch label 0 is summed
    close(tinynn.einsum(As, [0, 1, 2], Bs, [0, 2, 3]), np.einsum("bij,bjk->ik", values(As), values(Bs)))
    close(tinynn.einsum("...ij,...jk", As, Bs), expected)


def test_einsum_doc_batch_permute_and_bilinear(device):
    A = randn(2, 3, 4, 5, device=device)
    assert tinynn.einsum("...ij->...ji", A).shape == (2, 3, 5, 4)
    close(tinynn.einsum("...ij->...ji", A), np.swapaxes(values(A), -1, -2))
    W, l, r = randn(3, 5, 4, device=device), randn(2, 5, device=device), randn(2, 4, device=device)
    out = tinynn.einsum("bn,anm,bm->ba", l, W, r)
    assert out.shape == (2, 3)
    close(out, np.einsum("bn,anm,bm->ba", values(l), values(W), values(r)))


# ============================================================================ einsum: the rules

def test_einsum_implicit_output_is_sorted_with_capitals_first(device):
    a = randn(2, 3, device=device)
    close(tinynn.einsum("ij", a), values(a))
    close(tinynn.einsum("ji", a), values(a).T)
    assert tinynn.einsum("bA", a).shape == (3, 2)  # output "Ab": 'A' sorts before 'b'
    b = randn(3, 4, device=device)
    close(tinynn.einsum("Ab,bC->AC", a, b), values(a) @ values(b))


def test_einsum_ellipsis_broadcasts(device):
    a, b = randn(2, 1, 3, 4, device=device), randn(5, 4, 2, device=device)
    out = tinynn.einsum("...ij,...jk->...ik", a, b)
    assert out.shape == (2, 5, 3, 2)
    close(out, np.einsum("...ij,...jk->...ik", values(a), values(b)))


def test_einsum_ellipsis_left_out_of_the_output_is_summed(device):
    a = randn(2, 3, 4, device=device)
    close(tinynn.einsum("...ij->ij", a), values(a).sum(0))
    close(tinynn.einsum("i...->i", a), values(a).sum((1, 2)))


def test_einsum_size_one_labels_broadcast(device):
    a, b = randn(2, 1, device=device), randn(3, 4, device=device)
    out = tinynn.einsum("ij,jk->ik", a, b)
    close(out, values(a) * values(b).sum(0))


def test_einsum_scalars_and_sums(device):
    s, t, v = randn(device=device), randn(device=device), randn(3, device=device)
    close(tinynn.einsum(",->", s, t), values(s) * values(t))
    close(tinynn.einsum("i,->i", v, s), values(v) * values(s))
    m = randn(2, 3, device=device)
    close(tinynn.einsum("ij->", m), values(m).sum())
    close(tinynn.einsum("ij->j", m), values(m).sum(0))
    close(tinynn.einsum("ij,ij->ij", m, m), values(m) ** 2)


def test_einsum_same_tensor_twice_gets_both_gradients(device):
    a = randn(3, 4, device=device, requires_grad=True)
    tinynn.einsum("ij,ij->", a, a).backward()
    close(a.grad, 2 * values(a))


def test_einsum_trace_gradient_is_identity(device):
    m = randn(3, 3, device=device, requires_grad=True)
    tinynn.einsum("ii", m).backward()
    np.testing.assert_array_equal(values(m.grad), np.eye(3))


def test_einsum_float32_stays_float32(device):
    a, b = (randn(*s, device=device, dtype=tinynn.float32, requires_grad=True) for s in [(3, 3), (3, 2)])
    out = tinynn.einsum("ii,ij->j", a, b)
    assert out.dtype == tinynn.float32
    out.sum().backward()
    assert a.grad.dtype == b.grad.dtype == tinynn.float32


# ============================================================================ einsum: errors name the equation

@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk->ik", [(2, 3)], "fewer operands"),
    ("i->i", [(2,), (2,)], "more operands"),
    ("i1,jk", [(2, 2), (2, 2)], "invalid subscript"),
    ("ijk", [(2, 3)], "does not match the number of dimensions"),
    ("i", [(2, 3)], "does not match the number of dimensions"),
    ("ij...k", [(2, 3)], "more than the number of dimensions"),
    ("ij->ii", [(2, 2)], "appears more than once in the output"),
    ("ij->ik", [(2, 2)], "does not appear in the equation for any input operand"),
    ("ii", [(2, 3)], "sizes don't match"),
    ("ij,jk", [(2, 3), (4, 5)], "do not broadcast"),
    ("...ij,...jk", [(2, 2, 3), (3, 3, 4)], "do not broadcast"),
    ("i..j", [(2, 3)], "ellipsis"),
    ("i......", [(2, 3)], "ellipsis"),
])
def test_einsum_errors_name_the_equation(device, equation, shapes, message):
    operands = [tinynn.zeros(*s, device=device) for s in shapes]
    with pytest.raises(RuntimeError, match=message) as info:
        tinynn.einsum(equation, *operands)
    assert equation in str(info.value)


def test_einsum_needs_operands(device):
    with pytest.raises(RuntimeError, match="at least one operand"):
        tinynn.einsum("i")


def test_einsum_mixed_dtypes_is_an_error(device):
    with pytest.raises(RuntimeError, match="dtype"):
        tinynn.einsum("i,i->", tinynn.zeros(2, device=device), tinynn.zeros(2, dtype=tinynn.float64, device=device))


# ============================================================================ gradcheck table

# (id, fn, input shapes, domain)
OPS = [
    ("mm", lambda a, b: tinynn.mm(a, b), [(3, 4), (4, 2)], "normal"),
    ("mm_method", lambda a, b: a.mm(b), [(1, 3), (3, 5)], "normal"),
    ("bmm", lambda a, b: tinynn.bmm(a, b), [(2, 3, 4), (2, 4, 5)], "normal"),
    ("bmm_method", lambda a, b: a.bmm(b), [(3, 1, 2), (3, 2, 2)], "normal"),
    ("mv", lambda a, v: tinynn.mv(a, v), [(3, 4), (4,)], "normal"),
    ("mv_method", lambda a, v: a.mv(v), [(1, 2), (2,)], "normal"),
    ("dot", lambda a, b: tinynn.dot(a, b), [(5,), (5,)], "normal"),
    ("dot_same_tensor", lambda a: a.dot(a), [(4,)], "normal"),
    ("outer", lambda a, b: tinynn.outer(a, b), [(3,), (4,)], "normal"),
    ("ger", lambda a, b: a.ger(b), [(2,), (3,)], "normal"),
    ("addmm", lambda m, a, b: tinynn.addmm(m, a, b), [(2, 3), (2, 4), (4, 3)], "normal"),
    ("addmm_scaled", lambda m, a, b: tinynn.addmm(m, a, b, beta=0.5, alpha=-1.5), [(2, 3), (2, 4), (4, 3)], "normal"),
    ("addmm_bias_row", lambda m, a, b: m.addmm(a, b, alpha=2), [(3,), (2, 4), (4, 3)], "normal"),
    ("addmm_bias_col", lambda m, a, b: tinynn.addmm(m, a, b, beta=3), [(2, 1), (2, 4), (4, 3)], "normal"),
    ("addmm_bias_0d", lambda m, a, b: tinynn.addmm(m, a, b), [(), (2, 4), (4, 3)], "normal"),
    ("einsum_matmul", lambda a, b: tinynn.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)], "normal"),
    ("einsum_implicit", lambda a, b: tinynn.einsum("ij,jk", a, b), [(2, 3), (3, 4)], "normal"),
    ("einsum_transpose_out", lambda a, b: tinynn.einsum("ij,jk->ki", a, b), [(2, 3), (3, 4)], "normal"),
    ("einsum_trace", lambda a: tinynn.einsum("ii", a), [(3, 3)], "normal"),
    ("einsum_diagonal", lambda a: tinynn.einsum("ii->i", a), [(3, 3)], "normal"),
    ("einsum_generalized_diagonal", lambda a: tinynn.einsum("iji->ij", a), [(2, 3, 2)], "normal"),
    ("einsum_diag_times_matrix", lambda a, b: tinynn.einsum("ii,ij->j", a, b), [(3, 3), (3, 2)], "normal"),
    ("einsum_outer", lambda a, b: tinynn.einsum("i,j->ij", a, b), [(3,), (2,)], "normal"),
    ("einsum_bmm", lambda a, b: tinynn.einsum("bij,bjk->bik", a, b), [(2, 2, 3), (2, 3, 2)], "normal"),
    ("einsum_bilinear", lambda l, w, r: tinynn.einsum("bn,anm,bm->ba", l, w, r),
     [(2, 3), (4, 3, 2), (2, 2)], "normal"),
    ("einsum_summed_in_one_operand", lambda a, b: tinynn.einsum("ij,k->i", a, b), [(2, 3), (4,)], "normal"),
    ("einsum_sum_all", lambda a: tinynn.einsum("ijk->", a), [(2, 3, 2)], "normal"),
    ("einsum_ellipsis", lambda a, b: tinynn.einsum("...ij,...jk->...ik", a, b), [(2, 1, 2, 3), (3, 3, 2)], "normal"),
    ("einsum_ellipsis_summed", lambda a: tinynn.einsum("...ij->ji", a), [(2, 3, 2, 2)], "normal"),
    ("einsum_size_one_broadcast", lambda a, b: tinynn.einsum("ij,jk->ik", a, b), [(2, 1), (3, 2)], "normal"),
    ("einsum_sublist", lambda a, b: tinynn.einsum(a, [0, 1], b, [1, 2], [2, 0]), [(2, 3), (3, 2)], "normal"),
    ("einsum_scalar_operand", lambda s, v: tinynn.einsum(",i->i", s, v), [(), (3,)], "normal"),
]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=[entry[0] for entry in OPS])
def test_gradcheck(name, fn, shapes, domain, device):
    check_op(fn, shapes, domain, device)


# ============================================================================ einsum properties

LABELS = "abcdA"


@st.composite
def einsum_cases(draw):
    """A random equation over a few labels (repeats inside one operand allowed), the shapes
    of its operands, and an implicit or explicit output."""
    sizes = {label: draw(st.integers(1, 3)) for label in LABELS}
    count = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(LABELS), min_size=0, max_size=3)) for _ in range(count)]
    used = sorted({label for term in terms for label in term})
    lhs = ",".join("".join(term) for term in terms)
    if draw(st.booleans()):
        equation = lhs
    else:
        output = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
        equation = lhs + "->" + "".join(output)
    shapes = [tuple(sizes[label] for label in term) for term in terms]
    return equation, shapes


@PROPERTY
@given(case=einsum_cases(), seed=st.integers(0, 2 ** 16))
def test_property_einsum_matches_numpy_and_gradchecks(device, case, seed):
    equation, shapes = case
    operands = make_inputs(shapes, "normal", np.float64, seed=seed, device=device)
    out = tinynn.einsum(equation, *operands)
    expected = np.einsum(equation, *[values(t) for t in operands])
    assert out.shape == expected.shape
    np.testing.assert_allclose(values(out), expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda *ts: tinynn.einsum(equation, *ts), operands)


@PROPERTY
@given(batch=st.lists(st.integers(1, 3), min_size=0, max_size=2), data=st.data())
def test_property_einsum_ellipsis_batch_matmul(device, batch, data):
    """'...ij,...jk' with batch shapes that broadcast (a 1 on either side, or missing dims)."""
    other = [data.draw(st.sampled_from([1, n])) for n in batch][data.draw(st.integers(0, len(batch))):]
    i, j, k = (data.draw(st.integers(1, 3)) for _ in range(3))
    a, b = make_inputs([(*batch, i, j), (*other, j, k)], "normal", np.float64, device=device)
    out = tinynn.einsum("...ij,...jk", a, b)
    np.testing.assert_allclose(values(out), np.matmul(values(a), values(b)), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x, y: tinynn.einsum("...ij,...jk->...ik", x, y), [a, b])


@PROPERTY
@given(n=st.integers(1, 4), m=st.integers(1, 4), p=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_property_matrix_products_agree(device, n, m, p, seed):
    """mm, matmul, einsum, addmm with beta=0, and mv / dot column by column give one answer."""
    a, b = make_inputs([(n, m), (m, p)], "normal", np.float64, seed=seed, device=device)
    expected = values(a) @ values(b)
    for out in (tinynn.mm(a, b), a @ b, tinynn.einsum("ij,jk->ik", a, b),
                tinynn.addmm(tinynn.zeros(n, p, dtype=tinynn.float64, device=device), a, b),
                tinynn.stack([tinynn.mv(a, col) for col in b.unbind(1)], 1),
                tinynn.bmm(a.unsqueeze(0), b.unsqueeze(0))[0]):
        np.testing.assert_allclose(values(out), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(values(tinynn.dot(a[0], b[:, 0])), expected[0, 0], rtol=1e-10, atol=1e-12)
