"""nn.functional and the loss / dropout layers: values against NumPy references and
hand-derived numbers, float64 gradient checks for every option, stability, errors."""
import math
import warnings

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.autograd import gradcheck

# ---------------------------------------------------------------------------- references


def ref_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def ref_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's cross_entropy written out in NumPy. x: (N, C, *d) or (C,)."""
    x, target = np.asarray(x, dtype=np.float64), np.asarray(target)
    if x.ndim == 1:
        x, target = x[None], target[None]
        squeeze = reduction == "none"
    else:
        squeeze = False
    classes = x.shape[1]
    logp = ref_log_softmax(x, 1)
    w = np.ones(classes) if weight is None else np.asarray(weight, dtype=np.float64)
    w_b = w.reshape((1, classes) + (1,) * (x.ndim - 2))
    if target.dtype.kind == "f":  # class probabilities
        t = target * (1 - label_smoothing) + label_smoothing / classes
        per = -(logp * t * w_b).sum(1)
        out = {"none": per, "sum": per.sum(), "mean": per.sum() / (x.size / classes)}[reduction]
    else:
        valid = target != ignore_index
        safe = np.where(valid, target, 0)
        picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
        wt = w[safe] * valid
        nll = -wt * picked
        smooth = -(logp * w_b).sum(1) * valid
        eps, k = label_smoothing, label_smoothing / classes
        if reduction == "none":
            out = (1 - eps) * nll + k * smooth
        elif reduction == "sum":
            out = (1 - eps) * nll.sum() + k * smooth.sum()
        else:
            out = ((1 - eps) * nll.sum() + k * smooth.sum()) / wt.sum()
    return out[0] if squeeze else out


def f64(array, requires_grad=True):
    return tinynn.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((5, 4))
TARGET = np.array([0, 3, 1, 3, 2])
WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])
PROBS = RNG.dirichlet(np.ones(4), size=5)
LOGITS_4D = RNG.standard_normal((2, 3, 2, 2))
TARGET_4D = np.array([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])

# (id, input logits, target, keyword arguments)
CE_CASES = [
    ("mean", LOGITS, TARGET, {}),
    ("sum", LOGITS, TARGET, {"reduction": "sum"}),
    ("none", LOGITS, TARGET, {"reduction": "none"}),
    ("weight", LOGITS, TARGET, {"weight": WEIGHT}),
    ("weight_sum", LOGITS, TARGET, {"weight": WEIGHT, "reduction": "sum"}),
    ("weight_none", LOGITS, TARGET, {"weight": WEIGHT, "reduction": "none"}),
    ("ignore_index", LOGITS, np.array([0, -100, 1, 3, -100]), {}),
    ("ignore_index_custom", LOGITS, TARGET, {"ignore_index": 3}),
    ("ignore_weight_none", LOGITS, TARGET, {"ignore_index": 3, "weight": WEIGHT, "reduction": "none"}),
    ("smoothing", LOGITS, TARGET, {"label_smoothing": 0.2}),
    ("smoothing_sum", LOGITS, TARGET, {"label_smoothing": 0.2, "reduction": "sum"}),
    ("smoothing_none", LOGITS, TARGET, {"label_smoothing": 0.2, "reduction": "none"}),
    ("smoothing_weight_ignore", LOGITS, TARGET, {"label_smoothing": 0.3, "weight": WEIGHT, "ignore_index": 1}),
    ("probs", LOGITS, PROBS, {}),
    ("probs_sum", LOGITS, PROBS, {"reduction": "sum"}),
    ("probs_none", LOGITS, PROBS, {"reduction": "none"}),
    ("probs_weight_smoothing", LOGITS, PROBS, {"weight": WEIGHT, "label_smoothing": 0.1}),
    ("4d", LOGITS_4D, TARGET_4D, {}),
    ("4d_none", LOGITS_4D, TARGET_4D, {"reduction": "none"}),
    ("4d_weight_ignore_smoothing", LOGITS_4D, TARGET_4D,
     {"weight": WEIGHT[:3], "ignore_index": 0, "label_smoothing": 0.1}),
    ("4d_probs", LOGITS_4D, RNG.dirichlet(np.ones(3), size=(2, 2, 2)).transpose(0, 3, 1, 2), {}),
    ("unbatched", LOGITS[0], np.array(2), {}),
    ("unbatched_none", LOGITS[0], np.array(2), {"reduction": "none"}),
    ("unbatched_smoothing_weight", LOGITS[0], np.array(1), {"label_smoothing": 0.2, "weight": WEIGHT}),
    ("unbatched_probs", LOGITS[0], PROBS[0], {}),
]


