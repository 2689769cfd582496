"""Shape ops: reshape, view, flatten, squeeze, unsqueeze, permute, transpose, expand, cat, stack.

Reshapes and permutations return views of the input's array wherever NumPy can (no copy);
``view`` insists on it, as in PyTorch.
"""
import numpy

from .. import backend, dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..checks import normalize_dim, shape_args
from ..tensor import Tensor, register_methods
from .arithmetic import sum_to_shape
from .conversion import cast

__all__ = ["reshape", "flatten", "squeeze", "unsqueeze", "permute", "transpose", "t", "cat",
           "concat", "concatenate", "stack"]


class Reshape(Function):
    backward_name = "ViewBackward0"

    def forward(self, x, *, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.shape)


class Permute(Function):
    def forward(self, x, *, dims):
        self.inverse = tuple(sorted(range(len(dims)), key=lambda i: dims[i]))
        return x.transpose(dims)

    def backward(self, grad):
        return grad.transpose(self.inverse)


class Expand(Function):
    def forward(self, x, *, shape):
        self.shape = x.shape
        return get_array_module(x).broadcast_to(x, shape)

    def backward(self, grad):
        return sum_to_shape(grad, self.shape)


class Cat(Function):
    def forward(self, *arrays, dim):
        self.dim = dim
        self.bounds = []
        start = 0
        for a in arrays:
            self.bounds.append((start, start + a.shape[dim]))
            start += a.shape[dim]
        return get_array_module(arrays[0]).concatenate(arrays, axis=dim)

    def backward(self, grad):
        index = [slice(None)] * grad.ndim
        grads = []
        for start, stop in self.bounds:
            index[self.dim] = slice(start, stop)
            grads.append(grad[tuple(index)])
        return tuple(grads)


class Stack(Function):
    def forward(self, *arrays, dim):
        self.dim, self.count = dim, len(arrays)
        return get_array_module(arrays[0]).stack(arrays, axis=dim)

    def backward(self, grad):
        xp = get_array_module(grad)
        return tuple(xp.take(grad, i, axis=self.dim) for i in range(self.count))


def resolve_shape(shape, size):
    """Fill in one -1 and check the element count, with PyTorch's error message."""
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = int(numpy.prod([n for n in shape if n != -1]))
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif known != size or any(n < 0 for n in shape):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return shape


def reshape(input, *shape):
    """The same elements in a new shape (one size may be -1); a view when possible."""
    shape = shape_args(shape)
    if shape == input.shape:
        return input
    return Reshape.apply(input, shape=resolve_shape(shape, input.numel()))


def view(self, *shape):
    """Like ``reshape``, but never copies: an error when the strides do not allow it.

    ``view(dtype)`` reinterprets the bytes as another dtype of the same size.
    """
    if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, numpy.dtype)):
        return _view_as_dtype(self, shape[0])
    out = reshape(self, *shape)
    # A reshape that had to copy starts in a new buffer; a true view starts where we do.
    if out is not self and self.numel() and \
            backend.data_pointer(out.array) != backend.data_pointer(self.array):
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.")
    return out


def _view_as_dtype(tensor, dtype):
    if numpy.dtype(dtype).itemsize != tensor.array.itemsize:
        raise RuntimeError(f"view(dtype): {tensor.dtype} and {dtype} have different sizes")
    return Tensor(tensor.array.view(numpy.dtype(dtype)))


def view_as(self, other):
    return view(self, other.shape)


