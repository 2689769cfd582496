"""``gradcheck``: compare an op's analytic gradients with central finite differences."""
import numpy

from ..backend import device_of, to_device, to_numpy
from ..grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["gradcheck"]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s analytic gradients against central finite differences.

    ``inputs`` is a Tensor or a sequence of Tensors; those with ``requires_grad=True`` are
    checked (use float64). ``fn(*inputs)`` returns a Tensor or a tuple of Tensors. The
    outputs are contracted with a random upstream gradient ``v``, so ops whose outputs sum
    to a constant (softmax, batch norm) are still tested. Returns True or raises
    AssertionError naming the input and the worst element.
    """
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
    return to_device(values.astype(array.dtype), device_of(array))
