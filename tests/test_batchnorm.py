"""BatchNorm1d / BatchNorm2d and F.batch_norm: gradients, running statistics, buffers, errors."""
import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.optim as optim
from tinynn.autograd import gradcheck

SHAPES = [(6, 3), (4, 3, 5), (3, 2, 3, 4)]   # (N, C), (N, C, L), (N, C, H, W)


def f64(*shape, requires_grad=True, low=None):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape) if low is None else rng.uniform(low, low + 1.0, shape)
    return tinynn.tensor(a, dtype=tinynn.float64, requires_grad=requires_grad)


def reference(x, mean, var, weight, bias, eps=1e-5):
    """NumPy batch norm over every axis but 1."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def axes_of(x):
    return (0,) + tuple(range(2, x.ndim))


# ------------------------------------------------------------------ gradients (float64)

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(shape, affine, training):
    c = shape[1]
    x = f64(*shape)
    rm, rv = f64(c, requires_grad=False), f64(c, requires_grad=False, low=0.5)
    inputs = [x]
    if affine:
        inputs += [f64(c, low=0.5), f64(c)]     # weight away from 0, bias

    def fn(x, *wb):
        weight, bias = wb if wb else (None, None)
        return F.batch_norm(x, rm, rv, weight, bias, training=training, momentum=0.1, eps=1e-5)

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("which", ["weight", "bias"])
def test_gradcheck_only_one_affine_tensor(which):
    x = f64(4, 3, 2, 2)
    t = f64(3, low=0.5)

    def fn(x, t):
        kwargs = {which: t}
        return F.batch_norm(x, None, None, training=True, **kwargs)

    assert gradcheck(fn, [x, t])


def test_gradcheck_module_training_and_eval():
    bn = nn.BatchNorm2d(3).double()
    with tinynn.no_grad():
        bn.weight.array[...] = [0.5, 1.5, 2.0]
        bn.bias.array[...] = [0.1, -0.2, 0.3]
    x = f64(4, 3, 3, 3)
    assert gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])
    bn.eval()
    assert gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])


def test_backward_is_one_function():
    # The closed-form gradient is one graph node, straight from the input to the output.
    x = tinynn.randn(4, 3, 5, 5, requires_grad=True)
    bn = nn.BatchNorm2d(3)
    y = bn(x)
    assert type(y.grad_fn).__name__ == "BatchNorm"
    assert set(map(id, y.grad_fn._edges)) == {id(x), id(bn.weight), id(bn.bias)}


def test_training_gradient_formula_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2, 3, 3))
    g = rng.standard_normal(x.shape)
    gamma = np.array([0.7, 1.3])
    xt = tinynn.tensor(x, requires_grad=True)
    w = tinynn.tensor(gamma, requires_grad=True)
    b = tinynn.tensor(np.zeros(2), requires_grad=True)
    F.batch_norm(xt, None, None, w, b, training=True).backward(tinynn.tensor(g))
    m = x.size // x.shape[1]
    ax = axes_of(x)
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    inv_std = 1 / np.sqrt(var + 1e-5)
    xhat = (x - mean) * inv_std
    gk = g * gamma.reshape(1, -1, 1, 1)
    dx = inv_std / m * (m * gk - gk.sum(ax, keepdims=True) - xhat * (gk * xhat).sum(ax, keepdims=True))
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), (g * xhat).sum(ax), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), g.sum(ax), rtol=1e-10)


def test_batch_last_layout_gives_same_result_and_keeps_layout():
    # Convolution outputs are (N, C, H, W) views of (C, H, W, N) memory.
    rng = np.random.default_rng(2)
    base = rng.standard_normal((3, 4, 5, 6)).astype(np.float32)     # (C, H, W, N)
    x_view = tinynn.Tensor(base.transpose(3, 0, 1, 2), requires_grad=True)
    x_cont = tinynn.Tensor(np.ascontiguousarray(base.transpose(3, 0, 1, 2)), requires_grad=True)
    g = rng.standard_normal((6, 3, 4, 5)).astype(np.float32)
    outs = []
    for x in (x_view, x_cont):
        bn = nn.BatchNorm2d(3)
        y = bn(x)
        y.backward(tinynn.tensor(g))
        outs.append((y, x.grad))
    np.testing.assert_allclose(outs[0][0].detach().numpy(), outs[1][0].detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(outs[0][1].numpy(), outs[1][1].numpy(), atol=1e-5)
    # No hidden copy to channel-first order: the output and gradient stay batch-last.
    assert outs[0][0].array.transpose(1, 2, 3, 0).flags.c_contiguous
    assert outs[0][1].array.transpose(1, 2, 3, 0).flags.c_contiguous


# ------------------------------------------------------------------ forward values

@pytest.mark.parametrize("shape", SHAPES)
def test_forward_matches_numpy(shape):
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32) * 3 + 2
    layer = nn.BatchNorm1d(shape[1]) if len(shape) < 4 else nn.BatchNorm2d(shape[1])
    with tinynn.no_grad():
        layer.weight.array[...] = np.linspace(0.5, 1.5, shape[1])
        layer.bias.array[...] = np.linspace(-1, 1, shape[1])
    y = layer(tinynn.tensor(x))
    ax = axes_of(x)
    expected = reference(x.astype(np.float64), x.mean(ax), x.var(ax), layer.weight.detach().numpy(),
                         layer.bias.detach().numpy())
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-4, atol=1e-4)
    layer.eval()
    y = layer(tinynn.tensor(x))
    expected = reference(x.astype(np.float64), layer.running_mean.numpy(), layer.running_var.numpy(),
                         layer.weight.detach().numpy(), layer.bias.detach().numpy())
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-4, atol=1e-4)


def test_float32_stays_float32():
    bn = nn.BatchNorm2d(4)
    x = tinynn.randn(8, 4, 3, 3, requires_grad=True)
    y = bn(x)
    (y * y).sum().backward()
    assert y.dtype == x.grad.dtype == bn.weight.grad.dtype == bn.bias.grad.dtype == tinynn.float32
    assert bn.running_mean.dtype == bn.running_var.dtype == tinynn.float32
    assert bn.num_batches_tracked.dtype == tinynn.int64
    bn.eval()
    x.grad = None
    (bn(x) * 2).sum().backward()
    assert x.grad.dtype == bn.weight.grad.dtype == tinynn.float32


def test_float32_statistics_are_accurate():
    # A ResNet-sized batch with an offset: float32 statistics stay close to float64's.
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((128, 8, 28, 28)) * 2 + 5).astype(np.float32)
    y = F.batch_norm(tinynn.tensor(x), None, None, training=True).numpy()
    expected = reference(x.astype(np.float64), x.astype(np.float64).mean((0, 2, 3)),
                         x.astype(np.float64).var((0, 2, 3)), None, None)
    assert np.abs(y - expected).max() < 1e-4


# ------------------------------------------------------------------ running statistics

@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (4, 3, 2, 5)])
def test_running_statistics_by_hand(momentum, shape):
    layer = nn.BatchNorm1d(3, momentum=momentum) if len(shape) < 4 else nn.BatchNorm2d(3, momentum=momentum)
    rng = np.random.default_rng(5)
    mean, var = np.zeros(3), np.ones(3)
    batches = [rng.standard_normal(shape) * (k + 1) + k for k in range(4)]
    for k, batch in enumerate(batches, start=1):
        layer(tinynn.tensor(batch.astype(np.float32)))
        ax = axes_of(batch)
        m = batch.size // 3
        factor = 1.0 / k if momentum is None else momentum
        mean = (1 - factor) * mean + factor * batch.mean(ax)
        var = (1 - factor) * var + factor * batch.var(ax) * m / (m - 1)   # unbiased
        assert layer.num_batches_tracked.item() == k
    np.testing.assert_allclose(layer.running_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.running_var.numpy(), var, rtol=1e-5, atol=1e-6)
    if momentum is None:   # the cumulative average is the plain mean over the batches
        np.testing.assert_allclose(layer.running_mean.numpy(),
                                   np.mean([b.mean(axes_of(b)) for b in batches], 0), rtol=1e-5, atol=1e-6)


def test_functional_updates_running_stats_in_place_outside_the_graph():
    rm, rv = tinynn.zeros(3), tinynn.ones(3)
    x = tinynn.randn(10, 3, requires_grad=True)
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    xa = x.detach().numpy()
    np.testing.assert_allclose(rm.numpy(), 0.5 * xa.mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * xa.var(0, ddof=1), rtol=1e-5)
    assert not rm.requires_grad and rm.grad_fn is None
    y.sum().backward()   # nothing flows into the running stats
    assert rm.grad is None


def test_eval_uses_running_stats_and_is_deterministic():
    bn = nn.BatchNorm2d(2)
    for _ in range(3):
        bn(tinynn.randn(4, 2, 3, 3) * 2 + 1)
    bn.eval()
    state = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    x = tinynn.randn(5, 2, 3, 3)
    a, b = bn(x).detach().numpy(), bn(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    # One sample gives the same answer alone as inside the batch: no batch statistics.
    np.testing.assert_allclose(bn(x[:1]).detach().numpy(), a[:1], rtol=1e-6, atol=1e-6)
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])   # eval never updates buffers
    # eval with a batch of one value per channel is fine
    bn1 = nn.BatchNorm1d(4).eval()
    assert bn1(tinynn.randn(1, 4)).shape == (1, 4)


def test_no_running_stats_uses_batch_stats_in_eval():
    bn = nn.BatchNorm1d(3, track_running_stats=False, affine=False)
    assert bn.running_mean is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == [] and list(bn.parameters()) == []
    bn.eval()
    x = tinynn.randn(6, 3) * 3 + 1
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), 1, rtol=1e-3)


def test_eval_functional_without_running_stats_is_an_error():
    with pytest.raises(RuntimeError, match="running_mean and running_var must be defined"):
        F.batch_norm(tinynn.randn(4, 3), None, None, training=False)


# ------------------------------------------------------------------ buffers and state dicts

def test_buffers_are_not_parameters_and_optimizer_leaves_them():
    bn = nn.BatchNorm2d(3)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    opt = optim.SGD(bn.parameters(), lr=0.1, momentum=0.9, weight_decay=0.5)
    y = bn(tinynn.randn(4, 3, 2, 2) + 3)
    stats = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    (y * tinynn.randn(*y.shape)).sum().backward()
    opt.step()
    np.testing.assert_array_equal(bn.running_mean.numpy(), stats[0])
    np.testing.assert_array_equal(bn.running_var.numpy(), stats[1])
    assert bn.running_mean.grad is None


def test_buffers_follow_to_dtype_and_counter_stays_int64():
    bn = nn.BatchNorm1d(3).double()
    assert bn.running_mean.dtype == bn.weight.dtype == tinynn.float64
    assert bn.num_batches_tracked.dtype == tinynn.int64
    y = bn(tinynn.randn(4, 3, dtype=tinynn.float64))
    assert y.dtype == tinynn.float64


def test_state_dict_round_trip_and_old_checkpoint_without_counter(tmp_path):
    bn = nn.BatchNorm2d(3)
    for _ in range(2):
        bn(tinynn.randn(4, 3, 2, 2) + 1)
    path = tmp_path / "bn.npz"
    tinynn.save(bn.state_dict(), path)
    fresh = nn.BatchNorm2d(3)
    fresh.load_state_dict(tinynn.load(path))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k].numpy(), v.numpy())
    assert fresh.num_batches_tracked.item() == 2
    old = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    model = nn.Sequential(nn.BatchNorm2d(3))
    result = model.load_state_dict({"0." + k: v for k, v in old.items()}, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(model[0].running_var.numpy(), bn.running_var.numpy())
    with pytest.raises(RuntimeError, match="Missing key"):   # other keys are still required
        model.load_state_dict({"0.weight": bn.weight.detach()}, strict=True)


# ------------------------------------------------------------------ errors and repr

def test_wrong_rank_names_layer_and_shape():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(64\): expected 4D input \(got 2D input \(64, 10\)\)"):
        nn.BatchNorm2d(64)(tinynn.randn(64, 10))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\): expected 2D or 3D input \(got 4D input"):
        nn.BatchNorm1d(4)(tinynn.randn(2, 4, 3, 3))


def test_wrong_channel_count():
    with pytest.raises(RuntimeError, match=r"BatchNorm2d\(64\): expected 64 channels, got 3"):
        nn.BatchNorm2d(64)(tinynn.randn(2, 3, 4, 4))
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 5"):
        F.batch_norm(tinynn.randn(4, 3), tinynn.zeros(5), tinynn.ones(5), training=True)


def test_one_value_per_channel_when_training():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, "
                                         r"got input size \[1, 64\]"):
        nn.BatchNorm1d(64)(tinynn.randn(1, 64))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm2d(2)(tinynn.randn(1, 2, 1, 1))
    assert nn.BatchNorm2d(2)(tinynn.randn(1, 2, 2, 1)).shape == (1, 2, 2, 1)   # 2 values: fine


def test_repr():
    assert repr(nn.BatchNorm2d(64)) == \
        "BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"
    assert "momentum=None" in repr(nn.BatchNorm1d(8, momentum=None))


def test_summary_leaves_running_stats_alone():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    tinynn.summary(model, (8, 4))
    assert model[1].num_batches_tracked.item() == 0 and model.training


# ------------------------------------------------------------------ devices

def test_on_device(device):
    # "cuda" is the real GPU where CuPy finds one, else a NumPy stand-in with CuPy's refusals.
    bn = nn.BatchNorm2d(3).to(device)
    x = (tinynn.randn(4, 3, 5, 5) * 2 + 1).to(device).requires_grad_()
    y = bn(x)
    (y * y).sum().backward()
    assert y.device == x.grad.device == bn.weight.grad.device == bn.running_mean.device == device
    assert bn.num_batches_tracked.item() == 1
    expected = F.batch_norm(x.detach().cpu(), None, None, training=True)
    np.testing.assert_allclose(y.detach().cpu().numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
    bn.eval()
    x.grad = None
    bn(x).sum().backward()
    assert x.grad.device == device
    m = bn.running_mean.cpu().numpy()
    assert np.isfinite(m).all() and not np.allclose(m, 0)


def test_running_stats_on_another_device_is_a_clear_error(device):
    if device.type == "cpu":
        pytest.skip("needs a second device")
    x = tinynn.randn(4, 3).to(device)
    with pytest.raises(RuntimeError, match="same device"):
        F.batch_norm(x, tinynn.zeros(3), tinynn.ones(3), training=True)


def test_eval_backward_unaffected_by_later_running_stat_updates():
    bn = nn.BatchNorm1d(3)
    bn(tinynn.randn(8, 3) + 2)
    bn.eval()
    mean, var = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    x = tinynn.randn(5, 3)
    y = bn(x)
    bn.train()
    bn(tinynn.randn(8, 3) * 5 - 3)          # moves the running statistics in place
    y.backward(tinynn.ones(5, 3))
    expected = ((x.numpy() - mean) / np.sqrt(var + 1e-5)).sum(0)   # with the stats y used
    np.testing.assert_allclose(bn.weight.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
