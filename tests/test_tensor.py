"""Tensor semantics (DESIGN.md section 3): creation, attributes, conversion, in-place
updates, shapes, comparisons, reductions, indexing, top-level functions, repr."""
import numpy as np
import pytest

import tinynn


# ---------------------------------------------------------------------------- creation


def test_tensor_infers_pytorch_dtypes():
    assert tinynn.tensor([1.0]).dtype == tinynn.float32
    assert tinynn.tensor(2.5).dtype == tinynn.float32 and tinynn.tensor(2.5).shape == ()
    assert tinynn.tensor([1, 2]).dtype == tinynn.int64
    assert tinynn.tensor([1, 2.5]).dtype == tinynn.float32
    assert tinynn.tensor([True, False]).dtype == tinynn.bool
    assert tinynn.tensor([]).dtype == tinynn.float32
    assert tinynn.tensor(np.zeros(3)).dtype == tinynn.float64  # a float64 ndarray stays float64
    assert tinynn.tensor(np.zeros(3, dtype=np.int32)).dtype == tinynn.int32
    assert tinynn.tensor(np.float64(1.5)).dtype == tinynn.float64
    assert tinynn.tensor([[1, 2]], dtype=tinynn.float64).dtype == tinynn.float64


def test_dtypes_are_numpy_dtypes():
    assert tinynn.float32 == np.dtype("float32") and tinynn.float == tinynn.float32
    assert tinynn.float64 == np.dtype("float64") and tinynn.double == tinynn.float64
    assert tinynn.int64 == np.dtype("int64") and tinynn.long == tinynn.int64
    assert tinynn.bool == np.dtype("bool")


def test_tensor_copies_but_from_numpy_and_as_tensor_share():
    a = np.arange(3.0)
    t = tinynn.tensor(a)
    a[0] = 100
    assert t[0].item() == 0.0
    s = tinynn.from_numpy(a)
    a[1] = 7
    assert s[1].item() == 7.0 and s.array is a
    assert tinynn.as_tensor(a).array is a
    assert tinynn.as_tensor(s) is s
    u = tinynn.tensor(s)  # from a Tensor: a copy
    assert u.array is not s.array and np.array_equal(u.numpy(), s.numpy())


def test_tensor_from_list_of_tensors():
    t = tinynn.tensor([tinynn.tensor(1.0), tinynn.tensor(2.0)])
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


@pytest.mark.parametrize("make", [lambda: tinynn.zeros(2, 3), lambda: tinynn.zeros((2, 3)),
                                  lambda: tinynn.zeros([2, 3])])
def test_zeros_accepts_sizes_tuples_lists(make):
    t = make()
    assert t.shape == (2, 3) and t.dtype == tinynn.float32 and not t.numpy().any()


