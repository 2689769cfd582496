"""The backward engine: graph order, accumulation, freeing, grad modes, gradcheck itself."""
import gc
import sys
import weakref

import numpy as np
import pytest

import tinynn
from tinynn import checks
from tinynn.autograd import Function, gradcheck

from opcheck import holds_no_arrays


@pytest.fixture(autouse=True)
def _restore_grad_mode():
    """A grad-mode bug must fail its own test, not switch autograd off for the rest."""
    yield
    tinynn.grad_mode._set(True)


def f64(values, requires_grad=True):
    return tinynn.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------------------- graph walk


def test_deep_chain_does_not_hit_recursion_limit():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # the default: a recursive walk would die at ~1000 nodes
    try:
        x = tinynn.tensor([1.0, 2.0], dtype=tinynn.float64, requires_grad=True)
        y = x
        for _ in range(5000):
            y = y * 1.0001 + 0.0
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000] * 2, rtol=1e-10)
        del y
        gc.collect()  # tearing the long chain down must not recurse either
    finally:
        sys.setrecursionlimit(limit)


def test_node_reused_twice_gets_the_sum():
    a = f64([2.0, -1.0])
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 4.0])

    a = f64([2.0, -1.0])
    b = a * a
    c = b * b  # a^4
    c.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 4 * np.array([2.0, -1.0]) ** 3)


def test_diamond_paths_of_different_lengths():
    # x -> a -> b -> c and x -> a -> c: a must receive both paths before its backward runs.
    x = f64([1.5, -0.5])
    a = x * 2
    b = (a * 3).exp()
    c = a * b + a
    c.sum().backward()
    xv = np.array([1.5, -0.5])
    av = 2 * xv
    # c = a exp(3a) + a ; dc/da = exp(3a) + 3a exp(3a) + 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp(3 * av) * (1 + 3 * av) + 1))


def test_leaf_gradient_not_corrupted_by_shared_pending_gradient():
    """Add hands one array to both inputs: one path ends at a leaf, the other is still
    pending; a later accumulation into the leaf must not change the pending gradient."""
    for order in ("first", "second"):
        x = f64([1.0, 2.0])
        p = x.exp()
        a = p + x          # Add: same gradient array to exp's node and to the leaf x
        r = x * 5
        s = a + r if order == "first" else r + a
        s.backward(tinynn.ones(2, dtype=tinynn.float64))
        np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) + 1 + 5)


def test_add_does_not_share_gradient_arrays():
    a = tinynn.tensor([1.0, 2.0], requires_grad=True)
    b = tinynn.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.array is not b.grad.array
    assert not np.shares_memory(a.grad.array, b.grad.array)
    with tinynn.no_grad():
        a.grad.array *= 10  # e.g. weight decay written in place on one gradient
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_gradients_are_writable_arrays_owned_by_the_leaf():
    # Expand/sum hand back broadcast views; reshape hands back a view of the upstream.
    x = tinynn.tensor([[1.0], [2.0]], requires_grad=True)
    x.expand(2, 3).sum().backward()
    assert x.grad.array.flags.writeable
    x.grad.array += 1  # must not raise
    y = tinynn.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y.reshape(2, 2).sum().backward()
    assert y.grad.array.flags.writeable and y.grad.array.base is None


def test_user_gradient_is_not_aliased_into_grad():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    g = tinynn.tensor([1.0, 1.0])
    x.clone().backward(g)
    x.clone().backward(g)
    np.testing.assert_array_equal(g.numpy(), [1.0, 1.0])  # the caller's tensor is untouched
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    leaf = tinynn.tensor([5.0, 6.0], requires_grad=True)
    leaf.backward(g)  # backward on a leaf: the seed becomes its gradient
    assert leaf.grad.array is not g.array
    np.testing.assert_array_equal(leaf.grad.numpy(), [1.0, 1.0])


def test_backward_twice_accumulates():
    x = f64([1.0, -2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.array([1.0, -2.0]))
    # a fresh graph over the same leaf also adds up
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.array([1.0, -2.0]) + 3)


def test_second_backward_through_freed_graph_raises():
    x = f64([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()
    z = (x.exp() * 2).sum()
    z.backward(retain_graph=True)
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), (1 + 3) * 2 * np.exp([1.0, 2.0]))


def test_backward_into_part_of_a_freed_graph_raises():
    x = f64([1.0, 2.0])
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (h * 2).sum().backward()


def test_saved_arrays_are_freed_after_backward():
    x = tinynn.tensor(np.random.default_rng(0).standard_normal(1000), requires_grad=True)
    h = x.exp()                       # Exp saves its output, h's array
    saved = weakref.ref(h.array)
    loss = (h * 2.0).sum()
    exp_fn = h.grad_fn
    del h
    gc.collect()
    assert saved() is not None        # still needed by the graph
    loss.backward()
    gc.collect()
    assert saved() is None            # freed, although `loss` (and its graph) is alive
    assert holds_no_arrays(exp_fn)


