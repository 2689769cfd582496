"""How a tensor prints: exactly as PyTorch prints it.

    tensor([[1.5000, 2.2500],
            [3.0000, 4.0000]], requires_grad=True)

Every element of a tensor is written the same way, chosen from all of its values: integers
as they are; floats as "1." when every value is whole, in scientific notation ("1.0000e-05")
when the non-zero values span more than three orders of magnitude (or pass 1e8, or fall
below 1e-4), else with 4 decimals. Elements are right-aligned to a common width, rows wrap
at 80 characters, and a tensor of more than 1000 elements shows only 3 items at each edge of
every dim, with "..." between. ``set_printoptions`` changes these numbers.
"""
import math

import numpy

from . import backend, dtypes

__all__ = ["set_printoptions", "format_tensor"]


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


OPTIONS = _Options()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """As ``torch.set_printoptions``: profile 'default', 'short' or 'full', or single options."""
    if profile is not None:
        precision, threshold, edgeitems, linewidth = {
            "default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
            "full": (4, math.inf, 3, 80)}[profile]
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(OPTIONS, name, value)
    OPTIONS.sci_mode = sci_mode


class _Formatter:
    """Chooses one way to write every element, from the (summarised) values."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(str(value)))
        else:
            shown = flat[numpy.isfinite(flat) & (flat != 0)].astype(numpy.float64)
            if shown.size:
                magnitudes = numpy.abs(shown)
                low, high = magnitudes.min(), magnitudes.max()
                self.int_mode = bool(numpy.all(shown == numpy.ceil(shown)))
                if self.int_mode:
                    self.sci_mode = high / low > 1000.0 or high > 1.0e8
                else:
                    self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
                for value in shown.tolist():
                    self.max_width = max(self.max_width, len(self._plain(value)) +
                                         (1 if self.int_mode and not self.sci_mode else 0))
        if OPTIONS.sci_mode is not None:
            self.sci_mode = OPTIONS.sci_mode

    def _plain(self, value):
        if self.sci_mode:
            return f"{value:.{OPTIONS.precision}e}"
        if self.int_mode:
            return f"{value:.0f}"
        return f"{value:.{OPTIONS.precision}f}"

    def format(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{OPTIONS.precision}e}"
        else:
            text = self._plain(value)
            if self.int_mode and math.isfinite(value):
                text += "."   # the dot says "float"
        return " " * (self.max_width - len(text)) + text


def _summarised(values):
    """Only the edge items of every dim, which decide the format of a summarised print."""
    edge = OPTIONS.edgeitems
    if values.ndim == 0:
        return values
    if values.shape[0] > 2 * edge:
        values = numpy.concatenate([values[:edge], values[-edge:]])
    if values.ndim == 1:
        return values
    return numpy.stack([_summarised(row) for row in values])


def _vector(values, indent, summarise, formatter):
    per_line = max(1, int((OPTIONS.linewidth - indent) // (formatter.max_width + 2)))
    edge = OPTIONS.edgeitems
    if summarise and values.shape[0] > 2 * edge:
        items = ([formatter.format(v) for v in values[:edge].tolist()] + [" ..."] +
                 [formatter.format(v) for v in values[-edge:].tolist()])
    else:
        items = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values, indent, summarise, formatter):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarise, formatter)
    edge, count = OPTIONS.edgeitems, values.shape[0]
    if summarise and count > 2 * edge:
        rows = ([_nested(values[i], indent + 1, summarise, formatter) for i in range(edge)] + ["..."] +
                [_nested(values[i], indent + 1, summarise, formatter) for i in range(count - edge, count)])
    else:
        rows = [_nested(values[i], indent + 1, summarise, formatter) for i in range(count)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text, suffixes, indent):
    """Append ", suffix" items, starting a new line where one would pass the line width."""
    parts, line_length = [text], len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > OPTIONS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(parts) + ")"


def format_tensor(array, device, grad_fn, requires_grad):
    """``repr`` of a tensor holding ``array``."""
    values = backend.to_numpy(array)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if device.type != "cpu":
        suffixes.append(f"device='{device.type}:{device.index or 0}'")
    default_float = dtypes.get_default_dtype()
    default_complex = dtypes.complex128 if default_float == dtypes.float64 else dtypes.complex64
    is_default = values.dtype in (default_float, default_complex, dtypes.int64, dtypes.bool)
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != default_float:   # nothing to infer an integer dtype from
            suffixes.append(f"dtype={dtypes.of(values.dtype)}")
        body = "[]"
    else:
        if not is_default:
            suffixes.append(f"dtype={dtypes.of(values.dtype)}")
        summarise = values.size > OPTIONS.threshold
        formatter = _Formatter(_summarised(values) if summarise else values)
        body = _nested(values, indent, summarise, formatter)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn.name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
