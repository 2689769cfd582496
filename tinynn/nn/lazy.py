"""Lazy modules: LazyLinear and LazyConv2d infer ``in_features`` / ``in_channels`` from
their first input, as ``torch.nn.LazyLinear`` / ``torch.nn.LazyConv2d``.

Until the first forward their weight and bias are ``UninitializedParameter``s: placeholders
that remember dtype and device (``model.to(...)`` and ``.double()`` work on them) but have
no shape, so asking for one (``p.shape``, ``p.numel()``, ``p.size()``) raises a ValueError
that says to run a forward first. The first forward (a forward pre-hook) materialises them
*in place* (the same Parameter objects, now real ``Parameter``s), initialises them as the
eager layer would (Kaiming-uniform, a=sqrt(5)), and turns the module into a plain
``Linear`` / ``Conv2d``.

The idiom, as PyTorch's documentation recommends: build the model, move it (``.to``), do
a *dry run* with a batch of the right shape, then build the optimizer::

    model = nn.Sequential(nn.LazyConv2d(16, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    model(tinynn.zeros(1, 1, 28, 28))                     # dry run: parameters now exist
    optimizer = optim.SGD(model.parameters(), lr=0.1)

An optimizer built *before* the dry run holds the same parameter objects, so optimizers
that make their state on the first ``step`` (SGD, Adam, ...) still work, as in PyTorch;
optimizers that size per-parameter state in their constructor (Adagrad's sum) would
size it from the placeholder: do the dry run first. ``load_state_dict`` into an
uninitialised lazy module materialises the parameters with the checkpoint's shapes.
"""
from .. import backend
from ..autograd import no_grad
from ..creation import zeros
from .conv import Conv2d
from .linear import Linear
from .parameter import Parameter

__all__ = ["UninitializedParameter", "LazyModuleMixin", "LazyLinear", "LazyConv2d"]

_NO_SHAPE = ("Can't access the shape of an uninitialized parameter. Call `forward` with a "
             "dummy batch (a dry run, e.g. model(tinynn.zeros(1, ...))) to initialize the "
             "parameters of lazy modules before using them or building an optimizer.")


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (see the module docstring).

    It holds an empty array only to carry dtype and device; ``materialize(shape)`` gives it
    a zero-filled array of ``shape`` and makes it a plain ``Parameter``, in place.
    """

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(zeros(0, dtype=dtype, device=device), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Become a Parameter of ``shape`` (zeros), on this placeholder's device and dtype
        unless others are given."""
        device = self.device if device is None else backend.Device(device)
        dtype = self.dtype if dtype is None else dtype
        self.array = zeros(tuple(shape), dtype=dtype, device=device).array
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise ValueError(_NO_SHAPE)

    def size(self, dim=None):
        raise ValueError(_NO_SHAPE)

    def numel(self):
        raise ValueError(_NO_SHAPE)

    def detach(self):
        return UninitializedParameter(False, self.device, self.dtype)

    def __repr__(self):
        return "<UninitializedParameter>"


class LazyModuleMixin:
    """Put before a layer class: ``class LazyLinear(LazyModuleMixin, Linear)``.

    The layer defines ``initialize_parameters(*inputs)`` (materialise from the inputs'
    shapes and reset) and ``cls_to_become`` (the eager class it turns into).
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(LazyModuleMixin._infer_parameters)

    def has_uninitialized_params(self):
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    @staticmethod
    def _infer_parameters(module, args):
        module.initialize_parameters(*args)
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
        module._initialize_hook.remove()
        object.__delattr__(module, "_initialize_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, errors):
        # Take the checkpoint's shapes; an uninitialised entry leaves the parameter as it is.
        skipped = {}
        for name, param in self._parameters.items():
            value = state_dict.get(prefix + name)
            if not isinstance(param, UninitializedParameter) or value is None:
                continue
            if isinstance(value, UninitializedParameter):
                skipped[name] = param
            else:
                with no_grad():
                    param.materialize(tuple(value.shape))
        for name in skipped:
            self._parameters[name] = None      # the base loader skips None entries
        try:
            super()._load_from_state_dict(state_dict, prefix, missing_keys, errors)
        finally:
            self._parameters.update(skipped)   # same keys: their order is kept
        self._sync_sizes()

    def _sync_sizes(self):
        """After a state dict gave the parameters their shapes: record the input size."""


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear layer whose ``in_features`` is the last dim of its first input.

    Before the first forward: ``in_features == 0`` and weight/bias are uninitialised;
    afterwards it is a ``Linear(in_features, out_features)`` initialised as Linear is.
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            with no_grad():
                if input.ndim == 0:
                    raise RuntimeError(f"{type(self).__name__}: the input must have at least "
                                       f"1 dimension (its last one is in_features)")
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()

    def _sync_sizes(self):
        if not isinstance(self.weight, UninitializedParameter):
            self.in_features = self.weight.shape[1]


class LazyConv2d(LazyModuleMixin, Conv2d):
    """A Conv2d layer whose ``in_channels`` is the channel dim of its first input
    ((N, C, H, W) or unbatched (C, H, W)).

    Before the first forward: ``in_channels == 0`` and weight/bias are uninitialised;
    afterwards it is a ``Conv2d`` initialised as Conv2d is.
    """

    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        if out_channels % groups:
            raise ValueError(f"{type(self).__name__}: out_channels must be divisible by groups "
                             f"(out_channels={out_channels}, groups={groups})")
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            if input.ndim not in (3, 4):
                raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to "
                                   f"{type(self).__name__}, but got input of size: "
                                   f"{list(input.shape)}")
            self.in_channels = input.shape[1] if input.ndim == 4 else input.shape[0]
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                self.weight.materialize((self.out_channels, self.in_channels // self.groups,
                                         *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _sync_sizes(self):
        if not isinstance(self.weight, UninitializedParameter):
            self.in_channels = self.weight.shape[1] * self.groups
