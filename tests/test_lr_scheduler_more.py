"""LambdaLR, MultiplicativeLR, ExponentialLR, LinearLR, OneCycleLR, ReduceLROnPlateau and
CosineAnnealingWarmRestarts: lr sequences against the formulas of PyTorch's documentation
(written out here epoch by epoch), state_dict round trips and PyTorch's argument errors."""
import math

import numpy as np
import pytest

import tinynn
import tinynn.optim as optim
from tinynn.optim import lr_scheduler

from test_lr_scheduler import lr_sequence, make_optimizer


# ---------------------------------------------------------------- LambdaLR, MultiplicativeLR

def test_lambda_lr_docs_example():
    # The docs: lambda1 = epoch // 30 for the first group, lambda2 = 0.95 ** epoch for the second.
    opt = make_optimizer((0.05, 0.2))
    sched = lr_scheduler.LambdaLR(opt, lr_lambda=[lambda epoch: epoch // 30, lambda epoch: 0.95 ** epoch])
    lrs = lr_sequence(sched, 95)
    expected = [[0.05 * (e // 30), 0.2 * 0.95 ** e] for e in range(95)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_lambda_lr_one_function_for_all_groups_and_resume():
    opt = make_optimizer((1.0, 0.5))
    sched = lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    np.testing.assert_allclose(lr_sequence(sched, 6), [[1 / (1 + e), 0.5 / (1 + e)] for e in range(6)], rtol=1e-12)
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(9)
    assert sched.get_last_lr() == pytest.approx([0.1, 0.05])


def test_multiplicative_lr():
    # lr_e = lr_(e-1) * lambda(e) for e >= 1: the running product of the factors.
    opt = make_optimizer((0.1, 1.0))
    sched = lr_scheduler.MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.95 if epoch % 2 else 0.5)
    lrs = lr_sequence(sched, 8)
    factor, expected = 1.0, []
    for e in range(8):
        if e > 0:
            factor *= 0.95 if e % 2 else 0.5
        expected.append([0.1 * factor, 1.0 * factor])
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_exponential_lr():
    opt = make_optimizer((0.1, 0.03))
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    np.testing.assert_allclose(lr_sequence(sched, 12), [[0.1 * 0.9 ** e, 0.03 * 0.9 ** e] for e in range(12)],
                               rtol=1e-12)
    with pytest.warns(UserWarning):
        sched.step(20)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.9 ** 20, 0.03 * 0.9 ** 20], rel=1e-12)


# ---------------------------------------------------------------- LinearLR

def test_linear_lr_docs_example():
    # The docs: lr = 0.05, factor 0.5, total_iters 4 -> 0.025, 0.03125, 0.0375, 0.04375, then 0.05.
    sched = lr_scheduler.LinearLR(make_optimizer((0.05,)), start_factor=0.5, total_iters=4)
    np.testing.assert_allclose(lr_sequence(sched, 8)[:, 0],
                               [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05, 0.05, 0.05], rtol=1e-12)


def test_linear_lr_defaults_and_decay():
    sched = lr_scheduler.LinearLR(make_optimizer((0.3,)))   # start 1/3, end 1, 5 iterations
    np.testing.assert_allclose(lr_sequence(sched, 7)[:, 0],
                               [0.3 * (1 / 3 + (2 / 3) * min(e, 5) / 5) for e in range(7)], rtol=1e-12)
    sched = lr_scheduler.LinearLR(make_optimizer((1.0, 0.1)), start_factor=1.0, end_factor=0.25, total_iters=3)
    np.testing.assert_allclose(lr_sequence(sched, 5), [[f, 0.1 * f] for f in [1.0, 0.75, 0.5, 0.25, 0.25]],
                               rtol=1e-12)


def test_linear_warmup_chained_with_exponential_decay():
    # Chained schedulers multiply: lr_e = base * linear factor(e) * gamma^e.
    opt = make_optimizer((1.0,))
    warmup = lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        warmup.step()
        decay.step()
    expected = [(0.25 + 0.75 * min(e, 3) / 3) * 0.5 ** e for e in range(6)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


# ---------------------------------------------------------------- OneCycleLR

def anneal_cos(start, end, pct):
    return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))


def anneal_linear(start, end, pct):
    return start + (end - start) * pct


def one_cycle_reference(max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                        three_phase=False, anneal=anneal_cos, base_momentum=0.85, max_momentum=0.95):
    """(lr, momentum) at steps 0..total_steps-1, from the docs' description of the phases."""
    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    up = pct_start * total_steps - 1         # PyTorch's last step of the warm-up phase
    if three_phase:
        phases = [(up, initial_lr, max_lr, max_momentum, base_momentum),
                  (2 * up, max_lr, initial_lr, base_momentum, max_momentum),
                  (total_steps - 1, initial_lr, min_lr, max_momentum, max_momentum)]
    else:
        phases = [(up, initial_lr, max_lr, max_momentum, base_momentum),
                  (total_steps - 1, max_lr, min_lr, base_momentum, max_momentum)]
    lrs, momenta = [], []
    for step in range(total_steps):
        start = 0.0
        for i, (end, lr0, lr1, m0, m1) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                pct = (step - start) / (end - start)
                lrs.append(anneal(lr0, lr1, pct))
                momenta.append(anneal(m0, m1, pct))
                break
            start = end
    return np.array(lrs), np.array(momenta)


def test_one_cycle_whole_cycle_with_sgd_momentum():
    opt = make_optimizer((0.01,), momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=100)
    lrs, momenta = [], []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    lrs, momenta = np.array(lrs), np.array(momenta)
    expected_lrs, expected_momenta = one_cycle_reference(1.0, 100)
    np.testing.assert_allclose(lrs, expected_lrs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(momenta, expected_momenta, rtol=1e-12)
    # What the docs promise: start at max_lr / 25, peak max_lr after 30%, end at start / 1e4.
    assert lrs[0] == pytest.approx(1.0 / 25) and lrs[29] == pytest.approx(1.0) and lrs.argmax() == 29
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert momenta[0] == pytest.approx(0.95) and momenta[29] == pytest.approx(0.85)
    assert momenta[-1] == pytest.approx(0.95)
    # The optimizer's groups carry the cycle's end points.
    group = opt.param_groups[0]
    assert (group["initial_lr"], group["max_lr"], group["min_lr"]) == pytest.approx((0.04, 1.0, 4e-6))
    assert (group["max_momentum"], group["base_momentum"]) == (0.95, 0.85)


def test_one_cycle_one_more_step_than_total_steps_is_an_error():
    opt = make_optimizer()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    for _ in range(10):
        sched.step()                   # the 10th step (step_num == total_steps) is still allowed
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        sched.step()


@pytest.mark.parametrize("anneal_strategy, anneal", [("cos", anneal_cos), ("linear", anneal_linear)])
def test_one_cycle_three_phases_with_adam_betas(anneal_strategy, anneal):
    # epochs * steps_per_epoch = 40 steps; Adam's beta1 cycles instead of a momentum.
    opt = make_optimizer((0.1, 0.1), cls=optim.Adam, betas=(0.9, 0.99))
    sched = lr_scheduler.OneCycleLR(opt, max_lr=[0.5, 2.0], epochs=4, steps_per_epoch=10, pct_start=0.25,
                                    anneal_strategy=anneal_strategy, div_factor=10.0, final_div_factor=100.0,
                                    three_phase=True, base_momentum=0.8, max_momentum=0.9)
    lrs, betas = [], []
    for _ in range(40):
        lrs.append(sched.get_last_lr())
        betas.append([g["betas"] for g in opt.param_groups])
        opt.step()
        sched.step()
    for i, max_lr in enumerate([0.5, 2.0]):
        expected_lrs, expected_momenta = one_cycle_reference(max_lr, 40, pct_start=0.25, div_factor=10.0,
                                                             final_div_factor=100.0, three_phase=True,
                                                             anneal=anneal, base_momentum=0.8, max_momentum=0.9)
        np.testing.assert_allclose([lr[i] for lr in lrs], expected_lrs, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([b[i][0] for b in betas], expected_momenta, rtol=1e-12)
        assert all(b[i][1] == 0.99 for b in betas)          # beta2 is left alone
    # Three phases: up to max_lr at step 9, back down to initial_lr at step 18, then to min_lr.
    assert lrs[9][1] == pytest.approx(2.0) and lrs[18][1] == pytest.approx(0.2)
    assert lrs[39][1] == pytest.approx(0.002)


def test_one_cycle_drives_rmsprop_momentum_and_nadam_betas():
    for cls, key in [(optim.RMSprop, "momentum"), (optim.NAdam, "betas"), (optim.RAdam, "betas")]:
        p = tinynn.tensor([1.0, 2.0], requires_grad=True)
        opt = cls([p])
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=5)
        for _ in range(4):                     # to the last step of the cycle, where momentum is back up
            p.grad = tinynn.tensor([0.1, -0.1])
            opt.step()
            sched.step()
        value = opt.param_groups[0][key]
        assert (value if key == "momentum" else value[0]) == pytest.approx(0.95)
        if cls is optim.RMSprop:
            assert "momentum_buffer" in opt.state[p]


def test_one_cycle_without_momentum_cycling():
    opt = make_optimizer(cls=optim.Adagrad)    # no momentum, no betas
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1 with `cycle_momentum` option"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)
    assert sched.get_last_lr() == pytest.approx([0.004])
    assert "momentum" not in opt.param_groups[0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(), r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"),
    (dict(epochs=3), r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"),
    (dict(total_steps=0), "Expected positive integer total_steps, but got 0"),
    (dict(total_steps=2.5), "Expected positive integer total_steps, but got 2.5"),
    (dict(epochs=-1, steps_per_epoch=5), "Expected positive integer epochs, but got -1"),
    (dict(epochs=2, steps_per_epoch=0), "Expected positive integer steps_per_epoch, but got 0"),
    (dict(total_steps=10, pct_start=1.5), "Expected float between 0 and 1 pct_start, but got 1.5"),
    (dict(total_steps=10, anneal_strategy="exp"),
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (dict(total_steps=10, max_lr=[0.1, 0.2]), "expected 1 values for max_lr, got 2"),
    (dict(total_steps=10, max_momentum=[0.9, 0.95]), "expected 1 values for max_momentum, got 2"),
])
def test_one_cycle_invalid_arguments(kwargs, message):
    kwargs = {"max_lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=message):
        lr_scheduler.OneCycleLR(make_optimizer(momentum=0.9), **kwargs)


# ---------------------------------------------------------------- ReduceLROnPlateau

def plateau_lrs(scheduler, metrics):
    lrs = []
    for metric in metrics:
        scheduler.step(metric)
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


def test_reduce_on_plateau_with_patience_cooldown_and_threshold():
    # min mode, rel threshold 0.1: an improvement must be below best * 0.9.
    opt = make_optimizer((1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.1, cooldown=1)
    metrics = [10.0,   # best = 10
               9.5,    # not below 9: bad 1
               9.2,    # bad 2
               9.1,    # bad 3 > patience: lr 0.5, cooldown 1
               9.05,   # bad, but in cooldown: not counted
               9.05,   # bad 1
               8.0,    # below 9: best = 8
               7.5,    # not below 7.2: bad 1
               7.5,    # bad 2
               7.5,    # bad 3: lr 0.25
               7.5]    # cooldown
    assert plateau_lrs(sched, metrics) == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25])
    assert sched.best == 8.0 and sched.last_epoch == 11


def test_reduce_on_plateau_defaults():
    # patience 10, factor 0.1: the 11th epoch without improvement reduces the lr.
    opt = make_optimizer((1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt)
    lrs = plateau_lrs(sched, [1.0] * 12)
    assert lrs == pytest.approx([1.0] * 11 + [0.1])
    # A tiny improvement (less than the 1e-4 relative threshold) does not count.
    sched = lr_scheduler.ReduceLROnPlateau(make_optimizer((1.0,)), patience=1)
    assert plateau_lrs(sched, [1.0, 0.99995, 0.9999, 0.5]) == pytest.approx([1.0, 1.0, 0.1, 0.1])


def test_reduce_on_plateau_max_mode_abs_threshold_min_lr_and_eps():
    opt = make_optimizer((1.0, 0.02))
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=0, threshold=0.5,
                                           threshold_mode="abs", min_lr=[0.3, 0.0], eps=0.006)
    # accuracy-like metric: must exceed best + 0.5 to improve
    lrs = []
    for metric in [1.0, 1.4, 2.0, 2.6, 2.7, 2.8]:
        sched.step(tinynn.tensor(metric))          # a one-element Tensor works too
        lrs.append(sched.get_last_lr())
    # epoch 2: 1.4 <= 1.5: bad -> [0.5, 0.01]; epoch 3: 2.0 > 1.5 improves; epoch 4: 2.6 > 2.5
    # improves; epoch 5: bad -> group 0 to max(0.25, 0.3) = 0.3; group 1: 0.01 -> 0.005 would be
    # a change of 0.005 <= eps: kept; epoch 6: bad, group 0 already at min_lr.
    assert lrs == [[1.0, 0.02], [0.5, 0.01], [0.5, 0.01], [0.5, 0.01], [0.3, 0.01], [0.3, 0.01]]


def test_reduce_on_plateau_invalid_arguments():
    opt = make_optimizer((0.1, 0.1))
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode relative is unknown!"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 2 min_lrs, got 3"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0, 0, 0])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(object())
    assert isinstance(lr_scheduler.ReduceLROnPlateau(opt), lr_scheduler.LRScheduler)


# ---------------------------------------------------------------- CosineAnnealingWarmRestarts

def warm_restarts_reference(base_lr, eta_min, cycle_starts, epochs):
    """cycle_starts: the epochs where a cycle begins, written out (the last one ends the table)."""
    lrs = []
    for e in range(epochs):
        i = max(k for k in range(len(cycle_starts) - 1) if cycle_starts[k] <= e)
        T_cur, T_i = e - cycle_starts[i], cycle_starts[i + 1] - cycle_starts[i]
        lrs.append(eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2)
    return lrs


def test_warm_restarts_with_T_mult_2():
    # T_0 = 2, T_mult = 2: cycles of 2, 4, 8, 16 epochs starting at 0, 2, 6, 14 (and 30).
    opt = make_optimizer((1.0, 0.1))
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01)
    lrs = lr_sequence(sched, 30)
    starts = [0, 2, 6, 14, 30]
    np.testing.assert_allclose(lrs[:, 0], warm_restarts_reference(1.0, 0.01, starts, 30), rtol=1e-12)
    np.testing.assert_allclose(lrs[:, 1], warm_restarts_reference(0.1, 0.01, starts, 30), rtol=1e-12)
    assert list(lrs[[0, 2, 6, 14], 0]) == [1.0, 1.0, 1.0, 1.0]       # the restarts
    assert lrs[1, 0] == pytest.approx(0.505) and lrs[4, 0] == pytest.approx(0.505)
    assert (sched.last_epoch, sched.T_i, sched.T_cur) == (30, 32, 0)   # stepped into the fifth cycle


