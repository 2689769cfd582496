"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer holds ``param_groups``, a list of dicts. Each group has a ``'params'`` list
and its own hyperparameters (``'lr'``, ...), filled in from the optimizer's ``defaults``
where the group does not give them. ``state`` maps each parameter (the Tensor object
itself) to a dict of its running buffers (momentum, Adam's moments...).

Subclasses implement ``_step_group(group)`` (``step`` runs the closure, then calls it for
each group) and ``_check_group`` to validate hyperparameters. Like PyTorch's
``_single_tensor_*`` functions, each optimizer file keeps its maths in one array-level
function (``sgd_update``, ``adam_update``...) that updates ``p.array`` and the state
buffers in place; the helpers here do the bookkeeping around it:
``_group_hyperparameters`` (the group's values as Python scalars), ``_params_with_state``
(the parameters with a gradient, their state created and ``'step'`` counted) and
``grad_with_decay`` (maximize and L2 weight decay). The layout of ``state_dict()`` is
PyTorch's, so checkpoints look the same::

    {'state': {0: {'momentum_buffer': tensor}, ...},          # keyed by parameter index
     'param_groups': [{'lr': 0.1, ..., 'params': [0, 1]}]}    # indices, not tensors
"""
import collections
import numbers
import warnings

from .. import backend
from ..autograd import enable_grad
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a default that every parameter group must give itself."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, or of dicts ``{'params': [...], 'lr': ...}``
            (parameter groups with their own hyperparameters).
        defaults: the hyperparameters used where a group does not set its own.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._check_group(defaults)
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got Tensor (wrap it in a list: [param])")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups

    def add_param_group(self, param_group):
        """Add a group (a dict with ``'params'`` and optional hyperparameters).

        Useful to start training a frozen layer: ``opt.add_param_group({'params': layer.parameters()})``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry (the tensors to optimize)")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (one computed from others); "
                                 "optimize the leaf it comes from, or .detach() it first")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self._check_group(group)

        # Identity, not ==: Tensor.__eq__ compares elementwise.
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "each will be updated more than once per step", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _check_group(self, group):
        """Raise ValueError for invalid hyperparameters (subclasses override)."""

    # ------------------------------------------------------------------ gradients

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized parameters.

        ``set_to_none=True`` (the default, as in PyTorch) drops them: less memory, and the
        next ``backward()`` stores fresh arrays. ``set_to_none=False`` gives zero arrays of
        the same shape and dtype; they are new arrays, so a gradient array that was shared
        elsewhere is never overwritten.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad = p.grad.array
                    p.grad = Tensor(backend.get_array_module(grad).zeros_like(grad))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss.

        ``closure`` (optional) recomputes the loss and calls backward; it runs with grad
        enabled, before the update.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group):
        """Update, in place, the parameters of ``group`` that have a gradient (subclasses implement)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers of _step_group

    @staticmethod
    def _group_hyperparameters(group, names, flags=()):
        """``group``'s hyperparameters, as keyword arguments of an array-level update function.

        ``names`` become Python floats (NumPy 2 treats them as weak scalars, so float32
        arrays stay float32), ``'betas'`` becoming ``beta1`` and ``beta2``; ``flags``
        become bools.
        """
        hyper = {}
        for name in names:
            if name == "betas":
                hyper["beta1"], hyper["beta2"] = float(group["betas"][0]), float(group["betas"][1])
            else:
                hyper[name] = float(group[name])
        for name in flags:
            hyper[name] = bool(group[name])
        return hyper

    def _params_with_state(self, group, buffers=()):
        """Yield ``(p, state)`` for each parameter of ``group`` that has a gradient.

        The state's ``'step'`` starts at 0 and is counted up before each yield; each name in
        ``buffers`` that the state lacks gets a zero Tensor like the parameter (also when an
        option that needs it, such as amsgrad, is switched on during training).
        """
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            state.setdefault("step", 0)
            for name in buffers:
                if name not in state:
                    state[name] = Tensor(backend.get_array_module(p.array).zeros_like(p.array))
            state["step"] += 1
            yield p, state

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self):
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are numbered in the order of the groups, as in PyTorch. Buffers are the
        live Tensors (no copy, as in PyTorch): save the dict at once, or ``copy.deepcopy`` it
        to keep a snapshot while training goes on.
        """
        index_of, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            key = index_of[id(p)] if isinstance(p, Tensor) and id(p) in index_of else p
            state[key] = dict(values)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned (also after ``tinynn.save``/``tinynn.load``).

        Buffers are copied onto each parameter's device, in its dtype; the saved
        hyperparameters (``lr``, ``initial_lr``...) replace the current ones.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups' "
                             "(what Optimizer.state_dict() returns)")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match "
                                 f"the size of optimizer's group (group {i}: {len(saved['params'])} "
                                 f"saved parameters, {len(group['params'])} in the optimizer)")
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, p in zip(saved["params"], group["params"]):
                param_of[_as_index(index)] = p

        state = collections.defaultdict(dict)
        for key, values in state_dict["state"].items():
            key = _as_index(key)
            if key in param_of:
                p = param_of[key]
                state[p] = {name: self._load_value(p, key, name, value) for name, value in values.items()}
            else:
                state[key] = values  # not one of ours: kept as is, as PyTorch does

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = dict(group)
            new_group.update({k: v for k, v in saved.items() if k != "params"})
            self._check_group(new_group)
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups

    def _load_value(self, p, index, name, value):
        """A copy of one saved state entry, on ``p``'s device (in ``p``'s dtype if floating)."""
        if name == "step":
            return int(value.item() if isinstance(value, Tensor) or backend.is_array(value) else value)
        if not (isinstance(value, Tensor) or backend.is_array(value)):
            return value
        array = backend.to_device(value.array if isinstance(value, Tensor) else value, p.device)
        if tuple(array.shape) != p.shape:
            raise ValueError(f"loaded optimizer state '{name}' of parameter {index} has shape "
                             f"{tuple(array.shape)}, but the parameter has shape {p.shape}")
        dtype = p.dtype if array.dtype.kind == "f" and p.dtype.kind == "f" else array.dtype
        return Tensor(array.astype(dtype, copy=True))  # a copy: never alias the loaded dict

    # ------------------------------------------------------------------ printing

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)


_SET_MESSAGE = ("optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead.")


def _as_index(key):
    """Saved parameter indices are ints; accept '3' too (a checkpoint that went through JSON)."""
    if isinstance(key, str) and key.isdigit():
        return int(key)
    if isinstance(key, numbers.Integral):
        return int(key)
    return key


def grad_with_decay(param, grad, weight_decay, maximize):
    """The gradient an update follows: ``-grad`` if maximize, plus ``weight_decay * param`` (the
    L2 penalty) if weight_decay != 0. ``grad`` is never written: a new array when either applies."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = param * weight_decay + grad
    return grad


def check_number(name, value, low=0.0, high=None, message=None):
    """Raise PyTorch's ValueError when ``value`` is not a number in ``[low, high)``."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value >= high):
        raise ValueError(message.format(value) if message else f"Invalid {name} value: {value}")
