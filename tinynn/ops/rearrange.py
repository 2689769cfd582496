"""Rearranging ops: split, chunk, unbind, narrow, repeat, tile, repeat_interleave, flip, roll,
movedim/moveaxis, swapaxes/swapdims, unflatten.

Most are a few lines on top of ops that already exist: a piece of ``split`` is a slice
(``x[:, 2:4]``, a view, as in PyTorch), ``movedim`` is a ``permute``, ``unflatten`` a
``reshape``. Three ops copy data and get a Function of their own, because their backward
has a closed form much cheaper than the generic one:

* ``repeat`` / ``tile`` (``np.tile``): each output dim of size ``r * s`` splits into
  ``(r, s)``, and the gradient is the sum over the ``r`` copies;
* ``repeat_interleave`` with one count ``r``: the output dim splits into ``(s, r)``, and the
  gradient sums over ``r``;
* ``flip`` and ``roll``: the gradient is the upstream gradient flipped, or rolled back.

Shapes in the docstrings: ``(*, n, *)`` is any tensor with ``n`` elements along ``dim``.
"""
import numpy

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..checks import normalize_dim, shape_args
from ..tensor import Tensor, register_methods

__all__ = ["split", "chunk", "unbind", "narrow", "repeat", "tile", "repeat_interleave", "flip",
           "roll", "movedim", "moveaxis", "swapaxes", "swapdims", "unflatten"]


class Repeat(Function):
    """``np.tile(x, reps)`` with ``len(reps) >= x.ndim`` (extra reps add leading dims)."""

    def forward(self, x, *, reps):
        self.shape, self.reps = x.shape, reps
        return get_array_module(x).tile(x, reps)

    def backward(self, grad):
        padded = (1,) * (len(self.reps) - len(self.shape)) + tuple(self.shape)
        # Output dim i holds reps[i] copies of input dim i: view it as (reps[i], size[i]).
        pairs = tuple(n for pair in zip(self.reps, padded) for n in pair)
        copies = tuple(range(0, len(pairs), 2))
        return grad.reshape(pairs).sum(axis=copies).reshape(self.shape)


class RepeatInterleave(Function):
    """``np.repeat(x, repeats, axis=dim)`` with one count ``repeats`` for every element."""

    def forward(self, x, *, repeats, dim):
        self.shape, self.repeats, self.dim = x.shape, repeats, dim
        return get_array_module(x).repeat(x, repeats, axis=dim)

    def backward(self, grad):
        # Output dim holds each element `repeats` times in a row: view it as (n, repeats).
        d = self.dim
        split = self.shape[:d] + (self.shape[d], self.repeats) + self.shape[d + 1:]
        return grad.reshape(split).sum(axis=d + 1)


class Flip(Function):
    """Reverse the order of elements along ``dims``."""

    def forward(self, x, *, dims):
        self.dims = dims
        return get_array_module(x).flip(x, dims).copy()  # PyTorch's flip copies; NumPy's is a view

    def backward(self, grad):
        return get_array_module(grad).flip(grad, self.dims)


class Roll(Function):
    """Shift elements cyclically along ``dims`` (all elements, flattened, when ``dims`` is None)."""

    def forward(self, x, *, shifts, dims):
        self.shifts, self.dims = shifts, dims
        return get_array_module(x).roll(x, shifts, dims)

    def backward(self, grad):
        back = tuple(-s for s in self.shifts) if self.dims is not None else -self.shifts
        return get_array_module(grad).roll(grad, back, self.dims)


# ---------------------------------------------------------------------------- pieces

