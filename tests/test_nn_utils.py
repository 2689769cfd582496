"""``tinynn.nn.utils``: gradient clipping and parameter vectors, from PyTorch's docs.

clip_grad_norm_: "The norm is computed over the norms of the individual gradients of all
parameters, as if [they] were concatenated into a single vector. Gradients are modified
in-place." It returns that total norm (before clipping) and scales by
max_norm / (total + 1e-6) only when that is below 1.
"""
import math
import warnings

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
from tinynn.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                             vector_to_parameters)


def npy(tensor):
    return tensor.detach().numpy(force=True)


def params_with_grads(grads, device, dtype=np.float32):
    """Leaf parameters whose .grad holds the given arrays."""
    params = []
    for g in grads:
        p = nn.Parameter(tinynn.tensor(np.zeros(np.shape(g), dtype), device=device))
        p.grad = tinynn.tensor(np.asarray(g, dtype), device=device)
        params.append(p)
    return params


def test_import_paths():
    import tinynn as torch
    from tinynn.nn.utils.clip_grad import clip_grad_norm_ as from_module
    from tinynn.nn.utils.convert_parameters import parameters_to_vector as p2v
    assert torch.nn.utils.clip_grad_norm_ is clip_grad_norm_ is from_module
    assert torch.nn.utils.parameters_to_vector is p2v
    assert tinynn.nn.utils.clip_grad.clip_grad_value_ is clip_grad_value_
    for name in ("clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"):
        assert name in tinynn.nn.utils.__all__


def test_clip_grad_norm_returns_the_norm_before_clipping_and_scales_exactly(device):
    # grads (3, 4) and (12,): total 2-norm sqrt(9 + 16 + 144) = 13
    params = params_with_grads([[3.0, 4.0], [12.0]], device)
    grad_objects = [p.grad for p in params]
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, tinynn.Tensor) and total.shape == () and total.dtype == tinynn.float32
    assert total.device == tinynn.device(device)
    assert total.item() == pytest.approx(13.0)
    coef = np.float32(1.0) / (np.float32(13.0) + np.float32(1e-6))
    np.testing.assert_array_equal(npy(params[0].grad), np.array([3.0, 4.0], np.float32) * coef)
    np.testing.assert_array_equal(npy(params[1].grad), np.array([12.0], np.float32) * coef)
    assert [p.grad for p in params] == grad_objects  # modified in place
    # the clipped norm is max_norm (up to the 1e-6)
    assert clip_grad_norm_(params, max_norm=100.0).item() == pytest.approx(1.0, rel=1e-5)


def test_no_clipping_below_max_norm_leaves_grads_untouched(device):
    params = params_with_grads([[0.3, -0.4]], device)
    total = clip_grad_norm_(params, max_norm=0.5 + 1e-3)
    assert total.item() == pytest.approx(0.5)
    np.testing.assert_array_equal(npy(params[0].grad), np.array([0.3, -0.4], np.float32))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 0.5, math.inf, "inf"])
def test_norm_types_against_numpy(norm_type, device):
    rng = np.random.default_rng(0)
    grads = [rng.normal(0, 1, (3, 4)), rng.normal(0, 1, 5), rng.normal(0, 1, (2, 2, 2))]
    flat = np.concatenate([g.ravel() for g in grads])
    p = float(norm_type)
    expected = np.abs(flat).max() if p == math.inf else (np.abs(flat) ** p).sum() ** (1 / p)
    params = params_with_grads(grads, device, np.float64)
    max_norm = expected / 4
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert total.dtype == tinynn.float64
    assert total.item() == pytest.approx(expected, rel=1e-12)
    coef = max_norm / (expected + 1e-6)
    for param, g in zip(params, grads):
        np.testing.assert_allclose(npy(param.grad), g * coef, rtol=1e-12)


def test_single_tensor_generator_and_missing_grads(device):
    single = params_with_grads([[6.0, 8.0]], device)[0]
    assert clip_grad_norm_(single, 5.0).item() == pytest.approx(10.0)
    np.testing.assert_allclose(npy(single.grad), [3.0, 4.0], rtol=1e-6)
    # a generator (model.parameters()) with a parameter that has no grad: skipped
    model = nn.Linear(3, 2).to(device)
    model.weight.grad = tinynn.full((2, 3), 2.0, device=device)
    total = clip_grad_norm_(model.parameters(), 1.0)
    assert total.item() == pytest.approx(np.sqrt(6 * 4.0))
    assert model.bias.grad is None
    # nothing to clip: a zero norm
    assert clip_grad_norm_(nn.Linear(2, 2).parameters(), 1.0).item() == 0.0
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_error_if_nonfinite(device):
    for bad in (math.inf, math.nan):
        params = params_with_grads([[1.0, bad], [2.0]], device)
        with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is non-finite"):
            clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
        np.testing.assert_array_equal(npy(params[1].grad), [2.0])  # nothing was scaled
    # without the flag PyTorch scales by the non-finite norm anyway: the grads become nan/0
    params = params_with_grads([[1.0, math.nan], [2.0]], device)
    assert math.isnan(clip_grad_norm_(params, 1.0).item())
    assert np.isnan(npy(params[1].grad)).all()
    params = params_with_grads([[1.0, math.inf], [2.0]], device)
    with np.errstate(invalid="ignore"):  # inf * 0 in the first grad
        assert clip_grad_norm_(params, 1.0).item() == math.inf
    np.testing.assert_array_equal(npy(params[1].grad), [0.0])


