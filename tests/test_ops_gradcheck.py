"""Finite-difference gradient checks (float64, random upstream gradient) for every op.

One table, ``OPS``, lists each differentiable op with the shapes and value domain of its
inputs. Every entry is gradchecked in float64 and run once in float32 to check that no
output or gradient silently turns into float64. Kinks (relu/abs at 0, max ties) are kept
away from by the input domains; the behaviour at the kinks is tested separately below.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tinynn
import tinynn.nn.functional as F
from tinynn.autograd import gradcheck

from opcheck import make_inputs

# ---------------------------------------------------------------------------- inputs


MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
COND = np.array([[True, False, False, True], [False, True, True, False], [True, True, False, False]])


def _inplace_add_on_nonleaf(a, b):
    h = a * 1.5  # a non-leaf: += records a new node instead of writing the array
    h += b
    h *= b
    return h


# (id, fn, input shapes, domain(s))
OPS = [
    # arithmetic
    ("add", lambda a, b: a + b, [(3, 4), (3, 4)], "normal"),
    ("add_broadcast", lambda a, b: a + b, [(3, 1, 4), (2, 4)], "normal"),
    ("add_scalar", lambda a: a + 2, [(3, 4)], "normal"),
    ("radd_scalar", lambda a: 2.5 + a, [(3, 4)], "normal"),
    ("add_method_alpha", lambda a, b: a.add(b, alpha=3.0), [(3, 4), (4,)], "normal"),
    ("sub", lambda a, b: a - b, [(3, 4), (3, 4)], "normal"),
    ("sub_broadcast", lambda a, b: a - b, [(4,), (3, 1)], "normal"),
    ("sub_scalar", lambda a: a - 1.5, [(3, 4)], "normal"),
    ("rsub_scalar", lambda a: 1.5 - a, [(3, 4)], "normal"),
    ("mul", lambda a, b: a * b, [(3, 4), (3, 4)], "normal"),
    ("mul_broadcast", lambda a, b: a * b, [(2, 1, 3), (4, 1)], "normal"),
    ("mul_0d", lambda a, b: a * b, [(), (3, 2)], "normal"),
    ("mul_scalar", lambda a: a * 3.0, [(3, 4)], "normal"),
    ("rmul_scalar", lambda a: -2 * a, [(3, 4)], "normal"),
    ("div", lambda a, b: a / b, [(3, 4), (3, 4)], ["normal", "nonzero"]),
    ("div_broadcast", lambda a, b: a / b, [(3, 1), (1, 4)], ["normal", "nonzero"]),
    ("div_scalar", lambda a: a / 4, [(3, 4)], "normal"),
    ("rdiv_scalar", lambda a: 3.0 / a, [(3, 4)], "nonzero"),
    ("pow_int", lambda a: a ** 3, [(3, 4)], "normal"),
    ("pow_float", lambda a: a ** 0.5, [(3, 4)], "positive"),
    ("pow_negative", lambda a: a ** -1.5, [(3, 4)], "positive"),
    ("pow_zero", lambda a: a ** 0, [(3,)], "normal"),
    ("pow_method", lambda a: a.pow(2), [(3, 4)], "normal"),
    ("pow_tensor", lambda a, b: a ** b, [(3, 4), (3, 4)], ["positive", "normal"]),
    ("pow_tensor_broadcast", lambda a, b: a ** b, [(3, 4), (4,)], ["positive", "normal"]),
    ("rpow_float", lambda a: 2.0 ** a, [(3, 4)], "normal"),
    ("rpow_int", lambda a: 3 ** a, [(3, 4)], "normal"),
    ("neg", lambda a: -a, [(3, 4)], "normal"),
    ("inplace_on_nonleaf", _inplace_add_on_nonleaf, [(3, 4), (3, 4)], "normal"),
    # math
    ("exp", lambda a: a.exp(), [(3, 4)], "normal"),
    ("log", lambda a: a.log(), [(3, 4)], "positive"),
    ("sqrt", lambda a: a.sqrt(), [(3, 4)], "positive"),
    ("abs", lambda a: a.abs(), [(3, 4)], "nonzero"),
    ("abs_builtin", lambda a: abs(a), [(3, 4)], "nonzero"),
    ("clamp_both", lambda a: a.clamp(-0.5, 0.5), [(4, 5)], "normal"),
    ("clamp_min", lambda a: a.clamp(min=0.1), [(4, 5)], "normal"),
    ("clamp_max", lambda a: tinynn.clamp(a, max=-0.2), [(4, 5)], "normal"),
    ("maximum", lambda a, b: tinynn.maximum(a, b), [(3, 4), (3, 4)], "normal"),
    ("maximum_broadcast", lambda a, b: a.maximum(b), [(3, 1), (4,)], "normal"),
    ("minimum", lambda a, b: tinynn.minimum(a, b), [(3, 4), (3, 4)], "normal"),
    ("max_binary", lambda a, b: tinynn.max(a, b), [(2, 3), (2, 3)], "normal"),
    ("min_binary", lambda a, b: a.min(b), [(2, 3), (2, 3)], "normal"),
    # activations
    ("relu", lambda a: a.relu(), [(3, 4)], "nonzero"),
    ("relu_F", lambda a: F.relu(a), [(3, 4)], "nonzero"),
    ("sigmoid", lambda a: a.sigmoid(), [(3, 4)], "normal"),
    ("sigmoid_large", lambda a: (a * 8).sigmoid(), [(3, 4)], "normal"),
    ("tanh", lambda a: tinynn.tanh(a), [(3, 4)], "normal"),
    ("softmax_dim1", lambda a: a.softmax(1), [(3, 4)], "normal"),
    ("softmax_dim0", lambda a: tinynn.softmax(a, 0), [(3, 4)], "normal"),
    ("softmax_3d_last", lambda a: F.softmax(a, dim=-1), [(2, 3, 4)], "normal"),
    ("softmax_1d", lambda a: a.softmax(0), [(5,)], "normal"),
    ("log_softmax_dim1", lambda a: a.log_softmax(1), [(3, 4)], "normal"),
    ("log_softmax_dim0", lambda a: tinynn.log_softmax(a, 0), [(3, 4)], "normal"),
    ("log_softmax_3d_mid", lambda a: F.log_softmax(a, dim=1), [(2, 3, 4)], "normal"),
    # matmul
    ("matmul_1d_1d", lambda a, b: a @ b, [(4,), (4,)], "normal"),
    ("matmul_1d_2d", lambda a, b: a @ b, [(4,), (4, 3)], "normal"),
    ("matmul_2d_1d", lambda a, b: a @ b, [(3, 4), (4,)], "normal"),
    ("matmul_2d_2d", lambda a, b: a.matmul(b), [(3, 4), (4, 2)], "normal"),
    ("matmul_batched", lambda a, b: a @ b, [(2, 3, 4), (2, 4, 2)], "normal"),
    ("matmul_batched_2d", lambda a, b: tinynn.matmul(a, b), [(2, 3, 4), (4, 2)], "normal"),
    ("matmul_broadcast_batch", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], "normal"),
    ("matmul_1d_3d", lambda a, b: a @ b, [(4,), (2, 4, 3)], "normal"),
    ("matmul_3d_1d", lambda a, b: a @ b, [(2, 3, 4), (4,)], "normal"),
    ("mm", lambda a, b: tinynn.mm(a, b), [(3, 4), (4, 2)], "normal"),
    # linear
    ("linear_bias", lambda x, w, b: F.linear(x, w, b), [(5, 4), (3, 4), (3,)], "normal"),
    ("linear_no_bias", lambda x, w: F.linear(x, w), [(5, 4), (3, 4)], "normal"),
    ("linear_1d", lambda x, w, b: F.linear(x, w, b), [(4,), (3, 4), (3,)], "normal"),
    ("linear_3d", lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (3, 4), (3,)], "normal"),
    ("linear_3d_no_bias", lambda x, w: F.linear(x, w), [(2, 3, 4), (3, 4)], "normal"),
    # reductions
    ("sum_all", lambda a: a.sum(), [(3, 4)], "normal"),
    ("sum_dim", lambda a: a.sum(1), [(3, 4)], "normal"),
    ("sum_negdim", lambda a: a.sum(dim=-2), [(2, 3, 4)], "normal"),
    ("sum_tuple", lambda a: a.sum((0, 2)), [(2, 3, 4)], "normal"),
    ("sum_keepdim", lambda a: a.sum(1, keepdim=True), [(2, 3, 4)], "normal"),
    ("sum_tuple_keepdim", lambda a: tinynn.sum(a, dim=(0, 2), keepdim=True), [(2, 3, 4)], "normal"),
    ("sum_0d", lambda a: a.sum(), [()], "normal"),
    ("mean_all", lambda a: a.mean(), [(3, 4)], "normal"),
    ("mean_dim", lambda a: a.mean(0), [(3, 4)], "normal"),
    ("mean_tuple", lambda a: tinynn.mean(a, (1, 2)), [(2, 3, 4)], "normal"),
    ("mean_keepdim", lambda a: a.mean(-1, keepdim=True), [(2, 3, 4)], "normal"),
    ("mean_tuple_keepdim", lambda a: a.mean((0, 1), keepdim=True), [(2, 3, 4)], "normal"),
    ("max_all", lambda a: a.max(), [(3, 4)], "distinct"),
    ("min_all", lambda a: tinynn.min(a), [(3, 4)], "distinct"),
    ("max_dim", lambda a: a.max(1).values, [(3, 4)], "distinct"),
    ("max_dim_keepdim", lambda a: a.max(dim=0, keepdim=True)[0], [(3, 4)], "distinct"),
    ("max_dim_3d", lambda a: tinynn.max(a, -1).values, [(2, 3, 4)], "distinct"),
    ("min_dim", lambda a: a.min(1).values, [(3, 4)], "distinct"),
    ("min_dim_keepdim", lambda a: a.min(dim=-1, keepdim=True).values, [(2, 3, 4)], "distinct"),
    # shapes
    ("reshape", lambda a: a.reshape(4, 3), [(3, 4)], "normal"),
    ("reshape_tuple_infer", lambda a: tinynn.reshape(a, (-1, 2)), [(3, 4)], "normal"),
    ("view", lambda a: a.view(12), [(3, 4)], "normal"),
    ("view_as", lambda a, b: a.view_as(b) * b, [(3, 4), (2, 6)], "normal"),
    ("flatten", lambda a: a.flatten(), [(2, 3, 4)], "normal"),
    ("flatten_start", lambda a: tinynn.flatten(a, 1), [(2, 3, 4)], "normal"),
    ("flatten_range", lambda a: a.flatten(0, 1), [(2, 3, 4)], "normal"),
    ("squeeze", lambda a: a.squeeze(), [(3, 1, 4, 1)], "normal"),
    ("squeeze_dim", lambda a: a.squeeze(1), [(3, 1, 4, 1)], "normal"),
    ("unsqueeze", lambda a: a.unsqueeze(1), [(3, 4)], "normal"),
    ("unsqueeze_neg", lambda a: tinynn.unsqueeze(a, -1), [(3, 4)], "normal"),
    ("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 4)], "normal"),
    ("permute_tuple", lambda a: tinynn.permute(a, (1, 2, 0)), [(2, 3, 4)], "normal"),
    ("transpose", lambda a: a.transpose(0, 2), [(2, 3, 4)], "normal"),
    ("transpose_neg", lambda a: tinynn.transpose(a, -1, -2), [(2, 3, 4)], "normal"),
    ("T", lambda a: a.T, [(3, 4)], "normal"),
    ("t", lambda a: a.t(), [(3, 4)], "normal"),
    ("expand", lambda a: a.expand(2, 3, 4), [(3, 1)], "normal"),
    ("expand_keep", lambda a: a.expand(-1, 4), [(3, 1)], "normal"),
    ("expand_as", lambda a, b: a.expand_as(b) * b, [(4,), (3, 4)], "normal"),
    ("contiguous", lambda a: a.transpose(0, 1).contiguous(), [(3, 4)], "normal"),
    # indexing
    ("index_int", lambda a: a[1], [(3, 4)], "normal"),
    ("index_neg_int", lambda a: a[-1, 2], [(3, 4)], "normal"),
    ("index_slice", lambda a: a[1:3], [(4, 3)], "normal"),
    ("index_slice_step", lambda a: a[:, ::2], [(3, 5)], "normal"),
    ("index_negative_step", lambda a: a[::-1, 3:0:-2], [(3, 5)], "normal"),
    ("index_none", lambda a: a[None, :, 1, None], [(3, 4)], "normal"),
    ("index_ellipsis", lambda a: a[..., 1], [(2, 3, 4)], "normal"),
    ("index_ellipsis_mid", lambda a: a[0, ..., 1:], [(2, 3, 4)], "normal"),
    ("index_list_repeated", lambda a: a[[0, 2, 0, 0]], [(3, 4)], "normal"),
    ("index_tensor_repeated", lambda a: a[tinynn.tensor([1, 1, 2, 1], device=a.device)], [(3, 4)], "normal"),
    ("index_2d_arrays_repeated", lambda a: a[[0, 0, 2, 0], [1, 1, 3, 1]], [(3, 4)], "normal"),
    ("index_slice_and_array", lambda a: a[1:, [0, 0, 3]], [(3, 4)], "normal"),
    ("index_array_2d_shape", lambda a: a[np.array([[0, 1], [1, 1]])], [(3, 4)], "normal"),
    ("index_bool_mask", lambda a: a[MASK], [(3, 4)], "normal"),
    ("index_bool_tensor", lambda a: a[tinynn.tensor(MASK, device=a.device)], [(3, 4)], "normal"),
    ("index_bool_rows", lambda a: a[np.array([True, False, True])], [(3, 4)], "normal"),
    # joining, selecting, casting
    ("cat_dim0", lambda a, b: tinynn.cat([a, b]), [(2, 3), (4, 3)], "normal"),
    ("cat_dim1", lambda a, b, c: tinynn.cat((a, b, c), dim=1), [(2, 3), (2, 1), (2, 2)], "normal"),
    ("cat_negdim", lambda a, b: tinynn.cat([a, b], -1), [(2, 3, 2), (2, 3, 1)], "normal"),
    ("cat_same_tensor", lambda a: tinynn.cat([a, a * 2, a]), [(2, 3)], "normal"),
    ("stack_dim0", lambda a, b: tinynn.stack([a, b]), [(2, 3), (2, 3)], "normal"),
    ("stack_dim1", lambda a, b, c: tinynn.stack((a, b, c), dim=1), [(2, 3), (2, 3), (2, 3)], "normal"),
    ("stack_negdim", lambda a, b: tinynn.stack([a, b], -1), [(2, 3), (2, 3)], "normal"),
    ("where", lambda a, b: tinynn.where(tinynn.tensor(COND, device=a.device), a, b), [(3, 4), (3, 4)], "normal"),
    ("where_broadcast", lambda a, b: tinynn.where(tinynn.tensor(COND[:, :1], device=a.device), a, b),
     [(1, 4), (3, 4)], "normal"),
    ("where_scalar", lambda a: tinynn.where(tinynn.tensor(COND, device=a.device), a, 0.0), [(3, 4)], "normal"),
    ("clone", lambda a: a.clone() * a, [(3, 4)], "normal"),
    ("to_same_dtype", lambda a: a.to(a.dtype).to(a).type(a.dtype) * 2, [(3, 4)], "normal"),
]
OP_IDS = [entry[0] for entry in OPS]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=OP_IDS)
def test_gradcheck_float64(name, fn, shapes, domain):
    inputs = make_inputs(shapes, domain, np.float64)
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=OP_IDS)
def test_float32_stays_float32(name, fn, shapes, domain):
    """float32 in -> float32 out and float32 gradients: no silent upcast anywhere."""
    inputs = make_inputs(shapes, domain, np.float32)
    out = fn(*inputs)
    assert out.dtype == tinynn.float32, f"{name}: output is {out.dtype}"
    upstream = tinynn.tensor(np.random.default_rng(1).standard_normal(out.shape).astype(np.float32))
    (out * upstream).sum().backward()
    for i, x in enumerate(inputs):
        assert x.grad is not None, f"{name}: input {i} got no gradient"
        assert x.grad.dtype == x.dtype == tinynn.float32, f"{name}: grad of input {i} is {x.grad.dtype}"
        assert x.grad.shape == x.shape


def test_cast_gradients():
    """to(dtype) casts: the gradient comes back in the input's dtype, with the right values."""
    x = tinynn.tensor([1.5, -2.0, 3.25], requires_grad=True)
    y = x.to(tinynn.float64)
    assert y.dtype == tinynn.float64 and y.grad_fn is not None
    (y * tinynn.tensor([1.0, 2.0, 3.0], dtype=tinynn.float64)).sum().backward()
    assert x.grad.dtype == tinynn.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])

    z = tinynn.tensor([1.0, 2.0], dtype=tinynn.float64, requires_grad=True)
    w = z.float()
    assert w.dtype == tinynn.float32
    (w * w).sum().backward()
    assert z.grad.dtype == tinynn.float64
    np.testing.assert_allclose(z.grad.numpy(), [2.0, 4.0])


