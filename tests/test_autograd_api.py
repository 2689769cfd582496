"""``tinynn.autograd.grad`` / ``backward``, ``Tensor.backward(inputs=...)`` and tensor hooks,
checked against PyTorch's documentation, plus a linear regression written the way a
student following d2l.ai would write it with ``autograd.grad``.
"""
import numpy as np
import pytest

import tinynn
from tinynn import autograd


def host(t):
    return np.array(t.detach().cpu().numpy())


def leaf(values, device, dtype=None):
    return tinynn.tensor(values, device=device, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------------------- autograd.grad

def test_grad_returns_gradients_and_leaves_grad_untouched(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = (x * x).sum()
    grads = autograd.grad(y, x)
    assert isinstance(grads, tuple) and len(grads) == 1
    g, = grads
    np.testing.assert_allclose(host(g), [2.0, 4.0, 6.0])
    assert g.dtype == x.dtype and g.device == x.device
    assert not g.requires_grad
    assert x.grad is None


def test_grad_several_inputs_and_outputs(device):
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, -1.0], device)
    c = leaf([0.5, 0.5], device)                   # not an input of grad: stays None too
    y1 = (a * b * c).sum()
    y2 = (a * a).sum() + (b * 3).sum()
    ga, gb = autograd.grad([y1, y2], [a, b])      # the gradients of y1 + y2
    np.testing.assert_allclose(host(ga), [3.0 * 0.5 + 2.0, -1.0 * 0.5 + 4.0])
    np.testing.assert_allclose(host(gb), [1.0 * 0.5 + 3.0, 2.0 * 0.5 + 3.0])
    assert a.grad is None and b.grad is None and c.grad is None


def test_grad_with_respect_to_a_non_leaf(device):
    a = leaf(2.0, device)
    h = a * 3                                       # 6
    out = h * h                                     # d out / d h = 2h = 12
    gh, ga = autograd.grad(out, [h, a])
    assert gh.item() == pytest.approx(12.0)
    assert ga.item() == pytest.approx(36.0)
    assert a.grad is None and h.grad is None


def test_grad_unused_input_errors_without_allow_unused(device):
    x = leaf([1.0, 2.0], device)
    unused = leaf([5.0], device)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_allclose(host(gx), [2.0, 2.0])
    assert gu is None


def test_grad_materialize_grads_gives_zeros(device):
    x = leaf([1.0, 2.0], device)
    unused = leaf([[5.0, 6.0]], device, dtype=tinynn.float64)
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_allclose(host(gx), [2.0, 2.0])
    assert gu.shape == (1, 2) and gu.dtype == tinynn.float64 and gu.device == unused.device
    np.testing.assert_array_equal(host(gu), [[0.0, 0.0]])


def test_grad_materialize_grads_is_zero_for_non_finite_inputs(device):
    x = leaf([1.0, 2.0], device)
    unused = leaf([float("inf"), float("nan")], device)
    _, gu = autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(host(gu), [0.0, 0.0])


def test_grad_materialize_grads_with_allow_unused_false_is_an_error(device):
    x = leaf([1.0, 2.0], device)
    unused = leaf([5.0], device)
    with pytest.raises(ValueError, match="allow_unused"):
        autograd.grad((x * 2).sum(), [x, unused], allow_unused=False, materialize_grads=True)


