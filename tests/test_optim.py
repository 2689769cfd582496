"""Optimizers: trajectories against plain-NumPy float64 references of PyTorch's formulas,
param groups, zero_grad, state_dict round trips, dtype discipline and argument checks."""
import copy
import math
import re

import numpy as np
import pytest

import tinynn
import tinynn.optim as optim
from tinynn import Tensor

DTYPES = [np.float64, np.float32]
STEPS = 6


def tol(dtype):
    return dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=2e-5, atol=2e-6)


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [tinynn.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for shape in [(3, 4), (4,)]]


def grad_of(array, k):
    """A gradient that depends on the parameter (so errors feed back) and on the step k."""
    noise = np.sin(np.arange(array.size, dtype=np.float64).reshape(array.shape) + 0.7 * k)
    return (0.5 * array.astype(np.float64) + noise).astype(array.dtype)


def run_tinynn(make_optimizer, dtype, steps=STEPS):
    params = make_params(dtype)
    opt = make_optimizer(params)
    for k in range(steps):
        for p in params:
            p.grad = Tensor(grad_of(p.array, k))
        opt.step()
    return params, opt


def run_reference(update, steps=STEPS):
    """``update(p, g, state, t)`` returns the new p (float64 arrays); t counts from 1."""
    params = [p.array.astype(np.float64) for p in make_params(np.float64)]
    states = [{} for _ in params]
    for k in range(steps):
        for i, p in enumerate(params):
            params[i] = update(p, grad_of(p, k), states[i], k + 1)
    return params


# ---------------------------------------------------------------- references (PyTorch docs)

def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    def update(p, g, state, t):
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            if t == 1:
                state["b"] = g.copy()
            else:
                state["b"] = momentum * state["b"] + (1 - dampening) * g
            g = g + momentum * state["b"] if nesterov else state["b"]
        return p - lr * g
    return update


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                   decoupled=False, maximize=False):
    b1, b2 = betas

    def update(p, g, state, t):
        g = -g if maximize else g
        if weight_decay and decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        if amsgrad:
            v = state["vmax"] = np.maximum(state.get("vmax", 0.0), v)
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.1, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=0.05, momentum=0.8, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.1),
    "all": dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
    "maximize": dict(lr=0.05, momentum=0.5, weight_decay=0.1, maximize=True),
}

ADAM_CASES = {
    "default": dict(lr=0.01),
    "betas_eps": dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "amsgrad": dict(lr=0.01, amsgrad=True),
    "amsgrad_wd": dict(lr=0.01, amsgrad=True, weight_decay=0.05),
    "maximize": dict(lr=0.01, maximize=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(SGD_CASES))
def test_sgd_trajectory(case, dtype):
    kwargs = SGD_CASES[case]
    params, _ = run_tinynn(lambda ps: optim.SGD(ps, **kwargs), dtype)
    expected = run_reference(sgd_reference(**kwargs))
    for p, e in zip(params, expected):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.array, e, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", sorted(ADAM_CASES))
def test_adam_trajectory(case, dtype):
    kwargs = ADAM_CASES[case]
    params, _ = run_tinynn(lambda ps: optim.Adam(ps, **kwargs), dtype)
    expected = run_reference(adam_reference(**kwargs))
    for p, e in zip(params, expected):
        assert p.dtype == dtype
        np.testing.assert_allclose(p.array, e, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_trajectory(amsgrad, dtype):
    kwargs = dict(lr=0.01, weight_decay=0.2, amsgrad=amsgrad)
    params, _ = run_tinynn(lambda ps: optim.AdamW(ps, **kwargs), dtype)
    expected = run_reference(adam_reference(decoupled=True, **kwargs))
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.array, e, **tol(dtype))


def test_adamw_default_weight_decay_differs_from_adam():
    assert optim.AdamW(make_params(np.float32)).defaults["weight_decay"] == 1e-2
    assert optim.Adam(make_params(np.float32)).defaults["weight_decay"] == 0


def test_sgd_momentum_by_hand():
    # g = 1 always, lr = 0.1, momentum = 0.9: buffers 1, 1.9, 2.71 (the first one is g itself).
    p = tinynn.tensor([1.0], dtype=tinynn.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    values = []
    for _ in range(3):
        p.grad = tinynn.tensor([1.0], dtype=tinynn.float64)
        opt.step()
        values.append(p.item())
    np.testing.assert_allclose(values, [0.9, 0.71, 0.439], rtol=1e-12)
    assert opt.state[p]["momentum_buffer"].item() == pytest.approx(2.71)


def test_adam_first_step_by_hand():
    # After one step m_hat = g and v_hat = g^2, so p moves by lr * g / (|g| + eps).
    p = tinynn.tensor([1.0, -2.0], dtype=tinynn.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.5, eps=0.1)
    p.grad = tinynn.tensor([3.0, -0.5], dtype=tinynn.float64)
    opt.step()
    np.testing.assert_allclose(p.array, [1.0 - 0.5 * 3 / 3.1, -2.0 + 0.5 * 0.5 / 0.6], rtol=1e-12)
    assert opt.state[p]["step"] == 1


# ---------------------------------------------------------------- in place, dtypes, grads

@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1, amsgrad=True),
], ids=["sgd", "adam", "adamw"])
def test_updates_in_place_float32_and_leave_grads_alone(make):
    params = make_params(np.float32)
    arrays = [p.array for p in params]
    opt = make(params)
    for k in range(3):
        grads = [grad_of(p.array, k) for p in params]
        for p, g in zip(params, grads):
            p.grad = Tensor(g)
        copies = [g.copy() for g in grads]
        opt.step()
        for p, g, c, a in zip(params, grads, copies, arrays):
            assert p.array is a                        # same array object: updated in place
            assert p.array.dtype == np.float32         # no float64 creep
            assert p.grad.array is g                   # the gradient was not replaced...
            np.testing.assert_array_equal(g, c)        # ...nor written to
    for p in params:
        for name, value in opt.state[p].items():
            if name != "step":
                assert isinstance(value, Tensor)
                assert value.dtype == np.float32 and value.shape == p.shape


