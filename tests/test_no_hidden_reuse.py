"""Speed never shows: the arrays a user holds (outputs, losses, gradients, what a hook
saw) keep their values across later steps, although leaf gradients are taken over from
backward without a copy and freed memory is reused (issue 10)."""
import os

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn.models import CNN, MLP


def small_resnet_block():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 14 * 14, 10))


@pytest.mark.parametrize("make_model", [MLP, CNN, small_resnet_block], ids=["mlp", "cnn", "conv-bn"])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_held_outputs_and_gradients_never_change(make_model, set_to_none):
    tinynn.manual_seed(0)
    model = make_model()
    opt = tinynn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    held = []   # (tensor, snapshot of its values)
    for step in range(4):
        x = tinynn.tensor(rng.standard_normal((8, 1, 28, 28)).astype(np.float32))
        y = tinynn.tensor(rng.integers(0, 10, 8))
        opt.zero_grad(set_to_none=set_to_none)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        held += [(logits, logits.detach().numpy().copy()), (loss, loss.item())]
        if set_to_none:   # otherwise zero_grad clears the same .grad tensors in place, as in PyTorch
            held += [(p.grad, p.grad.numpy().copy()) for p in model.parameters()]
        opt.step()
    for tensor, snapshot in held:
        np.testing.assert_array_equal(tensor.detach().numpy(), snapshot)


def test_gradients_of_different_leaves_never_share_memory():
    a = tinynn.randn(3, 4, requires_grad=True)
    b = tinynn.randn(3, 4, requires_grad=True)
    (a + b).sum().backward()          # Add hands one array to both inputs
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.numpy()[...] = 7
    np.testing.assert_array_equal(b.grad.numpy(), np.ones((3, 4)))


def test_a_leaf_used_twice_gets_the_sum():
    a = tinynn.randn(5, requires_grad=True)
    (a * 2 + a * 3).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full(5, 5.0))


def test_what_a_hook_saw_is_not_changed_by_the_next_backward():
    w = tinynn.randn(4, 3, requires_grad=True)
    x = tinynn.randn(2, 4)
    seen = []
    w.register_hook(lambda g: seen.append(g))
    (x @ w).sum().backward()
    first = seen[0].numpy().copy()
    (x @ w).sum().backward()          # accumulates into w.grad
    np.testing.assert_array_equal(seen[0].numpy(), first)
    np.testing.assert_allclose(w.grad.numpy(), 2 * first)


def test_the_seed_and_retained_gradients_are_copied():
    x = tinynn.randn(3, requires_grad=True)
    seed = tinynn.ones(3)
    x.backward(seed)
    x.grad.numpy()[...] = 5
    np.testing.assert_array_equal(seed.numpy(), np.ones(3))
    h = x * 2
    h.retain_grad()
    x.grad = None
    (h + 0).sum().backward()          # h's gradient passes on to x unchanged in value
    assert not np.shares_memory(h.grad.numpy(), x.grad.numpy())


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads Linux's /proc")
def test_memory_stays_flat_over_steps():
    import resource
    tinynn.manual_seed(0)
    model = CNN()
    opt = tinynn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = tinynn.randn(64, 1, 28, 28), tinynn.randint(0, 10, (64,))

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2 ** 20
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    start = rss_mb()
    for _ in range(30):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert rss_mb() - start < 4, "memory grew from step to step"
