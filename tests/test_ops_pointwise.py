"""Elementwise math (issue #8): predicates, rounding, trigonometry, logs and powers, atan2,
lerp, nan_to_num, one-sided clamps, and the in-place ``X_`` methods.

PyTorch's documentation is the specification: the worked examples of its pages are
checked verbatim, other values against NumPy. Gradients are gradchecked in float64 by
``opcheck.check_op`` (which also checks that float32 stays float32), away from the kinks;
the gradients *at* the kinks (floor/round/sign at integers, nan_to_num at non-finite
values, one-sided clamps at their bound) are tested on their own. Every tensor is made on
the ``device`` fixture's device (cpu and the GPU or its NumPy stand-in).
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import tinynn
from tinynn.autograd import gradcheck
from opcheck import check_op, make_inputs

NAN, INF = float("nan"), float("inf")


def T(values, device, dtype=None, requires_grad=False):
    return tinynn.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def host(t):
    """A tensor's values as a NumPy array, from any device."""
    return t.detach().cpu().numpy()


def grad_of(fn, values, device, dtype=tinynn.float64):
    """d(sum(fn(x)))/dx at ``values``."""
    x = T(values, device, dtype=dtype, requires_grad=True)
    out = fn(x)
    out.backward(tinynn.ones_like(out))
    return host(x.grad)


def frac_reference(x):
    return x - np.trunc(x)


# ---------------------------------------------------------------------------- unary table
# name -> (NumPy reference, value range to sample from). Every name is a tinynn function
# and a Tensor method.
UNARY = {
    "sin": (np.sin, (-3, 3)),
    "cos": (np.cos, (-3, 3)),
    "tan": (np.tan, (-1.2, 1.2)),
    "asin": (np.arcsin, (-0.95, 0.95)),
    "acos": (np.arccos, (-0.95, 0.95)),
    "atan": (np.arctan, (-4, 4)),
    "sinh": (np.sinh, (-3, 3)),
    "cosh": (np.cosh, (-3, 3)),
    "log1p": (np.log1p, (-0.9, 4)),
    "expm1": (np.expm1, (-3, 3)),
    "log2": (np.log2, (0.05, 6)),
    "log10": (np.log10, (0.05, 6)),
    "exp2": (np.exp2, (-4, 4)),
    "reciprocal": (np.reciprocal, (-3, 3)),
    "rsqrt": (lambda x: 1 / np.sqrt(x), (0.05, 6)),
    "square": (np.square, (-3, 3)),
    "sign": (np.sign, (-3, 3)),
    "floor": (np.floor, (-4, 4)),
    "ceil": (np.ceil, (-4, 4)),
    "trunc": (np.trunc, (-4, 4)),
    "round": (np.round, (-4, 4)),  # NumPy's round is half-to-even too
    "frac": (frac_reference, (-4, 4)),
    "nan_to_num": (np.nan_to_num, (-3, 3)),
    "exp": (np.exp, (-3, 3)),
    "log": (np.log, (0.05, 6)),
    "sqrt": (np.sqrt, (0.05, 6)),
    "abs": (np.abs, (-3, 3)),
    "neg": (np.negative, (-3, 3)),
}
FLOAT_ONLY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1",
              "log2", "log10", "exp2", "reciprocal", "rsqrt", "exp", "log", "sqrt"]
KEEP_INTEGER = ["floor", "ceil", "trunc", "round", "sign", "square", "abs", "neg", "nan_to_num"]
PREDICATES = {"isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
              "isposinf": np.isposinf, "isneginf": np.isneginf}
