"""Learning-rate schedules with PyTorch's semantics.

This file: the base class and the schedules that are a function of the epoch
(``LambdaLR``, ``MultiplicativeLR``, ``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``LinearLR``, ``CosineAnnealingLR``, ``CosineAnnealingWarmRestarts``).
``one_cycle_and_plateau.py`` holds ``OneCycleLR`` (per batch, also cycles the momentum)
and ``ReduceLROnPlateau`` (driven by a validation metric); both are importable from here.

A scheduler rewrites ``group['lr']`` of its optimizer each time ``scheduler.step()`` is
called (usually once per epoch, after the epoch's ``optimizer.step()`` calls)::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)            # optimizer.step() inside
        scheduler.step()

Creating a scheduler stores each group's starting lr as ``group['initial_lr']`` and
counts as epoch 0 (``last_epoch == 0``). The lrs are computed recursively from the
current ``group['lr']``, as PyTorch does, so schedulers can be chained; each class also
has the closed form (``_get_closed_form_lr``) used by the deprecated ``step(epoch)``.
"""
import bisect
import collections
import math
import numbers
import types
import warnings

from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "LinearLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "ReduceLROnPlateau"]


class LRScheduler:
    """Base class: keeps ``last_epoch``, ``base_lrs`` and the last lrs it set.

    Subclasses implement ``get_lr()``: the new lr of every group at ``self.last_epoch``.
    """

    def __init__(self, optimizer, last_epoch=-1, verbose=False):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                                   f"resuming an optimizer (load the optimizer's state_dict first)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.verbose = verbose
        self._step_count = 0
        self.step()  # epoch 0 (or the resumed epoch + 1), as PyTorch does

    def get_lr(self):
        """The lr of each group for the current ``last_epoch`` (subclasses implement)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The lrs set by the last ``step()``, one per parameter group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance one epoch and write the new lrs into the optimizer's groups."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            _warn_epoch_deprecated()
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values):
        """Write one lr per group into the optimizer and remember them for ``get_last_lr``."""
        for i, (group, lr) in enumerate(zip(self.optimizer.param_groups, values)):
            group["lr"] = lr
            if self.verbose:
                print(f"Adjusting learning rate of group {i} to {lr:.4e}.")
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (save it separately with ``optimizer.state_dict()``)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self.get_last_lr()})"


_LRScheduler = LRScheduler  # the older PyTorch name


def _warn_epoch_deprecated():
    """PyTorch's warning for ``scheduler.step(epoch)``, attributed to the caller of ``step``."""
    warnings.warn("The epoch parameter in `scheduler.step()` was not necessary and is being "
                  "deprecated where possible. Please use `scheduler.step()` to step the "
                  "scheduler.", UserWarning, stacklevel=3)


def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _one_per_group(optimizer, value, message):
    """``value`` repeated for each parameter group, or a list/tuple with one entry per group.

    ``message`` words the error for a list of the wrong length, with ``{expected}`` and ``{got}``.
    """
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(message.format(expected=count, got=len(value)))
        return list(value)
    return [value] * count


