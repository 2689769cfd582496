"""2-D convolution: the ``Conv2d`` Function (im2col + one GEMM) and the ``conv2d`` functional.

Shapes: input (N, C, H, W) or unbatched (C, H, W); weight (F, C/groups, KH, KW); bias (F,);
output (N, F, OH, OW) with OH = floor((H + 2*padding - dilation*(KH-1) - 1) / stride) + 1.

Like PyTorch this is a cross-correlation: out[n, f, oh, ow] = bias[f] + sum over (c, i, j) of
weight[f, c, i, j] * input[n, c, oh*sh + i*dh - pad_top, ow*sw + j*dw - pad_left].
"""
from ..autograd import Function
from .conv_kernels import (BATCH_LAST, col2im, conv_output_size, crop, im2col, pair, padded,
                           same_padding)

__all__ = ["Conv2d", "conv2d", "conv2d_padding"]


class Conv2d(Function):
    """Convolution of raw arrays; see ``conv2d`` for the public entry point.

    Forward copies the input once into columns (C*KH*KW, OH*OW*N) and multiplies them by the
    weight matrix: one GEMM (a batched GEMM over groups). Backward is one GEMM for the weight
    gradient; the input's is either one GEMM for the columns' gradient and col2im (KH*KW
    slice-adds), or, for stride 1 where measured faster, a convolution of the padded output
    gradient with the flipped kernel (im2col + one GEMM); see ``input_grad_strategy``.
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
        cols = im2col(x_padded, (kh, kw), stride, dilation, out_size)   # (C*KH*KW, OH*OW*N)
        # Groups see disjoint channel blocks: a batched matmul, (G, F/G, .) @ (G, ., OH*OW*N).
        w3 = weight.reshape(groups, f // groups, -1)
        out = (w3 @ cols.reshape(groups, w3.shape[2], -1)).reshape(f, -1)
        if bias is not None:
            out += bias[:, None]  # out is a fresh array: add in place
        self.save_for_backward(cols, w3)
        self.weight_shape, self.unbatched = weight.shape, unbatched
        self.x_shape, self.padded_shape = x.shape, x_padded.shape
        self.geometry = ((kh, kw), stride, dilation, out_size, (top, left))
        out = out.reshape(f, out_size[0], out_size[1], n).transpose(3, 0, 1, 2)
        return out[0] if unbatched else out

    def backward(self, grad):
        kernel, stride, dilation, out_size, (top, left) = self.geometry
        cols, w3 = self.saved_arrays
        groups, fg, ckk = w3.shape
        if self.unbatched:
            grad = grad[None]
        # (F, OH*OW*N): free when grad is batch-last in memory, as this layer's output was.
        g = grad.transpose(1, 2, 3, 0).reshape(groups, fg, -1)
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            flip_pads = transposed_padding(kernel, dilation, self.padded_shape, self.x_shape,
                                           (top, left))
            if input_grad_strategy(stride, flip_pads, w3.shape, kernel) == "convolution":
                gx = input_grad_by_convolution(grad, w3, kernel, dilation, flip_pads,
                                               self.x_shape)
            else:
                gcols = (w3.transpose(0, 2, 1) @ g).reshape(groups * ckk, -1)  # (C*KH*KW, OH*OW*N)
                gx = col2im(gcols, self.padded_shape, kernel, stride, dilation, out_size)
                gx = crop(gx, top, left, *self.x_shape[2:])
            gx = gx[0] if self.unbatched else gx
        if needs[1]:
            cols = cols.reshape(groups, ckk, -1)
            # (cols @ g.T).T runs faster than g @ cols.T for these long, thin products.
            gw = (cols @ g.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(self.weight_shape)
        gb = g.sum(axis=2).reshape(-1) if needs[2] else None
        return gx, gw, gb


# ---------------------------------------------------------------------------- input gradient

# "auto" picks per shape (see input_grad_strategy); tests force "col2im" or "convolution".
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


def input_grad_strategy(stride, flip_pads, w3_shape, kernel):
    """'convolution' or 'col2im' for the input gradient of a convolution of this geometry.

    col2im costs a (C*KH*KW, OH*OW*N) GEMM result plus KH*KW read-modify-write passes over
    the input gradient; the convolution of the padded output gradient costs one im2col copy
    (F*KH*KW, H*W*N) and one GEMM, and needs stride 1 (and padding <= (K-1)*dilation).
    Measured on ResNet's 3x3 'same' layers (benchmarks/bench_conv_layers.py --resnet): the
    convolution wins by about 1.5-2x when F <= 2*C (columns of similar size).
    """
    if INPUT_GRAD_STRATEGY != "auto":
        wanted = INPUT_GRAD_STRATEGY
    else:
        groups, fg, ckk = w3_shape
        channels_per_group = ckk // (kernel[0] * kernel[1])
        wanted = "convolution" if fg <= 2 * channels_per_group else "col2im"
    if wanted == "convolution" and tuple(stride) == (1, 1) and min(flip_pads) >= 0:
        return "convolution"
    return "col2im"


def input_grad_by_convolution(grad, w3, kernel, dilation, flip_pads, x_shape):
    """Input gradient (N, C, H, W) of a stride-1 convolution, as a convolution of ``grad``.

    grad (N, F, OH, OW) (best batch-last in memory); w3 the forward's weight matrix
    (G, F/G, C/G*KH*KW). The weight is flipped in both spatial axes and its F and C swapped
    (a small copy); the gradient is padded by ``flip_pads`` into a batch-last buffer, copied
    once into columns (F*KH*KW, H*W*N) and multiplied: one GEMM instead of the col2im path's
    GEMM plus KH*KW read-modify-write passes. Returns a view of a batch-last buffer.
    """
    n, c, h, w = x_shape
    groups, fg, ckk = w3.shape
    kh, kw = kernel
    cg = ckk // (kh * kw)
    flipped = w3.reshape(groups, fg, cg, kh, kw)[:, :, :, ::-1, ::-1]
    w_t = flipped.transpose(0, 2, 1, 3, 4).reshape(groups, cg, fg * kh * kw)  # (G, C/G, F/G*KH*KW)
    g_padded = padded(grad, *flip_pads, order=BATCH_LAST)
    cols = im2col(g_padded, kernel, (1, 1), dilation, (h, w))              # (F*KH*KW, H*W*N)
    gx = w_t @ cols.reshape(groups, fg * kh * kw, -1)                     # (G, C/G, H*W*N)
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
    Returns (N, F, OH, OW) (or (F, OH, OW)).
    """
    stride, dilation = check_conv2d_args(stride, dilation, groups, _name)
    padding = conv2d_padding(padding, tuple(weight.shape[-2:]), stride, dilation, _name)
    _check_shapes(input, weight, bias, groups, padding, dilation, _name)
    params = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return Conv2d.apply(input, weight, bias, **params)
