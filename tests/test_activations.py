"""Activations (issue #13), module and ``F`` form, against PyTorch's documentation.

The documented formulas are written out in NumPy (the plain textbook forms, not tinynn's
stable ones) and the results compared; gradients are gradchecked in float64 by
``opcheck.check_op`` (which also checks that float32 stays float32 and that the graph frees
its arrays), away from the kinks; the gradient *at* each kink is tested on its own, following
PyTorch (leaky_relu'(0) = negative_slope, elu'(0) = alpha, no gradient at hardtanh's, relu6's
and threshold's bounds). Large inputs (+-1e4) must give finite values and gradients without a
floating-point warning. Every tensor is made on the ``device`` fixture's device.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.ops.activation_more import erf, erfc
from opcheck import check_op

# the constants as PyTorch's SELU page prints them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def T(values, device, dtype=tinynn.float64, requires_grad=False):
    return tinynn.tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def host(t):
    return t.detach().cpu().numpy()


def grad_of(fn, values, device, dtype=tinynn.float64):
    """d(sum(fn(x)))/dx at ``values``."""
    x = T(values, device, dtype=dtype, requires_grad=True)
    fn(x).sum().backward()
    return host(x.grad)


# ------------------------------------------------------------------- NumPy references
# Each is the formula of the function's PyTorch documentation page, written directly.

def np_erf(x):
    return np.vectorize(math.erf)(x)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        return np.where(x * beta > threshold, x, np.log(1 + np.exp(beta * x)) / beta)


def np_hardtanh(x, lo=-1.0, hi=1.0):
    return np.where(x > hi, hi, np.where(x < lo, lo, x))


REFERENCES = {
    # name: (tinynn function, NumPy reference)
    "relu": (F.relu, lambda x: np.maximum(0, x)),
    "leaky_relu": (F.leaky_relu, lambda x: np.maximum(0, x) + 0.01 * np.minimum(0, x)),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2),
                       lambda x: np.where(x >= 0, x, 0.2 * x)),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    "elu_0.5": (lambda x: F.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    "celu": (F.celu, lambda x: np.maximum(0, x) + np.minimum(0, np.exp(x) - 1)),
    "celu_2": (lambda x: F.celu(x, 2.0),
               lambda x: np.maximum(0, x) + np.minimum(0, 2.0 * (np.exp(x / 2.0) - 1))),
    "selu": (F.selu, lambda x: SELU_SCALE * (np.maximum(0, x)
                                             + np.minimum(0, SELU_ALPHA * (np.exp(x) - 1)))),
    "gelu": (F.gelu, lambda x: x * 0.5 * (1 + np_erf(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * np_sigmoid(x)),
    "mish": (F.mish, lambda x: x * np.tanh(np.log(1 + np.exp(x)))),
    "softplus": (F.softplus, np_softplus),
    "softplus_beta2_thr3": (lambda x: F.softplus(x, beta=2, threshold=3),
                            lambda x: np_softplus(x, 2.0, 3.0)),
    "hardtanh": (F.hardtanh, np_hardtanh),
    "hardtanh_-2_3": (lambda x: F.hardtanh(x, -2.0, 3.0), lambda x: np_hardtanh(x, -2.0, 3.0)),
    "relu6": (F.relu6, lambda x: np.minimum(np.maximum(0, x), 6)),
    "threshold": (lambda x: F.threshold(x, 0.1, 20.0), lambda x: np.where(x > 0.1, x, 20.0)),
    "logsigmoid": (F.logsigmoid, lambda x: np.log(np_sigmoid(x))),
    "hardsigmoid": (F.hardsigmoid,
                    lambda x: np.where(x <= -3, 0, np.where(x >= 3, 1, x / 6 + 0.5))),
    "hardswish": (F.hardswish,
                  lambda x: np.where(x <= -3, 0, np.where(x >= 3, x, x * (x + 3) / 6))),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "sigmoid": (F.sigmoid, np_sigmoid),
    "tanh": (F.tanh, np.tanh),
}

GRID = np.concatenate([np.linspace(-7, 7, 57), [-3.0, -1.0, 0.0, 0.1, 1.0, 3.0, 6.0, 20.0, 25.0]])


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_match_the_documented_formula(name, device):
    fn, reference = REFERENCES[name]
    out = fn(T(GRID, device))
    assert out.dtype == tinynn.float64 and out.device == device
    np.testing.assert_allclose(host(out), reference(GRID), rtol=1e-12, atol=1e-14)


def test_hand_computed_values(device):
    x = T([-2.0, 1.0], device)
    e = math.e
    checks = [
        (F.leaky_relu(x, 0.1), [-0.2, 1.0]),
        (F.elu(x), [math.exp(-2) - 1, 1.0]),
        (F.selu(x), [SELU_SCALE * SELU_ALPHA * (math.exp(-2) - 1), SELU_SCALE]),
        (F.gelu(x), [-2 * 0.5 * math.erfc(math.sqrt(2)), 0.8413447460685429]),
        (F.silu(x), [-2 / (1 + e ** 2), 1 / (1 + 1 / e)]),
        (F.mish(x), [-2 * math.tanh(math.log1p(e ** -2)), 0.8650983882673103]),
        (F.softplus(x), [math.log1p(e ** -2), math.log1p(e)]),
        (F.logsigmoid(x), [-math.log1p(e ** 2), -math.log1p(1 / e)]),
        (F.hardswish(x), [-2 * 1 / 6, 4 / 6]),
        (F.hardsigmoid(x), [1 / 6, 0.5 + 1 / 6]),
        (F.softsign(x), [-2 / 3, 0.5]),
        (F.tanhshrink(x), [-2 - math.tanh(-2), 1 - math.tanh(1)]),
        (F.relu6(T([-1.0, 7.0], device)), [0.0, 6.0]),
        (F.threshold(T([0.05, 0.5], device), 0.1, 20), [20.0, 0.5]),
    ]
    for out, expected in checks:
        np.testing.assert_allclose(host(out), expected, rtol=1e-14, atol=1e-15)
    assert F.softplus(T([0.0], device)).item() == pytest.approx(math.log(2), rel=1e-15)
    assert F.logsigmoid(T([0.0], device)).item() == pytest.approx(-math.log(2), rel=1e-15)


def test_softplus_is_linear_only_above_the_threshold(device):
    # beta * x > threshold: x itself; at the threshold the log form still applies
    out = host(F.softplus(T([20.0, 20.5, 1.5, 2.0], device), beta=2.0, threshold=3.0))
    np.testing.assert_allclose(out, [20.0, 20.5, math.log1p(math.exp(3.0)) / 2, 2.0], rtol=1e-15)
    assert host(F.softplus(T([20.0], device)))[0] == math.log1p(math.exp(20.0))  # not > 20


def test_selu_constants_are_exact():
    from tinynn.ops import activation
    assert activation.SELU_ALPHA == 1.6732632423543772848170429916717
    assert activation.SELU_SCALE == 1.0507009873554804934193349852946


# ---------------------------------------------------------------------------- erf

def test_erf_and_erfc_match_the_standard_library(device):
    x = np.concatenate([np.linspace(-9, 9, 36001), np.geomspace(1e-300, 3, 2000),
                        -np.geomspace(1e-300, 3, 2000), [0.0, 0.5, -0.5, 40.0, -40.0]])
    arr = T(x, device).array
    got_erf, got_erfc = host(tinynn.Tensor(erf(arr))), host(tinynn.Tensor(erfc(arr)))
    want_erf = np_erf(x)
    want_erfc = np.vectorize(math.erfc)(x)
    assert np.max(np.abs(got_erf - want_erf)) <= 4.5e-16
    small = (np.abs(x) < 0.5) & (x != 0)  # relative accuracy where erf is tiny
    assert np.max(np.abs(got_erf - want_erf)[small] / np.abs(want_erf[small])) < 1e-15
    positive = want_erfc > 0  # erfc(40) underflows to 0, in both
    assert np.max(np.abs(got_erfc - want_erfc)[positive] / want_erfc[positive]) < 1e-14
    np.testing.assert_array_equal(got_erfc[~positive], 0.0)
    far = np.linspace(6, 26, 2001)  # erfc keeps its relative accuracy deep in the tail
    got_far = host(tinynn.Tensor(erfc(T(far, device).array)))
    assert np.max(np.abs(got_far - np.vectorize(math.erfc)(far)) / np.vectorize(math.erfc)(far)) < 1e-14


def test_erfcx_coefficients_can_be_recomputed():
    """How the table in activation_more.py was made (runs only where mpmath is installed)."""
    mp = pytest.importorskip("mpmath")
    from tinynn.ops.activation_more import ERFCX_CHEBYSHEV
    mp.mp.dps, n = 50, 90
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    z = [3 * (1 + u) / (1 - u) for u in nodes]  # u = (z - 3) / (z + 3)
    values = [mp.exp(v * v) * mp.erfc(v) for v in z]
    for j, c in enumerate(ERFCX_CHEBYSHEV):
        exact = 2 * mp.fsum(f * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n)
                            for k, f in enumerate(values)) / n
        assert c == pytest.approx(float(exact / 2 if j == 0 else exact), rel=1e-15, abs=1e-30)


def test_erf_in_float32_stays_float32(device):
    x = np.linspace(-5, 5, 2001).astype(np.float32)
    out = erf(T(x, device, dtype=tinynn.float32).array)
    assert out.dtype == np.float32
    assert np.max(np.abs(host(tinynn.Tensor(out)) - np_erf(x.astype(np.float64)))) < 3e-7


def test_erf_special_values(device):
    x = T([0.0, math.inf, -math.inf, math.nan], device).array
    np.testing.assert_array_equal(host(tinynn.Tensor(erf(x))), [0.0, 1.0, -1.0, math.nan])
    np.testing.assert_array_equal(host(tinynn.Tensor(erfc(x))), [1.0, 0.0, 2.0, math.nan])


# ------------------------------------------------------------------ gradient checks

GRADCHECKS = {
    # name: (fn, shapes, domain); "nonzero" keeps |x| in 0.3..2, away from the kinks at 0
    "relu": (F.relu, "nonzero"),
    "leaky_relu": (F.leaky_relu, "nonzero"),
    "leaky_relu_0.3": (lambda a: F.leaky_relu(a, negative_slope=0.3), "nonzero"),
    "elu": (F.elu, "nonzero"),
    "elu_0.7": (lambda a: F.elu(a, 0.7), "nonzero"),
    "celu_1.5": (lambda a: F.celu(a, 1.5), "nonzero"),
    "selu": (F.selu, "nonzero"),
    "gelu": (F.gelu, "normal"),
    "gelu_far": (lambda a: F.gelu(a * 3), "normal"),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), "normal"),
    "silu": (F.silu, "normal"),
    "mish": (F.mish, "normal"),
    "softplus": (F.softplus, "normal"),
    "softplus_beta_thr": (lambda a: F.softplus(a * 3, beta=0.5, threshold=1.0), "nonzero"),
    "hardtanh": (lambda a: F.hardtanh(a * 1.3), "nonzero"),
    "hardtanh_bounds": (lambda a: F.hardtanh(a * 2, -0.5, 1.5), "nonzero"),
    "relu6": (lambda a: F.relu6(a * 4), "nonzero"),
    "threshold": (lambda a: F.threshold(a, 0.5, -2.0), "nonzero"),
    "logsigmoid": (F.logsigmoid, "normal"),
    "hardsigmoid": (lambda a: F.hardsigmoid(a * 2), "nonzero"),
    "hardswish": (lambda a: F.hardswish(a * 2), "nonzero"),
    "tanhshrink": (F.tanhshrink, "normal"),
    "softsign": (F.softsign, "nonzero"),
    "softmin": (lambda a: F.softmin(a, dim=1), "normal"),
    "softmin_dim0": (lambda a: F.softmin(a, dim=0), "normal"),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck(name, device):
    fn, domain = GRADCHECKS[name]
    check_op(fn, [(3, 4)], domain, device)


@pytest.mark.parametrize("shapes", [[(2, 3, 4, 2), (3,)], [(2, 3), (1,)], [(5,), (1,)],
                                    [(2, 3, 4), (3,)], [(4, 3, 2), (1,)]])
def test_prelu_gradcheck(shapes, device):
    check_op(F.prelu, shapes, "nonzero", device)


@pytest.mark.parametrize("cls, kwargs", [
    (nn.LeakyReLU, {}), (nn.ELU, {"alpha": 0.5}), (nn.CELU, {}), (nn.SELU, {}),
    (nn.GELU, {}), (nn.GELU, {"approximate": "tanh"}), (nn.SiLU, {}), (nn.Mish, {}),
    (nn.Softplus, {"beta": 2.0}), (nn.Hardtanh, {"min_val": -2.0}), (nn.ReLU6, {}),
    (nn.Threshold, {"threshold": 0.2, "value": 1.0}), (nn.LogSigmoid, {}),
    (nn.Hardsigmoid, {}), (nn.Hardswish, {}), (nn.Tanhshrink, {}), (nn.Softsign, {}),
    (nn.Softmin, {"dim": 1}), (nn.PReLU, {}), (nn.PReLU, {"num_parameters": 4})])
def test_modules_gradcheck(cls, kwargs, device):
    module = cls(**kwargs).to(device)
    if isinstance(module, nn.PReLU):
        module.double()
    check_op(lambda a: module(a * 3) if isinstance(module, nn.PReLU) else module(a),
             [(3, 4)], "nonzero", device)


# ------------------------------------------------------------------------ kink rules

def test_gradients_at_the_kinks(device):
    g = lambda fn, values: grad_of(fn, values, device)  # noqa: E731
    np.testing.assert_array_equal(g(F.relu, [-1.0, 0.0, 1.0]), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(g(lambda x: F.leaky_relu(x, 0.2), [-1.0, 0.0, 1.0]), [0.2, 0.2, 1.0])
    np.testing.assert_allclose(g(lambda x: F.elu(x, 0.5), [0.0]), [0.5])  # alpha at 0
    np.testing.assert_allclose(g(lambda x: F.celu(x, 2.0), [0.0]), [1.0])
    np.testing.assert_allclose(g(F.selu, [0.0, 1.0]), [SELU_SCALE * SELU_ALPHA, SELU_SCALE])
    # hardtanh / relu6: gradient 1 strictly inside, 0 at and beyond the bounds
    np.testing.assert_array_equal(g(F.hardtanh, [-2.0, -1.0, 0.5, 1.0, 2.0]), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(g(F.relu6, [-1.0, 0.0, 3.0, 6.0, 7.0]), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(g(lambda x: F.threshold(x, 0.5, 9.0), [0.4, 0.5, 0.6]), [0, 0, 1])
    np.testing.assert_allclose(g(F.hardsigmoid, [-3.0, 0.0, 3.0]), [0.0, 1 / 6, 0.0])
    # hardswish (PyTorch's backward): x/3 + 1/2 on the closed interval [-3, 3]
    np.testing.assert_allclose(g(F.hardswish, [-4.0, -3.0, 0.0, 3.0, 4.0]), [0, -0.5, 0.5, 1.5, 1])
    # softplus: the log form's slope (a sigmoid) up to and at the threshold, 1 beyond it
    np.testing.assert_allclose(g(lambda x: F.softplus(x, 2.0, 3.0), [1.5, 2.0]),
                               [np_sigmoid(3.0), 1.0], rtol=1e-15)
    # prelu at 0: the slope for the input, nothing for the weight
    x = T([-2.0, 0.0, 3.0], device, requires_grad=True)
    w = T([0.25], device, requires_grad=True)
    F.prelu(x, w).sum().backward()
    np.testing.assert_allclose(host(x.grad), [0.25, 0.25, 1.0])
    np.testing.assert_allclose(host(w.grad), [-2.0])


# --------------------------------------------------------------- stability and dtypes

STABLE = {
    # name: (fn, expected at [-1e4, 1e4])
    "leaky_relu": (F.leaky_relu, [-100.0, 1e4]),
    "elu": (F.elu, [-1.0, 1e4]),
    "celu": (lambda x: F.celu(x, 0.5), [-0.5, 1e4]),
    "selu": (F.selu, [-SELU_SCALE * SELU_ALPHA, SELU_SCALE * 1e4]),
    "gelu": (F.gelu, [0.0, 1e4]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), [0.0, 1e4]),
    "silu": (F.silu, [0.0, 1e4]),
    "mish": (F.mish, [0.0, 1e4]),
    "softplus": (F.softplus, [0.0, 1e4]),
    # beta * x = +-10 stays under the threshold: the log form, for both
    "softplus_small_beta": (lambda x: F.softplus(x, beta=0.001),
                            [math.log1p(math.exp(-10)) / 0.001, 1e4 + math.log1p(math.exp(-10)) / 0.001]),
    "logsigmoid": (F.logsigmoid, [-1e4, 0.0]),
    "hardtanh": (F.hardtanh, [-1.0, 1.0]),
    "relu6": (F.relu6, [0.0, 6.0]),
    "hardsigmoid": (F.hardsigmoid, [0.0, 1.0]),
    "hardswish": (F.hardswish, [0.0, 1e4]),
    "tanhshrink": (F.tanhshrink, [-1e4 + 1, 1e4 - 1]),
    "softsign": (F.softsign, [-1e4 / 10001, 1e4 / 10001]),
    "softmin": (lambda x: F.softmin(x, dim=0), [1.0, 0.0]),
}


@pytest.mark.parametrize("dtype", [tinynn.float32, tinynn.float64])
@pytest.mark.parametrize("name", sorted(STABLE))
def test_large_inputs_give_finite_values_and_gradients(name, dtype, device):
    fn, expected = STABLE[name]
    x = T([-1e4, 1e4], device, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value RuntimeWarning either
        out = fn(x)
        (out * T([0.5, 2.0], device, dtype=dtype)).sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(host(out))) and np.all(np.isfinite(host(x.grad)))
    np.testing.assert_allclose(host(out), expected, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_float32_stays_float32_and_agrees(name, device):
    fn, reference = REFERENCES[name]
    grid = GRID[GRID != 0.1]  # float32(0.1) is 0.1 to a float32 comparison, not to float64
    out = fn(T(grid, device, dtype=tinynn.float32))
    assert out.dtype == tinynn.float32
    np.testing.assert_allclose(host(out), reference(grid.astype(np.float32).astype(np.float64)),
                               rtol=2e-6, atol=2e-6)


def test_integer_input_becomes_float32(device):
    x = tinynn.tensor([-2, 0, 3], device=device)
    for fn in (F.gelu, F.silu, F.mish, F.softplus, F.logsigmoid, F.elu, F.selu, F.leaky_relu):
        assert fn(x).dtype == tinynn.float32


# ------------------------------------------------------------------------------ PReLU

def test_prelu_parameter_shape_init_and_state_dict():
    m = nn.PReLU()
    assert m.weight.shape == (1,) and m.weight.dtype == tinynn.float32
    assert m.weight.requires_grad and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), [0.25])
    m = nn.PReLU(num_parameters=3, init=0.1, dtype=tinynn.float64)
    assert list(m.state_dict()) == ["weight"] and m.state_dict()["weight"].shape == (3,)
    assert m.weight.dtype == tinynn.float64
    np.testing.assert_array_equal(m.weight.detach().numpy(), [0.1, 0.1, 0.1])
    assert [name for name, _ in m.named_parameters()] == ["weight"]
    other = nn.PReLU(3)
    other.load_state_dict({"weight": tinynn.tensor([0.5, 0.6, 0.7])})
    np.testing.assert_allclose(other.weight.detach().numpy(), [0.5, 0.6, 0.7], rtol=1e-7)


def test_prelu_per_channel_values_and_gradient(device):
    m = nn.PReLU(2, device=device)
    assert m.weight.device == device
    with tinynn.no_grad():
        m.weight.copy_(tinynn.tensor([0.1, 0.5], device=device))
    x = T(np.array([[[-1.0, 2.0], [-4.0, -2.0]], [[3.0, -3.0], [1.0, -1.0]]]), device,
          dtype=tinynn.float32, requires_grad=True)  # (N=2, C=2, L=2)
    out = m(x)
    a = np.array([0.1, 0.5], dtype=np.float32)[None, :, None]
    xv = host(x)
    np.testing.assert_allclose(host(out), np.maximum(0, xv) + a * np.minimum(0, xv), rtol=1e-6)
    upstream = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    (out * T(upstream, device, dtype=tinynn.float32)).sum().backward()
    # d/da_c = sum over the batch and length of min(0, x) * upstream, per channel
    want = (np.minimum(0, xv) * upstream).sum(axis=(0, 2))
    np.testing.assert_allclose(host(m.weight.grad), want, rtol=1e-6)
    assert m.weight.grad.dtype == tinynn.float32 and m.weight.grad.shape == (2,)
    np.testing.assert_allclose(host(x.grad), np.where(xv > 0, 1, a) * upstream, rtol=1e-6)


def test_prelu_single_parameter_any_shape(device):
    m = nn.PReLU().to(device)
    for shape in [(), (5,), (2, 3), (2, 3, 4, 5)]:
        x = tinynn.randn(size=shape, device=device)
        np.testing.assert_allclose(host(m(x)), np.where(host(x) > 0, host(x), 0.25 * host(x)))
        assert m(x).shape == x.shape


def test_prelu_channel_mismatch_is_an_error(device):
    m = nn.PReLU(3).to(device)
    with pytest.raises(RuntimeError, match="parameter numbers = 3 and channel size = 4"):
        m(tinynn.randn(2, 4, 5, device=device))
    with pytest.raises(RuntimeError, match="channel size = 1"):
        m(tinynn.randn(3, device=device))
    with pytest.raises(RuntimeError, match="scalar or 1D"):
        F.prelu(tinynn.randn(2, 3, device=device), tinynn.ones(3, 1, device=device))


def test_prelu_trains_its_weight():
    m = nn.PReLU(init=0.25)
    opt = tinynn.optim.SGD(m.parameters(), lr=0.1)
    x = tinynn.tensor([-1.0, -2.0, 3.0])
    target = tinynn.tensor([-0.5, -1.0, 3.0])  # the slope 0.5 fits exactly
    for _ in range(200):
        opt.zero_grad()
        F.mse_loss(m(x), target).backward()
        opt.step()
    assert m.weight.item() == pytest.approx(0.5, abs=1e-4)


# ----------------------------------------------------------------- modules and reprs

def test_reprs_follow_pytorch():
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.ELU(0.5, inplace=True)) == "ELU(alpha=0.5, inplace=True)"
    assert repr(nn.CELU()) == "CELU(alpha=1.0)"
    assert repr(nn.SELU()) == "SELU()" and repr(nn.SELU(inplace=True)) == "SELU(inplace=True)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.GELU(approximate="tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.SiLU()) == "SiLU()" and repr(nn.Mish(inplace=True)) == "Mish(inplace=True)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.Hardtanh(-2, 2, inplace=True)) == "Hardtanh(min_val=-2, max_val=2, inplace=True)"
    assert repr(nn.ReLU6()) == "ReLU6()" and repr(nn.ReLU6(True)) == "ReLU6(inplace=True)"
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)"
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)"
    assert repr(nn.Softmin(dim=1)) == "Softmin(dim=1)" and repr(nn.Softmin()) == "Softmin(dim=None)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    for cls in (nn.LogSigmoid, nn.Hardsigmoid, nn.Hardswish, nn.Tanhshrink, nn.Softsign):
        assert repr(cls()) == f"{cls.__name__}()"


MODULE_VS_F = [
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    (nn.ELU(0.3), lambda x: F.elu(x, 0.3)),
    (nn.CELU(0.3), lambda x: F.celu(x, 0.3)),
    (nn.SELU(), F.selu),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh")),
    (nn.SiLU(), F.silu), (nn.Mish(), F.mish),
    (nn.Softplus(2.0, 1.0), lambda x: F.softplus(x, 2.0, 1.0)),
    (nn.Hardtanh(-0.5, 0.5), lambda x: F.hardtanh(x, -0.5, 0.5)),
    (nn.Hardtanh(min_value=-0.5, max_value=0.5), lambda x: F.hardtanh(x, -0.5, 0.5)),
    (nn.ReLU6(), F.relu6),
    (nn.Threshold(0.1, -1.0), lambda x: F.threshold(x, 0.1, -1.0)),
    (nn.LogSigmoid(), F.logsigmoid), (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Hardswish(), F.hardswish), (nn.Tanhshrink(), F.tanhshrink), (nn.Softsign(), F.softsign),
    (nn.Softmin(0), lambda x: F.softmin(x, 0)),
]


@pytest.mark.parametrize("module, fn", MODULE_VS_F, ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_module_calls_its_functional_form(module, fn, device):
    x = tinynn.randn(4, 5, device=device) * 4
    np.testing.assert_array_equal(host(module(x)), host(fn(x)))


def test_hardtanh_needs_max_above_min():
    with pytest.raises(AssertionError):
        nn.Hardtanh(1.0, -1.0)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(RuntimeError, match="none or tanh"):
        F.gelu(tinynn.randn(3), approximate="erf")


def test_softmin_is_softmax_of_the_negation(device):
    x = np.random.default_rng(0).standard_normal((3, 4))
    out = host(F.softmin(T(x, device), dim=1))
    np.testing.assert_allclose(out, np.exp(-x) / np.exp(-x).sum(1, keepdims=True), rtol=1e-14)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = F.softmin(T(x, device))  # PyTorch's legacy choice for 2-D input: dim 1
    np.testing.assert_allclose(host(implicit), out, rtol=1e-14)
    assert F.softmin(T(x, device, dtype=tinynn.float32), 1, dtype=tinynn.float64).dtype == tinynn.float64


def test_top_level_names():
    x = tinynn.tensor([-1.0, 0.5])
    np.testing.assert_allclose(tinynn.selu(x).numpy(), F.selu(x).numpy())
    np.testing.assert_allclose(tinynn.celu(x, 0.5).numpy(), F.celu(x, 0.5).numpy())
    np.testing.assert_allclose(tinynn.threshold(x, 0.0, 3.0).numpy(), [3.0, 0.5])
    np.testing.assert_allclose(tinynn.prelu(x, tinynn.tensor([0.5])).numpy(), [-0.5, 0.5])


def test_grad_fn_names():
    x = tinynn.randn(3, requires_grad=True)
    assert F.leaky_relu(x).grad_fn.name == "LeakyReluBackward0"
    assert F.elu(x).grad_fn.name == "EluBackward0"
    assert F.gelu(x).grad_fn.name == F.gelu(x, approximate="tanh").grad_fn.name == "GeluBackward0"
    assert F.hardtanh(x).grad_fn.name == F.relu6(x).grad_fn.name == "HardtanhBackward0"
    assert F.softplus(x).grad_fn.name == "SoftplusBackward0"


# ---------------------------------------------------------------------------- in place

INPLACE = [
    ("relu", lambda x: F.relu(x, inplace=True), F.relu),
    ("relu_", F.relu_, F.relu),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2, inplace=True), lambda x: F.leaky_relu(x, 0.2)),
    ("leaky_relu_", lambda x: F.leaky_relu_(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    ("elu", lambda x: F.elu(x, inplace=True), F.elu), ("elu_", F.elu_, F.elu),
    ("celu_", F.celu_, F.celu), ("selu_", F.selu_, F.selu),
    ("hardtanh_", F.hardtanh_, F.hardtanh), ("relu6", lambda x: F.relu6(x, inplace=True), F.relu6),
    ("threshold_", lambda x: F.threshold_(x, 0.1, 5.0), lambda x: F.threshold(x, 0.1, 5.0)),
    ("silu", lambda x: F.silu(x, inplace=True), F.silu),
    ("mish", lambda x: F.mish(x, inplace=True), F.mish),
    ("hardswish", lambda x: F.hardswish(x, inplace=True), F.hardswish),
    ("nn.ReLU", nn.ReLU(inplace=True), F.relu),
    ("nn.LeakyReLU", nn.LeakyReLU(0.3, inplace=True), lambda x: F.leaky_relu(x, 0.3)),
    ("nn.ELU", nn.ELU(inplace=True), F.elu),
]


@pytest.mark.parametrize("name, in_place, reference", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_outside_the_graph_updates_the_array(name, in_place, reference, device):
    values = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    x = T(values, device, dtype=tinynn.float32)
    view = x[1:]
    out = in_place(x)
    assert out is x
    np.testing.assert_allclose(host(x), host(reference(T(values, device, dtype=tinynn.float32))))
    np.testing.assert_allclose(host(view), host(x)[1:])  # the same memory was written


@pytest.mark.parametrize("name, in_place, reference", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_on_a_non_leaf_keeps_gradients_right(name, in_place, reference, device):
    values = [-2.0, -0.5, 0.25, 0.5, 3.0]
    a = T(values, device, requires_grad=True)
    y = a * 2
    out = in_place(y)
    assert out is y and y.requires_grad
    (y * T([1.0, 2.0, 3.0, 4.0, 5.0], device)).sum().backward()
    b = T(values, device, requires_grad=True)
    (reference(b * 2) * T([1.0, 2.0, 3.0, 4.0, 5.0], device)).sum().backward()
    np.testing.assert_allclose(host(a.grad), host(b.grad), rtol=1e-14)


def test_inplace_on_a_leaf_that_requires_grad_is_an_error(device):
    x = T([1.0, -1.0], device, requires_grad=True)
    for fn in (lambda t: F.relu(t, inplace=True), lambda t: F.leaky_relu(t, inplace=True),
               nn.ReLU(inplace=True), nn.LeakyReLU(inplace=True)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            fn(x)
    with tinynn.no_grad():
        assert F.relu(x, inplace=True) is x
    np.testing.assert_array_equal(host(x), [1.0, 0.0])


def test_inplace_relu_in_a_network_trains_like_the_out_of_place_one():
    tinynn.manual_seed(3)
    a = nn.Sequential(nn.Linear(4, 6), nn.ReLU(inplace=True), nn.Linear(6, 6),
                      nn.LeakyReLU(0.1, inplace=True), nn.Linear(6, 1))
    b = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.LeakyReLU(0.1), nn.Linear(6, 1))
    b.load_state_dict(a.state_dict())
    x = tinynn.randn(8, 4)
    a(x).sum().backward()
    b(x).sum().backward()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=1e-6, err_msg=name)


# -------------------------------------------------------------------------- properties

PROPERTY_FNS = ["leaky_relu_0.2", "elu", "selu", "gelu", "gelu_tanh", "silu", "mish",
                "softplus", "hardtanh", "logsigmoid", "hardswish", "softsign"]


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=5),
       name=st.sampled_from(PROPERTY_FNS), seed=st.integers(0, 2 ** 16))
def test_any_shape_matches_the_reference(shape, name, seed):
    fn, reference = REFERENCES[name]
    x = np.random.default_rng(seed).standard_normal(shape) * 5
    out = fn(tinynn.tensor(x))
    assert out.shape == x.shape
    np.testing.assert_allclose(out.numpy(), reference(x), rtol=1e-12, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5), data=st.data())
def test_softmin_over_any_dim(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    out = F.softmin(tinynn.tensor(x), dim=dim).numpy()
    e = np.exp(-x)
    np.testing.assert_allclose(out, e / e.sum(axis=dim, keepdims=True), rtol=1e-13)


@settings(max_examples=25, deadline=None)
@given(shape=array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4),
       per_channel=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_prelu_over_shapes(shape, per_channel, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w = rng.uniform(0, 1, shape[1] if per_channel else 1)
    out = F.prelu(tinynn.tensor(x), tinynn.tensor(w)).numpy()
    a = w.reshape((-1,) + (1,) * (len(shape) - 2)) if per_channel else w[0]
    np.testing.assert_allclose(out, np.maximum(0, x) + a * np.minimum(0, x), rtol=1e-14)
