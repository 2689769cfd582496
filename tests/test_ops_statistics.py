"""Reductions and statistics: std/var (+ _mean), prod, norm, logsumexp, cumsum/cumprod,
amax/amin, all/any, median, nanmean/nansum, and the ``axis=``/``keepdims=`` aliases.

PyTorch's documentation is the specification. Expected values come from the docs' worked
examples and from NumPy reference computations (``np.std(ddof=...)``, ``np.cumprod``...),
never from tinynn itself. Sections:

* the gradcheck table (float64 finite differences + float32 stays float32, per device);
* the docs' worked examples;
* per-op behaviour: signatures and defaults, dtypes, edge cases (NaN/inf, zeros, ties);
* the gradient rules at kinks and ties, written out by hand;
* hypothesis properties over shapes, dims (negative too) and keepdim against NumPy;
* errors (PyTorch's exception types).
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinynn
from tinynn.autograd import gradcheck
from opcheck import check_op

INF = float("inf")


def tensor(values, device, dtype=tinynn.float64, requires_grad=False):
    return tinynn.tensor(np.asarray(values), dtype=dtype, device=device, requires_grad=requires_grad)


def host(t):
    """A tinynn result as a NumPy array (whatever its device)."""
    return t.detach().cpu().numpy()


def grad_of(fn, values, device, dtype=tinynn.float64, upstream=None):
    """Gradient of ``fn`` at ``values`` for an upstream gradient of ones (or ``upstream``)."""
    x = tensor(values, device, dtype, requires_grad=True)
    out = fn(x)
    up = np.ones(out.shape) if upstream is None else np.asarray(upstream)
    out.backward(tinynn.tensor(up, dtype=out.dtype, device=device))
    assert x.grad.dtype == x.dtype and x.grad.device == x.device
    return host(x.grad)


# ---------------------------------------------------------------------------- gradcheck table

# (id, fn, input shapes, domain); domains as tests/opcheck.py's make_array.
OPS = [
    ("std_all", lambda a: a.std(), [(3, 4)], "normal"),
    ("std_dim", lambda a: a.std(1), [(3, 4)], "normal"),
    ("std_negdim_keepdim", lambda a: tinynn.std(a, -1, keepdim=True), [(2, 3, 4)], "normal"),
    ("std_tuple", lambda a: tinynn.std(a, (0, 2)), [(2, 3, 4)], "normal"),
    ("std_correction0", lambda a: a.std(dim=0, correction=0), [(3, 4)], "normal"),
    ("std_correction2", lambda a: a.std(1, correction=2), [(3, 5)], "normal"),
    ("std_unbiased_false_positional", lambda a: a.std(False), [(3, 4)], "normal"),
    ("std_legacy_dim_unbiased_keepdim", lambda a: a.std(0, False, True), [(3, 4)], "normal"),
    ("var_all", lambda a: a.var(), [(3, 4)], "normal"),
    ("var_dim", lambda a: tinynn.var(a, 0), [(3, 4)], "normal"),
    ("var_tuple_keepdim", lambda a: a.var((1, 2), keepdim=True), [(2, 3, 4)], "normal"),
    ("var_unbiased_kw", lambda a: a.var(1, unbiased=False), [(3, 4)], "normal"),
    ("std_mean", lambda a: tinynn.stack(tinynn.std_mean(a, 1)), [(3, 4)], "normal"),
    ("var_mean_all", lambda a: tinynn.stack(tinynn.var_mean(a, correction=0)), [(3, 4)], "normal"),
    ("prod_all", lambda a: a.prod(), [(3, 4)], "nonzero"),
    ("prod_dim", lambda a: tinynn.prod(a, 1), [(3, 4)], "normal"),
    ("prod_negdim_keepdim", lambda a: a.prod(-2, keepdim=True), [(2, 3, 4)], "normal"),
    ("prod_0d", lambda a: a.prod(), [()], "normal"),
    ("norm_default", lambda a: a.norm(), [(3, 4)], "normal"),
    ("norm_fro_dim", lambda a: tinynn.norm(a, "fro", dim=1), [(3, 4)], "normal"),
    ("norm_p1", lambda a: a.norm(p=1), [(3, 4)], "nonzero"),
    ("norm_p3_dim", lambda a: a.norm(3, 0), [(3, 4)], "nonzero"),
    ("norm_p1.5_tuple_keepdim", lambda a: a.norm(1.5, (0, 2), keepdim=True), [(2, 3, 4)], "nonzero"),
    ("norm_p0.5", lambda a: tinynn.norm(a, 0.5), [(3, 4)], "positive"),
    ("norm_inf", lambda a: a.norm(INF), [(3, 4)], "distinct"),
    ("norm_neginf_dim", lambda a: a.norm(-INF, dim=1), [(3, 4)], "distinct"),
    ("norm_nuc", lambda a: a.norm("nuc"), [(3, 4)], "normal"),
    ("logsumexp_dim", lambda a: a.logsumexp(1), [(3, 4)], "normal"),
    ("logsumexp_tuple_keepdim", lambda a: tinynn.logsumexp(a, (0, 2), keepdim=True), [(2, 3, 4)], "normal"),
    ("logsumexp_large", lambda a: (a * 50).logsumexp(-1), [(3, 4)], "normal"),
    ("cumsum_dim0", lambda a: a.cumsum(0), [(3, 4)], "normal"),
    ("cumsum_negdim", lambda a: tinynn.cumsum(a, dim=-1), [(2, 3, 4)], "normal"),
    ("cumprod_dim1", lambda a: a.cumprod(1), [(3, 4)], "nonzero"),
    ("cumprod_3d", lambda a: tinynn.cumprod(a, -2), [(2, 3, 4)], "normal"),
    ("amax_dim", lambda a: a.amax(1), [(3, 4)], "distinct"),
    ("amax_tuple", lambda a: tinynn.amax(a, (0, 2)), [(2, 3, 4)], "distinct"),
    ("amax_all", lambda a: a.amax(), [(3, 4)], "distinct"),
    ("amin_keepdim", lambda a: a.amin(-1, keepdim=True), [(2, 3, 4)], "distinct"),
    ("median_all", lambda a: a.median(), [(3, 4)], "distinct"),
    ("median_all_odd", lambda a: tinynn.median(a), [(3, 3)], "distinct"),
    ("median_dim", lambda a: a.median(1).values, [(3, 4)], "distinct"),
    ("median_dim_keepdim", lambda a: tinynn.median(a, dim=0, keepdim=True)[0], [(5, 2)], "distinct"),
    ("nansum", lambda a: a.nansum(1), [(3, 4)], "normal"),
    ("nanmean", lambda a: tinynn.nanmean(a, (0, 1)), [(3, 4)], "normal"),
    ("sum_axis_keepdims", lambda a: a.sum(axis=1, keepdims=True), [(3, 4)], "normal"),
    ("mean_axis", lambda a: tinynn.mean(a, axis=(0, 1)), [(2, 3, 4)], "normal"),
    ("std_axis", lambda a: a.std(axis=0, keepdims=True), [(3, 4)], "normal"),
]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=[e[0] for e in OPS])
def test_gradcheck(name, fn, shapes, domain, device):
    check_op(fn, shapes, domain, device)


# ---------------------------------------------------------------------------- docs' examples


def test_docs_examples_std_var(device):
    a = tensor([[-0.8166, -1.3802, -0.3560]], device)
    assert abs(tinynn.std(a, unbiased=False).item() - 0.4188) < 1e-4
    assert abs(tinynn.std(a).item() - 0.5130) < 1e-4
    s, m = tinynn.std_mean(a, unbiased=False)
    np.testing.assert_allclose([s.item(), m.item()], [0.4188, -0.8509], atol=1e-4)
    v, m = tinynn.var_mean(a, unbiased=False)
    np.testing.assert_allclose([v.item(), m.item()], [0.1754, -0.8509], atol=1e-4)


def test_docs_example_var_mean_dim_keepdim(device):
    a = tensor([[0.2035, 1.2959, 1.8101, -0.4644], [1.5027, -0.3270, 0.5905, 0.6538],
                [-1.5745, 1.3330, -0.5596, -0.6548], [0.1264, -0.5080, 1.6420, 0.1992]], device)
    v, m = tinynn.var_mean(a, dim=0, keepdim=True)
    assert v.shape == m.shape == (1, 4)
    np.testing.assert_allclose(host(v), [[1.5926, 1.0056, 1.2005, 0.3646]], atol=1e-4)
    np.testing.assert_allclose(host(m), [[0.0645, 0.4485, 0.8707, -0.0665]], atol=1e-4)


def test_docs_examples_amax_prod_median(device):
    a = tensor([[0.8177, 1.4878, -0.2491, 0.9130], [-0.7158, 1.1775, 2.0992, 0.4817],
                [-0.0053, 0.0164, -1.3738, -0.0507], [1.9700, 1.1106, -1.0318, -1.0816]], device)
    np.testing.assert_allclose(host(tinynn.amax(a, 1)), [1.4878, 2.0992, 0.0164, 1.9700])
    assert abs(tinynn.prod(tensor([[-0.8020, 0.5428, -1.5854]], device)).item() - 0.6902) < 1e-4
    b = tensor([[0.5261, -0.3837], [1.1857, -0.2498], [-1.1646, 0.0705], [1.1131, -1.0629]], device)
    np.testing.assert_allclose(host(tinynn.prod(b, 1)), [-0.2018, -0.2962, -0.0821, -1.1831], atol=2e-4)
    assert tinynn.median(tensor([[1.5219, -1.5212, 0.2202]], device)).item() == pytest.approx(0.2202)


def test_docs_example_cumprod_with_a_zero(device):
    a = [0.6001, 0.2069, -0.1919, 0.9792, 0.6727, 1.0062, 0.4126, -0.2129, -0.4206, 0.1968]
    np.testing.assert_allclose(host(tinynn.cumprod(tensor(a, device), dim=0)),
                               [0.6001, 0.1241, -0.0238, -0.0233, -0.0157, -0.0158, -0.0065,
                                0.0014, -0.0006, -0.0001], atol=1e-4)
    a[5] = 0.0
    out = host(tinynn.cumprod(tensor(a, device), dim=0))
    np.testing.assert_allclose(out[:5], [0.6001, 0.1241, -0.0238, -0.0233, -0.0157], atol=1e-4)
    assert np.all(out[5:] == 0)


def test_docs_examples_all_any(device):
    a = tensor([[True, True], [True, False], [True, True], [True, True]], device, dtype=tinynn.bool)
    np.testing.assert_array_equal(host(tinynn.all(a, dim=1)), [True, False, True, True])
    np.testing.assert_array_equal(host(tinynn.all(a, dim=0)), [True, False])
    b = tensor([[True, True], [False, True], [True, True], [False, False]], device, dtype=tinynn.bool)
    np.testing.assert_array_equal(host(tinynn.any(b, 1)), [True, True, True, False])
    np.testing.assert_array_equal(host(tinynn.any(b, 0)), [True, True])
    r = tinynn.arange(0, 3, device=device)
    assert tinynn.all(r).item() is False and tinynn.any(r).item() is True
    assert tinynn.all(r).dtype == tinynn.bool and tinynn.all(r).shape == ()


def test_docs_example_nanmean(device):
    x = tensor([[math.nan, 1, 2], [1, 2, 3]], device, dtype=tinynn.float32)
    assert math.isnan(x.mean().item())
    assert x.nanmean().item() == pytest.approx(1.8)
    np.testing.assert_allclose(host(x.nanmean(dim=0)), [1.0, 1.5, 2.5])
    assert math.isnan(tensor([math.nan], device).nanmean().item())
    assert x.nansum().item() == pytest.approx(9.0)
    np.testing.assert_allclose(host(tinynn.nansum(x, 1)), [3.0, 6.0])


def test_docs_example_median_nan(device):
    a = tensor([1, math.nan, 3, 2], device, dtype=tinynn.float32)
    assert math.isnan(a.median().item())  # median propagates NaN (nanmedian would not)
    values = host(tensor([[2, 3, 1], [math.nan, 1, math.nan]], device).median(1).values)
    assert values[0] == 2 and math.isnan(values[1])


# ---------------------------------------------------------------------------- std / var


def test_std_var_signatures_match_numpy(device):
    a = np.random.default_rng(0).standard_normal((3, 4, 5))
    x = tensor(a, device)
    cases = [
        (lambda t: t.std(), a.std(ddof=1)),
        (lambda t: t.std(False), a.std()),                      # legacy: unbiased first
        (lambda t: t.std(True), a.std(ddof=1)),
        (lambda t: t.std(0), a.std(0, ddof=1)),                 # an int is a dim
        (lambda t: t.std(1, False), a.std(1)),                  # legacy (dim, unbiased)
        (lambda t: t.std(1, True, True), a.std(1, ddof=1, keepdims=True)),
        (lambda t: t.std(dim=(0, -1), correction=0), a.std((0, 2))),
        (lambda t: t.std(-2, correction=2, keepdim=True), a.std(1, ddof=2, keepdims=True)),
        (lambda t: t.std([0, 1]), a.std((0, 1), ddof=1)),
        (lambda t: tinynn.std(t, unbiased=False), a.std()),
        (lambda t: tinynn.std(t, 2, keepdim=True), a.std(2, ddof=1, keepdims=True)),
        (lambda t: t.var(), a.var(ddof=1)),
        (lambda t: t.var(False), a.var()),
        (lambda t: t.var(0, False, True), a.var(0, keepdims=True)),
        (lambda t: tinynn.var(t, (1, 2), correction=3), a.var((1, 2), ddof=3)),
        (lambda t: t.var(dim=None, correction=0, keepdim=True), a.var(keepdims=True)),
        (lambda t: t.std(correction=0.5), np.sqrt(((a - a.mean()) ** 2).sum() / (a.size - 0.5))),
    ]
    for fn, expected in cases:
        out = fn(x)
        assert out.shape == np.shape(expected) and out.dtype == tinynn.float64
        np.testing.assert_allclose(host(out), expected, rtol=1e-12)


def test_std_var_keep_float32(device):
    x = tensor(np.arange(12.0).reshape(3, 4), device, tinynn.float32)
    for out in (x.std(), x.var(1), *tinynn.std_mean(x, 0), *tinynn.var_mean(x)):
        assert out.dtype == tinynn.float32 and out.device == device


def test_std_mean_returns_std_then_mean(device):
    a = np.random.default_rng(1).standard_normal((4, 3))
    result = tinynn.std_mean(tensor(a, device), 0, keepdim=True)
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_allclose(host(result[0]), a.std(0, ddof=1, keepdims=True))
    np.testing.assert_allclose(host(result[1]), a.mean(0, keepdims=True))
    v, m = tinynn.var_mean(tensor(a, device), dim=1, correction=0)
    np.testing.assert_allclose(host(v), a.var(1))
    np.testing.assert_allclose(host(m), a.mean(1))


def test_single_element_gives_nan_and_warns(device):
    x = tensor([3.0], device)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert math.isnan(x.var().item())
    with pytest.warns(UserWarning):
        assert math.isnan(x.std().item())
    with pytest.warns(UserWarning):
        out = tensor([[1.0, 2.0]], device).std(0)  # every column has one element
    assert np.isnan(host(out)).all()
    with pytest.warns(UserWarning):
        s, m = tinynn.std_mean(x)
    assert math.isnan(s.item()) and m.item() == 3.0


def test_dof_below_zero_follows_the_docs_formula(device):
    # sigma^2 = sum((x - mean)^2) / max(0, N - correction): a spread over 0 is inf, 0/0 nan.
    with pytest.warns(UserWarning):
        assert tensor([1.0, 2.0], device).var(correction=2).item() == INF
    with pytest.warns(UserWarning):
        assert tensor([1.0, 2.0], device).var(correction=5).item() == INF
    with pytest.warns(UserWarning):
        assert math.isnan(tensor([2.0, 2.0], device).var(correction=2).item())


def test_enough_degrees_of_freedom_does_not_warn(device):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tensor([3.0], device).var(correction=0).item() == 0.0
        assert tensor([1.0, 3.0], device).var().item() == 2.0


# ---------------------------------------------------------------------------- prod


def test_prod_values_dims_dtypes(device):
    a = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
    x = tensor(a, device)
    np.testing.assert_allclose(host(x.prod()), a.prod())
    np.testing.assert_allclose(host(x.prod(1)), a.prod(1))
    np.testing.assert_allclose(host(tinynn.prod(x, -2, keepdim=True)), a.prod(0, keepdims=True))
    assert x.prod(dtype=tinynn.float32).dtype == tinynn.float32
    i = tinynn.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    assert i.prod().dtype == tinynn.int64 and i.prod().item() == 720
    np.testing.assert_array_equal(host(i.prod(0)), [4, 10, 18])
    b = tensor([True, True, False], device, dtype=tinynn.bool)
    assert b.prod().dtype == tinynn.int64 and b.prod().item() == 0
    assert tinynn.tensor([2, 3], dtype=tinynn.int32, device=device).prod().dtype == tinynn.int64
    assert i.prod(dtype=tinynn.float64).dtype == tinynn.float64


def test_prod_gradient_with_one_zero(device):
    # d/dx_i prod(x) = product of the others: finite at the zero, zero elsewhere.
    np.testing.assert_array_equal(grad_of(lambda t: t.prod(), [2.0, 0.0, 3.0], device), [0.0, 6.0, 0.0])
    g = grad_of(lambda t: t.prod(1), [[2.0, 0.0, 3.0], [1.0, 2.0, 4.0]], device)
    np.testing.assert_array_equal(g, [[0.0, 6.0, 0.0], [8.0, 4.0, 2.0]])


def test_prod_gradient_with_two_zeros(device):
    np.testing.assert_array_equal(grad_of(lambda t: t.prod(), [0.0, 2.0, 0.0], device), [0.0, 0.0, 0.0])
    g = grad_of(lambda t: t.prod(0, keepdim=True), [[0.0, 0.0], [0.0, 5.0], [3.0, 0.0]], device)
    np.testing.assert_array_equal(g, [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])


def test_prod_gradcheck_through_zeros(device):
    # prod is a polynomial: finite differences are exact enough right at the zeros.
    x = tensor([[0.0, 1.3, -0.7, 0.9], [0.0, 0.0, 2.0, 1.1], [1.2, -0.8, 0.6, 1.5]], device,
               requires_grad=True)
    assert gradcheck(lambda t: t.prod(1), [x])
    assert gradcheck(lambda t: t.prod(), [x])
    y = tensor([1.5, 0.0, -2.0], device, requires_grad=True)
    assert gradcheck(lambda t: t.prod(), [y])


def test_prod_float32_gradient_stays_float32(device):
    g = grad_of(lambda t: t.prod(), [2.0, 0.0, 3.0], device, dtype=tinynn.float32)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])


# ---------------------------------------------------------------------------- norm


def _vector_norm(a, p, axis=None, keepdims=False):
    """The docs' vector norm: sum(abs(x)**p)**(1/p), max/min for +-inf, count for p=0."""
    m = np.abs(a)
    if p == INF:
        return m.max(axis=axis, keepdims=keepdims)
    if p == -INF:
        return m.min(axis=axis, keepdims=keepdims)
    if p == 0:
        return (m != 0).sum(axis=axis, keepdims=keepdims).astype(a.dtype)
    return (m ** p).sum(axis=axis, keepdims=keepdims) ** (1.0 / p)


