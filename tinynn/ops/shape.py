"""Shape and indexing ops: reshape, permute, expand, indexing, cat, stack."""
from ..autograd import Function
from ..backend import get_array_module, scatter_add


class Reshape(Function):
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
        from .elementwise import sum_to_shape
        return sum_to_shape(grad, self.shape)


def _has_integer_array(key):
    """True when the index has an integer array, where one element can be picked twice."""
    parts = key if isinstance(key, tuple) else (key,)
    return any(hasattr(k, "dtype") and k.dtype.kind in "iu" for k in parts)


class GetItem(Function):
    """``x[key]`` for ints, slices, None, Ellipsis, integer arrays and boolean masks."""

    def forward(self, x, *, key):
        self.shape, self.key = x.shape, key
        return x[key]

    def backward(self, grad):
        xp = get_array_module(grad)
        gx = xp.zeros(self.shape, dtype=grad.dtype)
        if _has_integer_array(self.key):
            scatter_add(gx, self.key, grad)  # repeated indices must add up
        else:
            gx[self.key] = grad
        return gx


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
