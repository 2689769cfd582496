"""Pooling: max, average and adaptive pooling Functions and their functionals.

Input (N, C, H, W) or unbatched (C, H, W); output (N, C, OH, OW) (or (C, OH, OW)), with
PyTorch's sizes, padding rules, ceil_mode, divisors and argmax indices. The windows come
from ``conv_kernels.window_view``: a strided view, reduced by a loop over the KH*KW kernel
offsets (vectorised over batch, channels and output pixels).
"""
import math

from ..autograd import Function
from ..backend import get_array_module, scatter_add
from ..tensor import Tensor
from .conv_kernels import (adaptive_bins, argmax_to_flat_index, avg_pool_divisor, crop,
                           max_over_windows, memory_order, pair, padded, pool_output_size,
                           route_to_argmax, spread_over_windows, sum_over_windows, window_view)

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveMaxPool2d", "AdaptiveAvgPool2d", "max_pool2d",
           "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d", "pool2d_params",
           "adaptive_output_size"]


def _lowest(dtype, xp):
    """The padding value of max pooling: -inf (never 0: an all-negative window keeps its max)."""
    return -math.inf if dtype.kind == "f" else xp.iinfo(dtype).min


class _WindowPool(Function):
    """Shared forward plumbing: unbatched input, padding, the window view, the result layout."""

    def _windows(self, x, kernel, stride, padding, dilation, ceil_mode, fill):
        self.unbatched = x.ndim == 3
        x = x[None] if self.unbatched else x
        h, w = x.shape[2:]
        out_size = tuple(pool_output_size(size, k, s, p, d, ceil_mode)
                         for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
        # A ceil-mode window may hang past the padded border: pad that part too.
        extra = [max(0, (o - 1) * s + (k - 1) * d + 1 - (size + 2 * p)) for o, s, k, d, size, p in
                 zip(out_size, stride, kernel, dilation, (h, w), padding)]
        (ph, pw) = padding
        x_padded = padded(x, ph, ph + extra[0], pw, pw + extra[1], value=fill)
        self.in_size, self.padded_shape, self.order = (h, w), x_padded.shape, memory_order(x_padded)
        return window_view(x_padded, kernel, stride, dilation, out_size)

    def _result(self, out):
        # Left in the input's memory order (batch-last after a conv): ``.view()`` still works
        # wherever no copy is needed, and the next layer reads the strides as they are.
        return out[0] if self.unbatched else out

    def _input_grad(self, gx_padded, padding):
        gx = crop(gx_padded, padding[0], padding[1], *self.in_size)
        return gx[0] if self.unbatched else gx


class MaxPool2d(_WindowPool):
    """Max over each window; backward sends a window's gradient to its (first) maximum."""

    def forward(self, x, *, kernel_size, stride, padding, dilation, ceil_mode, indices=None):
        """``indices``: a list that receives PyTorch's flat int64 indices (Functions return one array)."""
        xp = get_array_module(x)
        win = self._windows(x, kernel_size, stride, padding, dilation, ceil_mode, _lowest(x.dtype, xp))
        out, arg = max_over_windows(win)
        self.save_for_backward(arg)
        self.geometry = (kernel_size, stride, padding, dilation)
        if indices is not None:
            flat = argmax_to_flat_index(arg, self.in_size, kernel_size, stride, padding, dilation)
            indices.append(self._result(flat))
        return self._result(out)

    def backward(self, grad):
        kernel, stride, padding, dilation = self.geometry
        grad = grad[None] if self.unbatched else grad
        arg, = self.saved_arrays
        gx = route_to_argmax(grad, arg, self.padded_shape, self.order, kernel, stride, dilation)
        return self._input_grad(gx, padding)


class AvgPool2d(_WindowPool):
    """Mean over each window, divided by PyTorch's divisor (see ``avg_pool_divisor``)."""

    def forward(self, x, *, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        xp = get_array_module(x)
        win = self._windows(x, kernel_size, stride, padding, (1, 1), ceil_mode, 0)
        out_size = win.shape[-2:]
        if divisor_override:
            divisor = x.dtype.type(divisor_override)
        else:
            divisor = avg_pool_divisor(self.in_size, kernel_size, stride, padding, out_size,
                                            count_include_pad, xp, x.dtype)
        self.geometry = (kernel_size, stride, padding)
        self.save_for_backward(divisor)
        out = sum_over_windows(win)
        out /= divisor
        return self._result(out)

    def backward(self, grad):
        kernel, stride, padding = self.geometry
        grad = grad[None] if self.unbatched else grad
        divisor, = self.saved_arrays
        gx = spread_over_windows(grad / divisor, self.padded_shape, self.order, kernel, stride)
        return self._input_grad(gx, padding)


class AdaptiveMaxPool2d(Function):
    """Adaptive max pooling for bins of unequal size (the evenly dividing case is MaxPool2d).

    Gathers every bin into a (N, C, KH, KW, OH, OW) array, KH x KW the largest bin, with
    short bins padded by repeating their last pixel (a repeat never beats the original).
    Bins may overlap, so backward adds with scatter_add.
    """

    def forward(self, x, *, output_size, indices=None):
        xp = get_array_module(x)
        self.unbatched = x.ndim == 3
        x = x[None] if self.unbatched else x
        n, c, h, w = self.shape = x.shape
        rows, cols = (_bin_members(size, o, xp) for size, o in zip((h, w), output_size))
        win = x[:, :, rows.T[:, None, :, None], cols.T[None, :, None, :]]   # (N, C, KH, KW, OH, OW)
        out, arg = max_over_windows(win)
        i, j = xp.divmod(arg.astype("int64"), cols.shape[1])
        flat = rows[xp.arange(output_size[0])[:, None], i] * w + cols[xp.arange(output_size[1]), j]
        self.save_for_backward(flat)
        if indices is not None:
            indices.append(flat[0] if self.unbatched else flat)
        out = xp.ascontiguousarray(out)
        return out[0] if self.unbatched else out

    def backward(self, grad):
        xp = get_array_module(grad)
        n, c, h, w = self.shape
        grad = grad[None] if self.unbatched else grad
        gx = xp.zeros(n * c * h * w, dtype=grad.dtype)
        planes = xp.arange(n * c, dtype="int64").reshape(n, c, 1, 1) * (h * w)
        flat, = self.saved_arrays
        scatter_add(gx, (planes + flat).ravel(), grad.ravel())
        gx = gx.reshape(self.shape)
        return gx[0] if self.unbatched else gx


class AdaptiveAvgPool2d(Function):
    """Adaptive average pooling as two small matrix products: out = P_h @ x @ P_w.T.

    P_h (OH, H) holds 1/len(bin) over each row bin, so any bin sizes (even overlapping)
    are exact; backward is the transposed products.
    """

    def forward(self, x, *, output_size):
        xp = get_array_module(x)
        h, w = x.shape[-2:]
        p_h, p_w = (_bin_averager(size, o, xp, x.dtype) for size, o in zip((h, w), output_size))
        self.save_for_backward(p_h, p_w)
        return p_h @ x @ p_w.T

    def backward(self, grad):
        p_h, p_w = self.saved_arrays
        return p_h.T @ grad @ p_w


def _bin_members(size, out, xp):
    """(out, K) int64 positions of each adaptive bin, K the longest; short bins repeat their last."""
    starts, ends = adaptive_bins(size, out)
    longest = max(e - s for s, e in zip(starts, ends))
    members = [[min(s + k, e - 1) for k in range(longest)] for s, e in zip(starts, ends)]
    return xp.asarray(members, dtype="int64")


def _bin_averager(size, out, xp, dtype):
    """(out, size) matrix whose row i averages adaptive bin i."""
    starts, ends = adaptive_bins(size, out)
    matrix = xp.zeros((out, size), dtype=dtype)
    for i, (s, e) in enumerate(zip(starts, ends)):
        matrix[i, s:e] = 1.0 / (e - s)
    return matrix


# ---------------------------------------------------------------------------- argument checks

def pool2d_params(kernel_size, stride, padding, dilation=1, name="max_pool2d"):
    """Validated (kernel, stride, padding, dilation) pairs; stride None (or ()) means kernel_size."""
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    if min(kernel) < 1:
        raise ValueError(f"{name}: kernel_size must be greater than zero, but got {kernel}")
    if min(stride) < 1:
        raise ValueError(f"{name}: stride must be greater than zero (non-positive stride is not "
                         f"supported), but got stride={stride}")
    if min(dilation) < 1:
        raise ValueError(f"{name}: dilation must be greater than zero, but got {dilation}")
    if min(padding) < 0 or padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        # PyTorch's rule, which ignores dilation.
        raise ValueError(f"{name}: pad should be at most half of kernel size (and non-negative), "
                         f"but got padding={padding} and kernel_size={kernel}")
    return kernel, stride, padding, dilation


def _check_input(input, name):
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError(f"{name}: expected 3D (C, H, W) or 4D (N, C, H, W) input with non-zero "
                           f"C, H and W, but got input of size {list(input.shape)}")


def _check_output(input, kernel, stride, padding, dilation, ceil_mode, name):
    h, w = input.shape[-2:]
    oh, ow = (pool_output_size(size, k, s, p, d, ceil_mode)
              for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation))
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{name}: given input size {list(input.shape)}, kernel_size {kernel}, "
                           f"stride {stride}, padding {padding} and dilation {dilation}, the "
                           f"calculated output size ({oh}x{ow}) is too small (kernel larger than "
                           f"the padded input)")


