"""Linear algebra: ``a @ b`` with NumPy's matmul rules, the fused linear layer, the strict
products of PyTorch (mm, bmm, mv, dot, outer/ger, addmm) and einsum.

The strict products do not broadcast and raise PyTorch's errors for the wrong ranks or
shapes; they all run on ``MatMul`` (or ``AddMM``, its fused scale-and-add form). ``einsum``
first turns its equation into plain letters (ellipsis named, implicit output made explicit,
size-1 dims expanded), then one ``Einsum`` node contracts with ``numpy.einsum``; the
gradient of each operand is again one einsum, of the upstream gradient with the others.
"""
import collections
import string

import numpy

from .. import dtypes
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, as_array, register_methods
from .arithmetic import sum_to_shape
from .conversion import cast

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "addmm", "einsum"]


class MatMul(Function):
    """``a @ b`` for 1-D, 2-D and batched operands (batch dims broadcast)."""

    backward_name = "MmBackward0"

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, grad):
        xp = get_array_module(grad)
        a, b = self.saved_arrays
        # Promote 1-D operands to matrices so one formula covers every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = xp.expand_dims(g, -2) if g.ndim else g.reshape(1)  # 1-D @ 1-D: grad is 0-d
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to_shape(g @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to_shape(xp.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """``x @ weight.T + bias`` in one node: x (*, in), weight (out, in), bias (out,) or None."""

    backward_name = "AddmmBackward0"

    def forward(self, x, weight, bias):
        self.save_for_backward(x, weight)
        out = x @ weight.T
        if bias is not None:
            out += bias  # out is a fresh array: adding in place saves a pass
        return out

    def backward(self, grad):
        x, weight = self.saved_arrays
        x2 = x.reshape(-1, x.shape[-1])
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = (grad @ weight) if self.needs_input_grad[0] else None
        gw = (g2.T @ x2) if self.needs_input_grad[1] else None
        gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
        return gx, gw, gb


def _check_same_dtype(a, b):
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != "
                           f"{b.dtype}")


def check_matmul(a, b):
    """Raise PyTorch's errors for operands that cannot be multiplied."""
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    _check_same_dtype(a, b)
    if a.ndim == 1 and b.ndim == 1 and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                           f"[{b.shape[0]}] to have the same number of elements, but got "
                           f"{a.shape[0]} and {b.shape[0]} elements respectively")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        rows = int(numpy.prod(a.shape[:-1])) if a.ndim > 1 else 1
        cols = b.shape[-1] if b.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({rows}x{inner_a} and {inner_b}x{cols})")
    try:
        numpy.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} do "
                           f"not broadcast") from None


def matmul(input, other):
    """The matrix product with NumPy's rules for 1-D and batched operands."""
    other = other if isinstance(other, Tensor) else Tensor(as_array(other, device=input.device))
    check_matmul(input, other)
    return MatMul.apply(input, other)


def _rmatmul(self, other):
    return matmul(Tensor(as_array(other, device=self.device)), self)


# ---------------------------------------------------------------------------- mm, bmm, mv, dot

# PyTorch's scalar-type names, which its dtype errors print ("found Float and Double").
_TORCH_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                     "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte",
                     "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def mm(input, mat2):
    """The product of two matrices, no broadcasting: ``(n, m) @ (m, p) -> (n, p)``."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    check_matmul(input, mat2)
    return MatMul.apply(input, mat2)


def bmm(input, mat2):
    """A batch of matrix products, no broadcasting: ``(b, n, m) @ (b, m, p) -> (b, n, p)``."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    expected = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != expected:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"{expected} but got: {list(mat2.shape[:2])}.")
    _check_same_dtype(input, mat2)
    return MatMul.apply(input, mat2)


