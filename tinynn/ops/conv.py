"""2-D convolution: the ``Conv2d`` Function (im2col + GEMM, band by band) and ``conv2d``
(which hands wide 3x3 stride-1 layers to ``winograd.WinogradConv2d``).

Shapes: input (N, C, H, W) or unbatched (C, H, W); weight (F, C/groups, KH, KW); bias (F,);
output (N, F, OH, OW) with OH = floor((H + 2*padding - dilation*(KH-1) - 1) / stride) + 1.

Like PyTorch this is a cross-correlation: out[n, f, oh, ow] = bias[f] + sum over (c, i, j) of
weight[f, c, i, j] * input[n, c, oh*sh + i*dh - pad_top, ow*sw + j*dw - pad_left].
"""
import numpy

from ..autograd import Function
from ..backend import CPU, device_of, get_array_module
from .conv_kernels import (BATCH_LAST, col2im, conv_output_size, crop, im2col_rows, pair, padded,
                           row_chunks, same_padding, window_view)
from .layout import allocate_in_order
from .winograd import WinogradConv2d, use_winograd

__all__ = ["Conv2d", "conv2d", "conv2d_padding"]


# Products with fewer rows (output channels) than this are made band by band; wider ones in
# one GEMM (banded_product). Measured on ResNet-18-64: one GEMM is 1.0-1.4x (median 1.2x)
# faster for its 128- to 512-row products, banding 1.2-1.3x faster for its 64-row ones.
BAND_ROWS_BELOW = 128

# Columns up to this size are kept from forward to backward (copying them again costs more
# than it saves); larger stride-1 ones are not (ResNet-18-16's 16-channel layers: 29 MB each).
KEEP_COLUMNS_BYTES = 8 << 20


