"""Indexing: ``x[key]``, ``x[key] = v``, ``where``, ``masked_fill``, ``gather``, ``scatter``,
``scatter_add``, ``index_select``, ``index_add`` (``take_along_dim`` and ``masked_select``,
built on ``gather`` and ``x[mask]``, live with the other selections in ``selection.py``).

Most of these ops address elements *along one dim*: ``gather(x, dim, index)`` reads
``x[i, index[i, j, k], k]`` for ``dim == 1``, ``scatter`` writes there. ``along_dim(index,
dim)`` turns that into one NumPy fancy index (``index`` at ``dim``, an ``arange`` in every
other dim), so reading is ``x[coords]`` and writing ``out[coords] = src``, with no loop.

Backward mirrors forward: what was read by a gather is written back by a scatter-add (an
element read twice gets both gradients: ``backend.scatter_add``, i.e. ``numpy.add.at`` or
``cupyx.scatter_add``), and what a scatter overwrote gets no gradient, while ``src`` gets
the gradient gathered from where it landed.
"""
import numpy

from .. import backend, dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..checks import check_same_device, normalize_dim
from ..tensor import Tensor, as_array, is_grad_recording, register_methods
from .arithmetic import sum_to_shape
from .conversion import cast
from .inplace import check_inplace_allowed, inplace

__all__ = ["where", "masked_fill", "gather", "scatter", "scatter_add", "index_select", "index_add"]


def along_dim(index, dim):
    """Index arrays addressing ``x[i_0, .., index[i], .., i_n]`` for each position ``i`` of
    ``index``: ``index`` itself at ``dim``, a broadcastable ``arange`` in the other dims.

    The aranges run over ``index``'s own sizes, so ``index`` may be smaller than ``x``
    outside ``dim`` (as PyTorch allows) and ``x[along_dim(index, dim)]`` has its shape.
    """
    xp = get_array_module(index)
    ndim = index.ndim
    return tuple(index if d == dim else xp.arange(n).reshape((n,) + (1,) * (ndim - d - 1))
                 for d, n in enumerate(index.shape))


def add_at(target, coords, values):
    """``target[coords] += values`` in place, repeated coordinates adding up.

    int64 goes through a uint64 view: CUDA has no int64 atomicAdd, and two's-complement
    sums are the same bits either way.
    """
    if target.dtype == numpy.int64:
        target, values = target.view(numpy.uint64), values.astype(numpy.int64).view(numpy.uint64)
    backend.scatter_add(target, coords, values)