def _ce_call(logits, target, kwargs, dtype=np.float64):
    kwargs = dict(kwargs)
    if "weight" in kwargs:
        kwargs["weight"] = tinynn.tensor(kwargs["weight"].astype(dtype))
    t = tinynn.tensor(target.astype(dtype) if target.dtype.kind == "f" else target)
    return lambda x: F.cross_entropy(x, t, **kwargs)


@pytest.mark.parametrize("name, logits, target, kwargs", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_matches_reference(name, logits, target, kwargs):
    out = _ce_call(logits, target, kwargs)(f64(logits, requires_grad=False))
    expected = ref_cross_entropy(logits, target, **kwargs)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("name, logits, target, kwargs", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_gradcheck(name, logits, target, kwargs):
    assert gradcheck(_ce_call(logits, target, kwargs), [f64(logits)])


@pytest.mark.parametrize("name, logits, target, kwargs", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_float32(name, logits, target, kwargs):
    x = tinynn.tensor(logits.astype(np.float32), requires_grad=True)
    out = _ce_call(logits, target, kwargs, np.float32)(x)
    assert out.dtype == tinynn.float32
    out.sum().backward()
    assert x.grad.dtype == tinynn.float32
    np.testing.assert_allclose(out.detach().numpy(), ref_cross_entropy(logits, target, **kwargs), rtol=1e-5)


def test_cross_entropy_hand_computed_values():
    x = tinynn.tensor([[1.0, 2.0, 3.0]])
    # -log(e / (e + e^2 + e^3)) = log(1 + e + e^2)
    expected = math.log(1 + math.e + math.e ** 2)
    assert F.cross_entropy(x, tinynn.tensor([0])).item() == pytest.approx(expected, rel=1e-6)
    assert F.cross_entropy(x, tinynn.tensor([0])).item() == pytest.approx(2.4076059644, rel=1e-6)
    # smoothing 0.1: 0.9 * nll + 0.1/3 * sum_c(-log p_c)
    total = sum(expected - k for k in range(3))
    assert F.cross_entropy(x, tinynn.tensor([0]), label_smoothing=0.1).item() == \
        pytest.approx(0.9 * expected + 0.1 / 3 * total, rel=1e-6)
    # the gradient of the mean loss is (softmax - onehot) / N
    x = tinynn.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], requires_grad=True)
    F.cross_entropy(x, tinynn.tensor([0, 1])).backward()
    p = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(x.grad.numpy(), [(p - [1, 0, 0]) / 2, (np.full(3, 1 / 3) - [0, 1, 0]) / 2], rtol=1e-6)


@pytest.mark.filterwarnings("ignore:invalid value")
def test_cross_entropy_all_ignored_is_nan_like_pytorch():
    out = F.cross_entropy(tinynn.zeros(2, 3), tinynn.tensor([-100, -100]))
    assert math.isnan(out.item())


def test_cross_entropy_ignored_rows_get_no_gradient():
    x = tinynn.tensor(LOGITS.astype(np.float32), requires_grad=True)
    F.cross_entropy(x, tinynn.tensor([0, -100, 1, 3, -100]), label_smoothing=0.1).backward()
    assert not x.grad.numpy()[[1, 4]].any()
    assert x.grad.numpy()[[0, 2, 3]].any()


def test_cross_entropy_loss_module():
    x = f64(LOGITS, requires_grad=False)
    w = tinynn.tensor(WEIGHT)
    crit = nn.CrossEntropyLoss(weight=w, ignore_index=3, reduction="sum", label_smoothing=0.1)
    np.testing.assert_allclose(crit(x, tinynn.tensor(TARGET)).item(),
                               ref_cross_entropy(LOGITS, TARGET, WEIGHT, 3, "sum", 0.1))
    assert "weight" in crit.state_dict()
    assert nn.CrossEntropyLoss()(x, tinynn.tensor(TARGET)).item() == pytest.approx(
        ref_cross_entropy(LOGITS, TARGET))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")


# ---------------------------------------------------------------------------- nll, mse


NLL_CASES = [("mean", {}), ("sum", {"reduction": "sum"}), ("none", {"reduction": "none"}),
             ("weight", {"weight": WEIGHT}), ("ignore", {"ignore_index": 3}),
             ("weight_ignore_none", {"weight": WEIGHT, "ignore_index": 0, "reduction": "none"})]


@pytest.mark.parametrize("name, kwargs", NLL_CASES, ids=[c[0] for c in NLL_CASES])
def test_nll_loss(name, kwargs):
    logp = ref_log_softmax(LOGITS, 1)
    call_kwargs = dict(kwargs)
    if "weight" in call_kwargs:
        call_kwargs["weight"] = tinynn.tensor(WEIGHT)
    fn = lambda x: F.nll_loss(x, tinynn.tensor(TARGET), **call_kwargs)  # noqa: E731
    # nll_loss of log-probabilities is cross_entropy of the logits
    np.testing.assert_allclose(fn(f64(logp, False)).numpy(), ref_cross_entropy(LOGITS, TARGET, **kwargs), rtol=1e-10)
    assert gradcheck(fn, [f64(RNG.standard_normal((5, 4)))])


def test_nll_loss_hand_values_and_shapes():
    logp = tinynn.tensor([[-0.5, -1.0, -2.0], [-3.0, -0.1, -0.2]])
    assert F.nll_loss(logp, tinynn.tensor([2, 1])).item() == pytest.approx((2.0 + 0.1) / 2)
    assert F.nll_loss(logp, tinynn.tensor([2, 1]), reduction="none").tolist() == pytest.approx([2.0, 0.1])
    w = tinynn.tensor([1.0, 1.0, 3.0])
    assert F.nll_loss(logp, tinynn.tensor([2, 1]), weight=w).item() == pytest.approx((6.0 + 0.1) / 4)
    assert F.nll_loss(logp[0], tinynn.tensor(1)).item() == pytest.approx(1.0)  # unbatched
    assert F.nll_loss(logp[0], tinynn.tensor(1), reduction="none").shape == ()
    loss = nn.NLLLoss(reduction="sum")(logp, tinynn.tensor([0, 0]))
    assert loss.item() == pytest.approx(3.5)
    assert gradcheck(lambda x: F.nll_loss(x, tinynn.tensor([[0, 1], [2, 2]])), [f64(RNG.standard_normal((2, 3, 2)))])


def test_mse_loss():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    x, y = f64(a, False), f64(b, False)
    assert F.mse_loss(x, y).item() == pytest.approx(((a - b) ** 2).mean())
    assert F.mse_loss(x, y, reduction="sum").item() == pytest.approx(((a - b) ** 2).sum())
    np.testing.assert_allclose(F.mse_loss(x, y, reduction="none").numpy(), (a - b) ** 2)
    assert nn.MSELoss()(x, y).item() == pytest.approx(((a - b) ** 2).mean())
    for reduction in ("mean", "sum", "none"):
        assert gradcheck(lambda p, q: F.mse_loss(p, q, reduction=reduction), [f64(a), f64(b)])
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(x, y[0])
    xf = tinynn.tensor(a.astype(np.float32), requires_grad=True)
    out = F.mse_loss(xf, tinynn.tensor(b.astype(np.float32)))
    out.backward()
    assert out.dtype == xf.grad.dtype == tinynn.float32


# ---------------------------------------------------------------------------- errors


def test_target_out_of_bounds():
    x = tinynn.zeros(3, 10)
    with pytest.raises(IndexError, match="Target 12 is out of bounds"):
        F.cross_entropy(x, tinynn.tensor([1, 12, 3]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, tinynn.tensor([1, -1, 3]))
    with pytest.raises(IndexError, match="Target 10 is out of bounds"):
        nn.CrossEntropyLoss()(x, tinynn.tensor([10, 0, 0]))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(tinynn.zeros(3), tinynn.tensor(3))


def test_batch_size_mismatch():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)"):
        F.cross_entropy(tinynn.zeros(3, 5), tinynn.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="batch_size"):
        F.nll_loss(tinynn.zeros(3, 5), tinynn.tensor([0, 1]))


def test_other_loss_errors():
    x = tinynn.zeros(3, 5)
    with pytest.raises(RuntimeError, match="shape"):
        F.cross_entropy(x, tinynn.zeros(3, 4))                 # probabilities of the wrong shape
    with pytest.raises(RuntimeError, match="weight"):
        F.cross_entropy(x, tinynn.tensor([0, 1, 2]), weight=tinynn.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, tinynn.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, tinynn.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(RuntimeError, match="int"):
        F.nll_loss(x, tinynn.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="target of shape"):
        F.cross_entropy(tinynn.zeros(2, 3, 4), tinynn.tensor([[0, 1, 2], [0, 1, 2]]))


# ---------------------------------------------------------------------------- stability


def test_large_logits_stay_finite():
    x = tinynn.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], requires_grad=True)
    sm = x.softmax(1)
    lsm = x.log_softmax(1)
    np.testing.assert_allclose(sm.detach().numpy(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(lsm.detach().numpy(), [[0, -1e4, -2e4], [-2e4, -2e4, 0]])
    loss = F.cross_entropy(x, tinynn.tensor([2, 0]))
    assert loss.item() == pytest.approx(2e4)
    total = loss + (sm * tinynn.tensor([[1.0, 2, 3], [4, 5, 6]])).sum() + lsm[:, 1].sum() + x.sigmoid().sum()
    assert np.isfinite(total.item())
    total.backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    sig = tinynn.tensor([1e4, -1e4, 88.0, -80.0]).sigmoid()  # no overflow in exp(-x)
    np.testing.assert_allclose(sig.numpy(), [1.0, 0.0, 1.0, np.exp(-80.0)], rtol=1e-5)
    assert F.cross_entropy(x.detach(), tinynn.tensor([0, 2])).item() == 0.0


def test_softmax_and_log_softmax_values():
    x = RNG.standard_normal((3, 4, 2))
    for dim in (0, 1, 2, -1):
        e = np.exp(x - x.max(dim, keepdims=True))
        np.testing.assert_allclose(F.softmax(f64(x, False), dim=dim).numpy(), e / e.sum(dim, keepdims=True))
        np.testing.assert_allclose(F.log_softmax(f64(x, False), dim).numpy(), ref_log_softmax(x, dim))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = F.softmax(f64(x[0], False))
    np.testing.assert_allclose(implicit.numpy(), np.exp(x[0]) / np.exp(x[0]).sum(1, keepdims=True))
    np.testing.assert_allclose(F.softmax(tinynn.tensor([1, 2]), 0, dtype=tinynn.float64).numpy(),
                               np.exp([1, 2]) / np.exp([1, 2]).sum())


def test_activation_functional_forms():
    x = RNG.standard_normal(6)
    t = f64(x, False)
    np.testing.assert_allclose(F.relu(t).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(F.sigmoid(t).numpy(), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(F.tanh(t).numpy(), np.tanh(x))


def test_one_hot():
    out = F.one_hot(tinynn.tensor([0, 2, 1]))
    assert out.dtype == tinynn.int64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert F.one_hot(tinynn.tensor([[1], [0]]), num_classes=4).shape == (2, 1, 4)
    with pytest.raises(RuntimeError):
        F.one_hot(tinynn.tensor([0, 5]), num_classes=3)


# ---------------------------------------------------------------------------- dropout


def test_dropout_mask_is_consistent_and_scaled():
    x = tinynn.tensor(RNG.uniform(1.0, 2.0, (50, 40)).astype(np.float32), requires_grad=True)
    tinynn.manual_seed(42)
    out = F.dropout(x, 0.3)  # training=True by default, as torch
    tinynn.manual_seed(42)
    again = F.dropout(x.detach(), 0.3)
    np.testing.assert_array_equal(out.detach().numpy(), again.numpy())  # same seed, same mask
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(out.detach().numpy()[kept], x.detach().numpy()[kept] / 0.7, rtol=1e-6)
    assert abs(1 - kept.mean() - 0.3) < 0.04
    upstream = RNG.standard_normal((50, 40)).astype(np.float32)
    (out * tinynn.tensor(upstream)).sum().backward()
    # the gradient goes exactly through the kept elements, scaled the same way
    np.testing.assert_allclose(x.grad.numpy(), kept * upstream / 0.7, rtol=1e-6)
    assert out.dtype == x.grad.dtype == tinynn.float32
    tinynn.manual_seed(43)
    assert not np.array_equal(F.dropout(x.detach(), 0.3).numpy(), again.numpy())


def test_dropout_gradcheck_with_fixed_mask():
    x = f64(RNG.standard_normal((4, 5)))

    def fn(t):
        tinynn.manual_seed(7)  # the same mask on every evaluation
        return F.dropout(t, 0.4)
    assert gradcheck(fn, [x])


def test_dropout_edge_probabilities():
    x = tinynn.tensor(RNG.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    assert np.array_equal(F.dropout(x, 0.0).detach().numpy(), x.detach().numpy())
    assert F.dropout(x, 0.5, training=False) is x
    zeros = F.dropout(x, 1.0)
    assert not np.isnan(zeros.detach().numpy()).any() and not zeros.detach().numpy().any()
    zeros.sum().backward()
    assert not x.grad.numpy().any() and not np.isnan(x.grad.numpy()).any()
    for p in (-0.1, 1.1):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, p)
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)


def test_dropout_module_train_vs_eval():
    layer = nn.Dropout(0.5)
    x = tinynn.ones(200, 50)
    out = layer(x).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.05  # expectation preserved
    layer.eval()
    assert np.array_equal(layer(x).numpy(), x.numpy())
    assert np.array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not nn.Dropout(1.0)(x).numpy().any()


def test_dropout_on_device(device):
    x = tinynn.ones(100, 10, device=device, requires_grad=True)
    out = F.dropout(x, 0.5)
    assert out.device == device
    out.sum().backward()
    kept = out.detach().cpu().numpy() != 0
    np.testing.assert_allclose(x.grad.cpu().numpy(), kept * 2.0)


def test_losses_on_device(device):
    logits = tinynn.tensor(LOGITS.astype(np.float32), device=device, requires_grad=True)
    target = tinynn.tensor(TARGET, device=device)
    weight = tinynn.tensor(WEIGHT.astype(np.float32), device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, target, weight=weight, label_smoothing=0.1, ignore_index=3)
    loss.backward()
    assert loss.device == device and logits.grad.device == device
    np.testing.assert_allclose(loss.item(), ref_cross_entropy(LOGITS, TARGET, WEIGHT, 3, "mean", 0.1), rtol=1e-5)
    probs = tinynn.tensor(PROBS.astype(np.float32), device=device)
    np.testing.assert_allclose(F.cross_entropy(logits, probs).item(), ref_cross_entropy(LOGITS, PROBS), rtol=1e-5)
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(logits, tinynn.tensor([7, 0, 0, 0, 0], device=device))
