"""Memory layouts of arrays: which axis is outermost in memory, and new arrays laid out
like another.

Elementwise NumPy passes over arrays of different memory orders cannot run along one
contiguous inner loop and get several times slower (a broadcast gradient multiplied into
a batch-last array took 20x longer), so ops that make a new array for another op's input
or gradient lay it out like that input.
"""
from ..backend import get_array_module

__all__ = ["memory_order", "allocate_in_order", "same_layout"]


def memory_order(x):
    """x's axes from the largest stride to the smallest (``(0, 1, 2, 3)`` when C-contiguous)."""
    return tuple(sorted(range(x.ndim), key=lambda a: -abs(x.strides[a])))


def allocate_in_order(xp, shape, dtype, order, value):
    """A ``shape``-shaped view of a new buffer laid out in memory in axis ``order`` (outermost
    first), filled with ``value`` (left uninitialised when ``value`` is None)."""
    physical = [shape[a] for a in order]
    if value is None:      # every element is written next
        buffer = xp.empty(physical, dtype=dtype)
    else:
        buffer = xp.zeros(physical, dtype=dtype) if value == 0 else xp.full(physical, value, dtype=dtype)
    inverse = sorted(range(len(order)), key=lambda a: order[a])
    return buffer.transpose(inverse)


def same_layout(x, like):
    """``x`` laid out in memory like ``like`` (same shape), copying only when it is not.

    Elementwise ops over arrays with different memory orders cannot run along one
    contiguous inner loop and get several times slower.
    """
    if memory_order(x) == memory_order(like):
        return x
    out = get_array_module(x).empty_like(like, dtype=x.dtype)
    out[...] = x
    return out