def test_filled_creation_functions():
    o = tinynn.ones(2, dtype=tinynn.int64)
    assert o.dtype == tinynn.int64 and o.tolist() == [1, 1]
    f = tinynn.full((2, 2), 1.5)
    assert f.dtype == tinynn.float32 and f.tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert tinynn.full((1,), 3).dtype == tinynn.int64
    base = tinynn.tensor([[1, 2]], dtype=tinynn.float64)
    assert tinynn.zeros_like(base).dtype == tinynn.float64 and tinynn.zeros_like(base).shape == (1, 2)
    assert tinynn.ones_like(base).tolist() == [[1.0, 1.0]]
    assert tinynn.ones_like(base, dtype=tinynn.float32).dtype == tinynn.float32
    assert tinynn.full_like(base, 7).tolist() == [[7.0, 7.0]]
    e = tinynn.eye(3)
    assert e.dtype == tinynn.float32
    np.testing.assert_array_equal(e.numpy(), np.eye(3))
    np.testing.assert_allclose(tinynn.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    z = tinynn.zeros(3, requires_grad=True)
    assert z.requires_grad and z.is_leaf


def test_arange():
    a = tinynn.arange(5)
    assert a.dtype == tinynn.int64 and a.tolist() == [0, 1, 2, 3, 4]
    b = tinynn.arange(1, 2, 0.25)
    assert b.dtype == tinynn.float32
    np.testing.assert_allclose(b.numpy(), [1.0, 1.25, 1.5, 1.75])
    c = tinynn.arange(0, 6, 2, dtype=tinynn.float64)
    assert c.dtype == tinynn.float64 and c.tolist() == [0.0, 2.0, 4.0]
    assert tinynn.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert tinynn.arange(3, device="cpu").device == "cpu"
    with pytest.raises(RuntimeError):
        tinynn.arange(0, 3, 0)


def test_random_creation_is_reproducible_and_distributed():
    tinynn.manual_seed(123)
    a = tinynn.randn(1000)
    tinynn.manual_seed(123)
    b = tinynn.randn(1000)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == tinynn.float32
    assert abs(a.numpy().mean()) < 0.15 and abs(a.numpy().std() - 1) < 0.1
    u = tinynn.rand(2000, dtype=tinynn.float64)
    assert u.dtype == tinynn.float64 and u.numpy().min() >= 0 and u.numpy().max() < 1
    assert abs(u.numpy().mean() - 0.5) < 0.05
    r = tinynn.randint(3, 7, (500,))
    assert r.dtype == tinynn.int64 and set(r.tolist()) == {3, 4, 5, 6}
    p = tinynn.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    g = tinynn.Generator().manual_seed(5)
    h = tinynn.Generator().manual_seed(5)
    np.testing.assert_array_equal(tinynn.rand(4, generator=g).numpy(), tinynn.rand(4, generator=h).numpy())
    assert tinynn.randn(2, 3, requires_grad=True).requires_grad


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tinynn.tensor([1, 2], requires_grad=True)


# ---------------------------------------------------------------------------- attributes


def test_attributes_and_sizes():
    t = tinynn.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4)
    assert t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 == t.ndim
    assert t.numel() == 24 == tinynn.numel(t)
    assert len(t) == 2
    assert t.device == tinynn.device("cpu") and str(t.device) == "cpu"
    assert t.is_leaf and t.grad is None and t.grad_fn is None and not t.requires_grad
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(3)
    with pytest.raises(TypeError):
        len(tinynn.tensor(1.0))


def test_devices():
    assert tinynn.device("numpy") == tinynn.device("cpu") == "cpu"
    assert tinynn.device("cupy") == tinynn.device("cuda:0") == tinynn.device("cuda")
    assert repr(tinynn.device("cuda:1")) == "device(type='cuda', index=1)"
    with pytest.raises(ValueError, match="unknown device"):
        tinynn.device("tpu")


def test_asking_for_cuda_without_gpu_explains_how_to_install():
    if tinynn.cuda.is_available():
        pytest.skip("a GPU is available")
    with pytest.raises(RuntimeError, match="pip install"):
        tinynn.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        tinynn.zeros(2).cuda()


def test_data_shares_the_array():
    p = tinynn.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    d = p.data
    assert d.array is p.array and not d.requires_grad and d.grad_fn is None
    p.data -= 0.1 * p.grad  # the classic manual SGD step
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6])
    assert p.is_leaf and p.requires_grad
    p.data = tinynn.tensor([5.0, 6.0])
    assert p.tolist() == [5.0, 6.0] and p.requires_grad


def test_item_tolist_numpy():
    t = tinynn.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert tinynn.tensor([3]).item() == 3 and isinstance(tinynn.tensor([3]).item(), int)
    assert tinynn.tensor(2.5).item() == 2.5 and isinstance(tinynn.tensor(2.5).item(), float)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        t.item()
    arr = t.numpy()
    assert isinstance(arr, np.ndarray) and arr is t.array  # shares memory, like torch
    assert np.asarray(t).dtype == np.float32
    assert float(tinynn.tensor([4.0])) == 4.0 and int(tinynn.tensor(3)) == 3
    r = tinynn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        r.numpy()
    assert r.detach().numpy().tolist() == [1.0]
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tinynn.tensor([1.0, 2.0]))
    assert bool(tinynn.tensor([1.0]))


