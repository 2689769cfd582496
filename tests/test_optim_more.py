"""RMSprop, Adagrad, Adadelta, NAdam and RAdam against their documented algorithms.

Each reference below is PyTorch's documented pseudo-code written out in plain float64
NumPy, one line per line of the docs. Both sides minimise the same fixed quadratic
``f(p) = sum(a * p^2 / 2 - b * p)`` (gradient ``a * p - b``): tinynn through autograd
and ``optimizer.step()``, the reference with the gradient written out.
"""
import math

import numpy as np
import pytest

import tinynn
import tinynn.nn.functional as F
import tinynn.optim as optim
from tinynn import Tensor

DTYPES = [np.float64, np.float32]
STEPS = 10          # RAdam's rectified branch starts at step 6 (beta2 = 0.999)
SHAPES = [(3, 4), (5,)]


def tol(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)


# ---------------------------------------------------------------- the quadratic

def quadratic_terms(seed=0):
    """For each parameter: its start value and the coefficients a (> 0) and b."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape), rng.uniform(0.5, 2.0, shape), rng.standard_normal(shape))
            for shape in SHAPES]


def to_host(t):
    return t.detach().cpu().numpy()


def run_tinynn(make_optimizer, dtype, device=None, steps=STEPS):
    terms = quadratic_terms()
    params = [tinynn.tensor(p0.astype(dtype), device=device, requires_grad=True) for p0, _, _ in terms]
    coefficients = [(tinynn.tensor(a.astype(dtype), device=device), tinynn.tensor(b.astype(dtype), device=device))
                    for _, a, b in terms]
    opt = make_optimizer(params)
    for _ in range(steps):
        opt.zero_grad()
        loss = sum(((a * p * p) / 2 - b * p).sum() for p, (a, b) in zip(params, coefficients))
        loss.backward()
        opt.step()
    return params, opt


def run_reference(updates, steps=STEPS):
    """``updates[i](p, g, state, t)`` gives parameter i's new value (t counts from 1)."""
    terms = quadratic_terms()
    params = [p0.copy() for p0, _, _ in terms]
    states = [{} for _ in params]
    for t in range(1, steps + 1):
        for i, (_, a, b) in enumerate(terms):
            grad = a * params[i] - b
            params[i] = updates[i](params[i], grad, states[i], t)
    return params


# ---------------------------------------------------------------- the documented algorithms

def rmsprop_reference(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                      maximize=False):
    def update(theta, g, state, t):
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_ave = state["g_ave"] = state.get("g_ave", 0.0) * alpha + (1 - alpha) * g
            v_tilde = v_tilde - g_ave ** 2
        if momentum > 0:
            b = state["b"] = momentum * state.get("b", 0.0) + g / (np.sqrt(v_tilde) + eps)
            return theta - lr * b
        return theta - lr * g / (np.sqrt(v_tilde) + eps)
    return update


def adagrad_reference(lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                      maximize=False):
    def update(theta, g, state, t):
        g = -g if maximize else g
        lr_tilde = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * theta
        state_sum = state["sum"] = state.get("sum", initial_accumulator_value) + g ** 2
        return theta - lr_tilde * g / (np.sqrt(state_sum) + eps)
    return update