def mv(input, vec):
    """Matrix times vector: ``(n, m) @ (m,) -> (n,)``."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    _check_same_dtype(input, vec)
    return MatMul.apply(input, vec)


def dot(input, tensor):
    """The dot product of two 1-D tensors of the same length: a 0-d tensor."""
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.shape[0] != tensor.shape[0]:
        n, m = input.shape[0], tensor.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           f"respectively")
    if input.dtype != tensor.dtype:
        names = [_TORCH_TYPE_NAMES.get(t.dtype.name, t.dtype.name) for t in (input, tensor)]
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{names[0]} and {names[1]}")
    return MatMul.apply(input, tensor)


def outer(input, vec2):
    """The outer product of two vectors: ``(n,), (m,) -> (n, m)``."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    dtype = dtypes.result_dtype(input, vec2)  # outer promotes, as multiplication does
    # (n, 1) @ (1, m): the backward is two matrix-vector products, no (n, m) temporary.
    return MatMul.apply(cast(input, dtype).reshape(-1, 1), cast(vec2, dtype).reshape(1, -1))


def ger(input, vec2):
    """Alias of ``outer`` (BLAS's name)."""
    return outer(input, vec2)


# ---------------------------------------------------------------------------- addmm

class AddMM(Function):
    """``beta * input + alpha * (mat1 @ mat2)`` in one node: mat1 (n, m), mat2 (m, p), input
    broadcastable to (n, p)."""

    backward_name = "AddmmBackward0"

    def forward(self, input, mat1, mat2, *, beta, alpha):
        self.beta, self.alpha, self.input_shape = beta, alpha, input.shape
        self.save_for_backward(mat1, mat2)
        out = mat1 @ mat2
        if alpha != 1:
            out *= alpha  # out is a fresh array: scaling in place saves a pass
        if beta != 0:  # beta == 0 ignores input entirely, NaN and inf included (PyTorch)
            out += input if beta == 1 else beta * input
        return out

    def backward(self, grad):
        mat1, mat2 = self.saved_arrays
        g_input = g1 = g2 = None
        if self.needs_input_grad[0]:
            g_input = sum_to_shape(grad if self.beta == 1 else grad * self.beta, self.input_shape)
        scaled = grad if self.alpha == 1 else grad * self.alpha
        if self.needs_input_grad[1]:
            g1 = scaled @ mat2.T
        if self.needs_input_grad[2]:
            g2 = mat1.T @ scaled
        return g_input, g1, g2


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to the product's shape
    ``(n, p)``; with ``beta=0`` it is ignored (NaN in it does not propagate)."""
    if mat1.ndim != 2:
        raise RuntimeError("mat1 must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    check_matmul(mat1, mat2)
    _check_same_dtype(input, mat1)
    target = (mat1.shape[0], mat2.shape[1])
    _check_expands(input.shape, target)
    if input.dtype.kind in "biu" and (isinstance(beta, float) or isinstance(alpha, float)):
        raise RuntimeError("For integral input tensors, argument beta and alpha must not be a "
                           "floating point number.")
    return AddMM.apply(input, mat1, mat2, beta=beta, alpha=alpha)


def _check_expands(shape, target):
    """PyTorch's errors when ``shape`` does not broadcast to exactly ``target``."""
    lead = len(target) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand({list(shape)}, size={list(target)}): the number of sizes "
                           f"provided ({len(target)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({len(shape)})")
    for i, n in enumerate(shape):
        if n not in (1, target[i + lead]):
            raise RuntimeError(f"The expanded size of the tensor ({target[i + lead]}) must match "
                               f"the existing size ({n}) at non-singleton dimension {i + lead}.  "
                               f"Target sizes: {list(target)}.  Tensor sizes: {list(shape)}")


# ---------------------------------------------------------------------------- einsum

# Labels, in PyTorch's order: sublist integers 0..51 name 'A'..'Z', 'a'..'z'.
_LETTERS = string.ascii_uppercase + string.ascii_lowercase
_ELLIPSIS = "..."


def _contract(terms, output, arrays):
    equation = ",".join(terms) + "->" + output
    # optimize=True lets NumPy/CuPy contract pairwise through BLAS instead of one nested loop.
    return get_array_module(arrays[0]).einsum(equation, *arrays, optimize=True)