def test_clone_and_detach():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.array is not x.array and c.requires_grad and c.grad_fn is not None
    d = x.detach()
    d.array[0] = 9.0  # detach shares memory
    assert x[0].item() == 9.0


def test_to_and_type_conversions():
    x = tinynn.tensor([1.7, -2.2])
    assert x.to(tinynn.float32) is x  # nothing to do
    assert x.to(tinynn.float64).dtype == tinynn.float64
    assert x.to("cpu", tinynn.float64).dtype == tinynn.float64
    assert x.to(dtype=tinynn.float64, device="cpu").dtype == tinynn.float64
    assert x.to(tinynn.zeros(1, dtype=tinynn.float64)).dtype == tinynn.float64
    assert x.double().dtype == tinynn.float64 and x.double().float().dtype == tinynn.float32
    assert x.long().tolist() == [1, -2] and x.long().dtype == tinynn.int64
    assert x.bool().tolist() == [True, True]
    assert x.cpu().device == "cpu"
    assert tinynn.tensor([1, 2]).float().dtype == tinynn.float32


# ---------------------------------------------------------------------------- in-place updates


def test_inplace_update_under_no_grad_keeps_the_leaf():
    w = tinynn.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    array, ident = w.array, id(w)
    with tinynn.no_grad():
        w -= 0.5 * w.grad
    assert id(w) == ident and w.array is array  # same leaf, same memory
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    with tinynn.no_grad():
        w += 1
        w *= 3
        w /= 2
    np.testing.assert_allclose(w.detach().numpy(), [1.5, 1.5])
    with tinynn.no_grad():
        w.add_(tinynn.ones(2), alpha=2).mul_(2).sub_(1).div_(2)
        w.zero_()
    assert w.tolist() == [0.0, 0.0] and w.array is array


def test_inplace_on_leaf_requiring_grad_raises():
    w = tinynn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf"):
        w.mul_(2)
    with pytest.raises(RuntimeError, match="in-place"):
        w.zero_()
    with pytest.raises(RuntimeError, match="autograd"):
        w[0] = 5.0
    assert w.tolist() == [1.0, 2.0]


def test_inplace_on_non_leaf_records_a_new_node():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    y = tinynn.tensor([3.0, 4.0], requires_grad=True)
    out = x * 2
    first, first_fn, first_array = out, out.grad_fn, out.array
    out += y           # the lecture's `out += self.shortcut(x)`
    out *= y
    assert out is first                                   # same object, as in torch ...
    assert out.grad_fn is not first_fn                    # ... but a new graph node
    assert first_array.tolist() == [2.0, 4.0]             # the saved old value is intact
    np.testing.assert_allclose(out.detach().numpy(), [15.0, 32.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 8.0])          # d/dx (2x + y) y = 2y
    np.testing.assert_allclose(y.grad.numpy(), [2 + 6.0, 4 + 8.0])  # 2x + 2y


def test_inplace_methods_on_non_leaf_update_the_tensor():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    alias = h
    h.add_(1).mul_(x)  # no rebinding: h itself must hold the new value
    assert h.tolist() == [3.0, 10.0] and alias.tolist() == [3.0, 10.0]
    h.sub_(x, alpha=2).div_(2)
    np.testing.assert_allclose(h.detach().numpy(), [0.5, 3.0])
    h.sum().backward()
    # h = ((2x + 1) x - 2x) / 2 = x^2 - x/2: dh/dx = 2x - 1/2
    np.testing.assert_allclose(x.grad.numpy(), [1.5, 3.5])


def test_inplace_on_non_leaf_checks_shape_and_dtype():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        h += tinynn.ones(3, 2)
    h64 = x.double() * 1
    h64 += tinynn.ones(2, requires_grad=True)  # float32 operand: stays float64
    assert h64.dtype == tinynn.float64
    h32 = x * 1
    h32 += tinynn.ones(2, dtype=tinynn.float64, requires_grad=True)
    assert h32.dtype == tinynn.float32
    h32.sum().backward()
    assert x.grad.dtype == tinynn.float32
    i = tinynn.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i += tinynn.tensor([0.5, 0.5], requires_grad=True)