def adadelta_reference(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    def update(theta, g, state, t):
        g = -g if maximize else g
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = state["v"] = state.get("v", 0.0) * rho + g ** 2 * (1 - rho)
        u_prev = state.get("u", 0.0)
        delta = np.sqrt(u_prev + eps) / np.sqrt(v + eps) * g
        state["u"] = u_prev * rho + delta ** 2 * (1 - rho)
        return theta - lr * delta
    return update


def nadam_reference(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                    decoupled_weight_decay=False, maximize=False):
    beta1, beta2 = betas
    psi = momentum_decay

    def mu(i):
        return beta1 * (1 - 0.5 * 0.96 ** (i * psi))

    def update(theta, g, state, t):
        g = -g if maximize else g
        if weight_decay != 0:
            if decoupled_weight_decay:
                theta = theta - lr * weight_decay * theta
            else:
                g = g + weight_decay * theta
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
        prod_t = math.prod(mu(i) for i in range(1, t + 1))
        prod_t1 = math.prod(mu(i) for i in range(1, t + 2))
        m_hat = mu(t + 1) * m / (1 - prod_t1) + (1 - mu(t)) * g / (1 - prod_t)
        v_hat = v / (1 - beta2 ** t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return update


def radam_reference(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                    maximize=False):
    beta1, beta2 = betas
    rho_inf = 2 / (1 - beta2) - 1

    def update(theta, g, state, t):
        g = -g if maximize else g
        if weight_decay != 0:
            if decoupled_weight_decay:
                theta = theta - lr * weight_decay * theta
            else:
                g = g + weight_decay * theta
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho_t > 5:
            l_t = np.sqrt(1 - beta2 ** t) / (np.sqrt(v) + eps)
            r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return theta - lr * m_hat * r_t * l_t
        return theta - lr * m_hat
    return update


CASES = {
    ("RMSprop", "default"): dict(),
    ("RMSprop", "alpha_eps"): dict(lr=0.02, alpha=0.9, eps=1e-3),
    ("RMSprop", "momentum"): dict(lr=0.01, momentum=0.9),
    ("RMSprop", "centered"): dict(lr=0.01, centered=True),
    ("RMSprop", "centered_momentum_wd"): dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1),
    ("RMSprop", "maximize"): dict(lr=0.01, momentum=0.3, maximize=True),
    ("Adagrad", "default"): dict(),
    ("Adagrad", "lr_decay"): dict(lr=0.1, lr_decay=0.5),
    ("Adagrad", "initial_accumulator"): dict(lr=0.1, initial_accumulator_value=0.5, weight_decay=0.1),
    ("Adagrad", "maximize"): dict(lr=0.1, maximize=True, eps=1e-3),
    ("Adadelta", "default"): dict(),
    ("Adadelta", "rho_eps"): dict(lr=0.5, rho=0.5, eps=1e-3),
    ("Adadelta", "weight_decay"): dict(weight_decay=0.2, maximize=True),
    ("NAdam", "default"): dict(),
    ("NAdam", "betas"): dict(lr=0.05, betas=(0.8, 0.99), eps=1e-4, momentum_decay=0.05),
    ("NAdam", "weight_decay"): dict(lr=0.05, weight_decay=0.1),
    ("NAdam", "decoupled"): dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    ("NAdam", "maximize"): dict(lr=0.05, maximize=True),
    ("RAdam", "default"): dict(),
    ("RAdam", "betas"): dict(lr=0.05, betas=(0.8, 0.9), eps=1e-4),
    ("RAdam", "weight_decay"): dict(lr=0.05, weight_decay=0.1),
    ("RAdam", "decoupled"): dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    ("RAdam", "maximize"): dict(lr=0.05, maximize=True),
}

REFERENCES = {"RMSprop": rmsprop_reference, "Adagrad": adagrad_reference, "Adadelta": adadelta_reference,
              "NAdam": nadam_reference, "RAdam": radam_reference}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, case", sorted(CASES), ids=[f"{n}-{c}" for n, c in sorted(CASES)])
def test_trajectory_follows_the_documented_algorithm(name, case, dtype, device):
    kwargs = CASES[name, case]
    params, opt = run_tinynn(lambda ps: getattr(optim, name)(ps, **kwargs), dtype, device)
    expected = run_reference([REFERENCES[name](**kwargs)] * len(SHAPES))
    for p, e in zip(params, expected):
        assert p.dtype == dtype and p.device == device
        np.testing.assert_allclose(to_host(p), e, **tol(dtype))
    for p in params:
        assert opt.state[p]["step"] == STEPS
        for key, value in opt.state[p].items():
            if isinstance(value, Tensor):
                assert value.dtype == dtype and value.device == device and value.shape == p.shape, key


def test_radam_trajectory_crosses_into_the_rectified_branch():
    # The default betas: rho_t = 4.996 at step 5, 5.994 at step 6, so STEPS covers both branches.
    rho_inf = 2 / (1 - 0.999) - 1
    rho = [rho_inf - 2 * t * 0.999 ** t / (1 - 0.999 ** t) for t in range(1, STEPS + 1)]
    assert rho[4] < 5 < rho[5]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, group_kwargs", [
    ("RMSprop", [dict(lr=0.01), dict(lr=0.003, momentum=0.9, centered=True)]),
    ("Adagrad", [dict(lr=0.1), dict(lr=0.02, lr_decay=0.1)]),
    ("Adadelta", [dict(lr=1.0), dict(lr=0.3, rho=0.7)]),
    ("NAdam", [dict(lr=0.01), dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)]),
    ("RAdam", [dict(lr=0.01), dict(lr=0.05, betas=(0.8, 0.9))]),
], ids=["RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam"])
def test_param_groups_with_their_own_hyperparameters(name, group_kwargs, dtype, device):
    cls = getattr(optim, name)

    def make(ps):
        return cls([dict(params=[p], **kw) for p, kw in zip(ps, group_kwargs)])

    params, opt = run_tinynn(make, dtype, device)
    assert [g["lr"] for g in opt.param_groups] == [kw["lr"] for kw in group_kwargs]
    expected = run_reference([REFERENCES[name](**kw) for kw in group_kwargs])
    for p, e in zip(params, expected):
        np.testing.assert_allclose(to_host(p), e, **tol(dtype))


