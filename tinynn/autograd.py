"""Autograd: the Function base class, the backward engine, grad mode and gradcheck.

A Function is one differentiable operation written on raw arrays. Calling
``SomeFunction.apply(*tensors, **params)`` runs ``forward`` on the arrays and, when a
gradient is needed, records the Function as the ``grad_fn`` of the output tensor.
``Tensor.backward()`` then visits the recorded Functions in reverse topological order
and calls each one's ``backward`` with the gradient of its output.
"""
import functools

import numpy

from .backend import device_of, get_array_module, to_numpy

__all__ = ["Function", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "backward", "gradcheck"]

_grad_enabled = True
_op_observers = []  # callables(fn, output) told of every op; tinynn.summary uses this


def is_grad_enabled():
    """True when operations are being recorded for backward."""
    return _grad_enabled


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

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = _grad_enabled
            _set(mode)
            try:
                return func(*args, **kwargs)
            finally:
                _set(previous)
        return wrapper


class no_grad(_GradMode):
    """``with tinynn.no_grad():`` runs operations without recording them for backward."""

    mode = False


class enable_grad(_GradMode):
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


def _set(mode):
    global _grad_enabled
    _grad_enabled = mode


class Function:
    """One differentiable operation on raw arrays.

    Subclasses implement ``forward(self, *arrays, **params) -> array`` and
    ``backward(self, grad) -> grad or tuple of grads`` (one per positional input, ``None``
    where no gradient is needed; ``self.needs_input_grad`` says which are). Anything
    backward needs is kept on ``self`` during forward and freed after backward.
    """

    # Bookkeeping kept when the saved arrays are freed after backward.
    _KEEP = ("_edges", "needs_input_grad", "_freed", "_retained")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on Tensors; returns a Tensor that remembers how it was made."""
        from .tensor import Tensor
        _check_same_device(cls, inputs)
        fn = cls()
        out = Tensor(fn.forward(*[t.array for t in inputs], **params))
        if _grad_enabled and any(t.requires_grad for t in inputs):
            fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
            # An edge leads to the Function that made an input, or to the leaf itself.
            fn._edges = tuple(t._grad_fn if t._grad_fn is not None else (t if t.requires_grad else None)
                              for t in inputs)
            fn._freed = False
            fn._retained = None
            out.requires_grad = True
            out._grad_fn = fn
        for observe in _op_observers:
            observe(fn, out)
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @property
    def name(self):
        return type(self).__name__ + "Backward"

    def _free(self):
        """Drop the arrays saved for backward; the graph's edges stay for error messages."""
        for key in [k for k in self.__dict__ if k not in self._KEEP]:
            del self.__dict__[key]
        self._freed = True

    def __repr__(self):
        return f"<{self.name}>"


def _check_same_device(cls, inputs):
    if len(inputs) < 2:
        return
    first = device_of(inputs[0].array)
    for t in inputs[1:]:
        other = device_of(t.array)
        if other != first:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                               f"two devices, {first} and {other}! (in {cls.__name__})")


def _topological_order(root):
    """Functions reachable from ``root``, each after every Function that consumes its output.

    Iterative depth-first search: deep graphs (ResNet-50, long chains) never touch
    Python's recursion limit.
    """
    post_order, seen = [], {id(root)}
    stack = [(root, iter(root._edges))]
    while stack:
        fn, edges = stack[-1]
        for edge in edges:
            if isinstance(edge, Function) and id(edge) not in seen:
                seen.add(id(edge))
                stack.append((edge, iter(edge._edges)))
                break
        else:
            stack.pop()
            post_order.append(fn)
    post_order.reverse()
    return post_order


