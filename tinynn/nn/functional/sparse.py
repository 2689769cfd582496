"""Index-based functions: ``F.embedding`` (kernel in ``tinynn/ops/embedding.py``), ``F.one_hot``."""
from ... import backend, dtypes
from ...ops.embedding import embedding
from ...tensor import Tensor

__all__ = ["embedding", "one_hot"]


def one_hot(tensor, num_classes=-1):
    """Class indices (*) -> int64 one-hot (*, num_classes)."""
    if tensor.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of integer dtype")
    xp = backend.get_array_module(tensor.array)
    if num_classes == -1:
        num_classes = int(tensor.array.max()) + 1 if tensor.numel() else 0
    if tensor.numel() and (int(tensor.array.min()) < 0 or int(tensor.array.max()) >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes - 1}]")
    eye = xp.eye(num_classes, dtype=dtypes.int64)
    return Tensor(eye[tensor.array])