def test_shared_gradient_array_is_not_corrupted():
    # Two parameters holding the same gradient array (PITFALLS: shared gradient objects).
    a = tinynn.tensor([1.0, 2.0], requires_grad=True)
    b = tinynn.tensor([3.0, 4.0], requires_grad=True)
    shared = np.array([0.5, -0.5], dtype=np.float32)
    a.grad, b.grad = Tensor(shared), Tensor(shared)
    opt = optim.SGD([a, b], lr=1.0, momentum=0.9, weight_decay=0.5, maximize=True)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(shared, [0.5, -0.5])
    # The momentum buffer is a copy, not the gradient itself.
    assert opt.state[a]["momentum_buffer"].array is not shared


def test_float32_with_numpy_float64_hyperparameters_stays_float32():
    p = tinynn.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=np.float64(0.1), betas=(np.float64(0.9), 0.999), eps=np.float64(1e-8))
    p.grad = tinynn.tensor([1.0, 1.0])
    opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step")


def test_params_without_grad_are_skipped():
    used, unused = tinynn.tensor([1.0], requires_grad=True), tinynn.tensor([5.0], requires_grad=True)
    for opt in [optim.SGD([used, unused], lr=0.1, momentum=0.9), optim.Adam([used, unused], lr=0.1)]:
        used.grad = tinynn.tensor([1.0])
        opt.step()
        assert unused.item() == 5.0
        assert unused not in opt.state


def test_param_groups_with_their_own_lr():
    a = tinynn.tensor([1.0], requires_grad=True)
    b = tinynn.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    for _ in range(2):
        a.grad, b.grad = tinynn.tensor([1.0]), tinynn.tensor([1.0])
        opt.step()
    assert a.item() == pytest.approx(1.0 - 0.2)
    assert b.item() == pytest.approx(1.0 - 0.01 * (1 + 1.5))
    # Changing group['lr'] takes effect at the next step (what schedulers rely on).
    opt.param_groups[0]["lr"] = 1.0
    a.grad = tinynn.tensor([1.0])
    b.grad = None
    opt.step()
    assert a.item() == pytest.approx(0.8 - 1.0)