ALIASES = [("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("fix", "trunc")]


def sample(name, shape, dtype, seed=0):
    low, high = UNARY[name][1]
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_match_numpy(name, dtype, device):
    reference = UNARY[name][0]
    data = sample(name, (3, 4), dtype)
    x = T(data, device)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for out in (getattr(tinynn, name)(x), getattr(x, name)()):
        assert out.dtype == x.dtype and out.shape == x.shape and out.device == x.device
        np.testing.assert_allclose(host(out), reference(data), **tol)
    np.testing.assert_array_equal(host(x), data)  # the input is left alone


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_of_0d_and_empty_tensors(name, device):
    data = sample(name, (), np.float64)
    out = getattr(tinynn, name)(T(data, device))
    assert out.shape == ()
    np.testing.assert_allclose(host(out), UNARY[name][0](data), rtol=1e-12)
    empty = getattr(T(np.zeros((0, 3)), device), name)()
    assert empty.shape == (0, 3)


@pytest.mark.parametrize("alias, name", ALIASES)
def test_aliases(alias, name, device):
    data = sample(name, (5,), np.float64)
    x = T(data, device)
    expected = host(getattr(x, name)())
    np.testing.assert_array_equal(host(getattr(tinynn, alias)(x)), expected)
    np.testing.assert_array_equal(host(getattr(x, alias)()), expected)


# ---------------------------------------------------------------------------- dtypes


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # log(0), 1/0 of False
@pytest.mark.parametrize("name", FLOAT_ONLY)
def test_float_only_functions_promote_integers_to_float32(name, device):
    # sin, log1p, reciprocal... of an int64 (or bool) tensor give the default float dtype.
    reference = UNARY[name][0]
    ints = [1, 2, 3] if name not in ("asin", "acos") else [0, 1, -1]
    for values, dtype in ((ints, tinynn.int64), ([True, False], tinynn.bool)):
        out = getattr(tinynn, name)(T(values, device, dtype=dtype))
        assert out.dtype == tinynn.float32, f"{name}({dtype}) is {out.dtype}"
        expected = reference(np.array(values, dtype=np.float32))
        np.testing.assert_allclose(host(out), expected, rtol=1e-6)


@pytest.mark.parametrize("name", KEEP_INTEGER)
def test_integer_inputs_keep_their_dtype(name, device):
    """floor/ceil/round/trunc of an integer tensor return a copy of it (the array-api
    convention the docs name); sign, square, abs, neg stay integer too."""
    data = np.array([-3, 0, 2, 7], dtype=np.int64)
    x = T(data, device)
    out = getattr(tinynn, name)(x)
    assert out.dtype == tinynn.int64
    np.testing.assert_array_equal(host(out), UNARY[name][0](data))
    out += 1  # a copy: the input does not change
    np.testing.assert_array_equal(host(x), data)


def test_round_floor_of_float_stay_float(device):
    for dtype in (tinynn.float32, tinynn.float64):
        x = T([1.5, -0.2], device, dtype=dtype)
        for name in ("floor", "ceil", "round", "trunc", "frac", "sign", "square"):
            assert getattr(x, name)().dtype == dtype
        assert x.round(decimals=1).dtype == dtype


def test_frac_of_an_integer_tensor_is_an_error(device):
    # torch.frac is implemented for floating types only.
    with pytest.raises(RuntimeError):
        tinynn.frac(T([1, 2], device))


@pytest.mark.parametrize("name", sorted(PREDICATES))
def test_predicates_return_bool(name, device):
    data = np.array([1.0, NAN, -INF, INF, 0.0, -2.5], dtype=np.float32)
    x = T(data, device, requires_grad=True)
    for out in (getattr(tinynn, name)(x), getattr(x, name)()):
        assert out.dtype == tinynn.bool and not out.requires_grad and out.device == x.device
        np.testing.assert_array_equal(host(out), PREDICATES[name](data))
    ints = getattr(T([1, -2, 0], device), name)()  # integers are always finite
    assert ints.dtype == tinynn.bool
    np.testing.assert_array_equal(host(ints), [name == "isfinite"] * 3)


def test_float32_and_float64_inputs_keep_their_dtype_in_binary_ops(device):
    a32, b32 = T([1.0, -2.0], device), T([0.5, 3.0], device)
    a64 = T([1.0, -2.0], device, dtype=tinynn.float64)
    assert tinynn.atan2(a32, b32).dtype == tinynn.float32
    assert tinynn.atan2(a64, b32).dtype == tinynn.float64  # type promotion, as any binary op
    assert tinynn.atan2(T([1, 2], device), T([3, 4], device)).dtype == tinynn.float32
    assert tinynn.lerp(a32, b32, 0.5).dtype == tinynn.float32
    assert tinynn.lerp(a64, a64 * 2, 0.5).dtype == tinynn.float64


# ---------------------------------------------------------------------------- PyTorch's examples


def test_round_examples_from_the_docs(device):
    np.testing.assert_array_equal(host(tinynn.round(T((4.7, -2.3, 9.1, -7.7), device))),
                                  np.array([5.0, -2.0, 9.0, -8.0], dtype=np.float32))
    # halves go to the even neighbour (zero counts as even); -0.5 gives -0.
    out = host(tinynn.round(T([-0.5, 0.5, 1.5, 2.5], device)))
    np.testing.assert_array_equal(out, [-0.0, 0.0, 2.0, 2.0])
    assert np.signbit(out[0])
    np.testing.assert_allclose(host(tinynn.round(T([0.1234567], device), decimals=3)),
                               np.array([0.123], dtype=np.float32), rtol=1e-6)
    np.testing.assert_array_equal(host(tinynn.round(T([1200.1234567], device), decimals=-3)), [1000.0])


def test_round_decimals_is_half_to_even_at_that_place(device):
    x = T([0.125, 0.375, 1.2345, -2.5678, 3.0], device, dtype=tinynn.float64)
    np.testing.assert_allclose(host(x.round(decimals=2)), [0.12, 0.38, 1.23, -2.57, 3.0], rtol=1e-15)
    # negative decimals: to the left of the point, ties still to even (2.5 -> 2, 3.5 -> 4)
    y = T([25.0, 35.0, -15.0, 1234.0], device, dtype=tinynn.float64)
    np.testing.assert_array_equal(host(tinynn.round(y, decimals=-1)), [20.0, 40.0, -20.0, 1230.0])
    np.testing.assert_array_equal(host(y.round(decimals=0)), host(y.round()))


def test_nan_to_num_examples_from_the_docs(device):
    x = T([NAN, INF, -INF, 3.14], device)
    big = np.finfo(np.float32).max  # 3.4028e+38
    out = tinynn.nan_to_num(x)
    assert out.dtype == tinynn.float32
    np.testing.assert_array_equal(host(out), np.array([0.0, big, -big, 3.14], dtype=np.float32))
    np.testing.assert_array_equal(host(tinynn.nan_to_num(x, nan=2.0)),
                                  np.array([2.0, big, -big, 3.14], dtype=np.float32))
    np.testing.assert_array_equal(host(tinynn.nan_to_num(x, nan=2.0, posinf=1.0)),
                                  np.array([2.0, 1.0, -big, 3.14], dtype=np.float32))
    np.testing.assert_array_equal(host(x.nan_to_num(0.5, 7.0, -7.0)),
                                  np.array([0.5, 7.0, -7.0, 3.14], dtype=np.float32))


def test_nan_to_num_uses_the_inputs_dtype_limits(device):
    x = T([NAN, INF, -INF], device, dtype=tinynn.float64)
    big = np.finfo(np.float64).max
    out = x.nan_to_num()
    assert out.dtype == tinynn.float64
    np.testing.assert_array_equal(host(out), [0.0, big, -big])
    ints = tinynn.nan_to_num(T([1, -2], device))  # integers have nothing to replace
    assert ints.dtype == tinynn.int64
    np.testing.assert_array_equal(host(ints), [1, -2])


def test_predicate_examples_from_the_docs(device):
    x = T([1, INF, 2, -INF, NAN], device)
    np.testing.assert_array_equal(host(tinynn.isfinite(x)), [True, False, True, False, False])
    np.testing.assert_array_equal(host(tinynn.isinf(x)), [False, True, False, True, False])
    np.testing.assert_array_equal(host(tinynn.isnan(T([1, NAN, 2], device))), [False, True, False])
    a = T([-INF, INF, 1.2], device)
    np.testing.assert_array_equal(host(tinynn.isposinf(a)), [False, True, False])
    np.testing.assert_array_equal(host(tinynn.isneginf(a)), [True, False, False])


def test_small_examples_from_the_docs(device):
    np.testing.assert_allclose(host(tinynn.frac(T([1, 2.5, -3.2], device))), [0.0, 0.5, -0.2], atol=1e-6)
    np.testing.assert_array_equal(host(tinynn.sign(T([0.7, -1.2, 0.0, 2.3], device))), [1.0, -1.0, 0.0, 1.0])
    np.testing.assert_allclose(host(tinynn.exp2(T([0, math.log2(2.0), 3, 4], device))), [1.0, 2.0, 8.0, 16.0])
    start, end = tinynn.arange(1.0, 5.0, device=device), T([10.0] * 4, device)
    np.testing.assert_array_equal(host(tinynn.lerp(start, end, 0.5)), [5.5, 6.0, 6.5, 7.0])
    np.testing.assert_array_equal(host(tinynn.lerp(start, end, tinynn.full_like(start, 0.5))),
                                  [5.5, 6.0, 6.5, 7.0])
    np.testing.assert_array_equal(host(start.lerp(end, 0.5)), [5.5, 6.0, 6.5, 7.0])


def test_sign_of_nan_is_zero(device):
    # PyTorch's sign is (x > 0) - (x < 0): NaN gives 0, unlike NumPy (pytorch/pytorch#41245).
    np.testing.assert_array_equal(host(tinynn.sign(T([NAN, -0.0, -INF], device))), [0.0, 0.0, -1.0])


def test_log1p_and_expm1_are_accurate_near_zero(device):
    x = T([1e-10, -1e-12], device, dtype=tinynn.float64)
    np.testing.assert_allclose(host(x.log1p()), [1e-10 - 5e-21, -1e-12], rtol=1e-12)
    np.testing.assert_allclose(host(x.expm1()), [1e-10 + 5e-21, -1e-12], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
def test_reciprocal_and_rsqrt_of_zero_are_inf(device):
    np.testing.assert_array_equal(host(tinynn.reciprocal(T([0.0, 4.0], device))), [INF, 0.25])
    np.testing.assert_array_equal(host(tinynn.rsqrt(T([0.0, 4.0], device))), [INF, 0.5])


def test_atan2_quadrants(device):
    y = T([1.0, 1.0, -1.0, -1.0, 0.0, 1.0], device, dtype=tinynn.float64)
    x = T([1.0, -1.0, -1.0, 1.0, -1.0, 0.0], device, dtype=tinynn.float64)
    expected = np.array([45, 135, -135, -45, 180, 90]) * np.pi / 180
    np.testing.assert_allclose(host(tinynn.atan2(y, x)), expected, rtol=1e-15)
    np.testing.assert_allclose(host(tinynn.arctan2(y, x)), expected, rtol=1e-15)
    np.testing.assert_allclose(host(y.atan2(x)), expected, rtol=1e-15)
    np.testing.assert_allclose(host(y.arctan2(x)), expected, rtol=1e-15)


def test_atan2_broadcasts(device):
    y = np.random.default_rng(0).standard_normal((3, 1))
    x = np.random.default_rng(1).standard_normal((4,))
    out = tinynn.atan2(T(y, device), T(x, device))
    assert out.shape == (3, 4)
    np.testing.assert_allclose(host(out), np.arctan2(y, x), rtol=1e-12)


def test_clamp_min_and_clamp_max(device):
    data = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float32)
    x = T(data, device)
    np.testing.assert_array_equal(host(tinynn.clamp_min(x, -0.5)), np.maximum(data, -0.5))
    np.testing.assert_array_equal(host(x.clamp_min(0.25)), np.maximum(data, 0.25))
    np.testing.assert_array_equal(host(tinynn.clamp_max(x, 0.5)), np.minimum(data, 0.5))
    np.testing.assert_array_equal(host(x.clamp_max(-1.0)), np.minimum(data, -1.0))
    assert tinynn.clamp_min(x, 0).dtype == tinynn.float32


def test_lerp_dtype_mismatch_is_an_error(device):
    # torch.lerp checks that end (and a tensor weight) have the input's dtype.
    a = T([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="dtype"):
        tinynn.lerp(a, T([1.0, 2.0], device, dtype=tinynn.float64), 0.5)
    with pytest.raises(RuntimeError, match="dtype"):
        tinynn.lerp(a, a * 2, T([0.5, 0.5], device, dtype=tinynn.float64))


# ---------------------------------------------------------------------------- gradchecks

def _shift(name, by):
    """``tinynn.<name>(a - by)``: moves the 'positive' domain (0.5..2) onto the op's range."""
    return lambda a: getattr(tinynn, name)(a - by)


# (id, fn, input shapes, domain(s)); each is gradchecked in float64 and run in float32.
OPS = [
    ("sin", lambda a: a.sin(), [(3, 4)], "normal"),
    ("cos", lambda a: tinynn.cos(a), [(3, 4)], "normal"),
    ("tan", _shift("tan", 1.25), [(3, 4)], "positive"),  # |x| < 0.75
    ("asin", _shift("asin", 1.25), [(3, 4)], "positive"),
    ("acos", _shift("acos", 1.25), [(3, 4)], "positive"),
    ("atan", lambda a: a.atan(), [(3, 4)], "normal"),
    ("sinh", lambda a: a.sinh(), [(3, 4)], "normal"),
    ("cosh", lambda a: tinynn.cosh(a), [(3, 4)], "normal"),
    ("log1p", lambda a: a.log1p(), [(3, 4)], "positive"),
    ("log1p_negative", _shift("log1p", 1.2), [(3, 4)], "positive"),  # -0.7..0.8
    ("expm1", lambda a: tinynn.expm1(a), [(3, 4)], "normal"),
    ("log2", lambda a: a.log2(), [(3, 4)], "positive"),
    ("log10", lambda a: tinynn.log10(a), [(3, 4)], "positive"),
    ("exp2", lambda a: a.exp2(), [(3, 4)], "normal"),
    ("reciprocal", lambda a: a.reciprocal(), [(3, 4)], "nonzero"),
    ("rsqrt", lambda a: tinynn.rsqrt(a), [(3, 4)], "positive"),
    ("square", lambda a: a.square(), [(3, 4)], "normal"),
    ("sign", lambda a: a.sign() * a, [(3, 4)], "nonzero"),
    ("floor", lambda a: tinynn.floor(a) + a * a, [(3, 4)], "normal"),
    ("ceil", lambda a: a.ceil() * a, [(3, 4)], "normal"),
    ("trunc", lambda a: a.trunc() + a, [(3, 4)], "normal"),
    ("round", lambda a: tinynn.round(a) * a, [(3, 4)], "normal"),
    ("round_decimals", lambda a: a.round(decimals=1) + a, [(2, 3)], "normal"),
    ("frac", lambda a: a.frac(), [(3, 4)], "normal"),
    ("nan_to_num", lambda a: a.nan_to_num() * a, [(3, 4)], "normal"),
    ("atan2", lambda a, b: tinynn.atan2(a, b), [(3, 4), (3, 4)], ["normal", "nonzero"]),
    ("atan2_broadcast", lambda a, b: a.atan2(b), [(3, 1), (4,)], ["normal", "nonzero"]),
    ("arctan2", lambda a, b: tinynn.arctan2(a, b), [(2, 3), (2, 3)], ["nonzero", "normal"]),
    ("lerp_scalar", lambda a, b: tinynn.lerp(a, b, 0.3), [(3, 4), (3, 4)], "normal"),
    ("lerp_scalar_broadcast", lambda a, b: a.lerp(b, -0.75), [(3, 1), (4,)], "normal"),
    ("lerp_tensor", lambda a, b, w: tinynn.lerp(a, b, w), [(3, 4), (3, 4), (3, 4)], "normal"),
    ("lerp_tensor_broadcast", lambda a, b, w: a.lerp(b, w), [(3, 1), (4,), (2, 1, 1)], "normal"),
    ("clamp_min", lambda a: tinynn.clamp_min(a, 0.1), [(4, 5)], "normal"),
    ("clamp_max", lambda a: a.clamp_max(-0.2), [(4, 5)], "normal"),
    # in-place on a non-leaf: the tensor takes over the new graph node
    ("sin_", lambda a: (a * 1.5).sin_(), [(3, 4)], "normal"),
    ("exp_chain_", lambda a: (a * 0.5).exp_().log1p_().square_(), [(3, 4)], "normal"),
    ("sigmoid_", lambda a: (a + 0).sigmoid_(), [(3, 4)], "normal"),
    ("tanh_relu_", lambda a: (a * 2).tanh_().relu_(), [(3, 4)], "nonzero"),
    ("pow_", lambda a: (a * 1).pow_(3), [(3, 4)], "normal"),
    ("clamp_", lambda a: (a * 1).clamp_(-0.5, 0.5), [(4, 5)], "normal"),
    ("lerp_", lambda a, b, w: (a * 1).lerp_(b, w), [(3, 4), (4,), (3, 1)], "normal"),
    ("atan2_", lambda a, b: (a * 1).atan2_(b), [(3, 4), (3, 4)], ["normal", "nonzero"]),
    ("nan_to_num_", lambda a: (a * 2).nan_to_num_(), [(3, 4)], "normal"),
    ("reciprocal_", lambda a: (a * 1).reciprocal_(), [(3, 4)], "nonzero"),
]
OP_IDS = [entry[0] for entry in OPS]


@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=OP_IDS)
def test_gradcheck(name, fn, shapes, domain, device):
    check_op(fn, shapes, domain, device)


# ---------------------------------------------------------------------------- gradients at kinks


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc", "sign"])
def test_step_functions_have_zero_gradient_everywhere(name, device):
    """Including at the jumps (integers, halves, zero): PyTorch defines the gradient as 0.
    The result still takes part in autograd, so backward through it works."""
    values = [-2.0, -1.5, -0.5, 0.0, 0.5, 1.0, 2.5, 0.3]
    x = T(values, device, dtype=tinynn.float64, requires_grad=True)
    out = getattr(x, name)()
    assert out.requires_grad
    (out * 3).sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros(len(values)))
    assert x.grad.dtype == tinynn.float64


def test_frac_has_gradient_one_even_at_integers(device):
    g = grad_of(tinynn.frac, [-2.0, -0.5, 0.0, 1.0, 2.7], device, dtype=tinynn.float32)
    np.testing.assert_array_equal(g, np.ones(5, dtype=np.float32))
    assert g.dtype == np.float32


def test_nan_to_num_gradient_is_zero_where_a_value_was_replaced(device):
    g = grad_of(lambda x: x.nan_to_num(nan=1.0, posinf=2.0) * 0.5, [NAN, INF, -INF, 1.5, -0.25], device)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.5, 0.5])