def test_inplace_on_plain_tensor_updates_the_array():
    t = tinynn.tensor([1.0, 2.0])
    array = t.array
    t += 1
    t *= tinynn.tensor([2.0, 3.0])
    assert t.array is array and t.tolist() == [4.0, 9.0]
    with pytest.raises(RuntimeError, match="cast"):
        i = tinynn.tensor([1, 2])
        i += 0.5  # int64 cannot hold the float result in place (as in PyTorch)
    t[0] = 10.0
    assert t.tolist() == [10.0, 9.0]


def test_inplace_with_a_grad_requiring_operand_joins_the_graph():
    t = tinynn.tensor([1.0, 2.0])
    x = tinynn.tensor([3.0, 4.0], requires_grad=True)
    t += x
    assert t.requires_grad
    t.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------- shapes


def test_reshape_view_family():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = tinynn.tensor(a)
    assert t.reshape(6, 4).shape == (6, 4) and t.reshape((4, -1)).shape == (4, 6)
    assert t.view(-1).shape == (24,) and t.view(2, 12).shape == (2, 12)
    assert t.view_as(tinynn.zeros(4, 6)).shape == (4, 6)
    assert t.flatten().shape == (24,) and t.flatten(1).shape == (2, 12)
    assert t.flatten(0, 1).shape == (6, 4) and tinynn.tensor(1.0).flatten().shape == (1,)
    assert t.unsqueeze(0).shape == (1, 2, 3, 4) and t.unsqueeze(-1).shape == (2, 3, 4, 1)
    s = tinynn.zeros(1, 3, 1, 2)
    assert s.squeeze().shape == (3, 2) and s.squeeze(0).shape == (3, 1, 2)
    assert s.squeeze(1).shape == (1, 3, 1, 2) and s.squeeze(-2).shape == (1, 3, 2)
    np.testing.assert_array_equal(t.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.transpose(0, 2).numpy(), a.swapaxes(0, 2))
    m = tinynn.tensor(a[0])
    np.testing.assert_array_equal(m.T.numpy(), a[0].T)
    np.testing.assert_array_equal(m.t().numpy(), a[0].T)
    assert tinynn.zeros(3).T.shape == (3,)
    np.testing.assert_array_equal(tinynn.tensor([[1.0], [2.0]]).expand(2, 3).numpy(), [[1, 1, 1], [2, 2, 2]])
    assert tinynn.zeros(3, 1).expand(2, -1, 4).shape == (2, 3, 4)
    np.testing.assert_array_equal(t.reshape(4, 6).numpy(), a.reshape(4, 6))