def _is_positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def _check_positive(name, value, integer=False):
    kind = numbers.Integral if integer else numbers.Real
    if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
        what = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {what}, got {value!r}")


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    ``lr = initial_lr * gamma ** (epoch // step_size)``; e.g. step_size=30, gamma=0.1:
    0.05 for epochs 0-29, 0.005 for 30-59, ...
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1, verbose=False):
        _check_positive("StepLR: step_size", step_size, integer=True)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch listed in ``milestones``.

    ``lr = initial_lr * gamma ** (number of milestones <= epoch)``; a milestone listed
    twice applies gamma twice.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1, verbose=False):
        milestones = list(milestones)
        for m in milestones:
            if not isinstance(m, numbers.Integral) or isinstance(m, bool):
                raise ValueError(f"MultiStepLR: milestones must be integers (epochs), got {milestones!r}")
        self.milestones = collections.Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in groups]
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect.bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        # tinynn.save stores the Counter as a plain dict; keys may come back as strings.
        self.milestones = collections.Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class CosineAnnealingLR(LRScheduler):
    """Anneal the lr from its initial value to ``eta_min`` along a half cosine of ``T_max`` epochs.

    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2`` for
    epochs 0..T_max. Past ``T_max`` it keeps following the cosine, as PyTorch does: the
    lr rises again and is back at ``initial_lr`` at ``2 * T_max`` (no warm restart jump).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1, verbose=False):
        _check_positive("CosineAnnealingLR: T_max", T_max)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self):
        groups, t, T, eta_min = self.optimizer.param_groups, self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:  # resumed at a later epoch: the closed form
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            # Leaving the minimum: the ratio below would divide by 1 + cos(pi) = 0.
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        # lr_t - eta_min = (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]

    def _get_closed_form_lr(self):
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``lr = initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer, gamma, last_epoch=-1, verbose=False):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class _LambdaScheduler(LRScheduler):
    """What LambdaLR and MultiplicativeLR share: ``lr_lambdas`` (one function of the epoch per
    parameter group) and a ``state_dict()`` that saves no functions (see ``LambdaLR``)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1, verbose=False):
        _check_optimizer(optimizer)
        self.lr_lambdas = _one_per_group(optimizer, lr_lambda, "Expected {expected} lr_lambdas, but got {got}")
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be a function of the epoch (or a list of them), "
                                f"got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch, verbose)

    def state_dict(self):
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", None) or []
        self.__dict__.update(state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_LambdaScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``, with your own function of the epoch.

    ``lr_lambda`` is one function, or a list with one function per parameter group::

        LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch)

    ``state_dict()`` cannot store functions (as in PyTorch): a plain function or lambda
    is saved as ``None`` and must be given again to the new scheduler; a callable object
    has its attributes (``__dict__``) saved and restored.
    """

    def get_lr(self):
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """Multiply the lr by ``lr_lambda(epoch)`` at every epoch after the first.

    ``lr_epoch = lr_(epoch-1) * lr_lambda(epoch)``; ``lr_lambda`` is one function or one
    per parameter group, saved in ``state_dict()`` as for ``LambdaLR``.
    """

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch > 0:
            return [group["lr"] * lmbda(self.last_epoch) for lmbda, group in zip(self.lr_lambdas, groups)]
        return [group["lr"] for group in groups]


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor * initial_lr`` to ``end_factor * initial_lr``
    over ``total_iters`` epochs, then keep it (a warm-up when start_factor < end_factor).

    ``lr = initial_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``;
    e.g. lr=0.05, start_factor=0.5, total_iters=4: 0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05 ...
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1,
                 verbose=False):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or "
                             f"equal to 1, got start_factor={start_factor}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"Ending multiplicative factor expected to be between 0 and 1, "
                             f"got end_factor={end_factor}")
        _check_positive("LinearLR: total_iters", total_iters, integer=True)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self):
        groups, t = self.optimizer.param_groups, self.last_epoch
        if t == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if t > self.total_iters:
            return [group["lr"] for group in groups]
        # The ratio of the factors at epochs t and t - 1 (recursive, so schedulers can chain).
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        ratio = 1.0 + (end - start) / (total * start + (t - 1) * (end - start))
        return [group["lr"] * ratio for group in groups]

    def _get_closed_form_lr(self):
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        factor = start + (end - start) * min(total, self.last_epoch) / total
        return [base_lr * factor for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from ``initial_lr`` to ``eta_min`` over ``T_i`` epochs, then a restart
    at ``initial_lr`` with the next cycle ``T_mult`` times longer (SGDR).

    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``, where
    ``T_cur`` counts the epochs since the last restart; the cycles last T_0, T_0 * T_mult,
    T_0 * T_mult^2, ... epochs. ``step(epoch)`` accepts fractional epochs, to anneal
    within an epoch: ``scheduler.step(epoch + i / iters)`` after batch ``i``.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1, verbose=False):
        if not _is_positive_int(T_0):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not _is_positive_int(T_mult):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, numbers.Real) or isinstance(eta_min, bool):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch, verbose)

    def get_lr(self):
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or jump to ``epoch`` (which may be fractional), and set the lrs."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0                                   # the constructor's step
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:                  # restart
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            # Find the cycle holding `epoch`: cycle n starts at T_0 * (1 + T_mult + ... + T_mult^(n-1)).
            start, length = 0, self.T_0
            if self.T_mult == 1:
                start = epoch - epoch % self.T_0
            while epoch >= start + length:              # at most log(epoch) cycles
                start += length
                length *= self.T_mult
            self.T_i, self.T_cur = length, epoch - start
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())


# OneCycleLR and ReduceLROnPlateau live in their own file; they are part of this module's API.
from .one_cycle_and_plateau import OneCycleLR, ReduceLROnPlateau  # noqa: E402