def test_one_sided_clamps_pass_the_gradient_at_the_bound(device):
    # like clamp: min <= x (clamp_min) and x <= max (clamp_max) are inclusive.
    g = grad_of(lambda x: x.clamp_min(0.0), [-1.0, 0.0, 1.0], device)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])
    g = grad_of(lambda x: tinynn.clamp_max(x, 0.0), [-1.0, 0.0, 1.0], device)
    np.testing.assert_array_equal(g, [1.0, 1.0, 0.0])


def test_atan2_gradients(device):
    # d/dy atan2(y, x) = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)
    y = T([1.0, 3.0], device, dtype=tinynn.float64, requires_grad=True)
    x = T([1.0, -4.0], device, dtype=tinynn.float64, requires_grad=True)
    tinynn.atan2(y, x).sum().backward()
    np.testing.assert_allclose(host(y.grad), [0.5, -4 / 25])
    np.testing.assert_allclose(host(x.grad), [-0.5, -3 / 25])


def test_lerp_gradients_reach_all_three_inputs(device):
    start = T([1.0, 2.0], device, dtype=tinynn.float64, requires_grad=True)
    end = T([3.0, 5.0], device, dtype=tinynn.float64, requires_grad=True)
    weight = T([0.25, 0.5], device, dtype=tinynn.float64, requires_grad=True)
    out = tinynn.lerp(start, end, weight)
    np.testing.assert_allclose(host(out), [1.5, 3.5])
    out.sum().backward()
    np.testing.assert_allclose(host(start.grad), [0.75, 0.5])
    np.testing.assert_allclose(host(end.grad), [0.25, 0.5])
    np.testing.assert_allclose(host(weight.grad), [2.0, 3.0])