def _has_integer_array(key):
    """True when the index has an integer array, where one element can be picked twice."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "dtype") and k.dtype.kind in "iu" for k in parts)


class GetItem(Function):
    """``x[key]`` for ints, slices, None, Ellipsis, integer arrays and boolean masks."""

    backward_name = "IndexBackward0"

    def forward(self, x, *, key):
        self.shape, self.key = x.shape, key  # the key may hold index arrays: small, kept as is
        return x[key]

    def backward(self, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(self.shape, dtype=grad.dtype)
        if _has_integer_array(self.key):
            add_at(gx, self.key, grad)  # repeated indices must add up
        else:
            gx[self.key] = grad
        return gx

    def _free(self):
        self.key = None
        super()._free()


class Gather(Function):
    """``out = x[along_dim(index, dim)]`` (``gather``); backward scatter-adds, so an element
    gathered twice gets both gradients."""

    backward_name = "GatherBackward0"
    distinct = False  # True when no element is read twice: backward may assign instead of add

    def forward(self, x, *, index, dim):
        self.shape, self.dim = x.shape, dim
        self.save_for_backward(index)
        return x[along_dim(index, dim)]

    def backward(self, grad):
        index, = self.saved_arrays
        gx = get_array_module(grad).zeros(self.shape, dtype=grad.dtype)
        coords = along_dim(index, self.dim)
        if self.distinct:
            gx[coords] = grad
        else:
            add_at(gx, coords, grad)
        return gx


class TakeAlongDim(Gather):
    """Gather with indices distinct along ``dim`` (from argmax, sort, topk): each picked
    element gets the gradient of its one output, assigned without an add-at."""

    distinct = True

    def forward(self, x, *, indices, dim):
        return super().forward(x, index=indices, dim=dim)


def _slab(j, dim):
    """The key of position ``j`` along ``dim``, keeping the dim (``a[:, j:j+1]`` for dim 1)."""
    return (slice(None),) * dim + (slice(j, j + 1),)


class Scatter(Function):
    """``out = x`` with ``src`` (or the number ``value``: ``src`` is None) put at
    ``along_dim(index, dim)``: written (``reduce=None``), added (``'add'``: repeats add up)
    or multiplied in (``'multiply'``).

    Gradients: written positions of ``x`` get none, added ones all of it, multiplied ones
    the product of what was multiplied in; ``src`` gets the gradient where it landed
    (times the rest of the product for ``'multiply'``). ``src`` may be larger than
    ``index``: only its leading ``index.shape`` block is used.
    """

    def forward(self, x, src, *, index, dim, value=None, reduce=None):
        xp = get_array_module(x)
        self.dim, self.reduce, self.src_shape = dim, reduce, None if src is None else src.shape
        coords = along_dim(index, dim)
        block = tuple(slice(0, n) for n in index.shape)
        vals = src[block] if src is not None else xp.full(index.shape, value, dtype=x.dtype)
        out = x.copy()
        if reduce is None:
            out[coords] = vals
        elif reduce == "add":
            add_at(out, coords, vals)
        else:
            factor = xp.ones_like(x)
            self._multiply_in(factor, index, vals)
            out *= factor
            self.save_for_backward(index, x, vals, factor)
            return out
        self.save_for_backward(index)
        return out

    def _multiply_in(self, target, index, vals, before=None, reverse=False):
        """``target[coords] *= vals`` with repeats multiplying: one pass per position along
        ``dim`` (within one such slab every coordinate is distinct). With ``before``, record
        ``target[coords]`` of each slab before its factor goes in."""
        coords = along_dim(index, self.dim)
        steps = range(index.shape[self.dim])
        for j in reversed(steps) if reverse else steps:
            key = _slab(j, self.dim)
            at = coords[:self.dim] + (coords[self.dim][key],) + coords[self.dim + 1:]
            if before is not None:
                before[key] = target[at]
            target[at] *= vals[key]

    def backward(self, grad):
        xp = get_array_module(grad)
        saved = self.saved_arrays
        index = saved[0]
        coords = along_dim(index, self.dim)
        if self.reduce == "multiply":
            _, x, vals, factor = saved
            gx = grad * factor
            if self.src_shape is None:
                return gx, None
            # d out / d vals_j = x * (product of the other factors at the same spot):
            # running products before (prefix) and after (suffix) each slab, no division.
            prefix, suffix = xp.empty_like(vals), xp.empty_like(vals)
            self._multiply_in(x.copy(), index, vals, before=prefix)
            self._multiply_in(xp.ones_like(x), index, vals, before=suffix, reverse=True)
            gvals = grad[coords] * prefix * suffix
        else:
            gx = grad.copy()
            if self.reduce is None:
                gx[coords] = 0  # overwritten: x's old values no longer reach the output
            gvals = grad[coords] if self.src_shape is not None else None
        gsrc = None
        if gvals is not None and self.needs_input_grad[1]:
            gsrc = xp.zeros(self.src_shape, dtype=grad.dtype)
            gsrc[tuple(slice(0, n) for n in index.shape)] = gvals
        return gx, gsrc


class IndexSelect(Function):
    """``x.take(index, axis=dim)`` for a 1-D ``index``; repeated picks add up in backward."""

    def forward(self, x, *, index, dim):
        self.shape, self.dim = x.shape, dim
        self.save_for_backward(index)
        return x.take(index, axis=dim)

    def backward(self, grad):
        index, = self.saved_arrays
        gx = get_array_module(grad).zeros(self.shape, dtype=grad.dtype)
        add_at(gx, (slice(None),) * self.dim + (index,), grad)
        return gx


class IndexAdd(Function):
    """``out = x``, then ``out[..., index[i], ...] += alpha * source[..., i, ...]`` along
    ``dim`` (repeats add up). Gradients: all of it to ``x``; ``alpha`` times the rows of the
    gradient picked by ``index`` to ``source``."""

    def forward(self, x, source, *, index, dim, alpha):
        self.dim, self.alpha = dim, alpha
        self.save_for_backward(index)
        out = x.copy()
        add_at(out, (slice(None),) * dim + (index,), source if alpha == 1 else source * x.dtype.type(alpha))
        return out

    def backward(self, grad):
        index, = self.saved_arrays
        gsource = None
        if self.needs_input_grad[1]:
            gsource = grad.take(index, axis=self.dim)
            if self.alpha != 1:
                gsource = gsource * grad.dtype.type(self.alpha)
        return grad.copy(), gsource


class Where(Function):
    """``where(condition, a, b)``; the condition is a fixed boolean array, not an input."""

    def forward(self, a, b, *, condition):
        self.a_shape, self.b_shape = a.shape, b.shape
        self.save_for_backward(condition)
        return get_array_module(a).where(condition, a, b)

    def backward(self, grad):
        condition, = self.saved_arrays
        zero = grad.dtype.type(0)
        xp = get_array_module(grad)
        ga = sum_to_shape(xp.where(condition, grad, zero), self.a_shape) if self.needs_input_grad[0] else None
        gb = sum_to_shape(xp.where(condition, zero, grad), self.b_shape) if self.needs_input_grad[1] else None
        return ga, gb


def index_key(tensor, key):
    """Tensors and lists inside an index become arrays on ``tensor``'s device."""
    if isinstance(key, tuple):
        return tuple(index_key(tensor, k) for k in key)
    if isinstance(key, Tensor):
        if key.device != tensor.device:
            raise RuntimeError(f"indices should be on the same device as the indexed tensor "
                               f"({key.device} vs {tensor.device})")
        return key.array
    if isinstance(key, list):
        return backend.to_device(numpy.asarray(key), tensor.device)
    return key