def _with_indices(fn, input, return_indices, **params):
    """Apply a max-pool Function; with return_indices also return the int64 indices Tensor."""
    if not return_indices:
        return fn.apply(input, **params)
    indices = []
    out = fn.apply(input, indices=indices, **params)
    return out, Tensor(indices[0])


# ---------------------------------------------------------------------------- functionals

def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, _name="max_pool2d"):
    """Max pooling, as ``torch.nn.functional.max_pool2d``; padding counts as -inf.

    With ``return_indices`` returns ``(output, indices)``, indices being flat positions
    ``h*W + w`` in each input plane (int64), as PyTorch's.
    """
    kernel, stride, padding, dilation = pool2d_params(kernel_size, stride, padding, dilation, _name)
    _check_input(input, _name)
    _check_output(input, kernel, stride, padding, dilation, ceil_mode, _name)
    return _with_indices(MaxPool2d, input, return_indices, kernel_size=kernel, stride=stride,
                         padding=padding, dilation=dilation, ceil_mode=bool(ceil_mode))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None, _name="avg_pool2d"):
    """Average pooling, as ``torch.nn.functional.avg_pool2d`` (zero padding, PyTorch's divisor)."""
    kernel, stride, padding, _ = pool2d_params(kernel_size, stride, padding, 1, _name)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{_name}: divisor must be not zero")
    _check_input(input, _name)
    _check_output(input, kernel, stride, padding, (1, 1), ceil_mode, _name)
    return AvgPool2d.apply(input, kernel_size=kernel, stride=stride, padding=padding,
                           ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad),
                           divisor_override=divisor_override)


