"""Turning samples into batches: ``default_collate``, ``default_convert`` (as PyTorch's), and
``merge_batches``, which puts batches fetched from several datasets back into one.
"""
import collections.abc

import numpy as np

from ... import backend
from ...ops.shape import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert"]

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")


def _is_text_array(array):
    return array.dtype.kind in "OSUV"  # object, bytes, str, void: nothing to stack


def _is_numpy_value(x):
    return isinstance(x, (np.ndarray, np.generic)) and not isinstance(x, (np.str_, np.bytes_))


def _same_container(elem, fields):
    """A mapping/sequence of the same type as ``elem`` holding ``fields``, or a plain one."""
    try:
        return type(elem)(fields)
    except TypeError:
        return fields


def default_collate(batch):
    """Merge a list of samples into a batch, like ``torch.utils.data.default_collate``.

    - Tensors are stacked into ``(B, ...)``; NumPy arrays likewise (dtype kept).
    - Python ints -> int64, floats -> float64, bools -> bool: ``(B,)`` tensors, as PyTorch;
      NumPy scalars keep their dtype.
    - strings and bytes stay a list of ``B`` values.
    - dicts, namedtuples, tuples and lists are collated field by field, recursively:
      ``[{"x": 1}, {"x": 2}] -> {"x": tensor([1, 2])}``. A tuple of samples gives a
      tuple (PyTorch gives a list there; unpacking ``xb, yb = batch`` works with both).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if _is_numpy_value(elem):
        if _is_text_array(np.asarray(elem)):
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor(np.stack(batch) if isinstance(elem, np.ndarray) else np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, int):
        array = np.asarray(batch)  # ints -> int64; a float among them makes it float32, as torch
        return Tensor(array.astype(np.int64 if array.dtype.kind in "iub" else np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return _same_container(elem, {key: default_collate([s[key] for s in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """One sample as tensors without batching (``batch_size=None``): NumPy arrays and
    scalars become Tensors, containers are converted element-wise, the rest is kept."""
    if _is_numpy_value(data):
        return data if _is_text_array(np.asarray(data)) else Tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _same_container(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return tuple(default_convert(d) for d in data)
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


class CannotMerge(TypeError):
    """The batches hold something ``merge_batches`` does not know how to join."""


def merge_batches(batches, order):
    """Join collated batches along dimension 0, then reorder their rows by ``order``.

    ``batches``: batches of the same structure (Tensors, or tuples/lists/dicts of them;
    lists of strings). ``order``: ``(B,)`` int64 NumPy array, row ``i`` of the result is
    row ``order[i]`` of the joined batches. Raises CannotMerge for anything else.
    """
    elem = batches[0]
    if isinstance(elem, Tensor):
        xp = backend.get_array_module(elem.array)
        joined = xp.concatenate([b.array for b in batches])
        return Tensor(xp.ascontiguousarray(joined[backend.to_device(order, elem.device)]))
    if isinstance(elem, collections.abc.Mapping):
        return _same_container(elem, {key: merge_batches([b[key] for b in batches], order)
                                      for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(merge_batches(list(field), order) for field in zip(*batches)))
    if isinstance(elem, (tuple, list)) and elem and all(isinstance(v, (str, bytes)) for v in elem):
        joined = [value for b in batches for value in b]  # strings, kept as a list
        return [joined[i] for i in order.tolist()]
    if isinstance(elem, (tuple, list)):
        fields = [merge_batches(list(field), order) for field in zip(*batches)]
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise CannotMerge(f"cannot merge batches of type {type(elem).__name__}")
