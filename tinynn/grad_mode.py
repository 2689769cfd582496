"""Grad mode: whether operations are recorded for backward.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` work both as
``with`` blocks and as decorators, as in PyTorch.
"""
import functools
import inspect

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

_grad_enabled = True
_inference = False


def is_grad_enabled():
    """True when operations are being recorded for backward."""
    return _grad_enabled


def is_inference_mode_enabled():
    return _inference


def _set(mode):
    global _grad_enabled
    _grad_enabled = mode


class _GradMode:
    """A context manager and decorator that sets gradient recording to ``self.mode``."""

    mode = True

    def __enter__(self):
        self._previous = _grad_enabled
        _set(self.mode)
        return self

    def __exit__(self, *exc):
        _set(self._previous)

    def __call__(self, func):
        mode = self.mode
        if inspect.isgeneratorfunction(func):
            return _generator_in_mode(func, mode)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = _grad_enabled
            _set(mode)
            try:
                return func(*args, **kwargs)
            finally:
                _set(previous)
        return wrapper


def _generator_in_mode(func, mode):
    """A decorated generator runs each of its steps in ``mode``, not only its creation."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        generator, response = func(*args, **kwargs), None
        while True:
            previous = _grad_enabled
            _set(mode)
            try:
                value = generator.send(response)
            except StopIteration as stop:
                return stop.value
            finally:
                _set(previous)
            response = yield value
    return wrapper


class _BareDecorator(_GradMode):
    """Also usable without parentheses: ``@tinynn.no_grad`` as well as ``@tinynn.no_grad()``."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self if func is None else self(func)


class no_grad(_BareDecorator):
    """``with tinynn.no_grad():`` runs operations without recording them for backward."""

    mode = False


class enable_grad(_BareDecorator):
    """Re-enables gradient recording inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Sets gradient recording on or off, at once (like PyTorch) or for a ``with`` block."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._previous = _grad_enabled
        _set(self.mode)

    def __enter__(self):
        return self

    def __call__(self, func):
        # Used as a decorator: undo the switch made in __init__, apply it per call only.
        _set(self._previous)
        return super().__call__(func)


class inference_mode(_GradMode):
    """``no_grad`` for evaluation code, as ``torch.inference_mode``; ``inference_mode(False)``
    leaves recording as it is. tinynn has no separate inference tensors: the speed benefit
    in PyTorch comes from skipping version counters that tinynn does not keep."""

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # a bare decorator: @tinynn.inference_mode
            self.enabled = True
            return self(mode)
        self.enabled = bool(mode)
        return self

    def __init__(self, mode=True):  # everything was set in __new__
        pass

    @property
    def mode(self):
        return False if self.enabled else _grad_enabled

    def __enter__(self):
        global _inference
        self._previous_inference, _inference = _inference, self.enabled
        return super().__enter__()

    def __exit__(self, *exc):
        global _inference
        _inference = self._previous_inference
        super().__exit__(*exc)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(self.enabled):
                return func(*args, **kwargs)
        return wrapper