def _getitem(self, key):
    key = index_key(self, key)
    try:
        return GetItem.apply(self, key=key)
    except IndexError as exc:
        raise IndexError(f"{exc} (indexing a tensor of shape {tuple(self.shape)})") from None


def _setitem(self, key, value):
    if is_grad_recording(self, value):
        raise RuntimeError("assigning into a tensor that takes part in autograd is not supported; "
                           "build the result with tinynn.where or tinynn.cat, or assign under "
                           "tinynn.no_grad()")
    if isinstance(value, Tensor):  # copied over from any device, as in PyTorch
        value = backend.to_device(value.array, self.device)
    self.array[index_key(self, key)] = value


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (differentiable).

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.
    """
    if input is None and other is None:
        array = condition.array
        found = (array.reshape(1) if array.ndim == 0 else array).nonzero()  # NumPy refuses 0-d
        return tuple(Tensor(i.astype(numpy.int64)) for i in found)
    like = next((t for t in (input, other, condition) if isinstance(t, Tensor)), None)
    device = like.device if like is not None else None  # where(cond, 1.0, 0.0) has no tensor
    if isinstance(condition, Tensor):
        check_same_device("where", (condition, like))
    dtype = dtypes.result_dtype(input, other)
    a = cast(input, dtype) if isinstance(input, Tensor) else Tensor(as_array(input, dtype, device))
    b = cast(other, dtype) if isinstance(other, Tensor) else Tensor(as_array(other, dtype, device))
    cond = condition.array if isinstance(condition, Tensor) else as_array(condition, device=device)
    return Where.apply(a, b, condition=cond.astype(bool))


# ---------------------------------------------------------------------------- checks


def as_index(index, like):
    """An index given as a list or array becomes a tensor on ``like``'s device."""
    return index if isinstance(index, Tensor) else Tensor(as_array(index, device=like.device))