def test_retain_graph_keeps_saved_arrays():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    fn = h.grad_fn
    h.sum().backward(retain_graph=True)
    assert len(fn.saved_arrays) == 1  # still there for the second backward
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_function_freed_when_graph_is_dropped():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    ref = weakref.ref(y.grad_fn)
    y.backward()
    del y
    gc.collect()
    assert ref() is None


def test_retain_grad_on_non_leaf():
    x = f64([1.0, -3.0])
    y = x * 2
    y.retain_grad()
    z = y * y
    w = z * 1.0
    w.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * np.array([2.0, -6.0]))
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([1.0, -3.0]))
    assert z.grad is None  # not retained


def test_retain_grad_follows_an_inplace_update():
    x = f64([1.0, 2.0])
    h = x * 2
    h.retain_grad()
    h *= 2
    (h * 3).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [3.0, 3.0])  # d/d(new h), not d/d(old h) = 6
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 12.0])


def test_retain_grad_on_the_root():
    x = f64([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    y.backward(tinynn.tensor([2.0, 5.0], dtype=tinynn.float64))
    np.testing.assert_array_equal(y.grad.numpy(), [2.0, 5.0])


def test_gradient_flows_only_to_tensors_requiring_it():
    x = f64([1.0, 2.0])
    c = f64([3.0, 4.0], requires_grad=False)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.array is x.array
    assert not (c * 2).requires_grad and (c * 2).grad_fn is None


def test_backward_argument_errors():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(tinynn.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tinynn.tensor([1.0]).sum().backward()


def test_backward_seed_is_one_even_when_loss_is_nan():
    x = tinynn.tensor([1.0, 2.0], requires_grad=True)
    loss = x.sum() + tinynn.tensor(float("nan"))
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_backward_inside_no_grad_still_computes_gradients():
    x = tinynn.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    with tinynn.no_grad():
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0])


def test_backward_leaves_the_grad_mode_untouched():
    x = tinynn.tensor([2.0], requires_grad=True)
    (x * x).sum().backward()
    assert tinynn.is_grad_enabled()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


# ---------------------------------------------------------------------------- grad modes


def test_no_grad_context():
    x = tinynn.tensor([1.0], requires_grad=True)
    with tinynn.no_grad():
        assert not tinynn.is_grad_enabled()
        y = x * 2
        with tinynn.enable_grad():
            assert tinynn.is_grad_enabled()
            z = x * 2
        assert not tinynn.is_grad_enabled()
    assert tinynn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with tinynn.no_grad():
            raise ValueError
    assert tinynn.is_grad_enabled()


def test_set_grad_enabled_as_function_and_context():
    x = tinynn.tensor([1.0], requires_grad=True)
    try:
        tinynn.set_grad_enabled(False)  # takes effect at once, like torch
        assert not tinynn.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        tinynn.set_grad_enabled(True)
    with tinynn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tinynn.is_grad_enabled()
    with tinynn.no_grad():
        with tinynn.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not tinynn.is_grad_enabled()
    assert tinynn.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = tinynn.tensor([1.0], requires_grad=True)

    @tinynn.no_grad()
    def predict(t):
        return t * 2, tinynn.is_grad_enabled()

    @tinynn.set_grad_enabled(False)
    def predict2(t):
        return t * 2

    assert tinynn.is_grad_enabled()  # decorating must not switch grad off
    out, enabled = predict(x)
    assert not enabled and not out.requires_grad
    assert not predict2(x).requires_grad
    assert tinynn.is_grad_enabled()

    @tinynn.enable_grad()
    def train_step(t):
        return t * 2

    with tinynn.no_grad():
        assert train_step(x).requires_grad
        assert not tinynn.is_grad_enabled()

    @tinynn.no_grad()
    def fails():
        raise KeyError

    with pytest.raises(KeyError):
        fails()
    assert tinynn.is_grad_enabled()
    assert predict.__name__ == "predict"  # functools.wraps


# ---------------------------------------------------------------------------- custom Function


class Square(Function):
    def forward(self, x, *, scale=1.0):
        self.x, self.scale = x, scale
        return scale * x * x

    def backward(self, grad):
        return 2 * self.scale * self.x * grad


class ScaledSum(Function):
    """a * s + b, with needs_input_grad recorded for the test."""

    seen = None

    def forward(self, a, b, *, s):
        self.s = s
        return a * s + b

    def backward(self, grad):
        ScaledSum.seen = self.needs_input_grad
        return (grad * self.s if self.needs_input_grad[0] else None,
                grad if self.needs_input_grad[1] else None)


def test_custom_function_apply_and_backward():
    x = f64([1.0, -2.0, 3.0])
    y = Square.apply(x, scale=3.0)
    assert y.grad_fn is not None and y.grad_fn.name == "SquareBackward0"
    np.testing.assert_allclose(y.detach().numpy(), 3 * np.array([1.0, 4.0, 9.0]))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([1.0, -2.0, 3.0]))
    assert gradcheck(lambda t: Square.apply(t, scale=0.5), [f64([0.3, -1.2])])


