"""``tinynn.summary(model, input_size)``: the lecture's feature-map table.

One row per layer and per functional op called in a ``forward`` (``F.max_pool2d``,
``F.relu``, ``x.view``), with its output shape and parameter count, so the shapes read
like the lecture's ``[64, 1, 28, 28] -> [64, 10, 24, 24] -> ... -> [64, 10]``.
"""
import re

from .autograd.function import op_observers
from .autograd import no_grad
from .creation import randn

__all__ = ["summary", "Summary"]

_OP_NAMES = {"ReLU": "relu", "Reshape": "view", "GetItem": "getitem", "Add": "add",
             "AddScalar": "add", "Sub": "sub", "Mul": "mul", "MulScalar": "mul", "Div": "div",
             "DivScalar": "div", "LogSoftmax": "log_softmax", "MatMul": "matmul", "Permute": "permute"}


def _op_name(fn):
    name = type(fn).__name__
    return _OP_NAMES.get(name) or re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class Summary:
    """The table ``summary`` builds: ``rows`` of (name, output shape, params), and totals."""

    def __init__(self, rows, input_shapes, total, trainable):
        self.rows, self.input_shapes = rows, input_shapes
        self.total_params, self.trainable_params = total, trainable

    @property
    def shapes(self):
        """Input shape(s) then every row's output shape: the feature-map sizes in order."""
        return list(self.input_shapes) + [shape for _, shape, _ in self.rows]

    def __str__(self):
        rows = [("Input", shape, None) for shape in self.input_shapes] + self.rows
        name_w = max(len("Layer (type)"), *(len(r[0]) for r in rows)) + 2
        shape_w = max(len("Output Shape"), *(len(str(list(r[1]))) for r in rows)) + 2
        line = "=" * (name_w + shape_w + 12)
        out = [f"{'Layer (type)':<{name_w}}{'Output Shape':<{shape_w}}{'Param #':>12}", line]
        for name, shape, params in rows:
            count = "-" if params is None else f"{params:,}"
            out.append(f"{name:<{name_w}}{str(list(shape)):<{shape_w}}{count:>12}")
        out += [line, f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.total_params - self.trainable_params:,}"]
        return "\n".join(out)

    __repr__ = __str__


def summary(model, input_size, dtype=None, device=None):
    """Run ``model`` once on random input of ``input_size`` (batch dim included, e.g.
    ``(64, 1, 28, 28)``; a list of sizes for several inputs) and tabulate every layer.

    The model runs in eval mode without gradients, then returns to its former mode, so
    BatchNorm statistics are untouched.
    """
    sizes = [tuple(s) for s in input_size] if isinstance(input_size[0], (tuple, list)) else [tuple(input_size)]
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else "cpu"
    inputs = [randn(*size, dtype=dtype, device=device) for size in sizes]

    rows, active = [], []     # active: the modules whose forward is running, innermost last
    names = {id(m): name for name, m in model.named_modules()}

    def enter(module, args):
        active.append(module)

    def leave(module, args, output):
        active.pop()
        if not any(True for _ in module.children()) and module is not model:
            params = sum(p.numel() for p in module.parameters(recurse=False))
            shape = output.shape if hasattr(output, "shape") else output[0].shape
            rows.append((f"{names[id(module)]} ({type(module).__name__})", shape, params))

    def observe(fn, out):
        # Ops inside a leaf layer belong to that layer's row; the rest are functional calls.
        if active and not any(True for _ in active[-1].children()) and active[-1] is not model:
            return
        rows.append((_op_name(fn), out.shape, None))

    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    modes = {id(m): m.training for m in model.modules()}
    op_observers.append(observe)
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        op_observers.remove(observe)
        for handle in handles:
            handle.remove()
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return Summary(rows, sizes, total, trainable)