def test_lerp_broadcast_gradients_are_reduced_to_each_shape(device):
    start = T(np.ones((3, 1)), device, dtype=tinynn.float32, requires_grad=True)
    end = T(np.full(4, 3.0), device, dtype=tinynn.float32, requires_grad=True)
    weight = T([[0.5]], device, dtype=tinynn.float32, requires_grad=True)
    start.lerp(end, weight).sum().backward()
    assert start.grad.shape == (3, 1) and end.grad.shape == (4,) and weight.grad.shape == (1, 1)
    np.testing.assert_allclose(host(start.grad), np.full((3, 1), 2.0))
    np.testing.assert_allclose(host(end.grad), np.full(4, 1.5))
    np.testing.assert_allclose(host(weight.grad), [[24.0]])  # 12 elements * (3 - 1)
    assert start.grad.dtype == end.grad.dtype == weight.grad.dtype == tinynn.float32


# ---------------------------------------------------------------------------- in-place
# (method, args, value range); the out-of-place method is the name without the "_".
INPLACE = [
    ("exp_", (), (-2, 2)), ("log_", (), (0.1, 3)), ("sqrt_", (), (0.1, 3)), ("abs_", (), (-2, 2)),
    ("neg_", (), (-2, 2)), ("sign_", (), (-2, 2)), ("square_", (), (-2, 2)),
    ("reciprocal_", (), (0.2, 3)), ("rsqrt_", (), (0.1, 3)),
    ("floor_", (), (-3, 3)), ("ceil_", (), (-3, 3)), ("round_", (), (-3, 3)), ("trunc_", (), (-3, 3)),
    ("frac_", (), (-3, 3)),
    ("clamp_", (-0.5, 0.5), (-2, 2)), ("clamp_min_", (0.25,), (-2, 2)), ("clamp_max_", (-0.25,), (-2, 2)),
    ("sin_", (), (-3, 3)), ("cos_", (), (-3, 3)), ("tan_", (), (-1, 1)), ("asin_", (), (-0.9, 0.9)),
    ("acos_", (), (-0.9, 0.9)), ("atan_", (), (-3, 3)), ("sinh_", (), (-2, 2)), ("cosh_", (), (-2, 2)),
    ("log1p_", (), (-0.5, 3)), ("expm1_", (), (-2, 2)), ("log2_", (), (0.1, 3)), ("log10_", (), (0.1, 3)),
    ("exp2_", (), (-2, 2)),
    ("relu_", (), (-2, 2)), ("sigmoid_", (), (-3, 3)), ("tanh_", (), (-3, 3)),
    ("pow_", (2,), (-2, 2)), ("pow_", (0.5,), (0.1, 3)), ("nan_to_num_", (), (-2, 2)),
]
INPLACE_IDS = [f"{name}{args}" if args else name for name, args, _ in INPLACE]