def test_warm_restarts_with_T_mult_1_and_a_jump():
    opt = make_optimizer((0.5,))
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3)
    np.testing.assert_allclose(lr_sequence(sched, 10)[:, 0],
                               warm_restarts_reference(0.5, 0.0, [0, 3, 6, 9, 12], 10), rtol=1e-12, atol=1e-15)
    sched.step(1000)                           # 1000 = 333 * 3 + 1
    assert sched.T_cur == 1 and sched.get_last_lr() == pytest.approx([0.5 * (1 + math.cos(math.pi / 3)) / 2])


def test_warm_restarts_fractional_epochs():
    # The docs' per-batch use: scheduler.step(epoch + i / iters).
    opt = make_optimizer((1.0,))
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    seen = {}
    for epoch in range(6):
        for i in range(4):
            sched.step(epoch + i / 4)
            seen[epoch + i / 4] = sched.get_last_lr()[0]
    assert seen[1.5] == pytest.approx((1 + math.cos(math.pi * 1.5 / 2)) / 2)
    assert seen[2.0] == 1.0                                      # restart
    assert seen[3.25] == pytest.approx((1 + math.cos(math.pi * 1.25 / 4)) / 2)
    assert seen[5.75] == pytest.approx((1 + math.cos(math.pi * 3.75 / 4)) / 2)
    assert sched.last_epoch == 5
    sched.step(20)                                               # cycle 14..30: T_cur 6 of 16
    assert (sched.T_i, sched.T_cur) == (16, 6)
    sched.step()                                                 # and on, one epoch at a time
    assert (sched.T_cur, sched.last_epoch) == (7, 21)


