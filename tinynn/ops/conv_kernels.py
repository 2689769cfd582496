"""Array kernels behind convolution and pooling: sizes, padding, window views, im2col/col2im.

Everything here works on raw NumPy or CuPy arrays shaped (N, C, H, W), whatever their
strides; the differentiable wrappers live in ``ops/conv.py`` and ``ops/pooling.py``.

The one idea: the window at output position (oh, ow) reads, at kernel offset (i, j), the
padded input pixel (oh*sh + i*dh, ow*sw + j*dw). For a fixed offset (i, j) these pixels
form a strided slice of the input, so

* the window view (N, C, KH, KW, OH, OW) is a single ``as_strided`` call, no copy;
* its adjoint, col2im, adds each offset's (N, C, OH, OW) block back into that strided
  slice: KH*KW vectorised adds, never a loop over pixels and never ``add.at``
  (which is 10-60x slower, numpy #5922).

Memory layout. Convolution keeps its arrays *batch-last* in memory, (C, H, W, N), while
their shape stays (N, C, H, W) (a transposed view, free). Then one window slice
(C, OH, OW, N) is made of runs of N (stride 1: OW*N) adjacent floats, so im2col and col2im
copy long contiguous runs instead of rows of OW floats, and the GEMM's result
(F, OH*OW*N) is already the next layer's input in the same layout. Pooling keeps whatever
layout it is given.
"""
from ..backend import as_strided, get_array_module
from .layout import allocate_in_order, memory_order, same_layout

__all__ = ["pair", "conv_output_size", "pool_output_size", "same_padding", "BATCH_LAST",
           "memory_order", "same_layout", "padded", "crop", "window_view", "offset_slices",
           "overlapping", "im2col", "im2col_rows", "row_chunks", "col2im", "offset_dtype",
           "max_over_windows", "route_to_argmax", "argmax_to_flat_index",
           "sum_over_windows", "spread_over_windows", "avg_pool_divisor", "adaptive_bins"]


# ---------------------------------------------------------------------------- sizes

