"""Selection: sort, argsort, topk, kthvalue, unique, nonzero; take_along_dim, masked_select.

sort, topk and kthvalue first find *indices* (an argsort, or an argpartition for topk and
kthvalue, which only needs the k chosen elements in place: O(n) instead of O(n log n)),
plain int64 arrays, and then pick the values with ``TakeAlongDim``, the one differentiable
step. So the gradient of a sorted/top-k/k-th value goes back to exactly the element it was
taken from (PyTorch's rule, also at ties), and none of these ops needs a backward of its own.

NaN counts as the largest value (last when ascending, first when descending), as in PyTorch.
"""
import collections

import numpy

from ..backend import get_array_module
from ..checks import accepts_axis, check_same_device, normalize_dim
from ..tensor import Tensor, register_methods
from .indexing import GetItem, TakeAlongDim, as_index, gather

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "unique", "nonzero", "argwhere",
           "take_along_dim", "masked_select"]

# PyTorch returns these namedtuples (``torch.return_types.sort``...), fields values, indices.
SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])
KthvalueResult = collections.namedtuple("kthvalue", ["values", "indices"])


def _argsort(array, axis, descending, stable):
    """Argsort of ``array`` along ``axis`` (int64); ``stable`` keeps equal elements in order
    (NumPy's stable sort is several times slower, so only when asked; CuPy's always is).

    Descending: sort the reversed array ascending and reverse the answer. Equal elements
    then keep their original order and NaN (last when ascending) comes first, without
    negating the values (which would break for unsigned ints and bools).
    """
    xp = get_array_module(array)
    kind = "stable" if stable else None
    if not descending:
        return xp.argsort(array, axis=axis, kind=kind).astype(numpy.int64, copy=False)
    n = array.shape[axis]
    reversed_order = xp.argsort(xp.flip(array, axis), axis=axis, kind=kind)
    return (n - 1 - xp.flip(reversed_order, axis)).astype(numpy.int64, copy=False)


def _as_1d(input):
    """A 0-d tensor as a 1-element one: PyTorch sorts a scalar as a one-element row."""
    return input.reshape(1) if input.ndim == 0 else input


def _pick(input, indices, axis, squeeze):
    """(values, indices) of ``input`` at ``indices`` along ``axis``, values differentiable."""
    values = TakeAlongDim.apply(input, indices=indices, dim=axis)
    indices = Tensor(indices)
    if squeeze:
        values, indices = values.reshape(()), indices.reshape(())
    return values, indices


@accepts_axis
def sort(input, dim=-1, descending=False, stable=False):
    """Sort along ``dim``: ``(values, indices)`` with ``values == input.gather(dim, indices)``.

    ``input`` is any shape ``(*)``; both results have its shape. ``stable=True`` keeps
    equal elements in their original order (otherwise their order is unspecified).
    """
    x = _as_1d(input)
    axis = normalize_dim(dim, x.ndim)
    values, indices = _pick(x, _argsort(x.array, axis, descending, stable), axis, input.ndim == 0)
    return SortResult(values, indices)


@accepts_axis
def argsort(input, dim=-1, descending=False, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``)."""
    x = _as_1d(input)
    indices = _argsort(x.array, normalize_dim(dim, x.ndim), descending, stable)
    return Tensor(indices.reshape(input.shape))


def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


@accepts_axis
def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (``largest=False``: smallest) elements along ``dim``.

    ``(values, indices)``, both of ``input``'s shape with size ``k`` at ``dim``; always in
    sorted order (``sorted=False`` allows any order). The gradient of ``values`` goes to
    the returned indices only, one element per value even at ties.
    """
    x = _as_1d(input)
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis]
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k out of range (k ({k}) must be in [0, {n}] "
                           f"for dimension {dim} of size {n})")
    xp = get_array_module(x.array)
    if k == 0:
        chosen = xp.zeros(x.shape[:axis] + (0,) + x.shape[axis + 1:], dtype=numpy.int64)
    else:
        # The k largest end up in the last k places of an argpartition at n - k (smallest:
        # the first k places at k - 1), in no particular order.
        split = n - k if largest else k - 1
        place = xp.arange(n - k, n) if largest else xp.arange(k)
        chosen = xp.argpartition(x.array, split, axis=axis).take(place, axis=axis)
        # Order them by value; among equal values the lower index first (a stable sort of
        # the candidates taken in index order).
        chosen = xp.sort(chosen, axis=axis)
        by_value = _argsort(xp.take_along_axis(x.array, chosen, axis=axis), axis, largest, stable=True)
        chosen = xp.take_along_axis(chosen, by_value, axis=axis).astype(numpy.int64, copy=False)
    values, indices = _pick(x, chosen, axis, input.ndim == 0 and k == 1)
    return TopkResult(values, indices)


