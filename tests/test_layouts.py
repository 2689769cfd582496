"""Gradients come back laid out in memory like the arrays they belong to (ops/layout.py):
an elementwise pass over two memory orders is several times slower, so a batch-last
activation (what convolution makes) must get a batch-last gradient."""
import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.ops.layout import allocate_in_order, memory_order, same_layout

BATCH_LAST = (1, 2, 3, 0)


def batch_last(n=4, c=3, h=5, w=6, seed=0):
    """A float64 (N, C, H, W) tensor whose memory is (C, H, W, N), requiring grad."""
    a = np.random.default_rng(seed).standard_normal((c, h, w, n)).transpose(3, 0, 1, 2)
    return tinynn.Tensor(a, requires_grad=True)


@pytest.mark.parametrize("reduce", ["mean", "sum"])
@pytest.mark.parametrize("dims", [(2, 3), (0,), None])
def test_sum_and_mean_gradients_follow_the_input_layout(reduce, dims):
    x = batch_last()
    y = getattr(x, reduce)() if dims is None else getattr(x, reduce)(dims)
    y.backward(tinynn.ones(y.shape, dtype=tinynn.float64))
    assert memory_order(x.grad.array) == BATCH_LAST
    count = x.numel() // max(y.numel(), 1) if reduce == "mean" else 1
    np.testing.assert_array_equal(x.grad.numpy(), np.full(x.shape, 1.0 / count))
    x.grad.numpy()[0, 0, 0, 0] = 7.0            # writable, and its own memory
    assert x.grad.numpy()[1, 0, 0, 0] == 1.0 / count


def test_relu_gradient_follows_the_input_layout_even_from_a_broadcast():
    x = batch_last()
    y = F.relu(x)
    upstream = np.broadcast_to(np.arange(12.0).reshape(4, 3, 1, 1), x.shape)   # zero strides
    y.backward(tinynn.Tensor(upstream))
    assert memory_order(x.grad.array) == BATCH_LAST
    np.testing.assert_array_equal(x.grad.numpy(), upstream * (x.detach().numpy() > 0))