def test_norm_values(device):
    a = np.random.default_rng(2).standard_normal((3, 4, 2))
    x = tensor(a, device)
    np.testing.assert_allclose(host(x.norm()), np.sqrt((a ** 2).sum()))          # 'fro' default
    np.testing.assert_allclose(host(tinynn.norm(x, "fro", dim=(0, 1))), np.sqrt((a ** 2).sum((0, 1))))
    np.testing.assert_allclose(host(x.norm(2, 1)), _vector_norm(a, 2, 1))
    for p in (1, 2, 3, 0.5, 1.5, INF, -INF, 0, -1):
        np.testing.assert_allclose(host(x.norm(p)), _vector_norm(a, p), rtol=1e-12)
        np.testing.assert_allclose(host(tinynn.norm(x, p, dim=-1, keepdim=True)),
                                   _vector_norm(a, p, -1, True), rtol=1e-12)
        np.testing.assert_allclose(host(x.norm(p=p, dim=(0, 2))), _vector_norm(a, p, (0, 2)), rtol=1e-12)


def test_norm_nuclear(device):
    a = np.random.default_rng(3).standard_normal((4, 3))
    np.testing.assert_allclose(host(tensor(a, device).norm("nuc")), np.linalg.norm(a, "nuc"))
    b = np.random.default_rng(4).standard_normal((2, 4, 3))
    np.testing.assert_allclose(host(tinynn.norm(tensor(b, device), "nuc", dim=(1, 2))),
                               [np.linalg.norm(m, "nuc") for m in b])


