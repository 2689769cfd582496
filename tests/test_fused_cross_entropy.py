"""F.cross_entropy on (N, C) logits and class indices runs as one fused node (ops/loss.py
CrossEntropy); it must equal log_softmax followed by nll_loss in value and gradient."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.nn.functional as F
from tinynn.autograd import gradcheck
from opcheck import graph_nodes, holds_no_arrays


def two_ways(device, n, c, dtype, reduction, weight, ignore_index, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * 3
    target = rng.integers(0, c, n)
    if ignore_index >= 0 and n > 1:
        target[::2] = ignore_index
    w = None if not weight else tinynn.tensor(rng.uniform(0.5, 2, c).astype(dtype), device=device)
    upstream = rng.standard_normal((n,) if reduction == "none" else ()).astype(dtype)
    results = []
    for fused in (True, False):
        x = tinynn.tensor(logits.astype(dtype), requires_grad=True, device=device)
        t = tinynn.tensor(target, device=device)
        if fused:
            loss = F.cross_entropy(x, t, weight=w, ignore_index=ignore_index, reduction=reduction)
        else:
            loss = F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=ignore_index,
                              reduction=reduction)
        loss.backward(tinynn.tensor(upstream, device=device))
        results.append((loss, x.grad))
    return results


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_fused_equals_log_softmax_then_nll(device, reduction, weight, ignore_index):
    (loss, grad), (ref_loss, ref_grad) = two_ways(device, 7, 5, np.float64, reduction, weight, ignore_index)
    assert loss.grad_fn.name == "NllLossBackward0"
    np.testing.assert_allclose(loss.detach().cpu().numpy(), ref_loss.detach().cpu().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad.cpu().numpy(), ref_grad.cpu().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float32_stays_float32_and_graph_is_freed(device, reduction):
    (loss, grad), _ = two_ways(device, 64, 10, np.float32, reduction, True, 3)
    assert loss.dtype == tinynn.float32 and grad.dtype == tinynn.float32
    assert all(holds_no_arrays(node) for node in graph_nodes(loss.grad_fn))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck(device, reduction):
    rng = np.random.default_rng(1)
    x = tinynn.tensor(rng.standard_normal((6, 4)), requires_grad=True, device=device)
    w = tinynn.tensor(rng.uniform(0.5, 2, 4), device=device)
    t = tinynn.tensor([0, 3, 1, -100, 2, 3], device=device)
    assert gradcheck(lambda x: F.cross_entropy(x, t, weight=w, reduction=reduction), (x,))


def test_large_logits_stay_finite():
    x = tinynn.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, tinynn.tensor([1, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(loss.item(), 1e4, rtol=1e-6)


def test_out_of_range_target_still_names_it():
    with pytest.raises(IndexError, match="Target 10 is out of bounds"):
        F.cross_entropy(tinynn.zeros(2, 10), tinynn.tensor([3, 10]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(tinynn.zeros(2, 10), tinynn.tensor([-1, 0]))
    F.cross_entropy(tinynn.zeros(2, 10), tinynn.tensor([-100, 0]))   # the ignore_index is fine


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 9), c=st.integers(1, 6), reduction=st.sampled_from(["mean", "sum", "none"]),
       weight=st.booleans(), seed=st.integers(0, 1000))
def test_property_matches_unfused(n, c, reduction, weight, seed):
    (loss, grad), (ref_loss, ref_grad) = two_ways("cpu", n, c, np.float64, reduction, weight, -100, seed)
    np.testing.assert_allclose(loss.detach().cpu().numpy(), ref_loss.detach().cpu().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad.cpu().numpy(), ref_grad.cpu().numpy(), rtol=1e-12, atol=1e-12)
