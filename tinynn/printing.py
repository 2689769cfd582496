"""How a tensor prints: like PyTorch's ``tensor([...], requires_grad=True)``.

Floats print with 4 decimals ("1.5000"), or as "1." when every value is whole, or in
scientific notation when the values span more than three orders of magnitude; more than
1000 elements are summarised with "..." (3 at each edge), as in PyTorch.
"""
import numpy

from . import backend

_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _float_options(values):
    finite = numpy.abs(values[numpy.isfinite(values)])
    nonzero = finite[finite != 0]
    if nonzero.size == 0:
        return {"floatmode": "maxprec", "precision": 4}
    if numpy.all(finite == numpy.round(finite)):
        if nonzero.max() > 1e8:
            return {"floatmode": "fixed", "precision": 4, "formatter": {"float_kind": "{:.4e}".format}}
        return {"floatmode": "maxprec", "precision": 4}
    if nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8 or nonzero.min() < 1e-4:
        return {"floatmode": "fixed", "precision": 4, "formatter": {"float_kind": "{:.4e}".format}}
    return {"floatmode": "fixed", "precision": 4}


def format_tensor(array, device, grad_fn, requires_grad):
    values = backend.to_numpy(array)
    options = _float_options(values) if values.dtype.kind == "f" else {}
    body = numpy.array2string(values, separator=", ", prefix="tensor(", threshold=1000,
                              edgeitems=3, max_line_width=80, **options)
    extras = []
    if values.size == 0 and values.ndim != 1:
        extras.append(f"size={tuple(values.shape)}")
    if device.type != "cpu":
        extras.append(f"device='{device}'")
    if values.dtype.name not in _DEFAULT_DTYPES:
        extras.append(f"dtype=tinynn.{values.dtype.name}")
    if grad_fn is not None:
        extras.append(f"grad_fn=<{grad_fn.name}>")
    elif requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body] + extras) + ")"