def test_norm_dtype_argument_and_float32(device):
    x = tensor([[3.0, 4.0]], device, tinynn.float32)
    assert x.norm().dtype == tinynn.float32 and x.norm().item() == 5.0
    out = x.norm(dtype=tinynn.float64)
    assert out.dtype == tinynn.float64 and out.item() == 5.0


def test_norm_gradient_at_zero_vector_is_zero(device):
    for p in (2, "fro", 1, 3, 1.5, INF):
        g = grad_of(lambda t, p=p: t.norm(p), [0.0, 0.0, 0.0], device)
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.0], err_msg=f"p={p}")
    g = grad_of(lambda t: t.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]], device)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.6, 0.8]])


def test_norm_inf_gradient_splits_evenly_over_ties(device):
    np.testing.assert_allclose(grad_of(lambda t: t.norm(INF), [1.0, -3.0, 3.0], device), [0.0, -0.5, 0.5])
    np.testing.assert_allclose(grad_of(lambda t: t.norm(-INF), [-1.0, 1.0, 3.0], device), [-0.5, 0.5, 0.0])


def test_norm_p2_gradient_is_x_over_norm(device):
    np.testing.assert_allclose(grad_of(lambda t: t.norm(), [3.0, -4.0], device), [0.6, -0.8])


# ---------------------------------------------------------------------------- logsumexp


