"""Embedding lookup: the ``Embedding`` Function and ``embedding`` (``F.embedding``).

Forward is a row gather: ``weight[indices]``, weight (num_embeddings, D), indices (*) of
integers -> (*, D). Its gradient is the transposed gather, a scatter-add: row i of
dL/dweight is the sum of the output gradients of every position that looked up row i
(an index repeated k times adds k gradients). The row ``padding_idx`` gets no gradient.
"""
import warnings

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..checks import check_same_device
from ..grad_mode import no_grad

__all__ = ["Embedding", "embedding"]


class Embedding(Function):
    """``weight[indices]``; the only differentiable input is the weight.

    indices (an integer array) is a keyword parameter, saved for backward.
    padding_idx: a row that gets no gradient (or None). scale_grad_by_freq: divide each
    position's gradient by how often its index occurs in ``indices``.
    """

    backward_name = "EmbeddingBackward0"

    def forward(self, weight, *, indices, padding_idx, scale_grad_by_freq):
        self.num_weights = weight.shape[0]
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        self.save_for_backward(indices)
        return weight[indices]

    def backward(self, grad):
        xp = get_array_module(grad)
        indices, = self.saved_arrays
        flat = indices.reshape(-1)
        rows = grad.reshape(flat.size, -1)
        if self.scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=self.num_weights)
            rows = rows / counts[flat][:, None].astype(grad.dtype)
        gweight = xp.zeros((self.num_weights, rows.shape[1]), dtype=grad.dtype)
        backend.scatter_add(gweight, flat, rows)
        if self.padding_idx is not None:
            gweight[self.padding_idx] = 0
        return gweight


def _check_padding_idx(padding_idx, num_embeddings):
    """PyTorch's padding_idx rule: in [-num_embeddings, num_embeddings), negatives counted
    from the end (an AssertionError otherwise, as PyTorch asserts)."""
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < num_embeddings, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -num_embeddings, "Padding_idx must be within num_embeddings"
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def embedding_renorm_(weight, indices, max_norm, norm_type=2.0):
    """Rescale, in place, every row of ``weight`` that ``indices`` names and whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (factor max_norm / (norm +
    1e-7), as PyTorch). Outside autograd: it changes the parameter's values, not the graph."""
    xp = get_array_module(weight.array)
    with no_grad():
        rows = xp.unique(indices.array.reshape(-1))
        selected = weight.array[rows]
        magnitude = xp.abs(selected)
        if norm_type == float("inf"):
            norms = magnitude.max(axis=1)
        else:
            norms = (magnitude ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.array[rows] = (selected * scale[:, None]).astype(weight.dtype, copy=False)
    return weight


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (num_embeddings, D) at the integer ``input`` (*) -> (*, D),
    as ``torch.nn.functional.embedding``.

    padding_idx: that row gets no gradient. max_norm: rows looked up whose norm exceeds it
    are first rescaled in place (``embedding_renorm_``). scale_grad_by_freq: gradients
    divided by the index's frequency in the batch. sparse=True is accepted with a warning:
    the gradient here is always a dense (num_embeddings, D) array.
    """
    if input.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead "
                           f"(while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    check_same_device("embedding: indices and weight", (input, weight))
    num = weight.shape[0]
    padding_idx = _check_padding_idx(padding_idx, num)
    if input.numel():
        low, high = int(input.array.min()), int(input.array.max())
        if low < 0 or high >= num:
            raise IndexError(f"index out of range in self (embedding of {num} rows got index "
                             f"{low if low < 0 else high})")
    if sparse:
        warnings.warn("tinynn's embedding has no sparse gradients: sparse=True gives the "
                      "usual dense gradient", stacklevel=2)
    if max_norm is not None:
        embedding_renorm_(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, indices=input.array, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))