def test_shape_errors():
    t = tinynn.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"shape '\[5, 3\]' is invalid for input of size 12"):
        t.reshape(5, 3)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        t.view(-1, -1)
    with pytest.raises(RuntimeError, match=r"view size is not compatible.*reshape"):
        t.t().view(12)
    assert t.t().reshape(12).shape == (12,)
    assert t.t().contiguous().view(12).shape == (12,)
    with pytest.raises(RuntimeError, match="expanded size"):
        t.expand(3, 5)
    with pytest.raises(RuntimeError, match="-1 is not allowed"):
        t.expand(-1, 3, 4)
    with pytest.raises(RuntimeError, match="permutation"):
        t.permute(0, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.sum(2)
    with pytest.raises(RuntimeError, match="t\\(\\) expects"):
        tinynn.zeros(2, 2, 2).t()
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        tinynn.zeros(2, 2, 2).flatten(2, 1)


def test_indexing_matches_numpy():
    a = np.arange(60.0).reshape(3, 4, 5)
    t = tinynn.tensor(a)
    mask = a[:, :, 0] > 20
    keys = [1, -1, (0, 2), slice(1, None), (slice(None), slice(None, None, -2)), (Ellipsis, 1),
            (None, 0), (1, Ellipsis, None), [2, 0, 2], ([0, 0], [1, 3]), (slice(None), [3, 3], 1), mask]
    for key in keys:
        np.testing.assert_array_equal(t[key].numpy(), a[key], err_msg=str(key))
    np.testing.assert_array_equal(t[tinynn.tensor([2, 0])].numpy(), a[[2, 0]])
    np.testing.assert_array_equal(t[tinynn.tensor(mask)].numpy(), a[mask])
    np.testing.assert_array_equal(t[t > 50].numpy(), a[a > 50])
    with pytest.raises(IndexError, match=r"shape \(3, 4, 5\)"):
        t[3]


def test_iteration_yields_rows():
    rows = list(tinynn.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]


# ---------------------------------------------------------------------------- comparisons


def test_comparisons_return_bool_tensors():
    a = tinynn.tensor([1.0, 2.0, 3.0])
    b = tinynn.tensor([3.0, 2.0, 1.0])
    cases = {"==": (a == b, [False, True, False]), "!=": (a != b, [True, False, True]),
             "<": (a < b, [True, False, False]), "<=": (a <= b, [True, True, False]),
             ">": (a > 2, [False, False, True]), ">=": (a >= 2, [False, True, True]),
             "eq": (a.eq(b), [False, True, False]), "ne": (a.ne(2.0), [True, False, True]),
             "lt": (a.lt(b), [True, False, False]), "le": (a.le(1), [True, False, False]),
             "gt": (a.gt(b), [False, False, True]), "ge": (a.ge(b), [False, True, True])}
    for name, (result, expected) in cases.items():
        assert result.dtype == tinynn.bool, name
        assert result.tolist() == expected, name
    assert (tinynn.tensor([1, 2]) == tinynn.tensor([1.0, 2.5])).tolist() == [True, False]
    assert (a > 1).sum().item() == 2
    assert tinynn.equal(a, a.clone()) and not a.equal(b)
    assert tinynn.allclose(a, a + 1e-9)


# ---------------------------------------------------------------------------- reductions


def test_reductions_match_numpy():
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    t = tinynn.tensor(a)
    np.testing.assert_allclose(t.sum().item(), a.sum(), rtol=1e-5)
    np.testing.assert_allclose(t.sum(1).numpy(), a.sum(1), rtol=1e-5)
    np.testing.assert_allclose(t.sum((0, 2), keepdim=True).numpy(), a.sum((0, 2), keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(t.mean(-1).numpy(), a.mean(-1), rtol=1e-5)
    np.testing.assert_allclose(t.mean().item(), a.mean(), rtol=1e-5, atol=1e-7)
    assert t.max().item() == a.max() and t.min().item() == a.min()
    assert t.sum().dtype == tinynn.float32 and t.mean(0).dtype == tinynn.float32
    assert t.sum(1).shape == (3, 5) and t.mean(1, keepdim=True).shape == (3, 1, 5)


def test_max_min_with_dim_return_named_values_and_indices():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], dtype=np.float32)
    t = tinynn.tensor(a)
    result = t.max(1)
    assert result.values.tolist() == [5.0, 7.0] and result.indices.tolist() == [1, 0]
    values, indices = t.max(dim=0, keepdim=True)
    assert values.shape == (1, 3) and indices.shape == (1, 3)
    assert values.tolist() == [[7.0, 5.0, 3.0]] and indices.tolist() == [[1, 0, 1]]
    assert indices.dtype == tinynn.int64
    r = tinynn.min(t, 1)
    assert r.values.tolist() == [1.0, 0.0] and r.indices.tolist() == [0, 1]
    assert r[0].tolist() == r.values.tolist()  # a tuple, too
    assert t.max(-1).values.tolist() == [5.0, 7.0]


def test_argmax_argmin():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    t = tinynn.tensor(a)
    assert t.argmax().item() == 3 and t.argmin().item() == 4
    assert t.argmax().dtype == tinynn.int64 and t.argmax().shape == ()
    assert t.argmax(1).tolist() == [1, 0] and tinynn.argmax(t, dim=0).tolist() == [1, 0, 1]
    assert t.argmin(dim=1, keepdim=True).tolist() == [[0], [1]]
    assert tinynn.argmin(t, 0).tolist() == [0, 1, 0]


def test_integer_and_bool_sums_are_int64():
    assert tinynn.tensor([True, True, False]).sum().dtype == tinynn.int64
    assert tinynn.tensor([True, True, False]).sum().item() == 2
    assert tinynn.tensor(np.array([1, 2], dtype=np.int32)).sum().dtype == tinynn.int64
    with pytest.raises(RuntimeError, match="mean"):
        tinynn.tensor([1, 2]).mean()
    assert tinynn.tensor([1, 2]).mean(dtype=tinynn.float64).item() == 1.5


# ---------------------------------------------------------------------------- top-level functions


def test_top_level_functions_match_methods():
    x = tinynn.tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))
    pos = x.abs() + 0.5
    pairs = [
        (tinynn.sigmoid(x), 1 / (1 + np.exp(-x.numpy()))),
        (tinynn.relu(x), np.maximum(x.numpy(), 0)),
        (tinynn.tanh(x), np.tanh(x.numpy())),
        (tinynn.exp(x), np.exp(x.numpy())),
        (tinynn.log(pos), np.log(pos.numpy())),
        (tinynn.sqrt(pos), np.sqrt(pos.numpy())),
        (tinynn.abs(x), np.abs(x.numpy())),
        (tinynn.clamp(x, -0.5, 0.5), np.clip(x.numpy(), -0.5, 0.5)),
        (tinynn.sum(x, 1), x.numpy().sum(1)),
        (tinynn.mean(x), x.numpy().mean()),
        (tinynn.max(x), x.numpy().max()),
        (tinynn.matmul(x, x.T), x.numpy() @ x.numpy().T),
        (tinynn.flatten(x), x.numpy().reshape(-1)),
        (tinynn.softmax(x, 1), np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)),
        (tinynn.log_softmax(x, dim=1),
         x.numpy() - np.log(np.exp(x.numpy()).sum(1, keepdims=True))),
        (tinynn.argmax(x, 1), x.numpy().argmax(1)),
        (tinynn.maximum(x, pos - 1), np.maximum(x.numpy(), pos.numpy() - 1)),
    ]
    for got, expected in pairs:
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert tinynn.is_tensor(x) and not tinynn.is_tensor(x.numpy())