def test_logsumexp_values(device):
    x = tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device, tinynn.float32)
    np.testing.assert_allclose(host(tinynn.logsumexp(x, 0)), [4.0486, 5.0486, 6.0486], atol=1e-4)
    np.testing.assert_allclose(host(x.logsumexp(1)), [3.4076, 6.4076], atol=1e-4)
    out = x.logsumexp((0, 1), keepdim=True)
    assert out.shape == (1, 1) and out.dtype == tinynn.float32
    np.testing.assert_allclose(host(out), [[np.log(np.exp(np.arange(1.0, 7.0)).sum())]], rtol=1e-6)


def test_logsumexp_is_stable_for_large_logits(device):
    for dtype in (tinynn.float32, tinynn.float64):
        x = tensor([[1e4, 1e4], [-1e4, 0.0]], device, dtype, requires_grad=True)
        out = x.logsumexp(1)
        np.testing.assert_allclose(host(out), [1e4 + math.log(2), 0.0], rtol=1e-6)
        out.sum().backward()
        g = host(x.grad)
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, [[0.5, 0.5], [0.0, 1.0]], atol=1e-6)


def test_logsumexp_infinities(device):
    x = tensor([[-INF, -INF], [INF, 0.0], [-INF, 1.0]], device)
    out = host(x.logsumexp(1))
    assert out[0] == -INF and out[1] == INF and out[2] == pytest.approx(1.0)