def pair(value, name="kernel_size"):
    """``(v, v)`` for an int, the two ints of a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return pair(value[0], name)[0], pair(value[1], name)[0]
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(value), int(value)


def conv_output_size(size, kernel, stride=1, padding=0, dilation=1):
    """``floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1`` (PyTorch's Conv2d).

    ``padding`` is per side; a ``(before, after)`` pair gives asymmetric padding ('same').
    """
    total = sum(padding) if isinstance(padding, (tuple, list)) else 2 * padding
    return (size + total - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(size, kernel, stride, padding=0, dilation=1, ceil_mode=False):
    """PyTorch's pooling output size: floor by default, ceil with ``ceil_mode``.

    With ``ceil_mode`` a last, partial window is kept only if it starts inside the input
    or the left padding, never one that would start in the right padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def same_padding(kernel, dilation):
    """(before, after) padding for 'same': PyTorch puts the odd extra cell after (right/bottom)."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


# ---------------------------------------------------------------------------- layout and padding

BATCH_LAST = (1, 2, 3, 0)   # memory order (outermost first) of a (C, H, W, N) buffer


def padded(x, top=0, bottom=0, left=0, right=0, value=0.0, order=None):
    """``x`` (N, C, H, W) inside a border of ``value``, in memory order ``order``.

    ``order`` defaults to x's own layout; ``x`` itself is returned (no copy) when there is
    no border and it already has that layout, contiguously.
    """
    order = memory_order(x) if order is None else order
    if not (top or bottom or left or right) and x.transpose(order).flags.c_contiguous:
        return x
    n, c, h, w = x.shape
    out = allocate_in_order(get_array_module(x), (n, c, h + top + bottom, w + left + right),
                            x.dtype, order, None)
    # Fill only the border: the inside is written once, by the copy of x (one pass, not two).
    height, width = out.shape[2:]
    for rows, cols in ((slice(0, top), slice(None)), (slice(top + h, height), slice(None)),
                       (slice(top, top + h), slice(0, left)),
                       (slice(top, top + h), slice(left + w, width))):
        out[:, :, rows, cols] = value
    out[:, :, top:top + h, left:left + w] = x
    return out


def crop(x, top, left, height, width):
    """The (height, width) block of ``x`` (N, C, H, W) at (top, left): a view, no copy."""
    if top == 0 and left == 0 and tuple(x.shape[2:]) == (height, width):
        return x
    return x[:, :, top:top + height, left:left + width]


# ---------------------------------------------------------------------------- windows

def window_view(x, kernel, stride, dilation, out_size):
    """All sliding windows of ``x`` (N, C, H, W) as a read-only view (N, C, KH, KW, OH, OW).

    ``view[n, c, i, j, oh, ow] == x[n, c, oh*sh + i*dh, ow*sw + j*dw]``; no data is copied.
    """
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_size
    n, c, h, w = x.shape
    # as_strided does not check bounds: refuse a geometry that would read past the array.
    if oh < 1 or ow < 1 or (oh - 1) * sh + (kh - 1) * dh >= h or (ow - 1) * sw + (kw - 1) * dw >= w:
        raise ValueError(f"window_view: windows {tuple(kernel)} (stride {tuple(stride)}, dilation "
                         f"{tuple(dilation)}, output {tuple(out_size)}) do not fit in an input of "
                         f"shape {tuple(x.shape)}")
    s_n, s_c, s_h, s_w = x.strides
    return as_strided(x, (n, c, kh, kw, oh, ow), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))


def offset_slices(i, j, stride, dilation, out_size):
    """The (rows, cols) slices of the padded input read at kernel offset (i, j)."""
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, out_size
    return (slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))


def overlapping(kernel, stride, dilation=(1, 1)):
    """True when one input pixel can fall in two windows (then backward must add, not assign)."""
    return any((k - 1) * d + 1 > s for k, s, d in zip(kernel, stride, dilation))


def im2col(x, kernel, stride, dilation, out_size):
    """Columns (C*KH*KW, OH*OW*N) of the padded input ``x`` (N, C, H, W): the one copy.

    Row ``(c, i, j)`` holds every pixel that kernel weight ``(c, i, j)`` multiplies, so the
    convolution is the single GEMM ``W (F, C*KH*KW) @ cols``. Fast when ``x`` is batch-last.
    """
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel, out_size
    win = window_view(x, kernel, stride, dilation, out_size)          # (N, C, KH, KW, OH, OW)
    return win.transpose(1, 2, 3, 4, 5, 0).reshape(c * kh * kw, oh * ow * n)


def im2col_rows(win, start, stop, out=None):
    """Columns (C*KH*KW, (stop-start)*OW*N) of output rows ``start:stop`` of the window view
    ``win`` (N, C, KH, KW, OH, OW): one band of ``im2col``'s columns (a copy).

    ``out``: a buffer to write them into instead, shaped (C*KH*KW, stop-start, OW*N) with
    its last axis contiguous (e.g. a band of one buffer holding all the columns); it is
    returned as it is.
    """
    n, c, kh, kw, _, ow = win.shape
    band = win[:, :, :, :, start:stop].transpose(1, 2, 3, 4, 5, 0)
    if out is None:
        return band.reshape(c * kh * kw, -1)
    get_array_module(win).copyto(out.reshape(c, kh, kw, stop - start, ow, n), band)
    return out


# Bytes of columns per band: small enough to stay in cache between the copy that writes them
# and the GEMM that reads them (1-2 MB measured best on the 2-core EPYC; 7 MB was 1.5x slower).
BAND_BYTES = 2 << 20


def row_chunks(rows, bytes_per_row, on_cpu=True, band_bytes=None):
    """``(start, stop)`` bands of ``rows`` output rows, each about ``band_bytes`` (default
    ``BAND_BYTES``) of columns, at least one row.

    One band on a GPU, where a single large GEMM is best.
    """
    band_bytes = BAND_BYTES if band_bytes is None else band_bytes
    step = rows if not on_cpu else max(1, min(rows, band_bytes // max(1, bytes_per_row)))
    return [(start, min(rows, start + step)) for start in range(0, rows, step)]


def col2im(cols, x_shape, kernel, stride, dilation, out_size):
    """The adjoint of im2col: columns (C*KH*KW, OH*OW*N) summed back into an (N, C, H, W) array.

    The result is a view of a batch-last buffer; pixels shared by overlapping windows
    receive the sum of all their columns.
    """
    n, c = x_shape[:2]
    (kh, kw), (oh, ow) = kernel, out_size
    blocks = cols.reshape(c, kh, kw, oh, ow, n)
    out = allocate_in_order(get_array_module(cols), x_shape, cols.dtype, BATCH_LAST, 0)
    for i in range(kh):
        for j in range(kw):
            rows, columns = offset_slices(i, j, stride, dilation, out_size)
            out[:, :, rows, columns] += blocks[:, i, j].transpose(3, 0, 1, 2)
    return out


# ---------------------------------------------------------------------------- max pooling

def offset_dtype(count):
    """The smallest signed integer dtype that numbers ``count`` kernel offsets."""
    for name, limit in (("int8", 2 ** 7), ("int16", 2 ** 15), ("int32", 2 ** 31)):
        if count < limit:
            return name
    return "int64"


def max_over_windows(win):
    """Max of each window of ``win`` (N, C, KH, KW, OH, OW) and the kernel offset holding it.

    Returns ``(out, arg)``, both (N, C, OH, OW) in the input's layout. ``arg = i*KW + j`` is
    the first maximum in window order (strict ``>``); NaN propagates and the last NaN is
    the argmax, as in PyTorch.
    """
    xp = get_array_module(win)
    kh, kw = win.shape[2:4]
    out = win[:, :, 0, 0].copy(order="K")
    arg = xp.zeros_like(out, dtype=offset_dtype(kh * kw))
    better = xp.empty_like(out, dtype=bool)
    step = xp.empty_like(arg)
    for k in range(1, kh * kw):
        candidate = win[:, :, k // kw, k % kw]
        xp.greater(candidate, out, out=better)
        xp.maximum(out, candidate, out=out)      # propagates NaN
        # arg = where(better, k, arg), as integer arithmetic (a masked copy is ~5x slower)
        xp.subtract(k, arg, out=step)
        step *= better
        arg += step
    # A window holding NaN has a NaN maximum; only then does the argmax need NaN's rule
    # (checking once here saves two passes per offset in the usual, NaN-free case).
    if bool(xp.isnan(out).any()):
        return _max_over_windows_with_nan(win)
    return out, arg


def _max_over_windows_with_nan(win):
    """``max_over_windows`` where some window holds NaN: a NaN counts as larger than
    anything, so the last NaN of a window is its argmax."""
    xp = get_array_module(win)
    kh, kw = win.shape[2:4]
    out = win[:, :, 0, 0].copy(order="K")
    arg = xp.zeros_like(out, dtype=offset_dtype(kh * kw))
    for k in range(1, kh * kw):
        candidate = win[:, :, k // kw, k % kw]
        better = (candidate > out) | xp.isnan(candidate)
        xp.maximum(out, candidate, out=out)
        arg += (k - arg) * better
    return out, arg


def route_to_argmax(grad, arg, padded_shape, order, kernel, stride, dilation):
    """Max-pool backward: each window's gradient goes to its argmax pixel.

    The result has the padded input's (N, C, H, W) shape, laid out in memory ``order``.
    Loops over the KH*KW kernel offsets; where windows overlap, a pixel that is the maximum
    of several windows receives the sum of their gradients.
    """
    xp = get_array_module(grad)
    kh, kw = kernel
    out_size = grad.shape[2:]
    add = overlapping(kernel, stride, dilation)
    # Windows that tile the whole padded input write every pixel: no zero fill needed.
    tiled = all(k == s and d == 1 and o * s == size for k, s, d, o, size
                in zip(kernel, stride, dilation, out_size, padded_shape[2:]))
    gx = allocate_in_order(xp, padded_shape, grad.dtype, order, None if tiled else 0)
    grad = same_layout(grad, arg)
    chosen = xp.empty_like(arg, dtype=bool)
    for k in range(kh * kw):
        rows, cols = offset_slices(k // kw, k % kw, stride, dilation, out_size)
        xp.equal(arg, k, out=chosen)
        # grad * chosen is ~4x faster than where(chosen, grad, 0); it differs only for an
        # infinite upstream gradient (inf * 0 = nan in the window's other pixels).
        if add:
            gx[:, :, rows, cols] += grad * chosen
        else:  # each pixel lies in one window at most: write in place
            xp.multiply(grad, chosen, out=gx[:, :, rows, cols])
    return gx


def argmax_to_flat_index(arg, in_size, kernel, stride, padding, dilation):
    """PyTorch's max-pool indices (int64): the flat position ``h*W + w`` in the unpadded plane."""
    xp = get_array_module(arg)
    (w, (kh, kw), (sh, sw), (ph, pw), (dh, dw)) = in_size[1], kernel, stride, padding, dilation
    oh, ow = arg.shape[-2:]
    i, j = xp.divmod(arg.astype("int64"), kw)
    rows = xp.arange(oh, dtype="int64")[:, None] * sh - ph + i * dh
    cols = xp.arange(ow, dtype="int64") * sw - pw + j * dw
    return rows * w + cols


# ---------------------------------------------------------------------------- average pooling

def sum_over_windows(win):
    """Sum of each window of ``win`` (N, C, KH, KW, OH, OW), as (N, C, OH, OW)."""
    kh, kw = win.shape[2:4]
    out = win[:, :, 0, 0].copy(order="K")
    for k in range(1, kh * kw):
        out += win[:, :, k // kw, k % kw]
    return out


def spread_over_windows(grad, padded_shape, order, kernel, stride):
    """Adjoint of ``sum_over_windows``: every pixel of a window gets the window's gradient.

    The result has the padded input's (N, C, H, W) shape, laid out in memory ``order``.
    """
    xp = get_array_module(grad)
    kh, kw = kernel
    out_size = grad.shape[2:]
    gx = allocate_in_order(xp, padded_shape, grad.dtype, order, 0)
    grad = same_layout(grad, gx[:, :, :out_size[0], :out_size[1]])
    for k in range(kh * kw):
        rows, cols = offset_slices(k // kw, k % kw, stride, (1, 1), out_size)
        gx[:, :, rows, cols] += grad
    return gx


def avg_pool_divisor(in_size, kernel, stride, padding, out_size, count_include_pad, xp, dtype):
    """PyTorch's AvgPool2d divisor for each output cell, shape (OH, OW).

    With ``count_include_pad`` a window counts its padded cells, but not the part of a
    ceil-mode window that hangs past the padded border; without it only input pixels count.
    """
    sizes = []
    for size, k, s, p, o in zip(in_size, kernel, stride, padding, out_size):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, size)
        sizes.append(end - start)
    return (sizes[0][:, None] * sizes[1][None, :]).astype(dtype)


# ---------------------------------------------------------------------------- adaptive pooling

def adaptive_bins(in_size, out_size):
    """Start and end (exclusive) of each adaptive-pooling bin: floor(i*H/o), ceil((i+1)*H/o)."""
    starts = [(i * in_size) // out_size for i in range(out_size)]
    ends = [-(-((i + 1) * in_size) // out_size) for i in range(out_size)]
    return starts, ends
