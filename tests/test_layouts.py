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