def adaptive_output_size(output_size, input_shape, name="adaptive_max_pool2d"):
    """(OH, OW) from an int, a pair, or None entries (None keeps the input's size)."""
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2:
        raise ValueError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
    sizes = tuple(input_shape[-2 + i] if s is None else pair(s, "output_size")[0]
                  for i, s in enumerate(sizes))
    if min(sizes) < 1:
        raise ValueError(f"{name}: output_size must be positive, got {output_size!r}")
    return sizes


def adaptive_max_pool2d(input, output_size, return_indices=False, _name="adaptive_max_pool2d"):
    """Adaptive max pooling: bin i spans [floor(i*H/OH), ceil((i+1)*H/OH)), as PyTorch's."""
    _check_input(input, _name)
    (h, w), (oh, ow) = input.shape[-2:], adaptive_output_size(output_size, input.shape, _name)
    if (oh, ow) == (1, 1):  # global max pooling: one argmax per plane
        values, indices = input.flatten(-2).max(-1, keepdim=True)
        values, indices = values.unsqueeze(-1), indices.unsqueeze(-1)
        return (values, indices) if return_indices else values
    if h % oh == 0 and w % ow == 0:  # equal bins are plain pooling windows
        kernel = (h // oh, w // ow)
        return _with_indices(MaxPool2d, input, return_indices, kernel_size=kernel, stride=kernel,
                             padding=(0, 0), dilation=(1, 1), ceil_mode=False)
    return _with_indices(AdaptiveMaxPool2d, input, return_indices, output_size=(oh, ow))


def adaptive_avg_pool2d(input, output_size, _name="adaptive_avg_pool2d"):
    """Adaptive average pooling: the mean of each bin [floor(i*H/OH), ceil((i+1)*H/OH))."""
    _check_input(input, _name)
    (h, w), (oh, ow) = input.shape[-2:], adaptive_output_size(output_size, input.shape, _name)
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)     # global average pooling
    if h % oh == 0 and w % ow == 0:
        kernel = (h // oh, w // ow)
        return AvgPool2d.apply(input, kernel_size=kernel, stride=kernel, padding=(0, 0),
                               ceil_mode=False, count_include_pad=True, divisor_override=None)
    return AdaptiveAvgPool2d.apply(input, output_size=(oh, ow))