def _slice(input, axis, start, stop):
    """``input[..., start:stop, ...]`` along ``axis``: a view, differentiable.

    A node has one output, so each piece of ``split`` / ``unbind`` is its own slice node
    and its backward fills an input-sized array: k pieces used cost k such arrays.
    """
    return input[(slice(None),) * axis + (slice(start, stop),)]


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``tensor`` along ``dim``: all of size ``split_size`` (the last one smaller),
    or of the sizes in a list. Returns a tuple of views.

    ``(*, n, *)`` -> ``(*, s_0, *), (*, s_1, *), ...`` with ``sum(s_i) == n``.
    """
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, tensor.ndim)
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                               f"tensor's size at dimension {axis}), but got split_sizes={sizes}")
    else:
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        count = max(-(-n // size), 1) if size else 1
        sizes = [min(size, n - i * size) for i in range(count)]
    bounds = numpy.cumsum([0] + sizes).tolist()
    return tuple(_slice(tensor, axis, start, stop) for start, stop in zip(bounds, bounds[1:]))


def chunk(input, chunks, dim=0):
    """``split`` into pieces of ``ceil(n / chunks)``: possibly fewer than ``chunks`` pieces."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    axis = normalize_dim(dim, input.ndim)
    n = input.shape[axis]
    if n == 0:  # PyTorch returns `chunks` empty pieces here
        return split(input, [0] * chunks, axis)
    return split(input, -(-n // chunks), axis)


def unbind(input, dim=0):
    """The slices along ``dim``, each without that dim: ``(*, n, *)`` -> n of ``(*, *)``."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim(dim, input.ndim)
    lead = (slice(None),) * axis
    return tuple(input[lead + (i,)] for i in range(input.shape[axis]))


def narrow(input, dim, start, length):
    """Elements ``start .. start + length - 1`` along ``dim`` (``start`` may be negative, or a
    0-d integer Tensor): a view. ``(*, n, *)`` -> ``(*, length, *)``."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    axis = normalize_dim(dim, input.ndim)
    n, start = input.shape[axis], int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    start = start + n if start < 0 else start
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice(input, axis, start, start + length)


# ---------------------------------------------------------------------------- copies

def repeat(input, *sizes):
    """Tile ``input`` ``sizes[i]`` times along dim ``i``; more sizes than dims add leading dims.

    ``(s_0, ..., s_k)`` with sizes ``(r_0, ..., r_k)`` -> ``(r_0 * s_0, ..., r_k * s_k)``.
    """
    reps = shape_args(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    padded = (1,) * (len(reps) - input.ndim) + tuple(input.shape)
    if any(r < 0 for r in reps):
        out = [r * n for r, n in zip(reps, padded)]
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(out)}: {out}")
    return Repeat.apply(input, reps=reps)


def tile(input, *args, dims=None):
    """``repeat``, except that fewer ``dims`` than dimensions is allowed (ones are prepended).

    ``dims`` as in ``tile(x, (2, 2))``, ``x.tile(2, 2)`` or ``tile(x, dims=(2, 2))``.
    """
    reps = shape_args(args if dims is None else (dims,))
    return repeat(input, (1,) * (input.ndim - len(reps)) + reps)


def _repeat_counts(repeats, n):
    """``repeats`` (an int, or a 0-d / 1-d integer Tensor) as a list of n counts, or an int."""
    if isinstance(repeats, Tensor):  # the counts fix the output's shape: read them on the host
        if repeats.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = [int(c) for c in numpy.atleast_1d(backend.to_numpy(repeats.array))]
        if len(counts) == 1:
            counts = counts[0]
        elif len(counts) != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {len(counts)} and input.size(0) = {n}")
    else:
        counts = int(repeats)
    if min(numpy.atleast_1d(counts), default=0) < 0:
        raise RuntimeError("repeats can not be negative")
    return counts


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times in a row (``numpy.repeat``); with ``dim=None`` the
    input is flattened first. ``repeat_interleave(counts)`` alone gives the indices
    ``0, 0, ..., 1, 1, ...`` with index ``i`` repeated ``counts[i]`` times.
    """
    if repeats is None:  # torch.repeat_interleave(repeats)
        counts = _repeat_counts(input, input.numel())
        index = numpy.repeat(numpy.arange(len(numpy.atleast_1d(counts))), counts)
        return Tensor(backend.to_device(index.astype(numpy.int64), input.device))
    x = input.reshape(-1) if dim is None else input
    axis = normalize_dim(0 if dim is None else dim, x.ndim)
    n = x.shape[axis] if x.ndim else 1
    counts = _repeat_counts(repeats, n)
    total = counts * n if isinstance(counts, int) else sum(counts)
    if output_size is not None and output_size != total:
        raise RuntimeError(f"repeat_interleave: output_size={output_size} does not match the "
                           f"sum of repeats ({total})")
    if isinstance(counts, int):
        return RepeatInterleave.apply(x, repeats=counts, dim=axis)
    # One count per element: gather with an index array (its gradient adds the copies).
    index = numpy.repeat(numpy.arange(n), counts)
    return x[(slice(None),) * axis + (backend.to_device(index, x.device),)]


def flip(input, *args, dims=None):
    """Reverse the order of elements along each of ``dims`` (a copy, as in PyTorch).

    ``dims`` as in ``flip(x, [0, 1])``, ``x.flip(0, 1)`` or ``flip(x, dims=(0, 1))``.
    """
    axes = normalize_dim(shape_args(args if dims is None else (dims,)), input.ndim)
    for i, axis in enumerate(axes):
        if axis in axes[:i]:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
    if input.ndim == 0:
        axes = ()
    return Flip.apply(input, dims=axes)


def roll(input, shifts, dims=None):
    """Shift elements cyclically by ``shifts`` along ``dims``; with ``dims=None`` over the
    flattened tensor, keeping the shape."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    shifts = tuple(int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return Roll.apply(input, shifts=shifts[0], dims=None)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    axes = normalize_dim(dims, input.ndim)
    if input.ndim == 0:
        return Roll.apply(input, shifts=0, dims=None)
    return Roll.apply(input, shifts=shifts, dims=axes)


# ---------------------------------------------------------------------------- views

def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (ints or tuples); the other dims keep
    their order. A view (``permute``)."""
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src_axes, dst_axes = normalize_dim(src, input.ndim), normalize_dim(dst, input.ndim)
    for name, given, axes in (("source", src, src_axes), ("destination", dst, dst_axes)):
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})")
    if input.ndim == 0:
        return input
    order = [None] * input.ndim
    for s, d in zip(src_axes, dst_axes):
        order[d] = s
    rest = iter(i for i in range(input.ndim) if i not in src_axes)
    return input.permute(tuple(next(rest) if o is None else o for o in order))


def moveaxis(input, source, destination):
    """Alias of ``movedim`` (NumPy's name)."""
    return movedim(input, source, destination)


def swapaxes(input, axis0, axis1):
    """Alias of ``transpose`` (NumPy's name)."""
    return input.transpose(axis0, axis1)


def swapdims(input, dim0, dim1):
    """Alias of ``transpose``."""
    return input.transpose(dim0, dim1)


def unflatten(input, dim, sizes):
    """Expand dim ``dim`` into ``sizes`` (one of them may be -1): the inverse of ``flatten``.

    ``(*, n, *)`` -> ``(*, sizes..., *)`` with ``prod(sizes) == n``.
    """
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    axis = normalize_dim(dim, input.ndim)
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    n = input.shape[axis] if input.ndim else 1
    known = int(numpy.prod([s for s in sizes if s != -1]))
    if -1 in sizes and known and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n or -1 in sizes:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size "
                           f"of dim {dim} ({n}) in the input tensor")
    shape = tuple(input.shape)
    return input.reshape(shape[:axis] + sizes + shape[axis + 1:])


register_methods(split, chunk, unbind, narrow, repeat, tile, repeat_interleave, flip, roll,
                 movedim, moveaxis, swapaxes, swapdims, unflatten)
