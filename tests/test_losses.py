"""Losses (issue #13), checked against PyTorch's documentation.

Expected values come from NumPy references written from the formulas on PyTorch's pages
(BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, NLLLoss, KLDivLoss)
and from their worked examples; gradients are float64 gradchecks on both backends.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F

from opcheck import check_op

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(13)


def t(array, device=None, requires_grad=False):
    return tinynn.tensor(np.asarray(array), device=device, requires_grad=requires_grad)


def reduce_np(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def sigmoid_np(x):
    return 1 / (1 + np.exp(-x))


# ---------------------------------------------------------------- references from the docs

def ref_bce(x, y, w=None, reduction="mean"):
    # l_n = -w_n [y_n log x_n + (1 - y_n) log(1 - x_n)], each log clamped at -100
    with np.errstate(divide="ignore"):
        losses = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return reduce_np(losses if w is None else w * losses, reduction)


def ref_bce_logits(x, y, w=None, pos_weight=None, reduction="mean"):
    # l_{n,c} = -w_{n,c} [p_c y_{n,c} log sigma(x_{n,c}) + (1 - y_{n,c}) log(1 - sigma(x_{n,c}))]
    p = 1.0 if pos_weight is None else pos_weight
    log_s, log_1ms = -np.logaddexp(0, -x), -np.logaddexp(0, x)  # log sigmoid(x), log(1 - sigmoid(x))
    losses = -(p * y * log_s + (1 - y) * log_1ms)
    return reduce_np(losses if w is None else w * losses, reduction)


def ref_smooth_l1(x, y, beta, reduction):
    d = np.abs(x - y)
    return reduce_np(np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta), reduction)


def ref_huber(x, y, delta, reduction):
    d = np.abs(x - y)
    return reduce_np(np.where(d < delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)), reduction)


def ref_kl_div(x, y, reduction, log_target=False):
    if log_target:
        losses = np.exp(y) * (y - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            losses = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1)) - x), 0.0)
    if reduction == "batchmean":
        return losses.sum() / x.shape[0]
    return reduce_np(losses, reduction)


def ref_nll(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    # l_n = -w_{y_n} x_{n, y_n}, zero where y_n == ignore_index; mean divides by sum w_{y_n}
    c, out_shape = logp.shape[1], target.shape
    logp = np.moveaxis(logp, 1, -1).reshape(-1, c)
    target = target.reshape(-1)
    weight = np.ones(c) if weight is None else weight
    losses, weights = np.zeros(len(target)), np.zeros(len(target))
    for i, k in enumerate(target):
        if k != ignore_index:
            weights[i] = weight[k]
            losses[i] = -weight[k] * logp[i, k]
    if reduction == "none":
        return losses.reshape(out_shape)
    return losses.sum() if reduction == "sum" else losses.sum() / weights.sum()


# ---------------------------------------------------------------- BCELoss

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_values_every_reduction(reduction, device):
    x, y = RNG.uniform(0.05, 0.95, (4, 3)), RNG.uniform(0, 1, (4, 3))
    expected = ref_bce(x, y, reduction=reduction)
    out = F.binary_cross_entropy(t(x, device), t(y, device), reduction=reduction)
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-12)
    module = nn.BCELoss(reduction=reduction)(t(x, device), t(y, device))
    np.testing.assert_allclose(module.numpy(force=True), expected, rtol=1e-12)
    assert out.device == tinynn.device(device)


@pytest.mark.parametrize("weight_shape", [(4, 3), (3,), (1, 3), (4, 1), ()])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_weight_is_broadcast_to_the_input(weight_shape, reduction, device):
    x, y = RNG.uniform(0.05, 0.95, (4, 3)), RNG.integers(0, 2, (4, 3)).astype(float)
    w = RNG.uniform(0.5, 2, weight_shape)
    expected = ref_bce(x, y, np.broadcast_to(w, x.shape), reduction)
    out = nn.BCELoss(weight=t(w, device), reduction=reduction)(t(x, device), t(y, device))
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-12)


def test_bce_clamps_its_logs_at_minus_100(device):
    # x = 0 or 1 exactly: log(0) would be -inf; PyTorch clamps it to -100
    x, y = t([0.0, 1.0, 0.0, 1.0], device, True), t([1.0, 0.0, 0.0, 1.0], device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning either
        loss = F.binary_cross_entropy(x, y, reduction="none")
        np.testing.assert_array_equal(loss.numpy(force=True), [100.0, 100.0, 0.0, 0.0])
        loss.sum().backward()
    assert np.isfinite(x.grad.numpy(force=True)).all()
    # d/dx = (x - y) / max(x (1 - x), 1e-12): huge but finite where wrong, 0 where right
    np.testing.assert_allclose(x.grad.numpy(force=True), [-1e12, 1e12, 0.0, 0.0])
    assert F.binary_cross_entropy(t([1e-200], device), t([1.0], device)).item() == 100.0


def test_bce_float32_saturated_sigmoid_stays_finite(device):
    # a sigmoid that rounds to exactly 1.0 in float32 (a VAE's decoder) must not give inf
    x = t(np.array([20.0, -120.0], np.float32), device, True)
    loss = F.binary_cross_entropy(x.sigmoid(), t(np.array([0.0, 1.0], np.float32), device))
    assert loss.dtype == tinynn.float32 and np.isfinite(loss.item())
    loss.backward()
    assert np.isfinite(x.grad.numpy(force=True)).all()


@pytest.mark.parametrize("bad", [-0.1, 1.1, float("nan")])
def test_bce_input_outside_0_1_is_a_runtime_error(bad, device):
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(t([0.5, bad], device), t([0.0, 1.0], device))


def test_bce_shape_errors(device):
    x = t(np.full((3, 2), 0.5), device)
    with pytest.raises(ValueError, match=r"target size .*\[3\].* different to the input size .*\[3, 2\]"):
        F.binary_cross_entropy(x, t([0.0, 1.0, 1.0], device))
    with pytest.raises(ValueError, match="same size"):
        nn.BCELoss()(x, t(np.zeros((2, 3)), device))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(2\)"):
        F.binary_cross_entropy(x, t(np.zeros((3, 2)), device), weight=t(np.ones(3), device))
    with pytest.raises(RuntimeError, match=r"weight of shape \(2, 1, 1\) cannot be broadcast .*\(3, 2\)"):
        F.binary_cross_entropy(x, t(np.zeros((3, 2)), device), weight=t(np.ones((2, 1, 1)), device))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_gradcheck(reduction, device):
    # input and target both differentiable (PyTorch has a target gradient for BCE)
    check_op(lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction=reduction),
             [(3, 4), (3, 4)], "normal", device)
    w = t(RNG.uniform(0.5, 2, (4,)), device)
    check_op(lambda x: F.binary_cross_entropy(x.sigmoid(), t(np.full((3, 4), 0.3), device),
                                              weight=w, reduction=reduction),
             [(3, 4)], "normal", device)


def test_bce_gradient_of_the_weight(device):
    check_op(lambda x, w: F.binary_cross_entropy(x.sigmoid(), t(np.full((2, 3), 0.7), device),
                                                 weight=w, reduction="sum"),
             [(2, 3), (3,)], ["normal", "positive"], device)


# ---------------------------------------------------------------- BCEWithLogitsLoss

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_values_every_reduction(reduction, device):
    x, y = RNG.normal(0, 3, (5, 3)), RNG.uniform(0, 1, (5, 3))
    expected = ref_bce_logits(x, y, reduction=reduction)
    out = F.binary_cross_entropy_with_logits(t(x, device), t(y, device), reduction=reduction)
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-12)
    module = nn.BCEWithLogitsLoss(reduction=reduction)(t(x, device), t(y, device))
    np.testing.assert_allclose(module.numpy(force=True), expected, rtol=1e-12)
    # the same as a sigmoid followed by BCELoss, where that is accurate
    composed = F.binary_cross_entropy(t(x, device).sigmoid(), t(y, device), reduction=reduction)
    np.testing.assert_allclose(out.numpy(force=True), composed.numpy(force=True), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_weight_and_pos_weight(reduction, device):
    x, y = RNG.normal(0, 2, (4, 3)), RNG.integers(0, 2, (4, 3)).astype(float)
    w, p = RNG.uniform(0.5, 2, (4, 1)), np.array([1.0, 3.0, 0.25])  # pos_weight along the last dim
    expected = ref_bce_logits(x, y, np.broadcast_to(w, x.shape), p, reduction)
    loss = nn.BCEWithLogitsLoss(weight=t(w, device), pos_weight=t(p, device), reduction=reduction)
    np.testing.assert_allclose(loss(t(x, device), t(y, device)).numpy(force=True), expected, rtol=1e-12)


def test_bce_with_logits_docs_example(device):
    # PyTorch's example: 64 classes, batch 10, all targets 1, logits 1.5, pos_weight ones:
    # the loss is -log(sigmoid(1.5))
    target = tinynn.ones([10, 64], dtype=tinynn.float32, device=device)
    output = tinynn.full([10, 64], 1.5, device=device)
    criterion = nn.BCEWithLogitsLoss(pos_weight=tinynn.ones([64], device=device))
    loss = criterion(output, target)
    assert loss.dtype == tinynn.float32
    assert loss.item() == pytest.approx(-np.log(sigmoid_np(1.5)), rel=1e-6)
    assert loss.item() == pytest.approx(0.20141, abs=1e-5)


def test_bce_with_logits_pos_weight_counts_positives_only(device):
    # "if a dataset contains 100 positive and 300 negative examples, pos_weight = 3": the
    # positives' loss is tripled and the negatives' is unchanged
    x, y = t([1.0, 2.0], device), t([0.0, 1.0], device)
    plain = F.binary_cross_entropy_with_logits(x, y, reduction="none").numpy(force=True)
    weighted = F.binary_cross_entropy_with_logits(x, y, reduction="none",
                                                  pos_weight=t([3.0], device)).numpy(force=True)
    np.testing.assert_allclose(weighted, [plain[0], 3 * plain[1]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_stable_at_1e4(dtype, device):
    x = t(np.array([1e4, -1e4, 1e4, -1e4], dtype), device, True)
    y = t(np.array([1.0, 0.0, 0.0, 1.0], dtype), device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning
        loss = F.binary_cross_entropy_with_logits(x, y, reduction="none",
                                                  pos_weight=t(np.array([2.0], dtype), device))
        np.testing.assert_array_equal(loss.numpy(force=True), [0.0, 0.0, 1e4, 2e4])
        loss.sum().backward()
    # exact gradient: (1 + (p - 1) y) sigmoid(x) - p y
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 1.0, -2.0])
    assert loss.dtype == x.grad.dtype == dtype
    x.grad = None
    mean = F.binary_cross_entropy_with_logits(x, y)
    assert mean.item() == pytest.approx(5000.0)
    mean.backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 0.0, 0.25, -0.25])


def test_bce_with_logits_shape_errors(device):
    x = t(np.zeros((3, 2)), device)
    with pytest.raises(ValueError, match=r"Target size .*\[3, 1\].* must be the same as input size .*\[3, 2\]"):
        F.binary_cross_entropy_with_logits(x, t(np.zeros((3, 1)), device))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(2\)"):
        F.binary_cross_entropy_with_logits(x, t(np.zeros((3, 2)), device), pos_weight=t(np.ones(3), device))
    with pytest.raises(RuntimeError, match=r"pos_weight of shape \(4, 1, 2\) cannot be broadcast"):
        F.binary_cross_entropy_with_logits(x, t(np.zeros((3, 2)), device), pos_weight=t(np.ones((4, 1, 2)), device))
    with pytest.raises(RuntimeError, match="must match the size"):
        nn.BCEWithLogitsLoss(weight=t(np.ones(4), device))(x, t(np.zeros((3, 2)), device))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_gradcheck(reduction, device):
    check_op(lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid(), reduction=reduction),
             [(3, 4), (3, 4)], "normal", device)
    # weight and pos_weight differentiable too
    check_op(lambda x, y, w, p: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), weight=w, pos_weight=p, reduction=reduction),
        [(3, 4), (3, 4), (3, 1), (4,)], ["normal", "normal", "positive", "positive"], device)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
       reduction=st.sampled_from(REDUCTIONS), scale=st.sampled_from([0.1, 3.0, 30.0]))
def test_bce_with_logits_matches_numpy_over_shapes(shape, reduction, scale):
    rng = np.random.default_rng(len(shape))
    x, y = rng.normal(0, scale, shape), rng.uniform(0, 1, shape)
    p = rng.uniform(0.5, 2, shape[-1:])
    out = F.binary_cross_entropy_with_logits(t(x), t(y), pos_weight=t(p), reduction=reduction)
    expected = ref_bce_logits(x, y, pos_weight=p, reduction=reduction)
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- MSE, L1, SmoothL1, Huber

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_values(reduction, device):
    x, y = RNG.normal(0, 2, (4, 5)), RNG.normal(0, 2, (4, 5))
    X, Y = t(x, device), t(y, device)
    cases = [
        (nn.MSELoss(reduction=reduction), F.mse_loss(X, Y, reduction=reduction), (x - y) ** 2),
        (nn.L1Loss(reduction=reduction), F.l1_loss(X, Y, reduction=reduction), np.abs(x - y)),
    ]
    for module, functional, losses in cases:
        np.testing.assert_allclose(functional.numpy(force=True), reduce_np(losses, reduction), rtol=1e-12)
        np.testing.assert_allclose(module(X, Y).numpy(force=True), reduce_np(losses, reduction), rtol=1e-12)
    for beta in (1.0, 0.5, 2.5):
        expected = ref_smooth_l1(x, y, beta, reduction)
        np.testing.assert_allclose(F.smooth_l1_loss(X, Y, reduction=reduction, beta=beta).numpy(force=True),
                                   expected, rtol=1e-12)
        np.testing.assert_allclose(nn.SmoothL1Loss(reduction=reduction, beta=beta)(X, Y).numpy(force=True),
                                   expected, rtol=1e-12)
    for delta in (1.0, 0.5, 2.5):
        expected = ref_huber(x, y, delta, reduction)
        np.testing.assert_allclose(F.huber_loss(X, Y, reduction=reduction, delta=delta).numpy(force=True),
                                   expected, rtol=1e-12)
        np.testing.assert_allclose(nn.HuberLoss(reduction=reduction, delta=delta)(X, Y).numpy(force=True),
                                   expected, rtol=1e-12)


def test_smooth_l1_and_huber_relations(device):
    x, y = t(RNG.normal(0, 2, 50), device), t(RNG.normal(0, 2, 50), device)
    # beta = 0 is the L1 loss; Huber = delta * SmoothL1(beta=delta); at delta = 1 they agree
    assert F.smooth_l1_loss(x, y, beta=0.0).item() == pytest.approx(F.l1_loss(x, y).item())
    assert F.huber_loss(x, y, delta=2.0).item() == pytest.approx(2.0 * F.smooth_l1_loss(x, y, beta=2.0).item())
    assert F.huber_loss(x, y).item() == pytest.approx(F.smooth_l1_loss(x, y).item())
    # hand values: d = 0.5 (square part), d = 3 (linear part)
    a, b = t([0.5, 3.0], device), t([0.0, 0.0], device)
    np.testing.assert_allclose(F.smooth_l1_loss(a, b, reduction="none").numpy(force=True), [0.125, 2.5])
    np.testing.assert_allclose(F.huber_loss(a, b, reduction="none", delta=2.0).numpy(force=True), [0.125, 4.0])
    np.testing.assert_allclose(F.smooth_l1_loss(a, b, reduction="none", beta=2.0).numpy(force=True), [0.0625, 2.0])


def test_regression_loss_errors(device):
    x = t(np.zeros((3, 2)), device)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        nn.HuberLoss(delta=0.0)(x, x)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.warns(UserWarning, match="different to the input size"):
            out = fn(x, t(np.zeros(2), device), reduction="none")  # broadcasts, with a warning
        assert out.shape == (3, 2)
        with pytest.warns(UserWarning), pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match"):
            fn(x, t(np.zeros(4), device))
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            fn(x, x, reduction="batchmean")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_mse_l1_huber(reduction, device):
    # PyTorch's `weight` of mse_loss / l1_loss / huber_loss: per element; mse and l1 divide
    # their 'mean' by the summed weights, huber takes the plain mean
    x, y, w = RNG.normal(0, 2, (3, 4)), RNG.normal(0, 2, (3, 4)), RNG.uniform(0.5, 2, (3, 4))
    X, Y, W = t(x, device), t(y, device), t(w, device)
    for fn, losses in ((F.mse_loss, (x - y) ** 2), (F.l1_loss, np.abs(x - y))):
        expected = (w * losses).sum() / w.sum() if reduction == "mean" else reduce_np(w * losses, reduction)
        np.testing.assert_allclose(fn(X, Y, reduction=reduction, weight=W).numpy(force=True), expected, rtol=1e-12)
    expected = reduce_np(w * ref_huber(x, y, 1.5, "none"), reduction)
    np.testing.assert_allclose(F.huber_loss(X, Y, reduction=reduction, delta=1.5, weight=W).numpy(force=True),
                               expected, rtol=1e-12)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(X, Y, weight=t(np.ones(4), device))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_gradcheck(reduction, device):
    shapes = [(3, 4), (3, 4)]
    check_op(lambda x, y: F.mse_loss(x, y, reduction=reduction), shapes, "normal", device)
    check_op(lambda x, y: F.l1_loss(x, y, reduction=reduction), shapes, "normal", device)
    for beta in (1.0, 0.7, 0.0):
        check_op(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta), shapes, "normal", device)
    for delta in (1.0, 0.7):
        check_op(lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=delta), shapes, "normal", device)
    check_op(lambda x, y, w: F.mse_loss(x, y, reduction=reduction, weight=w),
             shapes + [(3, 4)], ["normal", "normal", "positive"], device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a broadcast target warns; its gradient is summed back
        check_op(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction), [(3, 4), (4,)], "normal", device)


def test_l1_gradient_at_zero_difference_is_zero(device):
    x = t([1.0, 2.0], device, True)
    F.l1_loss(x, t([1.0, 0.0], device), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(force=True), [0.0, 1.0])


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
       beta=st.sampled_from([0.0, 0.3, 1.0, 4.0]), reduction=st.sampled_from(REDUCTIONS))
def test_smooth_l1_and_huber_match_numpy_over_shapes(shape, beta, reduction):
    rng = np.random.default_rng(len(shape) + int(beta * 10))
    x, y = rng.normal(0, 3, shape), rng.normal(0, 3, shape)
    np.testing.assert_allclose(F.smooth_l1_loss(t(x), t(y), reduction=reduction, beta=beta).numpy(force=True),
                               ref_smooth_l1(x, y, beta, reduction) if beta else
                               reduce_np(np.abs(x - y), reduction), rtol=1e-12)
    if beta:
        np.testing.assert_allclose(F.huber_loss(t(x), t(y), reduction=reduction, delta=beta).numpy(force=True),
                                   ref_huber(x, y, beta, reduction), rtol=1e-12)


# ---------------------------------------------------------------- KLDivLoss

@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_values(reduction, log_target, device):
    logits = RNG.normal(0, 1, (4, 5))
    x = logits - np.log(np.exp(logits).sum(1, keepdims=True))        # log-probabilities
    p = RNG.dirichlet(np.ones(5), 4)
    p[0, 1] = 0.0                                                     # 0 * log 0 counts as 0
    p[0] /= p[0].sum()
    y = np.log(np.where(p > 0, p, 1e-300)) if log_target else p
    expected = ref_kl_div(x, y, reduction, log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns; tested below
        out = F.kl_div(t(x, device), t(y, device), reduction=reduction, log_target=log_target)
        module = nn.KLDivLoss(reduction=reduction, log_target=log_target)(t(x, device), t(y, device))
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(module.numpy(force=True), expected, rtol=1e-10, atol=1e-12)


def test_kl_div_batchmean_is_the_kl_divergence(device):
    # KL(P || Q) = sum p log(p / q), averaged over the batch
    p, q = np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([[0.25, 0.75], [0.5, 0.5]])
    kl = (p * np.log(p / q)).sum(1).mean()
    out = nn.KLDivLoss(reduction="batchmean")(t(np.log(q), device), t(p, device))
    assert out.item() == pytest.approx(kl)
    out = F.kl_div(t(np.log(q), device), t(np.log(p), device), reduction="batchmean", log_target=True)
    assert out.item() == pytest.approx(kl)


def test_kl_div_mean_warns_and_zero_target_is_finite(device):
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(t(np.zeros((2, 2)), device), t(np.full((2, 2), 0.5), device))
    x = t(np.log([[0.5, 0.5]]), device, True)
    y = t([[1.0, 0.0]], device, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.kl_div(x, y, reduction="sum")
        loss.backward()
    assert loss.item() == pytest.approx(np.log(2))
    assert np.isfinite(x.grad.numpy(force=True)).all() and np.isfinite(y.grad.numpy(force=True)).all()
    with pytest.raises(ValueError, match="not a valid value"):
        nn.KLDivLoss(reduction="batch")


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div_gradcheck(reduction, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda x, y: F.kl_div(x, y, reduction=reduction), [(3, 4), (3, 4)],
                 ["normal", "positive"], device)
        check_op(lambda x, y: F.kl_div(x, y, reduction=reduction, log_target=True), [(3, 4), (3, 4)],
                 "normal", device)


# ---------------------------------------------------------------- NLLLoss

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_weight_and_ignore_index(reduction, device):
    logp = RNG.normal(0, 1, (6, 4))
    target = np.array([0, 3, 1, -1, 3, 2])
    w = np.array([1.0, 2.0, 0.5, 3.0])
    out = F.nll_loss(t(logp, device), t(target, device), weight=t(w, device), ignore_index=-1,
                     reduction=reduction)
    np.testing.assert_allclose(out.numpy(force=True), ref_nll(logp, target, w, -1, reduction), rtol=1e-12)
    module = nn.NLLLoss(weight=t(w, device), ignore_index=3, reduction=reduction)
    target2 = np.array([0, 3, 1, 1, 3, 2])
    np.testing.assert_allclose(module(t(logp, device), t(target2, device)).numpy(force=True),
                               ref_nll(logp, target2, w, 3, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_k_dimensional(reduction, device):
    # (N, C, d1, d2) log-probabilities with (N, d1, d2) targets, as PyTorch's NLLLoss takes
    logp = RNG.normal(0, 1, (2, 3, 4, 5))
    target = RNG.integers(0, 3, (2, 4, 5))
    target[0, 0, 0] = -100
    w = np.array([0.3, 1.0, 2.0])
    out = nn.NLLLoss(weight=t(w, device), reduction=reduction)(t(logp, device), t(target, device))
    expected = ref_nll(logp, target, w, -100, reduction)
    np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-12)
    assert out.shape == ((2, 4, 5) if reduction == "none" else ())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_gradcheck(reduction, device):
    target = t(np.array([[0, 2], [-100, 1]]), device)
    w = t(np.array([0.5, 1.0, 2.0]), device)
    check_op(lambda x: F.nll_loss(x, target, weight=w, reduction=reduction), [(2, 3, 2)], "normal", device)
    check_op(lambda x: F.nll_loss(x, t(np.array([1, 0, 2]), device), ignore_index=0, reduction=reduction),
             [(3, 3)], "normal", device)


def test_nll_all_ignored_mean_is_nan(device):
    # the mean divides by a total weight of 0, as in PyTorch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = F.nll_loss(t(np.zeros((2, 3)), device), t(np.array([-100, -100]), device))
    assert np.isnan(out.item())


def test_nll_errors(device):
    logp = t(np.zeros((2, 3)), device)
    with pytest.raises(ValueError, match=r"batch_size \(2\) to match target batch_size \(3\)"):
        F.nll_loss(logp, t(np.array([0, 1, 2]), device))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        nn.NLLLoss()(logp, t(np.array([0, 3]), device))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        nn.NLLLoss(weight=t(np.ones(2), device))(logp, t(np.array([0, 1]), device))


# ---------------------------------------------------------------- legacy size_average / reduce

@pytest.mark.parametrize("size_average, reduce, reduction", [
    (None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, True, "mean"),
    (False, True, "sum"), (None, False, "none"), (True, False, "none"), (False, False, "none")])
def test_legacy_size_average_and_reduce(size_average, reduce, reduction, device):
    x, y = RNG.uniform(0.1, 0.9, (3, 2)), RNG.uniform(0, 1, (3, 2))
    X, Y = t(x, device), t(y, device)
    legacy = dict(size_average=size_average, reduce=reduce)
    warns = size_average is not None or reduce is not None
    calls = [
        (lambda: F.binary_cross_entropy(X, Y, **legacy), ref_bce(x, y, reduction=reduction)),
        (lambda: nn.BCELoss(**legacy)(X, Y), ref_bce(x, y, reduction=reduction)),
        (lambda: F.binary_cross_entropy_with_logits(X, Y, **legacy), ref_bce_logits(x, y, reduction=reduction)),
        (lambda: nn.BCEWithLogitsLoss(**legacy)(X, Y), ref_bce_logits(x, y, reduction=reduction)),
        (lambda: F.mse_loss(X, Y, **legacy), reduce_np((x - y) ** 2, reduction)),
        (lambda: nn.L1Loss(**legacy)(X, Y), reduce_np(np.abs(x - y), reduction)),
        (lambda: nn.SmoothL1Loss(**legacy)(X, Y), ref_smooth_l1(x, y, 1.0, reduction)),
        (lambda: F.kl_div(X, Y, **legacy), ref_kl_div(x, y, reduction)),
        (lambda: nn.NLLLoss(**legacy)(X, t(np.array([0, 1, 1]), device)),
         ref_nll(x, np.array([0, 1, 1]), reduction=reduction)),
        (lambda: F.cross_entropy(X, t(np.array([0, 1, 1]), device), **legacy),
         ref_nll(x - np.log(np.exp(x).sum(1, keepdims=True)), np.array([0, 1, 1]), reduction=reduction)),
    ]
    for call, expected in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = call()
        messages = [str(w.message) for w in caught if "size_average and reduce" in str(w.message)]
        assert bool(messages) == warns
        if warns:
            assert f"reduction='{reduction}'" in messages[0]
        np.testing.assert_allclose(out.numpy(force=True), expected, rtol=1e-10)


def test_legacy_flags_set_the_module_reduction():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"


# ---------------------------------------------------------------- modules

def test_loss_modules_follow_pytorch_signatures_and_state(device):
    w, p = t(np.array([1.0, 2.0]), device), t(np.array([3.0, 4.0]), device)
    bce = nn.BCEWithLogitsLoss(w, None, None, "sum", p)
    assert bce.reduction == "sum" and bce.weight is w and bce.pos_weight is p
    assert set(bce.state_dict()) == {"weight", "pos_weight"}
    assert set(nn.BCEWithLogitsLoss().state_dict()) == set()
    assert list(nn.BCELoss(w).state_dict()) == ["weight"]
    assert nn.SmoothL1Loss(None, None, "none", 0.5).beta == 0.5
    assert nn.HuberLoss("sum", 2.0).delta == 2.0 and nn.HuberLoss().reduction == "mean"
    kl = nn.KLDivLoss(None, None, "batchmean", True)
    assert kl.reduction == "batchmean" and kl.log_target
    assert nn.NLLLoss(None, None, 5).ignore_index == 5
    ce = nn.CrossEntropyLoss(w, None, 1, None, "none", 0.1)
    assert (ce.ignore_index, ce.reduction, ce.label_smoothing) == (1, "none", 0.1)
    assert repr(nn.BCELoss()) == "BCELoss()" and repr(nn.HuberLoss()) == "HuberLoss()"
    assert list(bce.parameters()) == []
    for cls in (nn.BCELoss, nn.BCEWithLogitsLoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss):
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            cls(reduction="batchmean")


def test_weight_buffers_follow_the_module_dtype():
    loss = nn.BCEWithLogitsLoss(pos_weight=tinynn.tensor([2.0])).double()
    assert loss.pos_weight.dtype == tinynn.float64


def test_loss_dtypes_and_integer_targets(device):
    x = t(np.array([[0.3, -1.2]], np.float32), device, True)
    y = t(np.array([[1, 0]]), device)  # an int64 target is used in the input's dtype
    for loss in (F.binary_cross_entropy_with_logits(x, y), F.binary_cross_entropy(x.sigmoid(), y)):
        assert loss.dtype == tinynn.float32
        loss.backward()
        assert x.grad.dtype == tinynn.float32
        x.grad = None


# ---------------------------------------------------------------- training: XOR

def test_xor_mlp_with_bce_with_logits():
    # the 2-8-1 MLP of countless introductory courses, on the four XOR points
    tinynn.manual_seed(0)
    X = tinynn.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = tinynn.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    criterion = nn.BCEWithLogitsLoss()
    optimizer = tinynn.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05
    predicted = (model(X).sigmoid() > 0.5).float()
    assert predicted.tolist() == y.tolist()