def test_needs_input_grad():
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0], requires_grad=False)
    ScaledSum.apply(a, b, s=2.0).sum().backward()
    assert ScaledSum.seen == (True, False)
    assert b.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


def test_function_not_recorded_under_no_grad():
    x = f64([1.0])
    with tinynn.no_grad():
        y = Square.apply(x)
    assert y.grad_fn is None and not y.requires_grad


# ---------------------------------------------------------------------------- gradcheck


class WrongSquare(Square):
    def backward(self, grad):
        return self.scale * self.x * grad  # missing the factor 2


class ZeroSoftmax(Function):
    """softmax with a wrong backward whose error is invisible to an all-ones upstream."""

    def forward(self, x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        self.out = e / e.sum(axis=-1, keepdims=True)
        return self.out

    def backward(self, grad):
        return np.zeros_like(grad)


def test_gradcheck_catches_a_wrong_gradient():
    x = f64([0.5, -1.0, 2.0])
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda t: WrongSquare.apply(t), [x])


def test_gradcheck_uses_a_random_upstream_gradient():
    # d(sum softmax)/dx = 0, so an upstream of ones would pass this broken backward.
    x = f64([[0.5, -1.0, 2.0]])
    ZeroSoftmax.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.0)
    with pytest.raises(AssertionError):
        gradcheck(lambda t: ZeroSoftmax.apply(t), [x])


def test_gradcheck_checks_only_inputs_requiring_grad_and_rejects_float32():
    a, b = f64([1.0, 2.0]), f64([3.0, 4.0], requires_grad=False)
    assert gradcheck(lambda p, q: p * q, [a, b])
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * 2, [tinynn.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda t: t * 2, [b])


def test_gradcheck_multiple_outputs():
    x = f64([[0.3, -1.0, 2.0], [1.0, 0.5, -0.5]])
    assert gradcheck(lambda t: (t.max(1).values, t.exp()), [x])


# ---------------------------------------------------------------------------- devices


def test_gradients_accumulate_on_device(device):
    x = tinynn.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = (x * x + x).sum()  # x used twice: the second accumulation adds in place
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.device == device
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * (2 * np.array([1.0, 2.0]) + 1))


def test_mixing_devices_raises_a_clear_error(device):
    if device.type == "cpu":
        pytest.skip("needs a second device")
    import tinynn.nn as nn
    import tinynn.nn.functional as F
    a = tinynn.ones(2, device=device, requires_grad=True)
    b = tinynn.ones(2)
    logits, labels = tinynn.zeros(3, 2, device=device), tinynn.tensor([0, 1, 1])
    ops = {"add": lambda: a + b, "rmul": lambda: b * a, "matmul": lambda: a @ b,
           "cat": lambda: tinynn.cat([a, b]), "maximum": lambda: tinynn.maximum(a, b),
           "where": lambda: tinynn.where(b > 0, a, 0.0), "compare": lambda: a > b,
           "inplace": lambda: a.detach().add_(b), "linear": lambda: nn.Linear(2, 1)(logits),
           "mse": lambda: F.mse_loss(a, b), "cross_entropy": lambda: F.cross_entropy(logits, labels),
           "nll": lambda: F.nll_loss(logits, labels),
           "weight": lambda: F.cross_entropy(logits, labels.to(device), weight=tinynn.ones(2))}
    for name, op in ops.items():
        with pytest.raises(RuntimeError, match="same device.*(cuda:0 and cpu|cpu and cuda:0)"):
            op()
            pytest.fail(f"{name} mixed devices silently")


def test_backward_gradient_on_another_device_is_an_error(device):
    if device.type == "cpu":
        pytest.skip("needs a second device")
    x = tinynn.ones(2, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient is on cpu but the tensor is on cuda:0"):
        (x * 2).backward(tinynn.ones(2))
    (x * 2).backward(tinynn.ones(2, device=device))
    assert x.grad.device == device


def test_mixing_devices_error_names_both_devices(monkeypatch):
    """The engine-level check, without any GPU: pretend one array lives on cuda:1."""
    import fake_cupy
    from tinynn import backend
    monkeypatch.setattr(backend, "_gpu", fake_cupy.make_backend())
    monkeypatch.setattr(backend, "_gpu_error", None)
    a, b = tinynn.ones(2), tinynn.ones(2, device="cuda")
    real_device_of = checks.device_of
    monkeypatch.setattr(checks, "device_of",
                        lambda arr: tinynn.device("cuda:1") if arr is b.array else real_device_of(arr))
    with pytest.raises(RuntimeError, match=r"two devices, cpu and cuda:1.*Mul"):
        tinynn.autograd.Function  # the check sits in Function.apply, before any op runs
        from tinynn.ops.arithmetic import Mul
        Mul.apply(a, b)