def test_logsumexp_of_integers_is_float(device):
    out = tinynn.logsumexp(tinynn.tensor([[0, 0], [1, 1]], device=device), 1)
    assert out.dtype == tinynn.float32
    np.testing.assert_allclose(host(out), [math.log(2), 1 + math.log(2)], rtol=1e-6)


def test_logsumexp_gradient_is_softmax(device):
    a = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    e = np.exp(a)
    np.testing.assert_allclose(grad_of(lambda t: t.logsumexp(1), a, device), e / e.sum(1, keepdims=True))


# ---------------------------------------------------------------------------- cumsum / cumprod


def test_cumsum_cumprod_values_and_dtypes(device):
    a = np.array([[1.0, 2.0, -3.0], [0.5, 4.0, 2.0]])
    x = tensor(a, device)
    np.testing.assert_allclose(host(x.cumsum(0)), np.cumsum(a, 0))
    np.testing.assert_allclose(host(tinynn.cumsum(x, dim=-1)), np.cumsum(a, 1))
    np.testing.assert_allclose(host(x.cumprod(1)), np.cumprod(a, 1))
    np.testing.assert_allclose(host(tinynn.cumprod(x, -2)), np.cumprod(a, 0))
    i = tinynn.tensor([1, 2, 3], dtype=tinynn.int32, device=device)
    assert i.cumsum(0).dtype == tinynn.int64 and i.cumprod(0).dtype == tinynn.int64
    np.testing.assert_array_equal(host(i.cumprod(0)), [1, 2, 6])
    b = tensor([True, False, True], device, dtype=tinynn.bool)
    assert b.cumsum(0).dtype == tinynn.int64
    np.testing.assert_array_equal(host(b.cumsum(0)), [1, 1, 2])
    assert i.cumsum(0, dtype=tinynn.float32).dtype == tinynn.float32
    assert x.float().cumsum(1).dtype == tinynn.float32
    s = tensor(2.5, device)
    assert s.cumsum(0).shape == () and s.cumprod(-1).item() == 2.5


def test_cumsum_gradient_is_reverse_cumsum(device):
    g = grad_of(lambda t: t.cumsum(0), [1.0, 2.0, 3.0], device, upstream=[1.0, 10.0, 100.0])
    np.testing.assert_array_equal(g, [111.0, 110.0, 100.0])