def test_warm_restarts_invalid_arguments():
    opt = make_optimizer()
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 2.5"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2.5)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="Expected float or int eta_min"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        sched.step(-1)


# ---------------------------------------------------------------- other argument errors

def test_invalid_arguments():
    opt = make_optimizer((0.1, 0.2))
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 3"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0] * 3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.MultiplicativeLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="lr_lambda must be a function"):
        lr_scheduler.LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater than 0 and less "
                                         "or equal to 1"):
        lr_scheduler.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=1.5)
    with pytest.raises(ValueError, match="Ending multiplicative factor expected to be between 0 and 1"):
        lr_scheduler.LinearLR(opt, end_factor=1.5)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.ExponentialLR(object(), gamma=0.5)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.LambdaLR(object(), lambda e: 1.0)


# ---------------------------------------------------------------- state_dict round trips

class WarmupFactor:
    """A callable object: its attributes are saved by LambdaLR.state_dict (functions are not)."""

    def __init__(self, warmup):
        self.warmup = warmup

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.warmup)


ROUND_TRIPS = {
    "lambda": lambda o: lr_scheduler.LambdaLR(o, [WarmupFactor(4), lambda e: 0.9 ** e]),
    "multiplicative": lambda o: lr_scheduler.MultiplicativeLR(o, lambda e: 0.9),
    "exponential": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.8),
    "linear": lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=10),
    "one_cycle": lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=20, three_phase=True),
    "warm_restarts": lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=1e-3),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_state_dict_round_trip(name, tmp_path):
    make = ROUND_TRIPS[name]
    opt = make_optimizer((0.1, 0.04), cls=optim.Adam)
    sched = make(opt)
    for _ in range(6):
        opt.step()
        sched.step()
    tinynn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")
    expected = lr_sequence(sched, 10)
    expected_betas = [g["betas"] for g in opt.param_groups]

    checkpoint = tinynn.load(tmp_path / "ckpt.npz")
    opt2 = make_optimizer((0.7, 0.7), cls=optim.Adam)
    sched2 = make(opt2)
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert sched2.last_epoch == 6
    np.testing.assert_allclose(lr_sequence(sched2, 10), expected, rtol=1e-12)
    assert [g["betas"] for g in opt2.param_groups] == expected_betas
    assert "optimizer" not in checkpoint["scheduler"]


