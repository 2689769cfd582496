"""Two schedules that are not a fixed function of the epoch (PyTorch's semantics).

* ``OneCycleLR``: the 1cycle policy, stepped after every *batch*. The lr rises from
  ``max_lr / div_factor`` to ``max_lr`` and falls to far below where it started, while
  the momentum (SGD's ``momentum``, Adam's ``beta1``) moves the opposite way.
* ``ReduceLROnPlateau``: divides the lr when a validation metric stops improving;
  ``scheduler.step(val_loss)`` once per epoch.

Both are importable as ``tinynn.optim.lr_scheduler.OneCycleLR`` / ``.ReduceLROnPlateau``.
"""
import math
import numbers

from .lr_scheduler import LRScheduler, _check_optimizer, _is_positive_int, _one_per_group, _warn_epoch_deprecated

__all__ = ["OneCycleLR", "ReduceLROnPlateau"]


def _anneal_cos(start, end, pct):
    """From ``start`` (pct = 0) to ``end`` (pct = 1) along half a cosine."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


_ANNEAL = {"cos": _anneal_cos, "linear": _anneal_linear}


class OneCycleLR(LRScheduler):
    """The 1cycle learning-rate policy (Smith & Topin, "Super-Convergence"); step once per batch.

    Two phases by default (fastai's), over ``total_steps`` (or ``epochs * steps_per_epoch``):

    1. the first ``pct_start`` of the steps: lr from ``initial_lr = max_lr / div_factor``
       up to ``max_lr``, momentum from ``max_momentum`` down to ``base_momentum``;
    2. the rest: lr from ``max_lr`` down to ``min_lr = initial_lr / final_div_factor``,
       momentum back up to ``max_momentum``.

    ``three_phase=True`` follows the paper instead: up to ``max_lr``, back down to
    ``initial_lr`` symmetrically, then down to ``min_lr`` with the momentum held at
    ``max_momentum``. Each phase anneals with ``anneal_strategy`` ('cos' or 'linear').
    Phase k ends at step ``pct_start * total_steps * k - k`` (PyTorch's boundaries); the
    last one at ``total_steps - 1``. One more ``step()`` than ``total_steps`` is an error.

    The lr set at construction replaces the optimizer's; ``max_lr``, ``base_momentum``
    and ``max_momentum`` may be lists, one value per parameter group. Each group gets
    ``initial_lr``, ``max_lr``, ``min_lr`` (and ``max_momentum``, ``base_momentum``) entries.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1, verbose=False):
        _check_optimizer(optimizer)
        if total_steps is not None:
            if not _is_positive_int(total_steps):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not _is_positive_int(epochs):
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not _is_positive_int(steps_per_epoch):
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, numbers.Real) or isinstance(pct_start, bool) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in _ANNEAL:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self.anneal_strategy = anneal_strategy   # a name, not a function: state_dict stays plain data

        # Each phase: the step where it ends and the group entries it anneals between.
        warm_up = dict(end_step=float(pct_start * self.total_steps) - 1, start_lr="initial_lr", end_lr="max_lr",
                       start_momentum="max_momentum", end_momentum="base_momentum")
        if three_phase:
            self._schedule_phases = [
                warm_up,
                dict(end_step=float(2 * pct_start * self.total_steps) - 2, start_lr="max_lr", end_lr="initial_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
                dict(end_step=self.total_steps - 1, start_lr="initial_lr", end_lr="min_lr",
                     start_momentum="max_momentum", end_momentum="max_momentum"),
            ]
        else:
            self._schedule_phases = [
                warm_up,
                dict(end_step=self.total_steps - 1, start_lr="max_lr", end_lr="min_lr",
                     start_momentum="base_momentum", end_momentum="max_momentum"),
            ]

        groups = optimizer.param_groups
        if last_epoch == -1:
            max_lrs = _one_per_group(optimizer, max_lr, "expected {expected} values for max_lr, got {got}")
            for group, group_max_lr in zip(groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                max_momentums = _one_per_group(optimizer, max_momentum,
                                               "expected {expected} values for max_momentum, got {got}")
                base_momentums = _one_per_group(optimizer, base_momentum,
                                                "expected {expected} values for base_momentum, got {got}")
                for group, m_momentum, b_momentum in zip(groups, max_momentums, base_momentums):
                    self._set_momentum(group, m_momentum)
                    group["max_momentum"] = m_momentum
                    group["base_momentum"] = b_momentum
        super().__init__(optimizer, last_epoch, verbose)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self):
        """The lr of each group at step ``last_epoch``; also sets the momentum when it cycles."""
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"Tried to step {step_num} times. The specified number of total steps is "
                             f"{self.total_steps}")
        anneal = _ANNEAL[self.anneal_strategy]
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    # A phase of length 0 (tiny total_steps) is already over: its end value.
                    pct = (step_num - start_step) / (end_step - start_step) if end_step != start_step else 1.0
                    lr = anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start_step = end_step
            lrs.append(lr)
            if self.cycle_momentum:
                self._set_momentum(group, momentum)
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` when a metric has not improved for ``patience`` epochs.

    Call ``scheduler.step(metric)`` once per epoch (e.g. with the validation loss)::

        scheduler = ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10)
        for epoch in range(100):
            train(...)
            scheduler.step(validate(...))

    A metric is an improvement when it beats the best so far by more than ``threshold``:
    ``best * (1 - threshold)`` in 'rel' mode ('min'; ``best * (1 + threshold)`` for 'max'),
    ``best - threshold`` in 'abs' mode (``best + threshold``). After more than
    ``patience`` epochs in a row without one, each group's lr becomes
    ``max(lr * factor, min_lr)`` (unchanged when that changes it by ``eps`` or less), and
    the next ``cooldown`` epochs are not counted as bad.

    Args:
        optimizer: the optimizer whose lrs are reduced.
        mode: 'min' (the metric should decrease) or 'max'.
        factor: the lr multiplier, < 1 (default 0.1).
        patience: bad epochs tolerated before a reduction (default 10).
        threshold: how much better counts as an improvement (default 1e-4).
        threshold_mode: 'rel' or 'abs' (default 'rel').
        cooldown: epochs after a reduction during which bad epochs are not counted (default 0).
        min_lr: a lower bound of the lr, one number or one per group (default 0).
        eps: the smallest change of lr that is applied (default 1e-8).
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8, verbose=False):
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got factor={factor}")
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        self.factor = factor
        self.min_lrs = _one_per_group(optimizer, min_lr, "expected {expected} min_lrs, got {got}")
        self.patience = patience
        self.cooldown = cooldown
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.eps = eps
        self.verbose = verbose
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._check_modes()
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self._reset()

    def _check_modes(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode {self.mode} is unknown!")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {self.threshold_mode} is unknown!")

    def _reset(self):
        """Forget the best value and the counters (the lrs are kept)."""
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record this epoch's metric (a number or a one-element Tensor); reduce the lr if due."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            _warn_epoch_deprecated()
        self.last_epoch = epoch

        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        for i, (group, min_lr) in enumerate(zip(self.optimizer.param_groups, self.min_lrs)):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
                if self.verbose:
                    print(f"Epoch {self.last_epoch}: reducing learning rate of group {i} to {new_lr:.4e}.")

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        """Whether metric ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def get_lr(self):
        raise TypeError("ReduceLROnPlateau sets the lr from a metric: call step(metric), and "
                        "get_last_lr() to read the lrs")

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._check_modes()