def test_clipping_records_nothing_and_foreach_is_accepted(device):
    params = params_with_grads([[3.0, 4.0]], device)
    params[0].grad.requires_grad = True
    total = clip_grad_norm_(params, 1.0, foreach=True)
    assert not total.requires_grad and total.grad_fn is None


def test_clip_grad_norm_deprecated_alias_warns():
    params = params_with_grads([[3.0, 4.0]], None)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        assert nn.utils.clip_grad_norm(params, 1.0).item() == pytest.approx(5.0)


def test_clip_grad_value(device):
    params = params_with_grads([[-3.0, 0.5, 2.0], [[0.1, -0.2]]], device)
    grad_objects = [p.grad for p in params]
    assert clip_grad_value_(params, 1) is None
    np.testing.assert_array_equal(npy(params[0].grad), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(npy(params[1].grad), np.array([[0.1, -0.2]], np.float32))
    assert [p.grad for p in params] == grad_objects
    single = params_with_grads([[5.0, -5.0]], device)[0]
    clip_grad_value_(single, 0.25)
    np.testing.assert_array_equal(npy(single.grad), [0.25, -0.25])


def test_clipping_inside_a_training_loop(device):
    tinynn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).to(device)
    optimizer = tinynn.optim.SGD(model.parameters(), lr=0.1)
    x = tinynn.randn(16, 4, device=device) * 100  # huge inputs: huge gradients
    y = tinynn.randn(16, 1, device=device)
    for _ in range(5):
        optimizer.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        before = clip_grad_norm_(model.parameters(), max_norm=0.5)
        grads = [p.grad for p in model.parameters()]
        after = np.sqrt(sum((npy(g).astype(np.float64) ** 2).sum() for g in grads))
        assert after == pytest.approx(min(before.item(), 0.5), rel=1e-4)
        optimizer.step()


# ---------------------------------------------------------------- parameter vectors

def test_parameters_to_vector_and_back(device):
    model = nn.Linear(3, 2).to(device)
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(npy(vec), np.concatenate([npy(model.weight).ravel(), npy(model.bias)]))
    new = tinynn.arange(8, dtype=tinynn.float32, device=device)
    vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(npy(model.weight), [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(npy(model.bias), [6, 7])
    assert isinstance(model.weight, nn.Parameter) and model.weight.requires_grad
    np.testing.assert_array_equal(npy(parameters_to_vector(model.parameters())), np.arange(8))
    # as in PyTorch the parameters now view the vector's memory
    with tinynn.no_grad():
        new[0] = 42.0
    assert model.weight[0, 0].item() == 42.0


def test_parameters_to_vector_is_differentiable(device):
    a = tinynn.tensor([[1.0, 2.0]], device=device, requires_grad=True)
    b = tinynn.tensor([3.0], device=device, requires_grad=True)
    vec = parameters_to_vector([a, b])
    (vec * tinynn.tensor([1.0, 10.0, 100.0], device=device)).sum().backward()
    np.testing.assert_array_equal(npy(a.grad), [[1.0, 10.0]])
    np.testing.assert_array_equal(npy(b.grad), [100.0])


def test_vector_to_parameters_errors():
    model = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="expected torch.Tensor, but got"):
        vector_to_parameters(np.zeros(8), model.parameters())
    with pytest.raises(RuntimeError, match="at least 8 elements"):
        vector_to_parameters(tinynn.zeros(5), model.parameters())
    # a generator of parameters is read once, as in PyTorch
    vector_to_parameters(tinynn.ones(8), (p for p in model.parameters()))
    assert npy(model.bias).tolist() == [1.0, 1.0]


def test_parameters_on_two_devices_are_a_type_error(monkeypatch):
    import fake_cupy
    from tinynn import backend
    monkeypatch.setattr(backend, "_gpu", fake_cupy.make_backend())
    monkeypatch.setattr(backend, "_gpu_error", None)
    cpu, gpu = tinynn.zeros(2), tinynn.zeros(2, device="cuda")
    with pytest.raises(TypeError, match="different devices"):
        parameters_to_vector([cpu, gpu])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="different devices"):
            vector_to_parameters(tinynn.zeros(4), [cpu, gpu])