def test_gradcheck_cast_roundtrip():
    # float64 -> float32 -> float64 is linear: a coarse eps is exact up to float32 rounding.
    x = make_inputs([(3, 4)], "normal", np.float64)[0]
    assert gradcheck(lambda a: a.to(tinynn.float32).double() * 3, [x], eps=1e-2, atol=1e-3)


def test_cast_to_integer_is_not_differentiable():
    x = tinynn.tensor([1.7, -2.2], requires_grad=True)
    y = x.long()
    assert y.dtype == tinynn.int64 and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), [1, -2])


# ---------------------------------------------------------------------------- hypothesis

BINARY_OPS = {
    "add": (lambda a, b: a + b, np.add, ["normal", "normal"]),
    "sub": (lambda a, b: a - b, np.subtract, ["normal", "normal"]),
    "mul": (lambda a, b: a * b, np.multiply, ["normal", "normal"]),
    "div": (lambda a, b: a / b, np.divide, ["normal", "nonzero"]),
    "pow": (lambda a, b: a ** b, np.power, ["positive", "normal"]),
    "maximum": (lambda a, b: tinynn.maximum(a, b), np.maximum, ["normal", "normal"]),
    "minimum": (lambda a, b: tinynn.minimum(a, b), np.minimum, ["normal", "normal"]),
}
broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(shapes=broadcast_pairs, op=st.sampled_from(sorted(BINARY_OPS)), seed=st.integers(0, 2 ** 16))
def test_broadcasting_binary_ops(shapes, op, seed):
    """Any pair of broadcast-compatible shapes: the value matches NumPy, the gradients
    are reduced back to each input's shape and pass the finite-difference check."""
    fn, reference, domains = BINARY_OPS[op]
    a, b = make_inputs(shapes.input_shapes, domains, np.float64, seed)
    out = fn(a, b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.detach().numpy(), reference(a.detach().numpy(), b.detach().numpy()))
    assert gradcheck(fn, [a, b])
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(shapes=broadcast_pairs, seed=st.integers(0, 2 ** 16))
def test_broadcasting_where(shapes, seed):
    a, b = make_inputs(shapes.input_shapes, "normal", np.float64, seed)
    cond = np.random.default_rng(seed).random(shapes.result_shape) > 0.5
    fn = lambda x, y: tinynn.where(tinynn.tensor(cond), x, y)  # noqa: E731
    np.testing.assert_allclose(fn(a, b).detach().numpy(), np.where(cond, a.detach().numpy(), b.detach().numpy()))
    assert gradcheck(fn, [a, b])


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(shapes=mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, min_side=1, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_broadcasting_matmul(shapes, seed):
    a, b = make_inputs(shapes.input_shapes, "normal", np.float64, seed)
    out = a @ b
    np.testing.assert_allclose(out.detach().numpy(), a.detach().numpy() @ b.detach().numpy())
    assert gradcheck(lambda x, y: x @ y, [a, b])


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), data=st.data())
def test_reductions_over_any_dims(shape, data):
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    keepdim = data.draw(st.booleans())
    x = make_inputs([tuple(shape)], "normal", np.float64)[0]
    ref = x.detach().numpy()
    for method, reference in (("sum", np.sum), ("mean", np.mean)):
        out = getattr(x, method)(tuple(dims), keepdim=keepdim)
        np.testing.assert_allclose(out.detach().numpy(), reference(ref, axis=tuple(dims), keepdims=keepdim))
        assert gradcheck(lambda t, m=method: getattr(t, m)(tuple(dims), keepdim=keepdim), [x])