def _sizes(t):
    """``t``'s shape, a 0-d tensor counting as one element (as PyTorch's checks do)."""
    return tuple(t.shape) or (1,)


def _check_bounds(index, size, dim, error=RuntimeError, message=None):
    """Every index value in ``[0, size)``; negative values are errors too, as in PyTorch."""
    if index.numel() == 0:
        return
    low, high = int(index.array.min()), int(index.array.max())  # one device sync
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        raise error(message or f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _check_along_dim(name, input, dim, index, src=None):
    """PyTorch's checks for gather/scatter: index int64, same ndim, index no larger than
    ``input`` outside ``dim`` (and than ``src`` everywhere), values in range. Returns the
    non-negative dim."""
    index = as_index(index, input)
    check_same_device(name, (input, index, src))
    axis = normalize_dim(dim, input.ndim)
    if index.dtype != numpy.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, but got {index.dtype}")
    if index.numel() == 0:  # PyTorch skips every other check for an empty index
        return index, axis
    for other, what in ((input, "input" if name == "gather" else "self"), (src, "src")):
        if other is not None and len(_sizes(index)) != len(_sizes(other)):
            raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} tensor")
    too_big = [d for d, (i, n) in enumerate(zip(_sizes(index), _sizes(input))) if d != axis and i > n]
    if name == "gather" and too_big:
        raise RuntimeError(f"Size does not match at dimension {too_big[0]} expected index "
                           f"{list(index.shape)} to be smaller than self {list(input.shape)} "
                           f"apart from dimension {axis}")
    if too_big or (src is not None and any(i > n for i, n in zip(_sizes(index), _sizes(src)))):
        raise RuntimeError(f"Expected index {list(index.shape)} to be smaller than self "
                           f"{list(input.shape)} apart from dimension {axis}"
                           + (f" and to be smaller than src {list(src.shape)}" if src is not None else ""))
    if src is not None and src.dtype != input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype "
                           f"(got {input.dtype} and {src.dtype})")
    _check_bounds(index, _sizes(input)[axis], axis)
    return index, axis