def test_cat_stack_where():
    a, b = tinynn.tensor([[1.0, 2.0]]), tinynn.tensor([[3.0, 4.0]])
    assert tinynn.cat([a, b]).tolist() == [[1, 2], [3, 4]]
    assert tinynn.cat([a, b], dim=1).tolist() == [[1, 2, 3, 4]]
    assert tinynn.stack([a, b]).shape == (2, 1, 2)
    assert tinynn.stack([a, b], dim=-1).shape == (1, 2, 2)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        tinynn.cat([a, tinynn.zeros(1, 3)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        tinynn.stack([a, tinynn.zeros(1, 3)])
    w = tinynn.where(tinynn.tensor([True, False]), tinynn.tensor([1.0, 2.0]), tinynn.tensor([3.0, 4.0]))
    assert w.tolist() == [1.0, 4.0]
    assert tinynn.where(tinynn.tensor([1.0, -1.0]) > 0, tinynn.tensor([5.0, 5.0]), 0.0).tolist() == [5.0, 0.0]
    both = tinynn.where(tinynn.tensor([True, False]), 1.0, 0.0)
    assert both.dtype == tinynn.float32 and both.tolist() == [1.0, 0.0]
    (nonzero,) = tinynn.where(tinynn.tensor([0, 3, 0, 1]))
    assert nonzero.tolist() == [1, 3]


def test_matmul_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x2\)"):
        tinynn.zeros(3, 4) @ tinynn.zeros(5, 2)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        tinynn.zeros(3) @ tinynn.zeros(4)
    with pytest.raises(RuntimeError, match="at least 1D"):
        tinynn.tensor(1.0) @ tinynn.zeros(3)
    with pytest.raises(RuntimeError, match="same dtype"):
        tinynn.zeros(2, 2) @ tinynn.zeros(2, 2, dtype=tinynn.float64)
    with pytest.raises(RuntimeError, match="batch dimensions"):
        tinynn.zeros(2, 3, 4) @ tinynn.zeros(3, 4, 5)


def test_matmul_values():
    rng = np.random.default_rng(0)
    for sa, sb in [((4,), (4,)), ((4,), (4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        out = tinynn.tensor(a) @ tinynn.tensor(b)
        np.testing.assert_allclose(out.numpy(), a @ b)
    np.testing.assert_allclose((np.ones((2, 2)) @ tinynn.ones(2, 2, dtype=tinynn.float64)).numpy(), 2 * np.ones((2, 2)))


# ---------------------------------------------------------------------------- repr


def test_repr_like_pytorch():
    assert repr(tinynn.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tinynn.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tinynn.tensor(1.5)) == "tensor(1.5000)"
    assert repr(tinynn.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(tinynn.tensor(3.0)) == "tensor(3.)"
    assert repr(tinynn.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(tinynn.tensor([1.0], dtype=tinynn.float64)) == "tensor([1.], dtype=tinynn.float64)"
    x = tinynn.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(tinynn.tensor([True])) == "tensor([True])"
    assert repr(tinynn.zeros(2, 2)) == "tensor([[0., 0.],\n        [0., 0.]])"


# ---------------------------------------------------------------------------- devices


def test_tensor_semantics_on_device(device):
    w = tinynn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], device=device, requires_grad=True)
    assert w.device == device and w.is_cuda == (device.type == "cuda")
    (w * w).sum().backward()
    with tinynn.no_grad():
        w -= 0.25 * w.grad
    assert w.device == device and w.is_leaf
    assert w.tolist() == [[0.5, 2.5, 1.0], [3.5, 0.0, 1.5]]
    d = w.detach()
    d.data -= 0.5 * tinynn.ones(2, 3, device=device)
    assert w.tolist() == [[0.0, 2.0, 0.5], [3.0, -0.5, 1.0]]
    values, indices = d.max(1)
    assert values.tolist() == [2.0, 3.0] and indices.tolist() == [1, 0] and indices.device == device
    assert d.argmin().item() == 4 and (d > 0.5).tolist() == [[False, True, False], [True, False, True]]
    assert (d > 0.5).sum().item() == 3
    assert d.sum(1).tolist() == [2.5, 3.5] and d.mean().item() == pytest.approx(1.0)
    assert d[tinynn.tensor([1, 1], device=device)].shape == (2, 3)
    assert d.to(tinynn.float64).dtype == tinynn.float64 and d.long().device == device
    assert d.cpu().device == "cpu" and d.cpu().to(device).device == device
    if device.type != "cpu":
        assert repr(d).endswith("device='cuda:0')")  # as torch
        with pytest.raises(TypeError, match="cpu"):
            d.numpy()
    assert tinynn.zeros(2, device=device).device == device
    assert tinynn.arange(3, device=device).tolist() == [0, 1, 2]
    assert tinynn.randn(3, device=device).device == device
    assert tinynn.tensor([1.0], device=device).device == device
    c = tinynn.cat([d, d], 1)
    assert c.shape == (2, 6) and c.device == device


def test_setitem_copies_values_from_any_device(device):
    t = tinynn.zeros(2, 3, device=device)
    t[0] = tinynn.tensor([1.0, 2.0, 3.0])              # a cpu value into a device tensor
    t[1, 1:] = tinynn.tensor([5.0, 6.0], device=device)
    assert t.device == device and t.tolist() == [[1, 2, 3], [0, 5, 6]]
    c = tinynn.zeros(3)
    c[:] = tinynn.tensor([7.0, 8.0, 9.0], device=device)
    assert c.device == "cpu" and c.tolist() == [7, 8, 9]
