"""Comparisons and logic: ``== != < <= > >=``, ``equal``, ``allclose``, ``logical_and``...

The results are bool tensors outside the graph (comparisons have no gradient).
"""
import numpy

from ..backend import get_array_module
from ..checks import check_same_device
from ..tensor import Tensor, register_methods

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
           "not_equal", "equal", "allclose", "isclose", "logical_and", "logical_or", "logical_not",
           "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor"]


def _raw(value, like, name):
    """The array (or number) behind ``value``, on ``like``'s device."""
    if isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, Tensor):
        check_same_device(name, (like, value))
        return value.array
    return value


def _elementwise(ufunc_name):
    def compare(input, other):
        xp = get_array_module(input.array)
        return Tensor(getattr(xp, ufunc_name)(input.array, _raw(other, input, ufunc_name)))
    return compare


eq, ne = _elementwise("equal"), _elementwise("not_equal")
lt, le = _elementwise("less"), _elementwise("less_equal")
gt, ge = _elementwise("greater"), _elementwise("greater_equal")
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne
logical_and, logical_or = _elementwise("logical_and"), _elementwise("logical_or")
logical_xor = _elementwise("logical_xor")
bitwise_and, bitwise_or, bitwise_xor = (_elementwise(n) for n in ("bitwise_and", "bitwise_or",
                                                                  "bitwise_xor"))
for _name, _fn in [("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge),
                   ("logical_and", logical_and), ("logical_or", logical_or),
                   ("logical_xor", logical_xor), ("bitwise_and", bitwise_and),
                   ("bitwise_or", bitwise_or), ("bitwise_xor", bitwise_xor)]:
    _fn.__name__ = _name
    _fn.__doc__ = f"Elementwise ``{_name}`` as a bool tensor (no gradient)."


def logical_not(input):
    return Tensor(get_array_module(input.array).logical_not(input.array))


def bitwise_not(input):
    """``~x`` for bool and integer tensors."""
    if input.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not is only defined for integer and bool tensors, got {input.dtype}")
    return Tensor(~input.array)


def equal(input, other):
    """True when both have the same shape and elements."""
    return input.shape == other.shape and bool(eq(input, other).array.all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    xp = get_array_module(input.array)
    return Tensor(xp.isclose(input.array, _raw(other, input, "isclose"), rtol=rtol, atol=atol,
                             equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def _compare_operator(compare, against_none):
    def method(self, other):
        if other is None:  # x == None is False, x != None is True, as for any object
            return against_none
        return compare(self, other)
    return method


register_methods(eq, ne, lt, le, gt, ge, equal, isclose, allclose, logical_and, logical_or, logical_not, logical_xor,
                 bitwise_not, bitwise_and, bitwise_or, bitwise_xor,
                 greater=gt, greater_equal=ge, less=lt, less_equal=le, not_equal=ne,
                 __eq__=_compare_operator(eq, False), __ne__=_compare_operator(ne, True),
                 __lt__=lt, __le__=le, __gt__=gt, __ge__=ge,
                 __invert__=bitwise_not, __and__=bitwise_and, __or__=bitwise_or,
                 __xor__=bitwise_xor, __rand__=bitwise_and, __ror__=bitwise_or)