class Einsum(Function):
    """``numpy.einsum`` over operands whose labels already agree in size: ``terms`` (one string
    of letters per operand, no ellipsis) and ``output``. ``einsum`` below gets them there."""

    def forward(self, *arrays, terms, output):
        self.terms, self.output = terms, output
        self.sizes = {label: n for term, a in zip(terms, arrays) for label, n in zip(term, a.shape)}
        if len(arrays) > 1:  # each operand's gradient needs the others
            self.save_for_backward(*arrays)
        return _contract(terms, output, arrays)

    def backward(self, grad):
        arrays = self.saved_arrays if len(self.terms) > 1 else ()
        return tuple(self._input_grad(i, grad, arrays) if needed else None
                     for i, needed in enumerate(self.needs_input_grad))

    def _input_grad(self, i, grad, arrays):
        """The gradient of operand ``i``: the upstream gradient contracted with the others.

        Its own term cannot always be the output of that contraction: a label repeated in it
        (a diagonal, ``'ii'``) gets a fresh name tied to the first by an identity matrix, and
        a label found in no other term (summed away, ``'ij->i'``) is brought back by a vector
        of ones (the gradient is the same along it).
        """
        xp = get_array_module(grad)
        terms = [self.output] + [t for j, t in enumerate(self.terms) if j != i]
        operands = [grad] + [a for j, a in enumerate(arrays) if j != i]
        used = set("".join(self.terms) + self.output)
        fresh = iter(label for label in _LETTERS if label not in used)
        target = ""
        for label in self.terms[i]:
            if label in target:
                renamed = next(fresh)
                terms.append(label + renamed)
                operands.append(xp.eye(self.sizes[label], dtype=grad.dtype))
                label = renamed
            target += label
        for label in target:
            if not any(label in term for term in terms):
                terms.append(label)
                operands.append(xp.ones(self.sizes[label], dtype=grad.dtype))
        return _contract(terms, target, operands)


def _tokenize(text, offset, error):
    """Comma-separated terms of ``text`` as lists of labels and ``"..."`` (``offset``: where
    ``text`` starts in the equation, for error messages)."""
    terms, term, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == ",":
            terms.append(term)
            term = []
        elif c == ".":
            if text[i:i + 3] != _ELLIPSIS:
                raise error(f"found '.' for operand {len(terms)} that is not part of any ellipsis")
            if _ELLIPSIS in term:
                raise error(f"found '.' for operand {len(terms)} for which an ellipsis was "
                            f"already found")
            term.append(_ELLIPSIS)
            i += 2
        elif c in _LETTERS:
            term.append(c)
        else:
            raise error(f"invalid subscript given at index {offset + i} in the equation string, "
                        f"subscripts must be in [a-zA-Z]")
        i += 1
    return terms + [term]