def test_cumprod_gradient_exact_with_zeros(device):
    # y = [x0, x0 x1, x0 x1 x2]; d sum(y)/dx = [1 + x1 + x1 x2, x0 + x0 x2, x0 x1]
    np.testing.assert_array_equal(grad_of(lambda t: t.cumprod(0), [2.0, 0.0, 3.0], device), [1.0, 8.0, 0.0])
    np.testing.assert_array_equal(grad_of(lambda t: t.cumprod(0), [2.0, 0.0, 3.0, 0.0], device),
                                  [1.0, 8.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_of(lambda t: t.cumprod(0), [0.0, 0.0, 5.0], device), [1.0, 0.0, 0.0])
    g = grad_of(lambda t: t.cumprod(1), [[2.0, 0.0, 3.0], [0.0, 4.0, 1.0]], device)
    np.testing.assert_array_equal(g, [[1.0, 8.0, 0.0], [9.0, 0.0, 0.0]])
    x = tensor([[0.0, 1.3, -0.7, 0.0], [0.9, 0.0, 2.0, 1.1]], device, requires_grad=True)
    assert gradcheck(lambda t: t.cumprod(1), [x])
    assert gradcheck(lambda t: t.cumprod(0), [x])


# ---------------------------------------------------------------------------- amax / amin


def test_amax_amin_values(device):
    a = np.random.default_rng(5).standard_normal((2, 3, 4))
    x = tensor(a, device)
    np.testing.assert_allclose(host(x.amax()), a.max())
    np.testing.assert_allclose(host(tinynn.amin(x)), a.min())
    np.testing.assert_allclose(host(x.amax(1)), a.max(1))
    np.testing.assert_allclose(host(x.amax((0, -1))), a.max((0, 2)))
    np.testing.assert_allclose(host(tinynn.amin(x, (1, 2), keepdim=True)), a.min((1, 2), keepdims=True))
    np.testing.assert_allclose(host(x.amin(dim=[0])), a.min(0))
    i = tinynn.tensor([[3, 1], [2, 5]], device=device)
    assert i.amax().dtype == tinynn.int64 and i.amax().item() == 5


def test_amax_amin_gradient_splits_evenly_over_ties(device):
    g = grad_of(lambda t: t.amax(1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], device)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    g = grad_of(lambda t: t.amin(0, keepdim=True), [[1.0, 3.0], [1.0, 2.0]], device)
    np.testing.assert_allclose(g, [[0.5, 0.0], [0.5, 1.0]])
    g = grad_of(lambda t: t.amax((0, 1)), [[4.0, 1.0], [4.0, 4.0]], device)
    np.testing.assert_allclose(g, [[1 / 3, 0.0], [1 / 3, 1 / 3]])
    g = grad_of(lambda t: t.amax(), [[4.0, 1.0], [0.0, 4.0]], device, dtype=tinynn.float32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [[0.5, 0.0], [0.0, 0.5]])


# ---------------------------------------------------------------------------- all / any


def test_all_any_results_are_bool(device):
    x = tensor([[0.0, 1.5, -2.0], [3.0, 4.0, 0.5]], device)
    assert x.all().dtype == tinynn.bool and x.all().item() is False
    assert x.any().item() is True
    np.testing.assert_array_equal(host(x.all(1)), [False, True])
    np.testing.assert_array_equal(host(x.any(dim=0)), [True, True, True])
    out = tinynn.all(x, dim=(0, 1), keepdim=True)
    assert out.shape == (1, 1) and out.dtype == tinynn.bool and not out.item()
    np.testing.assert_array_equal(host(x.all(-1, keepdim=True)), [[False], [True]])
    assert tensor([0.0, math.nan], device).any().item() is True  # NaN is nonzero
    assert tinynn.zeros(0, device=device).all().item() is True
    assert tinynn.zeros(0, device=device).any().item() is False


def test_all_any_keep_uint8(device):
    # the docs: the output is bool for every dtype except uint8, which stays uint8.
    u = tinynn.tensor(np.array([0, 3], dtype=np.uint8), device=device)
    assert u.all().dtype == tinynn.uint8 and u.all().item() == 0
    assert u.any().dtype == tinynn.uint8 and u.any().item() == 1


# ---------------------------------------------------------------------------- median


def test_median_lower_of_two_middles(device):
    assert tensor([4.0, 1.0, 3.0, 2.0], device).median().item() == 2.0
    assert tensor([[5.0, 1.0], [3.0, 4.0], [2.0, 0.0]], device).median().item() == 2.0
    out = tensor([[1.0, 2.0], [3.0, 4.0]], device).median()
    assert out.shape == () and out.dtype == tinynn.float64
    assert tinynn.tensor([4, 1, 3, 2], device=device).median().item() == 2


def test_median_dim_returns_values_and_indices(device):
    a = np.array([[4.0, 1.0, 3.0, 2.0], [0.0, 9.0, 8.0, 7.0], [5.0, 6.0, -1.0, 2.0]])
    x = tensor(a, device)
    result = x.median(1)
    values, indices = result
    assert result.values is values and result.indices is indices and result[0] is values
    assert indices.dtype == tinynn.int64 and values.shape == indices.shape == (3,)
    np.testing.assert_array_equal(host(values), [2.0, 7.0, 2.0])
    np.testing.assert_array_equal(host(indices), [3, 3, 3])
    v, i = tinynn.median(x, dim=0, keepdim=True)
    assert v.shape == i.shape == (1, 4)
    np.testing.assert_array_equal(host(v), [[4.0, 6.0, 3.0, 2.0]])
    # the last column ties (2, 7, 2): the docs promise an index of a median, not the first
    np.testing.assert_array_equal(np.take_along_axis(a, host(i), axis=0), host(v))
    v, i = x.median(-1, True)  # positional keepdim
    assert v.shape == (3, 1)
    np.testing.assert_array_equal(np.take_along_axis(a, host(i), axis=1), host(v))


def test_median_all_splits_gradient_evenly_over_ties(device):
    # median() (no dim) uses the same rule as max(): every element equal to the result shares.
    np.testing.assert_allclose(grad_of(lambda t: t.median(), [1.0, 2.0, 2.0, 3.0], device), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(grad_of(lambda t: t.median(), [3.0, 1.0, 2.0], device), [0, 0, 1])


def test_median_dim_gradient_goes_to_the_returned_index(device):
    a = [[2.0, 2.0, 2.0, 1.0], [1.0, 5.0, 5.0, 0.0]]  # ties around the median
    x = tensor(a, device, requires_grad=True)
    values, indices = x.median(1)
    values.backward(tinynn.ones_like(values))
    expected = np.zeros((2, 4))
    expected[np.arange(2), host(indices)] = 1.0
    np.testing.assert_array_equal(host(x.grad), expected)
    np.testing.assert_array_equal(np.take_along_axis(np.array(a), host(indices)[:, None], 1)[:, 0], [2.0, 1.0])


# ---------------------------------------------------------------------------- nanmean / nansum


def test_nan_reductions_gradient_skips_nans(device):
    a = [[math.nan, 1.0, 2.0], [1.0, 2.0, 3.0]]
    np.testing.assert_array_equal(grad_of(lambda t: t.nansum(), a, device), [[0, 1, 1], [1, 1, 1]])
    np.testing.assert_allclose(grad_of(lambda t: t.nanmean(1), a, device), [[0, 0.5, 0.5], [1 / 3] * 3])
    np.testing.assert_allclose(grad_of(lambda t: tinynn.nanmean(t), a, device, dtype=tinynn.float32),
                               [[0, 0.2, 0.2], [0.2, 0.2, 0.2]], rtol=1e-6)


def test_nansum_of_integers_is_int64(device):
    out = tinynn.tensor([1, 2, 3], dtype=tinynn.int32, device=device).nansum()
    assert out.dtype == tinynn.int64 and out.item() == 6


# ---------------------------------------------------------------------------- axis= / keepdims=


def test_numpy_style_axis_and_keepdims_aliases(device):
    a = np.random.default_rng(6).standard_normal((3, 4))
    x = tensor(a, device)
    np.testing.assert_allclose(host(x.sum(axis=1)), a.sum(1))
    np.testing.assert_allclose(host(tinynn.sum(x, axis=0, keepdims=True)), a.sum(0, keepdims=True))
    np.testing.assert_allclose(host(x.mean(axis=(0, 1), keepdims=True)), a.mean(keepdims=True))
    values, indices = x.max(axis=1)
    np.testing.assert_allclose(host(values), a.max(1))
    np.testing.assert_array_equal(host(indices), a.argmax(1))
    np.testing.assert_allclose(host(tinynn.min(x, axis=0, keepdims=True).values), a.min(0, keepdims=True))
    np.testing.assert_array_equal(host(x.argmax(axis=0)), a.argmax(0))
    np.testing.assert_array_equal(host(tinynn.argmin(x, axis=1, keepdims=True)), a.argmin(1)[:, None])
    np.testing.assert_allclose(host(x.std(axis=1)), a.std(1, ddof=1))
    np.testing.assert_allclose(host(tinynn.var(x, axis=0, keepdims=True)), a.var(0, ddof=1, keepdims=True))
    np.testing.assert_allclose(host(x.prod(axis=1)), a.prod(1))
    np.testing.assert_allclose(host(x.amax(axis=(0, 1))), a.max())
    np.testing.assert_allclose(host(x.amin(axis=0, keepdims=True)), a.min(0, keepdims=True))
    np.testing.assert_allclose(host(x.logsumexp(axis=1)), np.log(np.exp(a).sum(1)))
    np.testing.assert_array_equal(host((x > 0).any(axis=1)), (a > 0).any(1))
    np.testing.assert_array_equal(host((x > 0).all(axis=0, keepdims=True)), (a > 0).all(0, keepdims=True))
    np.testing.assert_allclose(host(x.cumsum(axis=1)), np.cumsum(a, 1))
    np.testing.assert_allclose(host(x.nansum(axis=0)), a.sum(0))
    np.testing.assert_allclose(host(x.median(axis=1).values), np.sort(a, 1)[:, 1])


# ---------------------------------------------------------------------------- hypothesis

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
fixture_ok = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])