class Conv2d(Function):
    """Convolution of raw arrays; see ``conv2d`` for the public entry point.

    Forward multiplies the weight matrix (F, C*KH*KW) by the input's columns (C*KH*KW,
    OH*OW*N) (a batched GEMM over groups), one band of output rows at a time on a CPU when
    F is small (``BAND_ROWS_BELOW``) and the columns are not kept: each band's columns are
    copied from the padded input's window view just before their GEMM reads them, so they
    stay in cache (``row_chunks``). Large stride-1 columns are not kept: backward copies
    them again, band by band, for the weight gradient (one GEMM per band, summed), and only
    the padded input (KH*KW times smaller) is saved; small or strided columns are kept
    (``KEEP_COLUMNS_BYTES``).

    The input gradient is, for stride 1 where measured faster, a convolution of the padded
    output gradient with the flipped kernel (banded like forward); else, with width stride
    1, one GEMM for the gradient of whole padded rows per kernel row and KH row-adds
    (``input_grad_by_rows``); else one GEMM for the columns' gradient and col2im (KH*KW
    slice-adds); see ``input_grad_strategy``.
    The output is a free (N, F, OH, OW) view of the GEMM's (F, OH, OW, N) result; see
    ``conv_kernels`` for why arrays stay batch-last in memory.
    """

    def forward(self, x, weight, bias, *, stride, padding, dilation, groups):
        """padding = (top, bottom, left, right); stride and dilation are (h, w) pairs."""
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        n, c, h, w = x.shape
        f, _, kh, kw = weight.shape
        top, bottom, left, right = padding
        out_size = (conv_output_size(h, kh, stride[0], (top, bottom), dilation[0]),
                    conv_output_size(w, kw, stride[1], (left, right), dilation[1]))
        x_padded = padded(x, top, bottom, left, right, order=BATCH_LAST)
        # Groups see disjoint channel blocks: a batched matmul, (G, F/G, .) @ (G, ., OH*OW*N).
        w3 = weight.reshape(groups, f // groups, -1)
        win = window_view(x_padded, (kh, kw), stride, dilation, out_size)
        # Keep the columns for backward when they are small, or strided (slow to copy again:
        # runs of N floats); large stride-1 ones are copied again, band by band, in backward.
        keep = (tuple(stride) != (1, 1)
                or c * kh * kw * out_size[0] * out_size[1] * n * x.itemsize <= KEEP_COLUMNS_BYTES)
        out, cols = banded_product(w3, win, out_size, device_of(x) == CPU, keep)  # (F, OH*OW*N)
        if bias is not None:
            out += bias[:, None]  # out is a fresh array: add in place
        self.save_for_backward(cols if keep else x_padded, w3)
        self.kept_columns = keep
        self.weight_shape, self.unbatched = weight.shape, unbatched
        self.x_shape, self.padded_shape = x.shape, x_padded.shape
        self.geometry = ((kh, kw), stride, dilation, out_size, (top, left))
        out = out.reshape(f, out_size[0], out_size[1], n).transpose(3, 0, 1, 2)
        return out[0] if unbatched else out

    def backward(self, grad):
        kernel, stride, dilation, out_size, (top, left) = self.geometry
        source, w3 = self.saved_arrays     # the columns, or the padded input to copy them from
        groups, fg, ckk = w3.shape
        on_cpu = device_of(grad) == CPU
        if self.unbatched:
            grad = grad[None]
        # (F, OH*OW*N): free when grad is batch-last in memory, as this layer's output was.
        g = grad.transpose(1, 2, 3, 0).reshape(groups, fg, -1)
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            flip_pads = transposed_padding(kernel, dilation, self.padded_shape, self.x_shape,
                                           (top, left))
            strategy = input_grad_strategy(stride, flip_pads, w3.shape, kernel,
                                           self.x_shape[2:], out_size)
            if strategy == "convolution":
                gx = input_grad_by_convolution(grad, w3, kernel, dilation, flip_pads,
                                               self.x_shape, on_cpu)
            else:   # the padded input's gradient, cropped
                if strategy == "rows":
                    gx = input_grad_by_rows(grad, w3, kernel, stride, dilation,
                                            self.padded_shape)
                else:
                    # (C*KH*KW, OH*OW*N)
                    gcols = (w3.transpose(0, 2, 1) @ g).reshape(groups * ckk, -1)
                    gx = col2im(gcols, self.padded_shape, kernel, stride, dilation, out_size)
                gx = crop(gx, top, left, *self.x_shape[2:])
            gx = gx[0] if self.unbatched else gx
        if needs[1]:
            # Written into an array of the weight's shape that owns its memory (a reshaped
            # view would be copied once more when it becomes the weight's .grad).
            gw = get_array_module(g).empty(self.weight_shape, dtype=g.dtype)
            if self.kept_columns:
                weight_grad_product(source.reshape(groups, ckk, -1), g, gw.reshape(w3.shape),
                                    on_cpu=on_cpu)
            else:
                win = window_view(source, kernel, stride, dilation, out_size)
                banded_weight_grad(win, g, out_size, on_cpu, gw.reshape(w3.shape))
        gb = g.reshape(groups * fg, -1).sum(axis=1) if needs[2] else None
        return gx, gw, gb


def banded_product(w3, win, out_size, on_cpu, keep=False):
    """``w3 @ im2col(...)``, band by band where that pays (see below): w3 (G, F/G, C/G*KH*KW),
    ``win`` the padded input's window view (N, C, KH, KW, OH, OW).

    Returns the product (F, OH*OW*N), batch-last like the input, and, with ``keep``, all
    the columns (C*KH*KW, OH*OW*N) (each band written into one buffer), else None.
    """
    xp = get_array_module(w3)
    groups, fg, ckk = w3.shape
    n, (oh, ow) = win.shape[0], out_size
    kept = xp.empty((groups * ckk, oh, ow * n), dtype=w3.dtype) if keep else None
    if not on_cpu:   # a GPU has no cache to fit: one GEMM over all the columns
        cols = im2col_rows(win, 0, oh, kept)
        return (w3 @ cols.reshape(groups, ckk, -1)).reshape(groups * fg, -1), kept
    out = numpy.empty((groups, fg, oh, ow * n), dtype=w3.dtype)
    # A product with few rows reads each column a few times only: it runs at cache speed
    # or not at all, so its columns are made band by band. With many rows it is compute
    # bound wherever the columns are, and one GEMM saves re-packing the weight per band;
    # kept columns (small or strided) fill one buffer anyway, and one GEMM over it measured
    # 2-8% faster (ResNet-18-16's 7x7 layers, the lecture CNN) than its bands.
    one_gemm = kept is not None or groups * fg >= BAND_ROWS_BELOW
    bands = [(0, oh)] if one_gemm else row_chunks(oh, groups * ckk * ow * n * w3.itemsize)
    for start, stop in bands:
        cols = im2col_rows(win, start, stop, None if kept is None else kept[:, start:stop])
        # out= a band of rows: each (g, f) row of it is one contiguous run, as BLAS wants.
        # NumPy arrays only (this is the CPU path), hence numpy, not xp.
        numpy.matmul(w3, cols.reshape(groups, ckk, -1),
                     out=out[:, :, start:stop].reshape(groups, fg, -1))
    return out.reshape(groups * fg, -1), kept


def banded_weight_grad(win, g, out_size, on_cpu, out):
    """The weight gradient, summed over bands of g_band @ cols_band.T into ``out`` (G, F/G,
    C/G*KH*KW), where the columns are copied again from the saved padded input (``win``, its
    window view (N, C, KH, KW, OH, OW)) band by band; g is (G, F/G, OH*OW*N).

    Oriented as in ``weight_grad_product``: a large result is summed in ``out`` itself; a
    small one as the faster transposed products, copied into ``out`` once at the end.
    """
    n, c, kh, kw = win.shape[:4]
    oh, ow = out_size
    groups, fg, ckk = out.shape
    g4 = g.reshape(groups, fg, oh, ow * n)
    small = out.nbytes <= TRANSPOSED_WEIGHT_GRAD_BYTES
    total = None                  # the transposed sum (G, C/G*KH*KW, F/G) of a small result
    bands = row_chunks(oh, c * kh * kw * ow * n * g.itemsize, on_cpu)
    for band, (start, stop) in enumerate(bands):
        cols = im2col_rows(win, start, stop).reshape(groups, ckk, -1)
        g_band = g4[:, :, start:stop].reshape(groups, fg, -1)
        if not small:
            weight_grad_product(cols, g_band, out, accumulate=band > 0, on_cpu=on_cpu)
        elif total is None:
            total = columns_times_grad(cols, g_band, on_cpu)
        else:
            total += columns_times_grad(cols, g_band, on_cpu)
    if small:
        out[...] = total.transpose(0, 2, 1)


# A weight gradient up to this size is computed transposed and copied into the weight's
# layout; a larger one is computed in that layout directly (see weight_grad_product).
TRANSPOSED_WEIGHT_GRAD_BYTES = 1 << 20


def weight_grad_product(cols, g, out, accumulate=False, on_cpu=True):
    """``g @ cols.T`` written (or, with ``accumulate``, added) into ``out`` (G, F/G,
    C/G*KH*KW): the weight gradient from columns (G, C/G*KH*KW, P) and the output gradient
    (G, F/G, P).

    ``out`` is C-contiguous, the weight's own layout: an optimizer's elementwise update over
    a parameter and a gradient in different memory orders runs 3x slower. Measured: for
    long P and a small result, ``(cols @ g.T).T`` runs 1.2-2x faster than ``g @ cols.T`` and
    its transposing copy into ``out`` costs little; for results over 1 MB (ResNet's 256- and
    512-channel layers) that copy costs more than computing ``g @ cols.T`` in place.
    """
    if out.nbytes <= TRANSPOSED_WEIGHT_GRAD_BYTES:
        product = columns_times_grad(cols, g, on_cpu).transpose(0, 2, 1)
    elif not accumulate:
        get_array_module(out).matmul(g, cols.transpose(0, 2, 1), out=out)
        return
    else:
        product = g @ cols.transpose(0, 2, 1)
    if accumulate:
        out += product
    else:
        out[...] = product


# A weight gradient of at most this many elements (a first layer's, over one or three input
# channels) is summed over blocks of P on a CPU (see columns_times_grad), each block's
# product at most TINY_PRODUCT multiply-adds.
TINY_WEIGHT_GRAD = 576
TINY_PRODUCT = 1 << 19


def columns_times_grad(cols, g, on_cpu=True):
    """``cols @ g.T`` (G, C/G*KH*KW, F/G): the weight gradient, transposed, from columns
    (G, C/G*KH*KW, P) and the output gradient (G, F/G, P).

    A tiny result summed over a long P (a first layer's: 25 x 10 over 36,864 columns in the
    lecture CNN) is the one shape OpenBLAS multiplies badly, at 25-30 GFLOP/s: it packs
    both operands in blocks and splits the few rows over its threads. Products of up to
    100^3 multiply-adds go to its small-matrix kernels instead, which read the operands in
    place, so on a CPU such a gradient is one batched product over blocks of P, each under
    half that size, and a sum over the blocks. Measured (2-core EPYC, OpenBLAS 0.3.31):
    3-4x faster for results of 144-576 elements (the first layers of the lecture CNN and of
    ResNet-18 at widths 16 and 64), no faster at 864 and 1.3-1.5x slower at 1,000-1,200.
    """
    groups, ckk, p = cols.shape
    fg = g.shape[1]
    block = max(1, TINY_PRODUCT // (ckk * fg))
    blocks = p // block
    if not on_cpu or ckk * fg > TINY_WEIGHT_GRAD or blocks < 2:
        return cols @ g.transpose(0, 2, 1)
    whole = blocks * block
    # (G, blocks, C/G*KH*KW, block) @ (G, blocks, block, F/G): strided views, no copies
    col_blocks = cols[:, :, :whole].reshape(groups, ckk, blocks, block).transpose(0, 2, 1, 3)
    grad_blocks = g[:, :, :whole].reshape(groups, fg, blocks, block).transpose(0, 2, 3, 1)
    total = (col_blocks @ grad_blocks).sum(axis=1)
    if whole < p:
        total += cols[:, :, whole:] @ g[:, :, whole:].transpose(0, 2, 1)
    return total


# ---------------------------------------------------------------------------- input gradient

# "auto" picks per shape (see input_grad_strategy); tests force "col2im", "rows" or
# "convolution".
INPUT_GRAD_STRATEGY = "auto"


def transposed_padding(kernel, dilation, padded_shape, x_shape, top_left):
    """(top, bottom, left, right) padding of the output gradient that turns a stride-1
    convolution's input gradient into a plain convolution with the flipped kernel.

    gx[h] = sum_i W[i] * g[h + top - i*dh]: with g padded by (KH-1)*dh - top above (and
    (KH-1)*dh - bottom below) and the kernel flipped, that is a 'valid' cross-correlation.
    A side padded by more than (K-1)*d gives a negative entry (that path is then not used).
    """
    (kh, kw), (dh, dw), (top, left) = kernel, dilation, top_left
    bottom = padded_shape[2] - x_shape[2] - top
    right = padded_shape[3] - x_shape[3] - left
    reach_h, reach_w = (kh - 1) * dh, (kw - 1) * dw
    return reach_h - top, reach_h - bottom, reach_w - left, reach_w - right


def input_grad_strategy(stride, flip_pads, w3_shape, kernel, in_size, out_size):
    """'convolution', 'rows' or 'col2im' for the input gradient of a convolution of this
    geometry.

    col2im costs a (C*KH*KW, OH*OW*N) GEMM result plus KH*KW read-modify-write passes over
    the input gradient; 'rows' (input_grad_by_rows) a (C*KH, OH*Wp*N) result (Wp the padded
    width) and KH passes, and needs stride 1 along the width; the convolution of the padded
    output gradient costs columns (F*KH*KW, H*W*N) and their GEMM, and needs stride 1 (and
    padding <= (K-1)*dilation). Measured (benchmarks/bench_conv_layers.py): the convolution
    is 1.5-2x faster than col2im on ResNet's 3x3 'same' layers (F = C, H*W = OH*OW), where
    'rows' is about as fast, and 2-3x slower on the lecture CNN's 'valid' 10->20 5x5 on
    12x12 (F*H*W = 4.5 C*OH*OW), where 'rows' is 1.5x faster than col2im. So: the
    convolution while F*H*W <= 2*C*OH*OW, else 'rows' where the width stride is 1, else
    col2im ('rows' multiplies the zeros between strided outputs too: 1.5-2x slower than
    col2im on ResNet's stride-2 layers).
    ``in_size`` (H, W) and ``out_size`` (OH, OW) are the unpadded input's and the output's.
    """
    if INPUT_GRAD_STRATEGY != "auto":
        wanted = INPUT_GRAD_STRATEGY
    else:
        groups, fg, ckk = w3_shape
        channels_per_group = ckk // (kernel[0] * kernel[1])
        conv_size = fg * in_size[0] * in_size[1]
        col2im_size = channels_per_group * out_size[0] * out_size[1]
        wanted = "convolution" if conv_size <= 2 * col2im_size else "rows"
    if wanted == "convolution" and tuple(stride) == (1, 1) and min(flip_pads) >= 0:
        return "convolution"
    if wanted != "col2im" and stride[1] == 1:
        return "rows"
    return "col2im"


def input_grad_by_rows(grad, w3, kernel, stride, dilation, padded_shape):
    """Gradient (N, C, Hp, Wp) of the padded input of a convolution with stride 1 along the
    width, a view of a batch-last buffer: col2im with the kernel's columns folded into the GEMM.

    grad (N, F, OH, OW) (best batch-last in memory); w3 the forward's weight matrix (G, F/G,
    C/G*KH*KW). The output gradient is copied KW times, copy j shifted right by j*dw along
    the padded width with zeros around it: (F*KW, OH*Wp*N). One GEMM with the weight
    arranged (C*KH, F*KW) then gives, for each kernel row i, the gradient of whole padded
    rows (C, OH, Wp*N), added at row offset i*dh (rows i*dh + oh*sh): KH read-modify-write
    passes over runs of Wp*N floats, where col2im makes KH*KW passes over runs of OW*N
    from a result KW*OW/Wp times larger.
    """
    xp = get_array_module(grad)
    groups, fg, ckk = w3.shape
    kh, kw = kernel
    cg = ckk // (kh * kw)
    n, c, hp, wp = padded_shape
    oh, ow = grad.shape[2:]
    (sh, _), (dh, dw) = stride, dilation
    # row (c, i), column (f, j) of each group's block
    w_rows = (w3.reshape(groups, fg, cg, kh, kw).transpose(0, 2, 3, 1, 4)
              .reshape(groups, cg * kh, fg * kw))
    g = grad.transpose(1, 2, 3, 0)                 # (F, OH, OW, N): free when batch-last
    shifted = xp.empty((groups * fg, kw, oh, wp, n), dtype=grad.dtype)
    for j in range(kw):
        start = j * dw
        shifted[:, j, :, :start] = 0
        shifted[:, j, :, start:start + ow] = g
        shifted[:, j, :, start + ow:] = 0
    rows = (w_rows @ shifted.reshape(groups, fg * kw, -1)).reshape(c, kh, oh, wp * n)
    gx = allocate_in_order(xp, padded_shape, grad.dtype, BATCH_LAST, 0)
    gx_rows = gx.transpose(1, 2, 3, 0).reshape(c, hp, wp * n)     # a view of gx's buffer
    for i in range(kh):
        gx_rows[:, i * dh: i * dh + (oh - 1) * sh + 1: sh] += rows[:, i]
    return gx


def input_grad_by_convolution(grad, w3, kernel, dilation, flip_pads, x_shape, on_cpu=True):
    """Input gradient (N, C, H, W) of a stride-1 convolution, as a convolution of ``grad``.

    grad (N, F, OH, OW) (best batch-last in memory); w3 the forward's weight matrix
    (G, F/G, C/G*KH*KW). The weight is flipped in both spatial axes and its F and C swapped
    (a small copy); the gradient is padded by ``flip_pads`` into a batch-last buffer, copied
    into columns (F*KH*KW, H*W*N) and multiplied, band by band as in forward: GEMMs instead of
    the col2im path's GEMM plus KH*KW read-modify-write passes. Returns a view of a
    batch-last buffer.
    """
    n, c, h, w = x_shape
    groups, fg, ckk = w3.shape
    kh, kw = kernel
    cg = ckk // (kh * kw)
    flipped = w3.reshape(groups, fg, cg, kh, kw)[:, :, :, ::-1, ::-1]
    w_t = flipped.transpose(0, 2, 1, 3, 4).reshape(groups, cg, fg * kh * kw)  # (G, C/G, F/G*KH*KW)
    g_padded = padded(grad, *flip_pads, order=BATCH_LAST)
    win = window_view(g_padded, kernel, (1, 1), dilation, (h, w))
    gx = banded_product(w_t, win, (h, w), on_cpu)[0]                       # (C, H*W*N)
    return gx.reshape(c, h, w, n).transpose(3, 0, 1, 2)


# ---------------------------------------------------------------------------- argument checks

def conv2d_padding(padding, kernel_size, stride, dilation, name="conv2d"):
    """(top, bottom, left, right) for an int, a pair, 'valid' or 'same' (extra cell after)."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                             f"{{'valid', 'same'}}")
        if stride != (1, 1):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions "
                             f"(stride={stride})")
        return same_padding(kernel_size[0], dilation[0]) + same_padding(kernel_size[1], dilation[1])
    ph, pw = pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"{name}: negative padding is not supported, got padding={padding}")
    return ph, ph, pw, pw


def check_conv2d_args(stride, dilation, groups, name="conv2d"):
    """Validate the hyper-parameters that do not depend on the input; returns (stride, dilation)."""
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    if min(stride) < 1:
        raise ValueError(f"{name}: non-positive stride is not supported, got stride={stride}")
    if min(dilation) < 1:
        raise ValueError(f"{name}: dilation must be positive, got dilation={dilation}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive integer, got groups={groups!r}")
    return stride, dilation


def _check_shapes(input, weight, bias, groups, padding, dilation, name):
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{name}: expected 3D (unbatched) or 4D (batched) input, but got input "
                           f"of size: {list(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"{name}: expected a 4D weight (out_channels, in_channels/groups, kH, kW), "
                           f"got weight of size {list(weight.shape)}")
    channels = input.shape[-3]
    f, cg, kh, kw = weight.shape
    if channels != cg * groups:
        raise RuntimeError(f"{name}: given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {cg * groups} channels, but "
                           f"got {channels} channels instead")
    if f % groups:
        raise RuntimeError(f"{name}: given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {list(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (f,):
        raise RuntimeError(f"{name}: expected bias of shape ({f},) for weight of size "
                           f"{list(weight.shape)}, got bias of shape {tuple(bias.shape)}")
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{name}: input type ({input.dtype}) and {what} type ({t.dtype}) "
                               f"should be the same")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point input, got {input.dtype}")
    h, w = input.shape[-2:]
    top, bottom, left, right = padding
    eff_h, eff_w = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if h + top + bottom < eff_h or w + left + right < eff_w:
        raise RuntimeError(f"{name}: calculated padded input size per channel: "
                           f"({h + top + bottom} x {w + left + right}). Kernel size: ({eff_h} x "
                           f"{eff_w}). Kernel size can't be greater than actual input size "
                           f"(input {list(input.shape)}, weight {list(weight.shape)})")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, _name="conv2d"):
    """2-D convolution over (N, C, H, W) or (C, H, W) input, as ``torch.nn.functional.conv2d``.

    weight (F, C/groups, KH, KW), bias (F,) or None; stride, dilation: int or pair; padding:
    int, pair, 'valid' or 'same' (stride 1 only; an odd total pads one more after).
    Returns (N, F, OH, OW) (or (F, OH, OW)). Wide 3x3 stride-1 layers on the CPU run as
    Winograd F(2x2, 3x3) (``ops/winograd.py``, ``use_winograd``), the rest as ``Conv2d``.
    """
    stride, dilation = check_conv2d_args(stride, dilation, groups, _name)
    padding = conv2d_padding(padding, tuple(weight.shape[-2:]), stride, dilation, _name)
    _check_shapes(input, weight, bias, groups, padding, dilation, _name)
    if use_winograd(input.array, weight.array, stride, dilation, groups, padding):
        return WinogradConv2d.apply(input, weight, bias, padding=padding)
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return Conv2d.apply(input, weight, bias, **params)