def _parse_einsum(equation, shapes):
    """The equation as letters only: ``(terms, output, sizes)``, where each ellipsis became
    fresh letters (right-aligned, as broadcasting aligns dims), the implicit output is made
    explicit, and ``sizes`` maps each label to its broadcast size. Raises PyTorch's errors,
    naming the equation."""
    def error(message):
        return RuntimeError(f"einsum(): {message} (equation '{equation}')")

    text = "".join(equation.split())  # whitespace may separate the elements
    lhs, arrow, rhs = text.partition("->")
    terms = _tokenize(lhs, 0, error)
    if len(terms) > len(shapes):
        raise error("fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise error("more operands were provided than specified in the equation")
    ellipsis_dims = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        labels = len(term) - (_ELLIPSIS in term)
        if _ELLIPSIS in term and labels > len(shape):
            raise error(f"the number of subscripts in the equation ({labels}) is more than the "
                        f"number of dimensions ({len(shape)}) for operand {k}")
        if _ELLIPSIS not in term and labels != len(shape):
            raise error(f"the number of subscripts in the equation ({labels}) does not match the "
                        f"number of dimensions ({len(shape)}) for operand {k} and no ellipsis "
                        f"was given")
        ellipsis_dims.append(len(shape) - labels if _ELLIPSIS in term else 0)
    free = [label for label in _LETTERS if label not in text]
    rank = max(ellipsis_dims)
    if rank > len(free):
        raise error("too many dimensions: not enough letters left for the ellipsis")
    covered = free[:rank]  # the ellipsis dims, named

    def spell(term, dims=rank):
        named = "".join(covered[rank - dims:])  # an operand's ellipsis: the last `dims` names
        return "".join(named if label == _ELLIPSIS else label for label in term)

    letters = [spell(term, dims) for term, dims in zip(terms, ellipsis_dims)]
    sizes = {}
    for k, (term, shape) in enumerate(zip(letters, shapes)):
        own = {}
        for label, n in zip(term, shape):
            if own.setdefault(label, n) != n:
                raise error(f"subscript {label} is repeated for operand {k} but the sizes don't "
                            f"match, {own[label]} != {n}")
        for label, n in own.items():
            have = sizes.get(label, 1)
            if have != 1 and n not in (1, have):
                where = ("a dimension covered by the ellipsis" if label in covered
                         else f"subscript {label}")
                raise error(f"operands do not broadcast: sizes {have} and {n} for {where} "
                            f"(shapes {[list(s) for s in shapes]})")
            sizes[label] = n if have == 1 else have
    if arrow:
        outputs = _tokenize(rhs, len(lhs) + 2, error)
        if len(outputs) > 1:  # a comma after the arrow
            raise error(f"invalid subscript given at index {len(lhs) + 2 + rhs.index(',')} in the "
                        f"equation string, subscripts must be in [a-zA-Z]")
        output = outputs[0]
        for i, label in enumerate(output):
            if label == _ELLIPSIS:
                continue
            if label in output[:i]:
                raise error(f"output subscript {label} appears more than once in the output")
            if not any(label in term for term in terms):
                raise error(f"output subscript {label} does not appear in the equation for any "
                            f"input operand")
        output = spell(output)
    else:  # implicit: the ellipsis dims, then the labels used once, in alphabetical order
        counts = collections.Counter(label for term in terms for label in term
                                     if label != _ELLIPSIS)
        output = "".join(covered) + "".join(sorted(label for label, c in counts.items() if c == 1))
    return letters, output, sizes


def _sublist_equation(args):
    """``einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])`` as an equation and operands."""
    operands, sublists = list(args[0::2]), list(args[1::2])
    output = operands.pop() if len(args) % 2 else None

    def term(sublist):
        labels = []
        for s in sublist:
            if s is Ellipsis:
                labels.append(_ELLIPSIS)
            elif not 0 <= s < len(_LETTERS):
                raise RuntimeError(f"einsum(): expected subscript to be within the range [0, 52), "
                                   f"but got {s}")
            else:
                labels.append(_LETTERS[s])
        return "".join(labels)

    equation = ",".join(term(s) for s in sublists)
    return equation + ("" if output is None else "->" + term(output)), operands


def einsum(*args):
    """Sum of products over labelled dims, as ``einsum(equation, *operands)``.

    ``'ij,jk->ik'`` is a matrix product; without ``->`` the output holds the labels used
    once, in alphabetical order; ``...`` stands for the dims no label names (broadcast
    together, first in an implicit output, summed when an explicit output leaves them out);
    a label repeated in one operand takes its diagonal (``'ii'`` is the trace). Operands
    may also come as one list, or in the sublist form ``einsum(a, [0, 1], b, [1, 2])``.
    """
    if args and not isinstance(args[0], str):
        equation, operands = _sublist_equation(args)
    else:
        equation, operands = (args[0] if args else ""), list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    terms, output, sizes = _parse_einsum(equation, [tuple(t.shape) for t in operands])
    for t in operands[1:]:
        if t.dtype != operands[0].dtype:
            raise RuntimeError(f"einsum(): expected all operands to have the same dtype, but got "
                               f"{operands[0].dtype} and {t.dtype} (equation '{equation}')")
    # A size-1 dim whose label is larger elsewhere broadcasts (a differentiable expand).
    operands = [t if tuple(t.shape) == tuple(sizes[label] for label in term)
                else t.expand(tuple(sizes[label] for label in term))
                for t, term in zip(operands, terms)]
    return Einsum.apply(*operands, terms=tuple(terms), output=output)


register_methods(matmul, mm, bmm, mv, dot, outer, ger, addmm, __matmul__=matmul,
                 __rmatmul__=_rmatmul)