def _check_index_vector(name, input, dim, index):
    """PyTorch's checks for index_select/index_add: a 1-D int32/int64 index within range."""
    index = as_index(index, input)
    check_same_device(name, (input, index))
    axis = normalize_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index.dtype not in (numpy.int64, numpy.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    _check_bounds(index, _sizes(input)[axis], axis, IndexError, "index out of range in self")
    return index.array.reshape(-1), axis


# ---------------------------------------------------------------------------- the ops


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` (for ``dim == 1``); ``out`` has
    ``index``'s shape. ``index``: int64 with ``input``'s ndim, no larger than ``input``
    outside ``dim``. Repeated indices add their gradients."""
    index, axis = _check_along_dim("gather", input, dim, index)
    return Gather.apply(input, index=index.array, dim=axis)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src`` written at the indices along ``dim``:
    ``out[i][index[i][j][k]][k] = src[i][j][k]`` (for ``dim == 1``).

    ``src`` a tensor (``input``'s dtype and ndim, at least ``index``'s size) or a number
    (``scatter(x, 1, index, 1.0)`` or ``value=1.0``). ``reduce='add'|'multiply'`` combines
    instead of overwriting. Repeated indices without ``reduce`` leave an arbitrary winner.
    """
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(x, dim, index, 1.0): the value form
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required argument: 'src' (a Tensor) or 'value' (a number)")
    if isinstance(value, Tensor):
        value = value.item()
    return _scatter("scatter", input, dim, index, src, value, reduce)


def _scatter(name, input, dim, index, src, value, reduce):
    index, axis = _check_along_dim(name, input, dim, index, src)
    return Scatter.apply(input, src, index=index.array, dim=axis, value=value, reduce=reduce)


def scatter_add(input, dim, index, src):
    """``scatter`` that adds: ``out[i][index[i][j][k]][k] += src[i][j][k]`` (``dim == 1``),
    repeated indices adding up."""
    return _scatter("scatter_add", input, dim, index, src, None, "add")


def index_select(input, dim, index):
    """The entries of ``input`` at the 1-D ``index`` along ``dim`` (``index`` may repeat);
    the result has ``len(index)`` at ``dim``."""
    index, axis = _check_index_vector("index_select", input, dim, index)
    if input.ndim == 0:
        return IndexSelect.apply(input.reshape(1), index=index, dim=0).reshape(index.shape)
    return IndexSelect.apply(input, index=index, dim=axis)


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source[..., i, ...]`` added at
    ``[..., index[i], ...]`` along ``dim`` (repeats add up). ``source``: ``input``'s shape
    except ``len(index)`` at ``dim``."""
    index, axis = _check_index_vector("index_add", input, dim, index)
    check_same_device("index_add", (input, source))
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype}) and source ({source.dtype}) must "
                           f"have the same scalar type")
    expected = _sizes(input)[:axis] + (index.shape[0],) + _sizes(input)[axis + 1:]
    if _sizes(source)[axis:axis + 1] != (index.shape[0],):
        raise RuntimeError(f"index_add_(): Number of indices ({index.shape[0]}) should be equal to "
                           f"source.size(dim): ({_sizes(source)[axis]}), for dim: {axis}")
    if _sizes(source) != expected:
        raise RuntimeError(f"index_add_(): source {list(source.shape)} must have the shape of self "
                           f"{list(input.shape)} except at dimension {axis}")
    return IndexAdd.apply(input, source, index=index, dim=axis, alpha=alpha)


def masked_fill(input, mask, value):
    """``input`` with ``value`` wherever the bool ``mask`` (broadcastable) is True.

    ``value``: a number or a 0-d tensor; a 0-d tensor that requires grad gets the summed
    gradient of the filled positions. ``input`` gets zero gradient there.
    """
    if mask.dtype != numpy.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    check_same_device("masked_fill", (input, mask))
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        fill = cast(value if value.device == input.device else value.to(input.device), input.dtype)
    else:
        fill = Tensor(get_array_module(input.array).asarray(value, dtype=input.array.dtype))
    return Where.apply(fill, input, condition=mask.array)


def masked_fill_(self, mask, value):
    return inplace(self, "masked_fill_", masked_fill, mask, value)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return inplace(self, "scatter_", scatter, dim, index, src, value=value, reduce=reduce)


def scatter_add_(self, dim, index, src):
    return inplace(self, "scatter_add_", scatter_add, dim, index, src)


def index_add_(self, dim, index, source, *, alpha=1):
    return inplace(self, "index_add_", index_add, dim, index, source, alpha=alpha)


def zero_(self):
    """Fill with zeros in place."""
    check_inplace_allowed(self)
    self.array[...] = 0
    return self


def fill_(self, value):
    check_inplace_allowed(self)
    self.array[...] = value.item() if isinstance(value, Tensor) else value
    return self


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, from any device, cast to this dtype) into this tensor."""
    check_inplace_allowed(self)
    source = src.array if isinstance(src, Tensor) else as_array(src)
    self.array[...] = backend.to_device(source, self.device)
    return self


def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``where(condition, x, y)``."""
    return where(condition, self, other)


register_methods(masked_fill, masked_fill_, gather, scatter, scatter_, scatter_add, scatter_add_,
                 index_select, index_add, index_add_, zero_, fill_, copy_, where=_where_method,
                 __getitem__=_getitem, __setitem__=_setitem)