def _dims(data, ndim):
    """A non-empty set of distinct dims, each possibly negative."""
    picked = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if data.draw(st.booleans()) else d for d in picked)


def _one_dim(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1))


@fixture_ok
@given(shape=shapes, data=st.data())
def test_property_multi_dim_reductions(device, shape, data):
    dims, keepdim = _dims(data, len(shape)), data.draw(st.booleans())
    axes = tuple(d % len(shape) for d in dims)
    a = np.random.default_rng(len(shape) + sum(shape)).standard_normal(shape)
    x = tensor(a, device)
    correction = data.draw(st.sampled_from([0, 1, 2]))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cases = {
            "var": (x.var(dims, correction=correction, keepdim=keepdim),
                    np.var(a, axis=axes, ddof=correction, keepdims=keepdim)),
            "std": (tinynn.std(x, dims, correction=correction, keepdim=keepdim),
                    np.std(a, axis=axes, ddof=correction, keepdims=keepdim)),
        }
    p = data.draw(st.sampled_from([1, 2, 3, 0.5, INF, -INF]))
    lse_max = a.max(axis=axes, keepdims=True)
    cases.update({
        "amax": (x.amax(dims, keepdim), a.max(axis=axes, keepdims=keepdim)),
        "amin": (tinynn.amin(x, dims, keepdim=keepdim), a.min(axis=axes, keepdims=keepdim)),
        "norm": (x.norm(p, dims, keepdim), _vector_norm(a, p, axes, keepdim)),
        "logsumexp": (x.logsumexp(dims, keepdim),
                      (np.log(np.exp(a - lse_max).sum(axes, keepdims=True)) + lse_max).reshape(
                          np.sum(a, axis=axes, keepdims=keepdim).shape)),
        "all": (tinynn.all(x > 0, dims, keepdim), (a > 0).all(axis=axes, keepdims=keepdim)),
        "any": ((x > 0).any(dims, keepdim=keepdim), (a > 0).any(axis=axes, keepdims=keepdim)),
        "nansum": (x.nansum(dims, keepdim), a.sum(axis=axes, keepdims=keepdim)),
        "nanmean": (x.nanmean(dims, keepdim), a.mean(axis=axes, keepdims=keepdim)),
    })
    for name, (out, expected) in cases.items():
        assert out.shape == np.shape(expected), name
        np.testing.assert_allclose(host(out), expected, rtol=1e-10, atol=1e-12, err_msg=name)