# ---------------------------------------------------------------- first steps by hand

def one_step(opt_cls, p0, g, **kwargs):
    p = tinynn.tensor(p0, dtype=tinynn.float64, requires_grad=True)
    opt = opt_cls([p], **kwargs)
    p.grad = tinynn.tensor(g, dtype=tinynn.float64)
    opt.step()
    return p.detach().numpy(), opt, p


def test_rmsprop_first_step_by_hand():
    # v = 0.01 g^2, so the step is lr * g / (0.1 |g| + eps) = 10 lr sign(g): eps after the sqrt.
    p, opt, t = one_step(optim.RMSprop, [1.0, -2.0], [3.0, -0.5], lr=0.01)
    np.testing.assert_allclose(p, [1.0 - 0.01 * 3 / (0.3 + 1e-8), -2.0 + 0.01 * 0.5 / (0.05 + 1e-8)], rtol=1e-14)
    assert set(opt.state[t]) == {"step", "square_avg"}
    _, opt, t = one_step(optim.RMSprop, [1.0], [1.0], momentum=0.9, centered=True)
    assert set(opt.state[t]) == {"step", "square_avg", "momentum_buffer", "grad_avg"}


def test_adagrad_steps_by_hand():
    # Constant g = 2, lr_decay = 1: sums 4, 8; steps lr * 2/(2 + eps), then lr/2 * 2/(sqrt(8) + eps).
    p = tinynn.tensor([1.0], dtype=tinynn.float64, requires_grad=True)
    opt = optim.Adagrad([p], lr=0.1, lr_decay=1.0)
    for _ in range(2):
        p.grad = tinynn.tensor([2.0], dtype=tinynn.float64)
        opt.step()
    assert p.item() == pytest.approx(1.0 - 0.1 * 2 / (2 + 1e-10) - 0.05 * 2 / (math.sqrt(8) + 1e-10), rel=1e-14)
    assert opt.state[p]["sum"].item() == 8.0


def test_adadelta_first_step_by_hand():
    g, eps, rho = 2.0, 1e-6, 0.9
    p, opt, t = one_step(optim.Adadelta, [1.0], [g])
    dx = math.sqrt(eps) / math.sqrt((1 - rho) * g * g + eps) * g
    assert p[0] == pytest.approx(1.0 - dx, rel=1e-14)
    assert opt.state[t]["acc_delta"].item() == pytest.approx((1 - rho) * dx * dx, rel=1e-12)
    assert opt.state[t]["square_avg"].item() == pytest.approx((1 - rho) * g * g, rel=1e-12)


def test_nadam_first_step_by_hand():
    # t = 1: m^ = mu2 m / (1 - mu1 mu2) + (1 - mu1) g / (1 - mu1) with m = 0.1 g, v^ = g^2.
    g, lr = 0.5, 2e-3
    mu1, mu2 = (0.9 * (1 - 0.5 * 0.96 ** (i * 4e-3)) for i in (1, 2))
    m_hat = mu2 * 0.1 * g / (1 - mu1 * mu2) + (1 - mu1) * g / (1 - mu1)
    p, opt, t = one_step(optim.NAdam, [1.0], [g])
    assert p[0] == pytest.approx(1.0 - lr * m_hat / (g + 1e-8), rel=1e-12)
    assert opt.state[t]["mu_product"] == pytest.approx(mu1, rel=1e-15)
    assert set(opt.state[t]) == {"step", "mu_product", "exp_avg", "exp_avg_sq"}


def test_radam_first_steps_are_sgd_with_momentum():
    # With a constant gradient m^ = g exactly, and rho_t <= 5 for t <= 5: p moves by lr * g per step.
    p = tinynn.tensor([1.0], dtype=tinynn.float64, requires_grad=True)
    opt = optim.RAdam([p], lr=0.1)
    for _ in range(5):
        p.grad = tinynn.tensor([2.0], dtype=tinynn.float64)
        opt.step()
    assert p.item() == pytest.approx(1.0 - 5 * 0.1 * 2.0, rel=1e-12)
    assert set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}