# ---------------------------------------------------------------------------- kinks and ties


def grad_of(fn, values, dtype=np.float64):
    x = tinynn.tensor(np.array(values, dtype=dtype), requires_grad=True)
    out = fn(x)
    out.backward(tinynn.ones_like(out))
    return x.grad.numpy()


def test_relu_gradient_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(lambda x: x.relu(), [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(F.relu, [0.0]), [0.0])


def test_abs_gradient_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(lambda x: x.abs(), [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])


def test_clamp_gradient_at_the_bounds_passes():
    # PyTorch's clamp backward uses min <= x <= max (inclusive).
    g = grad_of(lambda x: x.clamp(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_full_max_splits_gradient_evenly_over_ties():
    np.testing.assert_allclose(grad_of(lambda x: x.max(), [1.0, 3.0, 3.0, 2.0]), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(grad_of(lambda x: x.min(), [[1.0, 3.0], [1.0, 1.0]]),
                               [[1 / 3, 0], [1 / 3, 1 / 3]])


def test_full_max_tie_split_keeps_float32():
    g = grad_of(lambda x: x.max(), [2.0, 2.0, 1.0], dtype=np.float32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0])


def test_max_dim_sends_gradient_to_first_index():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 1.0], [5.0, 0.0, 5.0]]
    values, indices = tinynn.tensor(x).max(1)
    np.testing.assert_array_equal(indices.numpy(), [1, 0, 0])
    np.testing.assert_array_equal(values.numpy(), [3.0, 2.0, 5.0])
    g = grad_of(lambda t: t.max(1).values, x)
    np.testing.assert_array_equal(g, [[0, 1, 0], [1, 0, 0], [1, 0, 0]])
    g = grad_of(lambda t: t.min(dim=0, keepdim=True).values, x)
    np.testing.assert_array_equal(g, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])