@fixture_ok
@given(shape=shapes, data=st.data())
def test_property_single_dim_ops(device, shape, data):
    dim, keepdim = _one_dim(data, len(shape)), data.draw(st.booleans())
    axis = dim % len(shape)
    a = np.random.default_rng(sum(shape)).permutation(int(np.prod(shape))).reshape(shape) * 0.3 - 1.0
    x = tensor(a, device)
    np.testing.assert_allclose(host(x.prod(dim, keepdim)), a.prod(axis, keepdims=keepdim), rtol=1e-12)
    np.testing.assert_allclose(host(x.cumsum(dim)), np.cumsum(a, axis))
    np.testing.assert_allclose(host(tinynn.cumprod(x, dim)), np.cumprod(a, axis), rtol=1e-12)
    values, indices = x.median(dim, keepdim)
    lower = np.take(np.sort(a, axis), [(a.shape[axis] - 1) // 2], axis=axis)
    np.testing.assert_array_equal(host(values), lower if keepdim else lower.squeeze(axis))
    idx = host(indices)
    assert indices.dtype == tinynn.int64
    picked = np.take_along_axis(a, idx if keepdim else np.expand_dims(idx, axis), axis)
    np.testing.assert_array_equal(picked, lower)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(2, 3), min_size=1, max_size=3).map(tuple), data=st.data())
def test_property_gradients(device, shape, data):
    dims, keepdim = _dims(data, len(shape)), data.draw(st.booleans())
    dim = _one_dim(data, len(shape))
    rng = np.random.default_rng(sum(shape))
    size = int(np.prod(shape))
    distinct = (rng.permutation(size) * 0.37 - size * 0.15 + rng.uniform(0, 0.05, size)).reshape(shape)
    x = tensor(distinct, device, requires_grad=True)
    assert gradcheck(lambda t: t.std(dims, keepdim=keepdim), [x])
    assert gradcheck(lambda t: t.var(dims, correction=0, keepdim=keepdim), [x])
    assert gradcheck(lambda t: t.amax(dims, keepdim), [x])
    assert gradcheck(lambda t: t.logsumexp(dims, keepdim), [x])
    assert gradcheck(lambda t: t.norm(3, dims, keepdim), [x])
    assert gradcheck(lambda t: t.prod(dim, keepdim), [x])
    assert gradcheck(lambda t: t.cumprod(dim), [x])
    assert gradcheck(lambda t: t.median(dim, keepdim).values, [x])


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("call", [
    lambda x: x.std(2), lambda x: tinynn.var(x, -3), lambda x: x.std((0, 5)),
    lambda x: tinynn.std_mean(x, 2), lambda x: x.var_mean(-3),
    lambda x: x.prod(2), lambda x: x.norm(2, 3), lambda x: x.norm(dim=(0, -3)),
    lambda x: x.logsumexp(2), lambda x: x.cumsum(2), lambda x: tinynn.cumprod(x, -3),
    lambda x: x.amax(2), lambda x: tinynn.amin(x, (0, 2)), lambda x: x.all(2), lambda x: x.any(-3),
    lambda x: x.median(2), lambda x: x.nansum(3), lambda x: x.nanmean(-3),
], ids=["std", "var", "std_tuple", "std_mean", "var_mean", "prod", "norm", "norm_tuple",
        "logsumexp", "cumsum", "cumprod", "amax", "amin", "all", "any", "median", "nansum", "nanmean"])
def test_dim_out_of_range_is_index_error(device, call):
    x = tensor([[1.0, 2.0], [3.0, 4.0]], device)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\]"):
        call(x)


def test_repeated_dims_are_rejected(device):
    x = tensor([[1.0, 2.0], [3.0, 4.0]], device)
    for call in (lambda: x.amax((0, 0)), lambda: x.std((1, -1)), lambda: x.logsumexp((0, -2))):
        with pytest.raises(RuntimeError, match="appears multiple times"):
            call()


def test_std_var_need_floating_point(device):
    i = tinynn.tensor([1, 2, 3], device=device)
    for call in (i.std, i.var, lambda: tinynn.std_mean(i), lambda: i.nanmean()):
        with pytest.raises(RuntimeError, match="[Ff]loat|dtype"):
            call()


def test_unbiased_and_correction_together_is_an_error(device):
    with pytest.raises(TypeError):
        tensor([1.0, 2.0], device).std(unbiased=True, correction=1)


def test_norm_errors(device):
    x = tensor(np.ones((2, 2, 2)), device)
    with pytest.raises(RuntimeError):
        x.norm("fro", dim=(0, 1, 2))         # the docs: Frobenius norm throws on >= 3 dims
    with pytest.raises(RuntimeError):
        x.norm("nuc", dim=0)                 # nuclear norm needs exactly two dims
    with pytest.raises(RuntimeError):
        tinynn.tensor([1, 2], device=device).norm()  # integer input


def test_required_dims(device):
    x = tensor([1.0, 2.0], device)
    for fn in (tinynn.logsumexp, tinynn.cumsum, tinynn.cumprod):
        with pytest.raises(TypeError):
            fn(x)


def test_amax_of_empty_tensor_without_dim_is_an_error(device):
    with pytest.raises(RuntimeError):
        tinynn.zeros(0, 3, device=device).amax()
    assert tinynn.zeros(0, 3, device=device).amax(1).shape == (0,)  # nothing to reduce: fine


def test_median_all_of_integer_is_integer(device):
    out = tinynn.tensor([[3, 1], [2, 5]], device=device).median()
    assert out.dtype == tinynn.int64 and out.item() == 2
