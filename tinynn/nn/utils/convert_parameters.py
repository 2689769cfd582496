"""One flat vector of all parameters and back, as ``torch.nn.utils``'s.

``parameters_to_vector`` is differentiable (a ``cat`` of flattened views);
``vector_to_parameters`` points each parameter's data at its slice of the vector, so the
parameters then share the vector's memory, as in PyTorch.
"""
from ...ops.shape import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param, old_device):
    if old_device is not None and param.device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return param.device


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated in order: a 1-D tensor."""
    device, flat = None, []
    for param in parameters:
        device = _check_param_device(param, device)
        flat.append(param.reshape(-1))
    return cat(flat)


def vector_to_parameters(vec, parameters):
    """Copy slices of the 1-D ``vec`` into the parameters, in order (inverse of the above)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__module__}.{type(vec).__name__}")
    parameters = list(parameters)
    needed = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() < needed:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of at least {needed} "
                           f"elements for the parameters, got shape {tuple(vec.shape)}")
    device, pointer = None, 0
    for param in parameters:
        device = _check_param_device(param, device)
        n = param.numel()
        param.data = vec.array[pointer:pointer + n].reshape(param.shape)
        pointer += n