def _inplace_data(value_range, seed=0):
    return np.random.default_rng(seed).uniform(*value_range, (3, 4)).astype(np.float32)


@pytest.mark.parametrize("name, args, value_range", INPLACE, ids=INPLACE_IDS)
def test_inplace_matches_out_of_place(name, args, value_range, device):
    data = _inplace_data(value_range)
    upstream = T(np.random.default_rng(1).standard_normal((3, 4)), device, dtype=tinynn.float32)

    # leaves hold data / 2 so that the non-leaf ``leaf * 2`` holds exactly ``data``
    ref_leaf = T(data / 2, device, requires_grad=True)
    expected = getattr(ref_leaf * 2, name[:-1])(*args)
    (expected * upstream).sum().backward()

    # a tensor outside the graph: updated in place, the same object returned
    x = T(data, device)
    out = getattr(x, name)(*args)
    assert out is x and x.dtype == tinynn.float32
    np.testing.assert_allclose(host(x), host(expected), rtol=1e-6, atol=1e-6)

    # a non-leaf: takes over the new node, and the gradient flows through it
    leaf = T(data / 2, device, requires_grad=True)
    h = leaf * 2
    out = getattr(h, name)(*args)
    assert out is h and h.grad_fn is not None and h.requires_grad
    np.testing.assert_allclose(host(h), host(expected), rtol=1e-6, atol=1e-6)
    (h * upstream).sum().backward()
    assert leaf.grad.dtype == tinynn.float32
    np.testing.assert_allclose(host(leaf.grad), host(ref_leaf.grad), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, args, value_range", INPLACE, ids=INPLACE_IDS)
def test_inplace_on_a_leaf_that_requires_grad(name, args, value_range, device):
    data = _inplace_data(value_range)
    w = T(data, device, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        getattr(w, name)(*args)
    np.testing.assert_array_equal(host(w), data)  # untouched
    # ... but under no_grad it is a plain update that keeps w the same leaf
    with tinynn.no_grad():
        out = getattr(w, name)(*args)
    assert out is w and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(host(w), host(getattr(T(data, device), name[:-1])(*args)), rtol=1e-6)


def test_inplace_through_data_updates_the_parameter(device):
    """``p.data`` shares p's array: ``p.data.clamp_(...)`` (weight clipping) changes p."""
    p = tinynn.nn.Parameter(T([-2.0, 0.3, 5.0], device))
    p.data.clamp_(-1.0, 1.0)
    np.testing.assert_array_equal(host(p), np.array([-1.0, 0.3, 1.0], dtype=np.float32))
    p.data.nan_to_num_().mul_(1.0)
    p.data.round_(decimals=1).abs_()
    np.testing.assert_allclose(host(p), [1.0, 0.3, 1.0], rtol=1e-6)
    assert p.is_leaf and p.requires_grad


def test_inplace_keeps_old_values_for_earlier_uses(device):
    """A non-leaf updated in place after another op used it: the graph keeps the old value,
    so the gradient of both uses is right."""
    x = T([0.3, -1.2, 2.0], device, dtype=tinynn.float64, requires_grad=True)
    h = x * 1.5
    g = h * h            # uses h before the update
    h.sin_()
    (g + h).sum().backward()
    h0 = 1.5 * np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(host(x.grad), 1.5 * (2 * h0 + np.cos(h0)), rtol=1e-12)


def test_inplace_with_an_operand_that_requires_grad(device):
    """A plain tensor updated from one that requires grad joins the graph (PyTorch does
    the same: ``h.requires_grad`` becomes True)."""
    end = T([2.0, 4.0], device, requires_grad=True)
    h = tinynn.zeros(2, device=device)
    out = h.lerp_(end, 0.25)
    assert out is h and h.requires_grad
    np.testing.assert_allclose(host(h), [0.5, 1.0])
    h.sum().backward()
    np.testing.assert_allclose(host(end.grad), [0.25, 0.25])

    other = T([1.0, 1.0], device, requires_grad=True)
    y = T([1.0, -1.0], device)
    y.atan2_(other)
    y.sum().backward()
    np.testing.assert_allclose(host(other.grad), [-0.5, 0.5])


def test_inplace_binary_methods(device):
    a = T([1.0, 2.0, 3.0], device)
    assert a.lerp_(T([3.0, 2.0, 1.0], device), T([0.5, 0.0, 1.0], device)) is a
    np.testing.assert_array_equal(host(a), [2.0, 2.0, 1.0])
    b = T([1.0, -1.0], device)
    assert b.arctan2_(T([1.0, 1.0], device)) is b
    np.testing.assert_allclose(host(b), [np.pi / 4, -np.pi / 4], rtol=1e-6)
    c = T([2.0, 3.0], device)
    assert c.pow_(T([2.0, 0.5], device)) is c
    np.testing.assert_allclose(host(c), [4.0, np.sqrt(3.0)], rtol=1e-6)


def test_inplace_float_result_into_an_integer_tensor_is_an_error(device):
    for name in ("sin_", "sqrt_", "reciprocal_", "exp_"):
        x = T([1, 2, 3], device)
        with pytest.raises(RuntimeError):
            getattr(x, name)()
        np.testing.assert_array_equal(host(x), [1, 2, 3])
    x = T([-3, 2], device)
    for name in ("abs_", "square_", "sign_", "neg_", "floor_", "round_"):
        assert getattr(x, name)() is x
    assert x.dtype == tinynn.int64
    np.testing.assert_array_equal(host(x), [-1, -1])  # -sign(square(abs(x))) = -1


def test_inplace_lerp_must_keep_the_shape(device):
    with pytest.raises(RuntimeError):
        T([1.0, 2.0], device).lerp_(T(np.ones((3, 2)), device), 0.5)


# ---------------------------------------------------------------------------- properties

HYP = dict(deadline=None, derandomize=True, database=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
DIFFERENTIABLE = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1",
                  "log2", "log10", "exp2", "rsqrt", "square", "frac", "floor", "round", "sign"]


@settings(max_examples=20, **HYP)
@given(shape=array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
       name=st.sampled_from(DIFFERENTIABLE), seed=st.integers(0, 2 ** 16))
def test_unary_over_shapes(shape, name, seed, device):
    """Any shape: the value matches NumPy and the float64 gradient passes gradcheck."""
    data = sample(name, shape, np.float64, seed)
    x = T(data, device, requires_grad=True)
    out = getattr(x, name)()
    assert out.shape == tuple(shape)
    np.testing.assert_allclose(host(out), UNARY[name][0](data), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: getattr(t, name)(), [x])


@settings(max_examples=15, **HYP)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_atan2_over_broadcast_shapes(shapes, seed, device):
    y, x = make_inputs(shapes.input_shapes, ["normal", "nonzero"], np.float64, seed, device)
    out = tinynn.atan2(y, x)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(host(out), np.arctan2(host(y), host(x)), rtol=1e-12)
    assert gradcheck(tinynn.atan2, [y, x])
    assert y.grad.shape == y.shape and x.grad.shape == x.shape


@settings(max_examples=15, **HYP)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_lerp_over_broadcast_shapes(shapes, seed, device):
    a, b, w = make_inputs(shapes.input_shapes, "normal", np.float64, seed, device)
    out = tinynn.lerp(a, b, w)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(host(out), host(a) + host(w) * (host(b) - host(a)), rtol=1e-12, atol=1e-12)
    assert gradcheck(tinynn.lerp, [a, b, w])


@settings(max_examples=15, **HYP)
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2 ** 16),
       posinf=st.one_of(st.none(), st.floats(-5, 5)), neginf=st.one_of(st.none(), st.floats(-5, 5)),
       nan=st.floats(-5, 5))
def test_nan_to_num_over_shapes(shape, seed, posinf, neginf, nan, device):
    rng = np.random.default_rng(seed)
    data = rng.choice([NAN, INF, -INF, 1.5, -0.25, 3.0], size=shape)
    out = tinynn.nan_to_num(T(data, device, dtype=tinynn.float64), nan=nan, posinf=posinf, neginf=neginf)
    np.testing.assert_array_equal(host(out), np.nan_to_num(data, nan=nan, posinf=posinf, neginf=neginf))
    g = grad_of(lambda t: t.nan_to_num(nan, posinf, neginf), data, device)
    np.testing.assert_array_equal(g, np.isfinite(data).astype(np.float64))