def backward(tensor, gradient, retain_graph=False):
    """Accumulate d(tensor)/d(leaf) . gradient into every leaf's ``.grad``."""
    if tensor._grad_fn is None:  # backward on a leaf: its gradient is the seed itself
        _accumulate_into_leaf(tensor, gradient)
        return
    pending = {id(tensor._grad_fn): gradient}   # gradient of each Function's output
    with no_grad():
        for fn in _topological_order(tensor._grad_fn):
            if fn._freed:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access saved "
                    "tensors after they have already been freed). Saved intermediate values of the "
                    "graph are freed when you call .backward(). Specify retain_graph=True if you "
                    "need to backward through the graph a second time.")
            grad = pending.pop(id(fn), None)
            if grad is None:  # this node's output did not influence the result
                continue
            if fn._retained is not None and fn._retained() is not None:
                _accumulate_into_leaf(fn._retained(), grad)
            input_grads = fn.backward(grad)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for edge, needed, g in zip(fn._edges, fn.needs_input_grad, input_grads):
                if not needed or g is None or edge is None:
                    continue
                if isinstance(edge, Function):
                    key = id(edge)
                    # A node reached by several paths gets the sum (never added in place:
                    # the first array may be shared with another input).
                    pending[key] = g if key not in pending else pending[key] + g
                else:
                    _accumulate_into_leaf(edge, g)
            if not retain_graph:
                fn._free()


def _accumulate_into_leaf(leaf, grad):
    """Add ``grad`` into ``leaf.grad``; the stored array is always one the leaf owns."""
    from .tensor import Tensor
    if leaf.grad is None:
        # Always store a copy: the incoming array may also be pending for another node
        # (Add hands one array to both inputs), be the caller's ``gradient`` or a read-only
        # broadcast view, and the next accumulation below updates .grad in place.
        leaf.grad = Tensor(get_array_module(grad).array(grad, copy=True))
    elif getattr(leaf.grad.array.flags, "writeable", True):  # CuPy arrays have no such flag
        leaf.grad.array += grad
    else:
        leaf.grad = Tensor(leaf.grad.array + grad)


# ---------------------------------------------------------------------------- gradcheck

def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s analytic gradients against central finite differences.

    ``inputs`` is a Tensor or a sequence of Tensors; those with ``requires_grad=True`` are
    checked (use float64). ``fn(*inputs)`` returns a Tensor or a tuple of Tensors. The
    outputs are contracted with a random upstream gradient ``v``, so ops whose outputs sum
    to a constant (softmax, batch norm) are still tested. Returns True or raises
    AssertionError naming the input and the worst element.
    """
    from .tensor import Tensor
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != numpy.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs, "
                             f"float32 is too coarse for finite differences")
    rng = numpy.random.default_rng(seed)

    def outputs_of(result):
        result = result if isinstance(result, (tuple, list)) else (result,)
        return [r for r in result if isinstance(r, Tensor) and r.dtype.kind == "f"]

    outputs = outputs_of(fn(*inputs))
    upstream = [rng.standard_normal(o.shape) for o in outputs]

    def objective():
        with no_grad():
            return sum(float((to_numpy(o.array) * v).sum()) for o, v in zip(outputs_of(fn(*inputs)), upstream))

    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    loss = sum((o * Tensor(_like(v, o.array))).sum() for o, v in zip(outputs, upstream))
    if loss.requires_grad:
        loss.backward()

    for i in checked:
        t = inputs[i]
        analytic = numpy.zeros(t.shape) if t.grad is None else to_numpy(t.grad.array)
        if t.grad is not None and (t.grad.shape != t.shape or t.grad.dtype != t.dtype):
            raise AssertionError(f"gradcheck: input {i} has shape {t.shape} and dtype {t.dtype} "
                                 f"but its gradient has {t.grad.shape} and {t.grad.dtype}")
        numeric = numpy.zeros(t.shape)
        for k in numpy.ndindex(*t.shape):  # perturb one element of the input in place
            original = t.array[k].item()
            t.array[k] = original + eps
            plus = objective()
            t.array[k] = original - eps
            minus = objective()
            t.array[k] = original
            numeric[k] = (plus - minus) / (2 * eps)
        error = numpy.abs(analytic - numeric) - (atol + rtol * numpy.abs(numeric))
        if error.size and error.max() > 0:
            k = numpy.unravel_index(int(error.argmax()), t.shape)
            raise AssertionError(f"gradcheck: gradient of input {i} (shape {t.shape}) differs at "
                                 f"index {tuple(int(j) for j in k)}: analytic {analytic[k]:.8g}, "
                                 f"numerical {numeric[k]:.8g}")
    return True


def _like(values, array):
    """``values`` (NumPy) on the device and in the dtype of ``array``."""
    from .backend import to_device
    return to_device(values.astype(array.dtype), device_of(array))