def reshape_as(self, other):
    return reshape(self, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a 0-d tensor becomes 1-d)."""
    if input.ndim == 0:
        return reshape(input, 1)
    start, end = normalize_dim(start_dim, input.ndim), normalize_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape
    return reshape(input, shape[:start] + (int(numpy.prod(shape[start:end + 1])),) + shape[end + 1:])


def squeeze(input, dim=None):
    """Drop size-1 dims (all of them, or those in ``dim``, an int or a tuple)."""
    if dim is None:
        shape = tuple(n for n in input.shape if n != 1)
    else:
        axes = normalize_dim(dim if isinstance(dim, (tuple, list)) else (dim,), input.ndim)
        shape = tuple(n for i, n in enumerate(input.shape) if not (i in axes and n == 1))
    return reshape(input, shape)


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim`` (from -ndim-1 to ndim)."""
    axis = normalize_dim(dim, input.ndim + 1)
    return reshape(input, input.shape[:axis] + (1,) + input.shape[axis:])


def permute(input, *dims):
    """Reorder the dims: ``x.permute(2, 0, 1)`` (a view)."""
    dims = normalize_dim(shape_args(dims), input.ndim)
    if sorted(dims) != list(range(input.ndim)):
        raise RuntimeError(f"permute(): dims {dims} are not a permutation of the "
                           f"{input.ndim} dimensions of a tensor of shape {tuple(input.shape)}")
    return Permute.apply(input, dims=dims)


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    dims = list(range(input.ndim))
    a, b = normalize_dim(dim0, input.ndim), normalize_dim(dim1, input.ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, dims=tuple(dims)) if input.ndim > 1 else input


def t(input):
    """Transpose a matrix (0-d and 1-d tensors come back as they are)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def _T(self):
    return permute(self, *reversed(range(self.ndim))) if self.ndim > 1 else self


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def expand(self, *sizes):
    """A broadcast view with ``sizes`` (-1 keeps a dim); gradients sum back."""
    sizes = shape_args(sizes)
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({self.ndim})")
    if -1 in sizes[:lead]:
        raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension "
                           f"(sizes {sizes} for a tensor of shape {tuple(self.shape)})")
    shape = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(sizes))
    try:
        numpy.broadcast_shapes(self.shape, shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor {shape} must match the existing "
                           f"size {tuple(self.shape)} at non-singleton dimensions") from None
    return Expand.apply(self, shape=shape)


def expand_as(self, other):
    return expand(self, other.shape)


def _same_dtype_tensors(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    dtype = dtypes.result_dtype(*tensors)
    return [cast(t, dtype) for t in tensors]


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    tensors = _same_dtype_tensors(tensors, "cat")
    axis = normalize_dim(dim, tensors[0].ndim)
    for i, t in enumerate(tensors):
        if t.ndim != tensors[0].ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, tensors[0].shape))
                                            if k != axis):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. Expected "
                               f"{tuple(tensors[0].shape)} but got {tuple(t.shape)} for tensor number "
                               f"{i} in the list.")
    return Cat.apply(*tensors, dim=axis)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    tensors = _same_dtype_tensors(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tuple(tensors[0].shape)} at entry 0 and {tuple(t.shape)} at entry {i}")
    return Stack.apply(*tensors, dim=normalize_dim(dim, tensors[0].ndim + 1))


def resize_(self, *sizes):
    """Give the tensor a new shape in place, keeping its first elements (new ones are 0).

    Only for tensors outside autograd, as in PyTorch.
    """
    if self.requires_grad:  # even under no_grad, as in PyTorch
        raise RuntimeError("cannot resize variables that require grad")
    shape = shape_args(sizes)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    size = int(numpy.prod(shape))
    if size == self.numel():
        self.array = self.array.reshape(shape)
        return self
    xp = get_array_module(self.array)
    resized = xp.zeros(size, dtype=self.array.dtype)
    kept = min(size, self.numel())
    resized[:kept] = self.array.reshape(-1)[:kept]
    self.array = resized.reshape(shape)
    return self


def resize_as_(self, other):
    return resize_(self, other.shape)


register_methods(reshape, view, view_as, reshape_as, flatten, squeeze, unsqueeze, permute,
                 transpose, t, expand, expand_as, resize_, resize_as_, T=property(_T),
                 mT=property(_mT))
