"""Learning-rate schedulers: lr sequences against closed forms, initial_lr, resuming,
state_dict round trips and argument checks."""
import bisect
import math

import numpy as np
import pytest

import tinynn
import tinynn.optim as optim
from tinynn.optim import lr_scheduler


def make_optimizer(lrs=(0.1,), cls=optim.SGD, **kwargs):
    """An optimizer of one-element parameter groups, one per learning rate."""
    groups = [{"params": [tinynn.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, lr=lrs[0], **kwargs)


def lr_sequence(scheduler, epochs):
    """[lr of each group] at epochs 0..epochs-1 (epoch 0 is right after construction)."""
    sequence = []
    for _ in range(epochs):
        sequence.append([g["lr"] for g in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == sequence[-1]
        scheduler.optimizer.step()
        scheduler.step()
    return np.array(sequence)


def step_closed(base, gamma, step_size, epochs):
    return np.array([[b * gamma ** (e // step_size) for b in base] for e in range(epochs)])


def multistep_closed(base, gamma, milestones, epochs):
    ms = sorted(milestones)
    return np.array([[b * gamma ** bisect.bisect_right(ms, e) for b in base] for e in range(epochs)])


def cosine_closed(base, eta_min, T_max, epochs):
    return np.array([[eta_min + (b - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2 for b in base]
                     for e in range(epochs)])


def test_step_lr():
    opt = make_optimizer((0.1, 0.03))
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    np.testing.assert_allclose(lr_sequence(sched, 20), step_closed((0.1, 0.03), 0.5, 3, 20), rtol=1e-12)
    assert sched.last_epoch == 20


def test_step_lr_default_gamma():
    sched = lr_scheduler.StepLR(make_optimizer((1.0,)), step_size=2)
    np.testing.assert_allclose(lr_sequence(sched, 7)[:, 0], [1, 1, 0.1, 0.1, 0.01, 0.01, 0.001], rtol=1e-12)


def test_multistep_lr_with_repeated_milestone():
    opt = make_optimizer((0.5, 0.2))
    milestones = [2, 5, 5, 9]
    sched = lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
    np.testing.assert_allclose(lr_sequence(sched, 14), multistep_closed((0.5, 0.2), 0.1, milestones, 14),
                               rtol=1e-12)


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (7, 0.001), (1, 0.01)])
def test_cosine_annealing_follows_the_cosine_past_T_max(T_max, eta_min):
    opt = make_optimizer((0.1, 0.05))
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    epochs = 4 * T_max + 3
    lrs = lr_sequence(sched, epochs)
    np.testing.assert_allclose(lrs, cosine_closed((0.1, 0.05), eta_min, T_max, epochs), rtol=1e-9, atol=1e-12)
    assert lrs[T_max, 0] == pytest.approx(eta_min, abs=1e-12)           # the minimum at T_max...
    if T_max > 1:
        assert lrs[T_max + 1, 0] > lrs[T_max, 0]                        # ...then the lr rises again
    np.testing.assert_allclose(lrs[2 * T_max], [0.1, 0.05], rtol=1e-9)  # back at the start


def test_initial_lr_and_base_lrs():
    opt = make_optimizer((0.1, 0.02))
    sched = lr_scheduler.StepLR(opt, step_size=1)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert sched.base_lrs == [0.1, 0.02]
    assert sched.last_epoch == 0 and sched.get_last_lr() == [0.1, 0.02]
    sched.step()
    # initial_lr is kept (setdefault), so a second scheduler sees the original lrs
    sched2 = lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    assert sched2.base_lrs == [0.1, 0.02]


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(), step_size=2, last_epoch=4)


def test_scheduler_lr_is_used_by_the_optimizer():
    p = tinynn.tensor([0.0], dtype=tinynn.float64, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[1, 2], gamma=0.5)
    for _ in range(3):
        p.grad = tinynn.tensor([1.0], dtype=tinynn.float64)
        opt.step()
        sched.step()
    assert p.item() == pytest.approx(-(1.0 + 0.5 + 0.25))


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.3),
    lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 4, 4, 8], gamma=0.5),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
], ids=["step", "multistep", "cosine"])
def test_state_dict_round_trip(make, tmp_path):
    opt = make_optimizer((0.1, 0.04), cls=optim.Adam)
    sched = make(opt)
    for _ in range(6):
        opt.step()
        sched.step()
    tinynn.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ckpt.npz")
    expected = lr_sequence(sched, 10)

    checkpoint = tinynn.load(tmp_path / "ckpt.npz")
    opt2 = make_optimizer((0.7, 0.7), cls=optim.Adam)
    sched2 = make(opt2)
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert [g["initial_lr"] for g in opt2.param_groups] == [0.1, 0.04]
    assert sched2.last_epoch == 6
    np.testing.assert_allclose(lr_sequence(sched2, 10), expected, rtol=1e-12)
    assert "optimizer" not in sched.state_dict()


def test_resume_with_last_epoch_uses_the_closed_form():
    opt = make_optimizer((0.1,))
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    resumed = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=sched.last_epoch)
    # PyTorch's constructor steps once, so the resumed scheduler is one epoch further.
    assert resumed.last_epoch == 5
    np.testing.assert_allclose(resumed.get_last_lr(), cosine_closed((0.1,), 0.0, 10, 6)[5], rtol=1e-12)


def test_step_with_epoch_warns_and_uses_the_closed_form():
    sched = lr_scheduler.StepLR(make_optimizer((1.0,)), step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    assert sched.get_last_lr() == [0.25]


def test_invalid_arguments():
    opt = make_optimizer()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive number"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="milestones must be integers"):
        lr_scheduler.MultiStepLR(opt, milestones=[1.5])
