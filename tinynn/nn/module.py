"""Module: the base class of every layer and model, with PyTorch's API."""
import collections
import itertools

import numpy

from .. import backend
from ..autograd import no_grad
from ..ops.conversion import parse_to_args
from ..tensor import Size, Tensor
from .parameter import Parameter

__all__ = ["Module"]

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _RemovableHandle:
    """Returned by ``register_forward_hook``; ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks, self.id = hooks, next(self._ids)

    def remove(self):
        self.hooks.pop(self.id, None)


class LayerName:
    """``Conv2d(1, 10, kernel_size=(5, 5), ...)``, the layer's name in error messages,
    formatted only when one is raised (building it on every forward cost more than the
    checks themselves)."""

    def __init__(self, module):
        self.module = module

    def __str__(self):
        return f"{type(self.module).__name__}({self.module.extra_repr()})"


class Module:
    """Base class for layers and models.

    Assigning a Parameter, a Module or a registered buffer as an attribute records it,
    in order, so ``parameters()``, ``state_dict()`` and ``to()`` find it.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):   # the usual case, kept cheap
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after every forward."""
        handle = _RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before every forward."""
        handle = _RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ registration

    def _check_ready(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to a {type(self).__name__} before "
                                 f"Module.__init__() call (call super().__init__() first)")

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._check_ready()
            self._remove_from_registries(name, self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_ready()
            self._remove_from_registries(name, self._modules)
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(tinynn.nn.Parameter or None expected)")
            self._parameters[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(tinynn.Tensor or None expected)")
            self._buffers[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:  # else the old child would stay registered, unseen
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(tinynn.nn.Module or None expected)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _remove_from_registries(self, name, keep=None):
        """Forget ``name`` everywhere but in ``keep``, the registry about to receive it:
        a reassigned entry keeps its place in the order (as in PyTorch)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(tinynn.nn.Parameter or None required)")
        self._check_ready()
        self._remove_from_registries(name, self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not a parameter (e.g. BatchNorm's running mean)."""
        self._check_ready()
        if "." in name or not name:
            raise KeyError(f"buffer name can't contain \".\" or be empty, got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(tinynn.Tensor or None required)")
        self._remove_from_registries(name, self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_ready()
        self._remove_from_registries(name, self._modules)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads

    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset parameter gradients: to None by default (as PyTorch), else to zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0

    # ------------------------------------------------------------------ devices and dtypes

    def _apply_to_arrays(self, convert):
        """Replace every parameter's and buffer's array (and grad) by ``convert(array)``.

        The Parameter objects stay the same, so an optimizer built earlier still holds them.
        """
        for module in self.modules():
            for tensors in (module._parameters, module._buffers):
                for t in tensors.values():
                    if t is None:
                        continue
                    t.array = convert(t.array)
                    if t.grad is not None:
                        t.grad.array = convert(t.grad.array)
        return self

    def to(self, *args, **kwargs):
        """``to(device)``, ``to(dtype)`` or ``to(device, dtype)``; floats only change dtype."""
        device, dtype = parse_to_args(args, kwargs)
        if dtype is not None and numpy.dtype(dtype).kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")

        def convert(array):
            if dtype is not None and array.dtype.kind in "fc":
                array = array.astype(dtype, copy=False)
            if device is not None:
                array = backend.to_device(array, device)
            return array

        return self._apply_to_arrays(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else backend.Device("cuda", device))

    def float(self):
        return self.to(numpy.float32)

    def double(self):
        return self.to(numpy.float64)

    # ------------------------------------------------------------------ state dicts

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, in registration order."""
        destination = collections.OrderedDict() if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, errors):
        """Copy this module's own entries from ``state_dict``; subclasses may adapt old formats."""
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers}
        for name, target in itertools.chain(self._parameters.items(), persistent.items()):
            if target is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            array = value.array if isinstance(value, Tensor) else value
            if not backend.is_array(array):
                errors.append(f'While copying the parameter named "{key}", expected a tensor '
                              f'but got {type(value).__name__}.')
                continue
            if tuple(array.shape) != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{Size(array.shape)} from checkpoint, the shape in current "
                              f"model is {target.shape}.")
                continue
            with no_grad():
                target.array[...] = backend.to_device(array, target.device).astype(target.dtype, copy=False)

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into this module's parameters and buffers (on their own devices).

        With ``strict=True`` missing or unexpected keys raise an error listing them.
        """
        missing, errors = [], []
        expected = set()
        # Every name a module is reachable by has keys (state_dict lists shared modules twice).
        for prefix, module in self.named_modules(remove_duplicate=False):
            prefix = prefix + "." if prefix else ""
            module._load_from_state_dict(state_dict, prefix, missing, errors)
            # None entries (Linear(bias=False)) and non-persistent buffers take no key.
            expected.update(prefix + name for name, p in module._parameters.items() if p is not None)
            expected.update(prefix + name for name, b in module._buffers.items()
                            if b is not None and name not in module._non_persistent_buffers)
        unexpected = [k for k in state_dict if k not in expected]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing

    def extra_repr(self):
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