def test_grad_outputs_for_non_scalar_outputs(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * x                                       # not a scalar
    with pytest.raises(RuntimeError):
        autograd.grad(y, x, retain_graph=True)
    v = tinynn.tensor([1.0, 0.1, 0.01], device=device)
    g, = autograd.grad(y, x, grad_outputs=v)        # vector-Jacobian product
    np.testing.assert_allclose(host(g), [2.0, 0.4, 0.06], rtol=1e-6)
    x2 = leaf([1.0, 2.0], device)
    y1, y2 = x2 * 3, (x2 * x2).sum()
    g2, = autograd.grad([y1, y2], [x2], grad_outputs=[tinynn.ones(2, device=device), None])
    np.testing.assert_allclose(host(g2), [3.0 + 2.0, 3.0 + 4.0])


def test_grad_outputs_shape_mismatch_is_an_error(device):
    x = leaf([1.0, 2.0, 3.0], device)
    with pytest.raises(RuntimeError):
        autograd.grad(x * 2, x, grad_outputs=tinynn.ones(2, device=device))


def test_grad_retain_graph(device):
    x = leaf([1.0, 2.0], device)
    y = (x * x * x).sum()
    first, = autograd.grad(y, x, retain_graph=True)
    second, = autograd.grad(y, x)                  # allowed: the graph was kept
    np.testing.assert_allclose(host(first), [3.0, 12.0])
    np.testing.assert_allclose(host(second), [3.0, 12.0])
    with pytest.raises(RuntimeError):             # retain_graph=None: the graph was freed
        autograd.grad(y, x)


def test_grad_of_output_that_does_not_require_grad_is_an_error(device):
    x = leaf([1.0], device)
    with pytest.raises(RuntimeError):
        autograd.grad(tinynn.ones(1, device=device).sum(), x)
    with pytest.raises(RuntimeError):
        autograd.grad((x * 2).sum(), tinynn.ones(1, device=device))


@pytest.mark.xfail(strict=True, reason="torch.autograd.grad(create_graph=True) builds the graph "
                   "of the derivative (higher-order gradients); tinynn raises "
                   "NotImplementedError")
def test_grad_create_graph_second_derivative(device):
    x = leaf([2.0], device)
    dy, = autograd.grad((x ** 3).sum(), x, create_graph=True)
    d2y, = autograd.grad(dy.sum(), x)
    np.testing.assert_allclose(host(d2y), [12.0])


# ---------------------------------------------------------------------------- autograd.backward

def test_autograd_backward_several_roots(device):
    x = leaf([1.0, 2.0], device)
    y1 = x * 2                                      # non-scalar: needs a gradient
    y2 = (x * x).sum()
    autograd.backward([y1, y2], [tinynn.tensor([1.0, 10.0], device=device),
                                 tinynn.tensor(2.0, device=device)])
    np.testing.assert_allclose(host(x.grad), [2.0 + 4.0, 20.0 + 8.0])


def test_autograd_backward_scalar_roots_without_gradients(device):
    a = leaf([1.0, 2.0], device)
    autograd.backward([(a * 3).sum(), (a * a).sum()])
    np.testing.assert_allclose(host(a.grad), [5.0, 7.0])
    autograd.backward((a * 1).sum())                # a single tensor; accumulates
    np.testing.assert_allclose(host(a.grad), [6.0, 8.0])


def test_tensor_backward_inputs_accumulates_only_into_them(device):
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, 4.0], device)
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_allclose(host(a.grad), [3.0, 4.0])
    assert b.grad is None
    (a * b).sum().backward(inputs=[b])
    np.testing.assert_allclose(host(b.grad), [1.0, 2.0])
    np.testing.assert_allclose(host(a.grad), [3.0, 4.0])    # unchanged
    (a * b).sum().backward(inputs=a)                         # a single tensor works too
    np.testing.assert_allclose(host(a.grad), [6.0, 8.0])


def test_tensor_backward_inputs_non_leaf(device):
    a = leaf([1.0, 2.0], device)
    h = a * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(host(h.grad), [4.0, 8.0])
    assert a.grad is None


def test_tensor_backward_inputs_does_not_run_hooks_of_ignored_leaves(device):
    a = leaf([1.0, 2.0], device)
    b = leaf([3.0, 4.0], device)
    calls = []
    b.register_hook(lambda g: calls.append(1))
    (a * b).sum().backward(inputs=[a])
    assert calls == []


# ---------------------------------------------------------------------------- hooks

def test_register_hook_doc_example(device):
    v = leaf([0.0, 0.0, 0.0], device)
    h = v.register_hook(lambda grad: grad * 2)      # double the gradient
    v.backward(tinynn.tensor([1.0, 2.0, 3.0], device=device))
    np.testing.assert_allclose(host(v.grad), [2.0, 4.0, 6.0])
    h.remove()
    v.grad = None
    v.backward(tinynn.tensor([1.0, 2.0, 3.0], device=device))
    np.testing.assert_allclose(host(v.grad), [1.0, 2.0, 3.0])