@accepts_axis
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (``k`` counts from 1) along ``dim``.

    ``(values, indices)`` of ``input``'s shape without ``dim`` (kept as size 1 with
    ``keepdim``); the gradient goes to the returned index only.
    """
    x = _as_1d(input)
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range (k ({k}) must be in "
                           f"[1, {n}] for dimension {dim} of size {n})")
    xp = get_array_module(x.array)
    # Only the k-th place matters: an argpartition puts the right element there.
    order = xp.argpartition(x.array, k - 1, axis=axis)
    index = order.take(xp.arange(k - 1, k), axis=axis).astype(numpy.int64, copy=False)  # keeps the dim
    values, indices = _pick(x, index, axis, input.ndim == 0)
    if not keepdim and input.ndim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return KthvalueResult(values, indices)


def _unique_rows(rows):
    """Unique rows of a 2-D array ``(n, m)``, in ascending lexicographic order.

    Returns ``(first, inverse, counts)``: ``rows[first]`` are the unique rows, ``inverse``
    maps each row to its unique row, ``counts`` counts them. One sort, no Python loop.
    """
    xp = get_array_module(rows)
    n = rows.shape[0]
    if rows.shape[1] == 1:
        order = xp.argsort(rows[:, 0])
    elif rows.shape[1] == 0:  # rows without elements are all equal
        order = xp.arange(n)
    else:
        order = xp.lexsort(rows.T[::-1])  # lexsort's primary key is its last one
    ordered = rows[order]
    is_new = xp.ones(n, dtype=bool)
    if n > 1:
        is_new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    starts = xp.nonzero(is_new)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([n], dtype=starts.dtype)]))
    inverse = xp.empty(n, dtype=numpy.int64)
    inverse[order] = xp.cumsum(is_new) - 1  # the unique row each sorted row belongs to
    return order[starts], inverse, counts.astype(numpy.int64)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements of ``input`` (``dim=None``: flattened, 1-D result), or its unique
    sub-tensors along ``dim``, in ascending order (always sorted, as PyTorch's CPU and CUDA
    versions are). With ``return_inverse``/``return_counts`` a tuple ``(output,
    inverse_indices, counts)``: ``inverse_indices`` has ``input``'s shape (``dim=None``) or
    ``(input.size(dim),)``; ``counts`` one entry per unique element. Not differentiable.
    """
    array = input.array
    if dim is None:
        rows = array.reshape(-1, 1)
        axis, inverse_shape = 0, array.shape
    else:
        axis = normalize_dim(dim, input.ndim)
        rows = get_array_module(array).moveaxis(array, axis, 0).reshape(array.shape[axis], -1)
        inverse_shape = (array.shape[axis],)
    first, inverse, counts = _unique_rows(rows)
    output = array.reshape(-1)[first] if dim is None else array.take(first, axis=axis)
    results = (Tensor(output),)
    if return_inverse:
        results += (Tensor(inverse.reshape(inverse_shape)),)
    if return_counts:
        results += (Tensor(counts),)
    return results[0] if len(results) == 1 else results


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero elements of ``input``, in C order.

    ``as_tuple=False``: an int64 tensor ``(z, ndim)``, one row per non-zero element.
    ``as_tuple=True``: ``ndim`` int64 tensors ``(z,)``, ready for ``x[...]``; a 0-d input
    counts as a 1-element 1-D one there.
    """
    array = input.array
    xp = get_array_module(array)
    found = xp.nonzero(array.reshape(1) if array.ndim == 0 else array)  # NumPy refuses 0-d
    found = tuple(i.astype(numpy.int64, copy=False) for i in found)
    if as_tuple:
        return tuple(Tensor(i) for i in found)
    if array.ndim == 0:
        return Tensor(xp.zeros((found[0].shape[0], 0), dtype=numpy.int64))
    return Tensor(xp.stack(found, axis=1))


def argwhere(input):
    """``nonzero(input)``: the ``(z, ndim)`` int64 indices of the non-zero elements."""
    return nonzero(input)


# ---------------------------------------------------------------------------- by index or mask


def take_along_dim(input, indices, dim=None):
    """``gather`` that broadcasts: ``input`` and ``indices`` broadcast against each other in
    every dim but ``dim``. ``dim=None``: both are flattened first (``argmax()`` indices)."""
    indices = as_index(indices, input)
    if indices.dtype != numpy.int64:
        raise RuntimeError(f"take_along_dim(): dtype of indices should be int64 but got {indices.dtype}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if input.ndim != indices.ndim:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {input.ndim} dimensions for input, and "
                           f"{indices.ndim} dimensions for indices")
    axis = normalize_dim(dim, input.ndim)

    def at_axis(shape, n):  # ``shape`` with size ``n`` at ``dim``
        return tuple(shape[:axis]) + (n,) + tuple(shape[axis + 1:])
    try:
        common = numpy.broadcast_shapes(at_axis(input.shape, 1), at_axis(indices.shape, 1))
    except ValueError:
        raise RuntimeError(f"take_along_dim(): input {list(input.shape)} and indices "
                           f"{list(indices.shape)} do not broadcast outside dimension {axis}") from None
    x_shape, index_shape = at_axis(common, input.shape[axis]), at_axis(common, indices.shape[axis])
    x = input if tuple(input.shape) == x_shape else input.expand(x_shape)
    index = get_array_module(indices.array).broadcast_to(indices.array, index_shape)
    return gather(x, axis, Tensor(index))


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` is True, as a 1-D tensor, in C
    order; ``input`` and ``mask`` broadcast against each other."""
    if mask.dtype != numpy.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, but got {mask.dtype}")
    check_same_device("masked_select", (input, mask))
    try:
        shape = numpy.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise RuntimeError(f"masked_select: the shape of the mask {list(mask.shape)} does not "
                           f"broadcast with the shape of input {list(input.shape)}") from None
    x = input if tuple(input.shape) == shape else input.expand(shape)
    return GetItem.apply(x, key=get_array_module(mask.array).broadcast_to(mask.array, shape))


register_methods(sort, argsort, msort, topk, kthvalue, unique, nonzero, argwhere, take_along_dim,
                 masked_select)