def test_adagrad_state_exists_before_the_first_step():
    a, b = tinynn.tensor([1.0, 2.0], requires_grad=True), tinynn.tensor([3.0], requires_grad=True)
    opt = optim.Adagrad([a], initial_accumulator_value=0.25)
    opt.add_param_group({"params": [b], "initial_accumulator_value": 0.5})
    state = opt.state_dict()["state"]
    assert sorted(state) == [0, 1] and state[0]["step"] == 0
    np.testing.assert_array_equal(state[0]["sum"].numpy(), [0.25, 0.25])
    np.testing.assert_array_equal(state[1]["sum"].numpy(), [0.5])
    assert state[0]["sum"].dtype == np.float32


def test_defaults_are_pytorchs():
    p = [tinynn.tensor([1.0], requires_grad=True)]
    assert optim.RMSprop(p).defaults == dict(lr=0.01, momentum=0, alpha=0.99, eps=1e-8, centered=False,
                                             weight_decay=0, maximize=False)
    assert optim.Adagrad(p).defaults == dict(lr=0.01, lr_decay=0, eps=1e-10, weight_decay=0,
                                             initial_accumulator_value=0, maximize=False)
    assert optim.Adadelta(p).defaults == dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False)
    assert optim.NAdam(p).defaults == dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                                           momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)
    assert optim.RAdam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                                           decoupled_weight_decay=False, maximize=False)


# ---------------------------------------------------------------- in place, dtypes, grads

MAKERS = {
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, weight_decay=0.1),
    "Adadelta": lambda ps: optim.Adadelta(ps, weight_decay=0.1),
    "NAdam": lambda ps: optim.NAdam(ps, lr=0.01, weight_decay=0.1),
    "RAdam": lambda ps: optim.RAdam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
}


def make_params(dtype, device=None, seed=0):
    return [tinynn.tensor(p0.astype(dtype), device=device, requires_grad=True)
            for p0, _, _ in quadratic_terms(seed)]


def gradient_of(p, k, device):
    """A gradient that depends on the parameter and the step, as a fresh device array."""
    host = to_host(p).astype(np.float64)
    noise = np.sin(np.arange(host.size).reshape(host.shape) + 0.7 * k)
    return tinynn.tensor((0.5 * host + noise).astype(to_host(p).dtype), device=device)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_updates_in_place_float32_and_leave_grads_alone(name, device):
    params = make_params(np.float32, device)
    arrays = [p.array for p in params]
    opt = MAKERS[name](params)
    for k in range(7):
        grads = [gradient_of(p, k, device) for p in params]
        copies = [to_host(g).copy() for g in grads]
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for p, g, c, a in zip(params, grads, copies, arrays):
            assert p.array is a                       # the same array object: updated in place
            assert p.dtype == np.float32              # no float64 creep
            assert p.grad is g                        # the gradient was not replaced...
            np.testing.assert_array_equal(to_host(g), c)   # ...nor written to
    for p in params:
        for key, value in opt.state[p].items():
            if isinstance(value, Tensor):
                assert value.dtype == np.float32 and value.shape == p.shape and value.device == p.device, key
            else:
                assert key in ("step", "mu_product") and isinstance(value, (int, float))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_float64_hyperparameters_keep_float32(name):
    p = tinynn.tensor([1.0, -2.0], requires_grad=True)
    opt = MAKERS[name]([p])
    for group in opt.param_groups:
        group["lr"] = np.float64(group["lr"])
    for _ in range(7):
        p.grad = tinynn.tensor([0.5, 0.25])
        opt.step()
    assert p.dtype == np.float32


def test_params_without_grad_are_skipped():
    for name, make in MAKERS.items():
        used, unused = tinynn.tensor([1.0], requires_grad=True), tinynn.tensor([5.0], requires_grad=True)
        opt = make([used, unused])
        used.grad = tinynn.tensor([1.0])
        opt.step()
        assert unused.item() == 5.0, name
        if name != "Adagrad":   # Adagrad creates every state at construction
            assert unused not in opt.state, name


def test_rmsprop_momentum_switched_on_later_gets_a_buffer():
    # OneCycleLR writes group['momentum'] into an RMSprop made without momentum.
    p = tinynn.tensor([1.0], dtype=tinynn.float64, requires_grad=True)
    opt = optim.RMSprop([p])
    p.grad = tinynn.tensor([1.0], dtype=tinynn.float64)
    opt.step()
    opt.param_groups[0]["momentum"] = 0.9
    opt.step()
    assert "momentum_buffer" in opt.state[p]