def test_lambda_state_dict_keeps_callable_objects_attributes_not_functions():
    factor = WarmupFactor(4)
    sched = lr_scheduler.LambdaLR(make_optimizer((0.1, 0.1)), [factor, lambda e: 1.0])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"warmup": 4}, None]
    factor2 = WarmupFactor(100)
    sched2 = lr_scheduler.LambdaLR(make_optimizer((0.1, 0.1)), [factor2, lambda e: 0.5])
    sched2.load_state_dict(sd)
    assert factor2.warmup == 4
    assert sched2.lr_lambdas[0] is factor2         # the scheduler's own functions are kept


def test_reduce_on_plateau_state_dict_round_trip(tmp_path):
    opt = make_optimizer((1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    tinynn.save(sched.state_dict(), tmp_path / "fresh.npz")        # best is still +inf
    assert tinynn.load(tmp_path / "fresh.npz")["best"] == math.inf
    metrics = [5.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0]
    plateau_lrs(sched, metrics[:3])
    tinynn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")
    expected = plateau_lrs(sched, metrics[3:])

    checkpoint = tinynn.load(tmp_path / "ckpt.npz")
    opt2 = make_optimizer((1.0,))
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert (sched2.patience, sched2.factor, sched2.num_bad_epochs, sched2.best) == (1, 0.5, 1, 4.0)
    assert plateau_lrs(sched2, metrics[3:]) == expected