def test_batch_norm_backward_is_the_same_for_any_gradient_layout():
    grads = []
    for order in [(0, 1, 2, 3), BATCH_LAST]:
        tinynn.manual_seed(0)
        bn = nn.BatchNorm2d(3).double()
        x = batch_last()
        g = np.random.default_rng(1).standard_normal(x.shape)
        g = np.ascontiguousarray(g) if order == (0, 1, 2, 3) else same_layout(g, x.array)
        assert memory_order(g) == order
        bn(x).backward(tinynn.Tensor(g))
        grads.append((x.grad.numpy(), bn.weight.grad.numpy(), bn.bias.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_global_average_pool_block_gives_batch_last_gradients_all_the_way():
    # conv -> bn -> relu -> mean over H, W -> linear: every gradient stays batch-last
    tinynn.manual_seed(0)
    conv, bn, fc = nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Linear(4, 3)
    x = tinynn.randn(5, 2, 6, 6, requires_grad=True)
    h = conv(x)
    h.retain_grad()
    z = F.relu(bn(h))
    z.retain_grad()
    fc(z.mean((2, 3))).sum().backward()
    assert memory_order(h.array) == BATCH_LAST
    assert memory_order(z.grad.array) == BATCH_LAST and memory_order(h.grad.array) == BATCH_LAST


def test_allocate_in_order_and_same_layout():
    a = allocate_in_order(np, (2, 3, 4), np.float32, (2, 0, 1), 0)
    assert a.shape == (2, 3, 4) and memory_order(a) == (2, 0, 1) and not a.any()
    c = np.arange(24.0).reshape(2, 3, 4)
    d = same_layout(c, a)
    assert memory_order(d) == (2, 0, 1)
    np.testing.assert_array_equal(d, c)
    assert same_layout(a, a) is a


# ---------------------------------------------------------------------------- parameters

def reference_conv2d_weight_grad(x, grad, kernel, stride, padding, groups):
    """sum over (n, oh, ow) of grad[n, f, oh, ow] * x_padded[n, c, oh*s + i, ow*s + j], with
    a loop over kernel offsets only: the weight gradient by its definition."""
    sh, sw = stride
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, f, oh, ow = grad.shape
    cg = x.shape[1] // groups
    fg = f // groups
    gw = np.zeros((f, cg, kernel, kernel))
    for i in range(kernel):
        for j in range(kernel):
            patch = xp[:, :, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw]
            for g in range(groups):
                gw[g * fg:(g + 1) * fg, :, i, j] = np.einsum(
                    "nfhw,nchw->fc", grad[:, g * fg:(g + 1) * fg], patch[:, g * cg:(g + 1) * cg])
    return gw


@pytest.mark.parametrize("keep_bytes", [0, 1 << 30], ids=["columns-copied-again", "columns-kept"])
@pytest.mark.parametrize("transposed_bytes", [0, 1 << 30], ids=["direct", "transposed-and-copied"])
@pytest.mark.parametrize("cfg", [dict(c=3, f=4, k=3, stride=1, padding=1, groups=1),
                                 dict(c=4, f=6, k=3, stride=2, padding=1, groups=2),
                                 dict(c=2, f=5, k=1, stride=1, padding=0, groups=1)])
def test_conv2d_weight_gradient_is_contiguous_like_the_weight(cfg, keep_bytes, transposed_bytes,
                                                               monkeypatch):
    """Whichever way the product is computed (kept or recopied columns; the small result
    transposed then copied, or computed in place), the weight gradient is C-contiguous like
    the weight itself (as in PyTorch: ``p.grad.is_contiguous()``) and equals its definition."""
    from tinynn.ops import conv as conv_ops
    from tinynn.ops import conv_kernels
    monkeypatch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", keep_bytes)
    monkeypatch.setattr(conv_ops, "TRANSPOSED_WEIGHT_GRAD_BYTES", transposed_bytes)
    monkeypatch.setattr(conv_kernels, "BAND_BYTES", 64)       # several bands
    layer = nn.Conv2d(cfg["c"], cfg["f"], cfg["k"], stride=cfg["stride"], padding=cfg["padding"],
                      groups=cfg["groups"], bias=False).double()
    x = np.random.default_rng(1).standard_normal((3, cfg["c"], 7, 6))
    y = layer(tinynn.Tensor(x))
    upstream = np.random.default_rng(2).standard_normal(tuple(y.shape))
    y.backward(tinynn.Tensor(upstream))
    assert layer.weight.grad.array.flags.c_contiguous
    assert layer.weight.grad.is_contiguous()
    np.testing.assert_allclose(
        layer.weight.grad.numpy(),
        reference_conv2d_weight_grad(x, upstream, cfg["k"], (cfg["stride"],) * 2, cfg["padding"],
                                     cfg["groups"]), rtol=1e-10, atol=1e-10)


def test_sgd_momentum_buffer_is_laid_out_like_the_parameter_whatever_the_gradient():
    """The buffer starts as a copy of the first gradient, but in the parameter's layout: a
    transposed gradient must not leave every later update mixing two memory orders."""
    param = tinynn.nn.Parameter(tinynn.Tensor(np.arange(12.0).reshape(3, 4)))
    opt = tinynn.optim.SGD([param], lr=0.5, momentum=0.9)
    grads = [np.arange(12.0).reshape(4, 3).T.copy(order="F") * s for s in (1.0, -2.0)]
    expected_param, expected_buf = np.arange(12.0).reshape(3, 4), None
    for g in grads:
        assert not g.flags.c_contiguous
        param.grad = tinynn.Tensor(g)
        opt.step()
        expected_buf = g.copy() if expected_buf is None else 0.9 * expected_buf + g
        expected_param = expected_param - 0.5 * expected_buf
        buf = opt.state[param]["momentum_buffer"].array
        assert buf.flags.c_contiguous
        np.testing.assert_allclose(buf, expected_buf)
        np.testing.assert_allclose(param.detach().numpy(), expected_param)
    assert grads[1][0, 0] == 0.0 and grads[1][0, 1] == -6.0     # gradients left untouched


@pytest.mark.parametrize("order", [(0, 1, 2, 3), BATCH_LAST])
@pytest.mark.parametrize("pads", [(1, 1, 1, 1), (0, 2, 3, 0), (2, 0, 0, 1), (0, 0, 0, 0)])
def test_padded_fills_only_the_border_with_the_value(order, pads):
    from tinynn.ops.conv_kernels import padded
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    top, bottom, left, right = pads
    out = padded(x, top, bottom, left, right, value=-7.5, order=order)
    expected = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=-7.5)
    np.testing.assert_array_equal(out, expected)
    assert memory_order(out) == order


@pytest.mark.parametrize("leaf_order", ["C", "F"])
def test_leaf_gradient_is_laid_out_like_the_leaf(leaf_order):
    """``.grad`` takes the tensor's own memory layout (PyTorch's AccumulateGrad does the
    same), whatever layout the backward produced it in, on first use and when added to."""
    rng = np.random.default_rng(4)
    a = tinynn.Tensor(np.array(rng.standard_normal((3, 4)), order=leaf_order), requires_grad=True)
    r = rng.standard_normal((4, 3))                          # C-ordered upstream, transposed
    for step in (1, 2):
        (a.t() * tinynn.Tensor(r)).sum().backward()
        assert memory_order(a.grad.array) == memory_order(a.array)
        np.testing.assert_array_equal(a.grad.numpy(), step * r.T)


@pytest.mark.parametrize("keep_bytes", [0, 1 << 30], ids=["columns-copied-again", "columns-kept"])
def test_conv2d_parameter_gradients_are_taken_over_not_copied(keep_bytes, monkeypatch):
    """Conv2d's weight and bias gradients are arrays of their own (not reshaped views), so
    the engine makes them ``.grad`` as they are: no second copy of every weight each step.
    The values equal the definition."""
    from tinynn.ops import conv as conv_ops
    monkeypatch.setattr(conv_ops, "KEEP_COLUMNS_BYTES", keep_bytes)
    layer = nn.Conv2d(3, 4, 3, padding=1).double()
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 6))
    y = layer(tinynn.Tensor(x))
    upstream = np.random.default_rng(6).standard_normal(tuple(y.shape))
    captured = []
    original = conv_ops.Conv2d.backward
    monkeypatch.setattr(conv_ops.Conv2d, "backward",
                        lambda self, g: captured.extend(original(self, g)) or tuple(captured))
    y.backward(tinynn.Tensor(upstream))
    _, gw, gb = captured
    assert layer.weight.grad.array is gw and layer.bias.grad.array is gb
    assert gw.flags.owndata and gb.flags.owndata
    np.testing.assert_allclose(gw, reference_conv2d_weight_grad(x, upstream, 3, (1, 1), 1, 1),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gb, upstream.sum(axis=(0, 2, 3)), rtol=1e-12)