def test_add_param_group():
    a, b = tinynn.tensor([1.0], requires_grad=True), tinynn.tensor([2.0], requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        opt.add_param_group({"params": [tinynn.tensor([1.0], requires_grad=True)], "lr": -0.5})


def test_closure_is_evaluated_with_grad_enabled():
    w = tinynn.tensor([2.0, -1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tinynn.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.array, [2.0 - 0.4, -1.0 + 0.2], rtol=1e-6)


def test_training_a_linear_model_with_backward():
    tinynn.manual_seed(0)
    x = tinynn.randn(64, 3)
    true_w = tinynn.tensor([[1.5], [-2.0], [0.5]])
    y = x @ true_w
    for make in [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: optim.Adam(ps, lr=0.05)]:
        w = tinynn.zeros(3, 1, requires_grad=True)
        opt = make([w])
        for _ in range(200):
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            opt.step()
        assert loss.item() < 1e-3
        assert w.dtype == np.float32


# ---------------------------------------------------------------- zero_grad

def test_zero_grad_sets_none_by_default():
    params = make_params(np.float32)
    opt = optim.SGD(params, lr=0.1)
    for p in params:
        p.grad = Tensor(np.ones(p.shape, np.float32))
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_set_to_none_false_gives_fresh_zeros():
    p = tinynn.tensor([1.0, 2.0], dtype=tinynn.float64, requires_grad=True)
    shared = np.array([3.0, 4.0])
    p.grad = Tensor(shared)
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.dtype == np.float64
    np.testing.assert_array_equal(p.grad.array, [0.0, 0.0])
    np.testing.assert_array_equal(shared, [3.0, 4.0])   # the old array, possibly shared, is intact
    # backward accumulates into the zeros
    (p * 2.0).sum().backward()
    np.testing.assert_array_equal(p.grad.array, [2.0, 2.0])


# ---------------------------------------------------------------- state_dict

OPTIMIZERS = {
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_plain": lambda ps: optim.SGD(ps, lr=0.05),
    "adam_amsgrad": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
}


def step_with(params, opt, k):
    for p in params:
        p.grad = Tensor(grad_of(p.array, k))
    opt.step()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_through_save_and_load(name, dtype, tmp_path):
    make = OPTIMIZERS[name]
    params = make_params(dtype)
    opt = make(params)
    for k in range(3):
        step_with(params, opt, k)
    tinynn.save(opt.state_dict(), tmp_path / "opt.npz")

    # A fresh optimizer on copies of the parameters, restored from the file.
    params2 = [tinynn.tensor(p.array, requires_grad=True) for p in params]
    opt2 = make(params2)
    opt2.load_state_dict(tinynn.load(tmp_path / "opt.npz"))
    for k in range(3, 6):
        step_with(params, opt, k)
        step_with(params2, opt2, k)
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.array, q.array)   # continues identically
        assert q.dtype == dtype
    for p, q in zip(params, params2):
        assert sorted(opt.state[p]) == sorted(opt2.state[q])
        for key, value in opt2.state[q].items():
            if key == "step":
                assert value == opt.state[p]["step"] == 6
            else:
                assert value.dtype == dtype and value.device == q.device


def test_state_dict_structure_is_pytorchs():
    a, b, c = (tinynn.tensor([float(i)], requires_grad=True) for i in range(3))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    a.grad, c.grad = tinynn.tensor([1.0]), tinynn.tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 2]                # b had no gradient: no state
    assert set(sd["state"][0]) == {"momentum_buffer"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert sd["param_groups"][0] == {"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
                                     "nesterov": False, "maximize": False, "params": [0, 1]}
    # Changing the returned dict does not change the optimizer's groups.
    sd["param_groups"][0]["lr"] = 9.0
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_copies_and_restores_hyperparameters():
    params = make_params(np.float32)
    opt = optim.Adam(params, lr=0.01)
    step_with(params, opt, 0)
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.123
    params2 = [tinynn.tensor(p.array, requires_grad=True) for p in params]
    opt2 = optim.Adam(params2, lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.123
    assert opt2.param_groups[0]["params"][0] is params2[0]
    # no aliasing between the two optimizers' buffers
    assert opt2.state[params2[0]]["exp_avg"].array is not opt.state[params[0]]["exp_avg"].array
    # a deepcopy of the state dict is a snapshot (the usual way to keep the best one)
    snapshot = copy.deepcopy(opt.state_dict())
    step_with(params, opt, 1)
    assert snapshot["state"][0]["step"] == 1


def test_load_state_dict_casts_to_param_dtype():
    params64 = make_params(np.float64)
    opt64 = optim.SGD(params64, lr=0.1, momentum=0.9)
    step_with(params64, opt64, 0)
    params32 = make_params(np.float32)
    opt32 = optim.SGD(params32, lr=0.1, momentum=0.9)
    opt32.load_state_dict(opt64.state_dict())
    assert opt32.state[params32[0]]["momentum_buffer"].dtype == np.float32


def test_load_state_dict_mismatch_errors():
    params = make_params(np.float32)
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    step_with(params, opt, 0)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD(params[:1], lr=0.1).load_state_dict(sd)
    swapped = [tinynn.tensor(params[1].array, requires_grad=True),
               tinynn.tensor(params[0].array, requires_grad=True)]
    with pytest.raises(ValueError, match="has shape"):
        optim.SGD(swapped, lr=0.1, momentum=0.9).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"lr": 0.1})