def test_hook_on_leaf_sees_gradient_and_none_keeps_it(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    x.register_hook(lambda g: seen.append(host(g).tolist()))
    (x * 5).sum().backward()
    assert seen == [[5.0, 5.0]]
    np.testing.assert_allclose(host(x.grad), [5.0, 5.0])


def test_hook_on_leaf_runs_once_with_the_summed_gradient(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    x.register_hook(lambda g: seen.append(host(g).tolist()))
    (x * 3 + x * 4).sum().backward()
    np.testing.assert_allclose(host(x.grad), [7.0, 7.0])
    assert seen and sum(np.asarray(s) for s in seen).tolist() == [7.0, 7.0]


def test_hook_on_leaf_used_twice_is_called_once(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    x.register_hook(lambda g: seen.append(host(g).tolist()))
    (x * 3 + x * 4).sum().backward()
    assert seen == [[7.0, 7.0]]


def test_nonlinear_hook_on_leaf_used_twice(device):
    x = leaf([1.0], device)
    x.register_hook(lambda g: g.clamp(max=5.0))
    (x * 3 + x * 4).sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0])


def test_hook_on_non_leaf_replaces_its_gradient(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2
    seen = []

    def hook(g):
        seen.append(host(g).tolist())
        return g * 10

    handle = h.register_hook(hook)
    (h * h).sum().backward()
    assert seen == [[4.0, 8.0]]                     # d/dh of sum(h^2) = 2h
    np.testing.assert_allclose(host(x.grad), [80.0, 160.0])
    handle.remove()
    x.grad = None
    h2 = x * 2
    (h2 * h2).sum().backward()
    np.testing.assert_allclose(host(x.grad), [8.0, 16.0])


def test_hook_on_non_leaf_reached_by_two_paths_sees_the_sum(device):
    x = leaf([1.0], device)
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(host(g).tolist()))
    (h * 3 + h * 4).sum().backward()
    assert seen == [[7.0]]


def test_hooks_run_in_registration_order(device):
    x = leaf([1.0], device)
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    np.testing.assert_allclose(host(x.grad), [8.0])          # (3 + 1) * 2


def test_hook_on_tensor_not_requiring_grad_is_an_error(device):
    with pytest.raises(RuntimeError):
        tinynn.zeros(2, device=device).register_hook(lambda g: g)


def test_hooks_are_seen_by_autograd_grad(device):
    x = leaf([1.0, 2.0], device)
    x.register_hook(lambda g: g * 2)
    g, = autograd.grad((x * 3).sum(), x)
    np.testing.assert_allclose(host(g), [6.0, 6.0])
    assert x.grad is None
    y = leaf([1.0, 2.0], device)
    h = y * 2
    h.register_hook(lambda g: g * 2)
    gy, gh = autograd.grad((h * 3).sum(), [y, h])
    np.testing.assert_allclose(host(gh), [6.0, 6.0])        # the hooked gradient of h
    np.testing.assert_allclose(host(gy), [12.0, 12.0])       # flows on to y


def test_hook_returned_gradient_keeps_dtype(device):
    x = leaf([1.0, 2.0], device)                     # float32
    x.register_hook(lambda g: g.double() * 2)
    (x * 1).sum().backward()
    assert x.grad.dtype == tinynn.float32
    np.testing.assert_allclose(host(x.grad), [2.0, 2.0])


# ---------------------------------------------------------------------------- linear regression

def test_linear_regression_with_autograd_grad(device):
    """d2l's linear regression from scratch, written with autograd.grad and manual SGD."""
    tinynn.manual_seed(42)
    true_w = tinynn.tensor([2.0, -3.4], device=device)
    true_b = 4.2
    n = 1000
    X = tinynn.normal(0, 1, (n, 2), device=device)
    y = X @ true_w.reshape(2, 1) + true_b
    y = y + tinynn.normal(0, 0.01, y.shape, device=device)

    w = tinynn.normal(0, 0.01, size=(2, 1), requires_grad=True, device=device)
    b = tinynn.zeros(1, requires_grad=True, device=device)
    lr = 0.1

    def squared_loss(y_hat, y):
        return ((y_hat - y.reshape(y_hat.shape)) ** 2 / 2).mean()

    # One step checked against the closed-form gradient.
    Xn, yn = host(X), host(y)
    wn, bn = host(w), host(b)
    residual = Xn @ wn + bn - yn
    loss = squared_loss(X @ w + b, y)
    dw, db = tinynn.autograd.grad(loss, [w, b])
    np.testing.assert_allclose(host(dw), Xn.T @ residual / n, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(host(db), residual.mean(axis=0), rtol=1e-4, atol=1e-5)
    assert dw.shape == (2, 1) and db.shape == (1,)
    assert loss.item() == pytest.approx(float((residual ** 2 / 2).mean()), rel=1e-4)

    first_loss = loss.item()
    for _ in range(200):
        loss = squared_loss(X @ w + b, y)
        dw, db = tinynn.autograd.grad(loss, [w, b])
        with tinynn.no_grad():
            w -= lr * dw
            b -= lr * db
    assert w.grad is None and b.grad is None               # grad() never accumulates
    assert w.is_leaf and w.requires_grad and w.dtype == tinynn.float32
    np.testing.assert_allclose(host(w).ravel(), [2.0, -3.4], atol=0.01)
    np.testing.assert_allclose(host(b), [4.2], atol=0.01)
    assert loss.item() < 1e-3 < first_loss