# ---------------------------------------------------------------- state_dict

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MAKERS))
def test_state_dict_round_trip_continues_identically(name, dtype, device, tmp_path):
    make = MAKERS[name]
    params = make_params(dtype, device)
    opt = make(params)
    for k in range(3):
        for p in params:
            p.grad = gradient_of(p, k, device)
        opt.step()
    tinynn.save(opt.state_dict(), tmp_path / "opt.npz")

    params2 = [tinynn.tensor(to_host(p), device=device, requires_grad=True) for p in params]
    opt2 = make(params2)
    opt2.load_state_dict(tinynn.load(tmp_path / "opt.npz"))
    for k in range(3, 8):                    # RAdam crosses into its rectified branch here
        for ps, o in [(params, opt), (params2, opt2)]:
            for p in ps:
                p.grad = gradient_of(p, k, device)
            o.step()
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(to_host(p), to_host(q))
        assert q.dtype == dtype and q.device == device
        assert sorted(opt.state[p]) == sorted(opt2.state[q])
        assert opt2.state[q]["step"] == 8


def test_state_dict_structure():
    a, b = tinynn.tensor([1.0], requires_grad=True), tinynn.tensor([2.0], requires_grad=True)
    opt = optim.NAdam([{"params": [a]}, {"params": [b], "lr": 0.1}], decoupled_weight_decay=True)
    a.grad = tinynn.tensor([1.0])
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0]
    assert set(sd["state"][0]) == {"step", "mu_product", "exp_avg", "exp_avg_sq"}
    assert sd["param_groups"][1] == {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                                     "momentum_decay": 4e-3, "decoupled_weight_decay": True,
                                     "maximize": False, "params": [1]}


# ---------------------------------------------------------------- argument checks

@pytest.mark.parametrize("make, message", [
    (lambda p: optim.RMSprop(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.RMSprop(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.RMSprop(p, momentum=-0.1), "Invalid momentum value: -0.1"),
    (lambda p: optim.RMSprop(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
    (lambda p: optim.Adagrad(p, lr=-0.01), "Invalid learning rate: -0.01"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda p: optim.Adagrad(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (lambda p: optim.Adagrad(p, eps=-1), "Invalid epsilon value: -1"),
    (lambda p: optim.Adadelta(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.Adadelta(p, rho=1.5), "Invalid rho value: 1.5"),
    (lambda p: optim.Adadelta(p, rho=-0.5), "Invalid rho value: -0.5"),
    (lambda p: optim.Adadelta(p, eps=-1), "Invalid epsilon value: -1"),
    (lambda p: optim.Adadelta(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.NAdam(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.NAdam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.NAdam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.NAdam(p, momentum_decay=-1), "Invalid momentum_decay value: -1"),
    (lambda p: optim.NAdam(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.RAdam(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.RAdam(p, eps=-1), "Invalid epsilon value: -1"),
    (lambda p: optim.RAdam(p, betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (lambda p: optim.RAdam(p, weight_decay=-1), "Invalid weight_decay value: -1"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError) as info:
        make([tinynn.tensor([1.0], requires_grad=True)])
    assert str(info.value) == message


def test_invalid_group_hyperparameter():
    opt = optim.RMSprop([tinynn.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="Invalid alpha value: -1"):
        opt.add_param_group({"params": [tinynn.tensor([1.0], requires_grad=True)], "alpha": -1})


# ---------------------------------------------------------------- the official MNIST example's recipe

def test_adadelta_with_step_lr_trains_the_lecture_cnn():
    # pytorch/examples mnist/main.py: optim.Adadelta(model.parameters(), lr=1.0) and
    # StepLR(optimizer, step_size=1, gamma=0.7), on synthetic images: 10 classes, each a bright square.
    from tinynn.models import CNN
    from tinynn.optim.lr_scheduler import StepLR

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 96)
    images = rng.normal(0.0, 0.3, (96, 1, 28, 28)).astype(np.float32)
    for i, c in enumerate(labels):
        images[i, 0, 2 * c + 2: 2 * c + 8, 2 * c + 2: 2 * c + 8] += 2.0
    x, y = tinynn.tensor(images), tinynn.tensor(labels)

    model = CNN()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    for epoch in range(3):
        for start in range(0, 96, 32):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[start:start + 32]), y[start:start + 32])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.7 ** 3])
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.7 * losses[0]
    assert all(p.dtype == np.float32 for p in model.parameters())