# ---------------------------------------------------------------- argument checks

@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     "Nesterov momentum requires"),
    (lambda p: optim.Adam(p, lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
    (lambda p: optim.Adam(p, betas=0.9), "betas must be a pair"),
    (lambda p: optim.SGD([{"params": p, "lr": -2.0}], lr=0.1), "Invalid learning rate: -2.0"),
])
def test_invalid_hyperparameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make(make_params(np.float32))


def test_invalid_params_raise_clear_errors():
    p = tinynn.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors, but one of the params is ndarray"):
        optim.Adam([np.zeros(3)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.SGD([p], lr="0.1")
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_generators_of_parameters_are_accepted():
    params = make_params(np.float32)
    opt = optim.SGD((p for p in params), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2
    assert "SGD (" in repr(opt) and "lr: 0.1" in repr(opt)


@pytest.fixture
def cuda_device(monkeypatch):
    """A real GPU when CuPy finds one, else tests/fake_cupy.py's stand-in on NumPy."""
    if not tinynn.cuda.is_available():
        fake_cupy = pytest.importorskip("fake_cupy")
        monkeypatch.setattr(tinynn.backend, "_gpu", fake_cupy.make_backend())
    return "cuda"


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_cuda_matches_cpu_and_state_stays_on_gpu(name, cuda_device, tmp_path):
    make = OPTIMIZERS[name]
    cpu = make_params(np.float32)
    gpu = [tinynn.tensor(p.array, device=cuda_device, requires_grad=True) for p in cpu]
    opt_cpu, opt_gpu = make(cpu), make(gpu)
    for k in range(3):
        step_with(cpu, opt_cpu, k)
        for p in gpu:
            g = grad_of(tinynn.backend.to_numpy(p.array), k)
            p.grad = Tensor(tinynn.backend.to_device(g, "cuda"))
        opt_gpu.step()
    for p, q in zip(cpu, gpu):
        assert q.device.type == "cuda" and q.dtype == np.float32
        np.testing.assert_allclose(tinynn.backend.to_numpy(q.array), p.array,
                                   rtol=1e-5, atol=1e-6)
        for key, value in opt_gpu.state[q].items():
            if key != "step":
                assert value.device.type == "cuda" and value.dtype == np.float32
    # A CPU checkpoint loads onto GPU parameters.
    tinynn.save(opt_cpu.state_dict(), tmp_path / "opt.npz")
    opt_gpu2 = make(gpu)
    opt_gpu2.load_state_dict(tinynn.load(tmp_path / "opt.npz"))
    for q in gpu:
        for key, value in opt_gpu2.state[q].items():
            if key != "step":
                assert value.device.type == "cuda"
    opt_gpu2.step()
    opt_gpu2.zero_grad(set_to_none=False)
    assert all(q.grad.device.type == "cuda" and float(q.grad.array.sum()) == 0 for q in gpu)
    assert math.isfinite(float(tinynn.backend.to_numpy(gpu[0].array).sum()))


def test_works_with_nn_parameters():
    nn = pytest.importorskip("tinynn.nn")
    model = nn.Linear(3, 1)
    x = tinynn.randn(32, 3)
    y = x @ tinynn.tensor([[1.0], [-1.0], [2.0]]) + 0.5
    opt = optim.Adam(model.parameters(), lr=0.05)
    arrays = [p.array for p in model.parameters()]
    for _ in range(300):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3
    assert all(p.array is a and p.dtype == np.float32 for p, a in zip(model.parameters(), arrays))
    assert all(isinstance(p, nn.Parameter) for p in opt.param_groups[0]["params"])