def test_argmax_argmin_return_first_index_on_ties():
    t = tinynn.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]])
    np.testing.assert_array_equal(t.argmax(1).numpy(), [1, 0])
    np.testing.assert_array_equal(t.argmin(1).numpy(), [0, 2])
    assert t.argmax().item() == 1  # over the flattened tensor
    assert tinynn.tensor([0.0, -1.0, -1.0]).argmin().item() == 1


def test_maximum_tie_splits_gradient_evenly():
    a = tinynn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tinynn.tensor([1.0, 5.0, 0.0], requires_grad=True)
    tinynn.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_repeated_integer_indices_accumulate():
    g = grad_of(lambda x: x[[0, 2, 0, 0]], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])
    g = grad_of(lambda x: x[tinynn.tensor([[1, 1], [1, 0]])], [1.0, 2.0])
    np.testing.assert_array_equal(g, [1.0, 3.0])


def test_boolean_mask_gradient_lands_on_selected_elements():
    g = grad_of(lambda x: x[tinynn.tensor(MASK)] * 2, np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(g, MASK * 2.0)


def test_pow_tensor_exponent_with_zero_base():
    # d(a^b)/db = a^b log a; PyTorch returns 0 where a == 0 (not nan).
    a = tinynn.tensor([0.0, 2.0], dtype=tinynn.float64)
    b = tinynn.tensor([2.0, 3.0], dtype=tinynn.float64, requires_grad=True)
    (a ** b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8 * np.log(2.0)])


# ---------------------------------------------------------------------------- on every backend


def test_ops_and_gradients_on_device(device):
    """A few ops end to end on each backend (the fake CuPy catches host-array leaks)."""
    rng = np.random.default_rng(0)
    xa, wa = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    x = tinynn.tensor(xa, dtype=tinynn.float32, device=device, requires_grad=True)
    w = tinynn.tensor(wa, dtype=tinynn.float32, device=device, requires_grad=True)
    out = (F.linear(x, w).relu() + x[:, :2] * 2).softmax(1)[[0, 0, 3]].max(1).values.sum()
    out.backward()
    assert x.grad.device == device and w.grad.device == device
    assert x.grad.dtype == tinynn.float32

    # the same on the CPU with NumPy data
    xc, wc = tinynn.tensor(xa, requires_grad=True), tinynn.tensor(wa, requires_grad=True)
    ref = (F.linear(xc, wc).relu() + xc[:, :2] * 2).softmax(1)[[0, 0, 3]].max(1).values.sum()
    ref.backward()
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5)
    np.testing.assert_allclose(x.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad.cpu().numpy(), wc.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_gradcheck_on_device(device):
    x = tinynn.tensor(np.random.default_rng(0).standard_normal((3, 4)), device=device, requires_grad=True)
    assert gradcheck(lambda a: (a.exp() * a[[1, 1, 0]].sum(0)).log_softmax(1), [x])


@pytest.fixture
def accelerator(monkeypatch):
    """The GPU when CuPy finds one, else conftest's fake CuPy backend (no CPU run: the
    CPU is the reference the device results are compared with)."""
    if tinynn.cuda.is_available():
        return tinynn.device("cuda")
    import fake_cupy
    from tinynn import backend
    monkeypatch.setattr(backend, "_gpu", fake_cupy.make_backend())
    monkeypatch.setattr(backend, "_gpu_error", None)
    return tinynn.device("cuda")


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=OP_IDS)
def test_every_op_on_device(name, fn, shapes, domain, accelerator):
    """Each op's value and gradients on the device equal the CPU ones (float32)."""
    device = accelerator
    cpu_inputs = make_inputs(shapes, domain, np.float32)
    dev_inputs = [x.detach().to(device).requires_grad_() for x in cpu_inputs]
    results = []
    for inputs in (cpu_inputs, dev_inputs):
        out = fn(*inputs)
        upstream = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        (out * tinynn.tensor(upstream, device=out.device)).sum().backward()
        results.append((out, inputs))
    (cpu_out, _), (dev_out, _) = results
    assert dev_out.device == device and dev_out.dtype == cpu_out.dtype
    np.testing.assert_allclose(dev_out.detach().cpu().numpy(), cpu_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    for c, d in zip(cpu_inputs, dev_inputs):
        assert d.grad.device == device
        np.testing.assert_allclose(d.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-5, atol=1e-6)
