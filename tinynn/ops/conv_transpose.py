"""Transposed 2-D convolution: the adjoint of ``Conv2d``, built from the same kernels.

Shapes: input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_in, C_out/groups, KH, KW)
(input channels first); bias (C_out,); output (N, C_out, OH, OW) with

    OH = (H - 1)*stride - 2*padding + dilation*(KH - 1) + output_padding + 1.

Definition: every input pixel scatters a copy of the kernel, scaled by its value:

    out[n, co, h*sh + i*dh - ph, w*sw + j*dw - pw] += input[n, ci, h, w] * weight[ci, co, i, j]

for every (i, j) and every output channel ``co`` of ``ci``'s group (cells that fall in the
padding are dropped), then ``bias[co]`` is added.

Why it is cheap here. Take the convolution ``conv(x) = conv2d(x, weight, stride, padding,
dilation, groups)`` that maps (N, C_out, OH, OW) to (N, C_in, H, W): the same weight array,
read as (F = C_in, C/groups = C_out/groups, KH, KW). The transposed convolution is its
adjoint, ``<conv(x), y> = <x, conv_transpose(y)>`` for all x and y, so the three passes of
``ops/conv.py``'s Conv2d swap roles:

* forward = Conv2d's input gradient: one GEMM ``weight.T @ input`` gives the columns
  (C_out*KH*KW, H*W*N), and ``col2im`` adds them into the output (KH*KW slice-adds);
* backward w.r.t. the input = Conv2d's forward: ``im2col`` of the output gradient, one GEMM;
* backward w.r.t. the weight = one GEMM of the input with those same columns.

``output_padding``: with stride > 1, conv2d maps several input sizes to the same output
size; ``output_padding`` picks a larger one by adding rows (columns) at the bottom (right)
that no input pixel reaches; they hold only the bias.
"""
from ..autograd import Function
from .conv_kernels import BATCH_LAST, col2im, crop, im2col, pair, padded

__all__ = ["ConvTranspose2d", "conv_transpose2d", "conv_transpose2d_params",
           "conv_transpose_output_size", "output_padding_for_size", "check_conv_transpose_shapes",
           "check_conv_dtypes", "check_groups"]


def conv_transpose_output_size(size, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """PyTorch's ``(size - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1``."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class ConvTranspose2d(Function):
    """Transposed convolution of raw arrays; see ``conv_transpose2d`` for the public entry point.

    Arrays stay batch-last in memory, as in Conv2d (see ``conv_kernels``): the input's
    (C_in, H*W*N) matrix is a free view of a conv's output, and the result is a
    (C_out, OH, OW, N) buffer, as a conv's result is.
    """

    backward_name = "ConvolutionBackward0"   # PyTorch's name for every convolution's node

    def forward(self, x, weight, bias, *, stride, padding, output_padding, dilation, groups):
        """stride, padding, output_padding, dilation: (h, w) pairs."""
        unbatched = x.ndim == 3
        x = x[None] if unbatched else x
        n, c_in, h, w = x.shape
        _, c_out_g, kh, kw = weight.shape
        c_out = c_out_g * groups
        out_size = tuple(conv_transpose_output_size(size, k, s, p, op, d) for size, k, s, p, op, d
                         in zip((h, w), (kh, kw), stride, padding, output_padding, dilation))
        # The convolution's padded input: the columns cover all of it but the output_padding.
        padded_shape = (n, c_out, out_size[0] + 2 * padding[0], out_size[1] + 2 * padding[1])
        # (G, C_in/G, H*W*N): free when x is batch-last in memory, as a conv's output is.
        x3 = x.transpose(1, 2, 3, 0).reshape(groups, c_in // groups, -1)
        w3 = weight.reshape(groups, c_in // groups, -1)              # (G, C_in/G, C_out/G*KH*KW)
        cols = (w3.transpose(0, 2, 1) @ x3).reshape(c_out * kh * kw, -1)
        out = col2im(cols, padded_shape, (kh, kw), stride, dilation, (h, w))
        # Cropping the padding leaves a strided view: copy it to a compact batch-last buffer
        # (no copy when there is no padding), so that ``out.view(N, -1)`` works as on a conv's.
        out = padded(crop(out, padding[0], padding[1], *out_size), order=BATCH_LAST)
        if bias is not None:
            out += bias[:, None, None]   # out is a fresh buffer: add in place
        self.save_for_backward(x3, w3)
        self.weight_shape, self.unbatched = weight.shape, unbatched
        self.geometry = ((kh, kw), stride, dilation, (h, w), padding)
        return out[0] if unbatched else out

    def backward(self, grad):
        kernel, stride, dilation, in_size, (ph, pw) = self.geometry
        x3, w3 = self.saved_arrays
        groups, c_in_g, _ = w3.shape
        grad = grad[None] if self.unbatched else grad
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0] or needs[1]:
            # Conv2d's forward on the gradient: its columns (C_out*KH*KW, H*W*N), copied once.
            g_padded = padded(grad, ph, ph, pw, pw, order=BATCH_LAST)
            cols = im2col(g_padded, kernel, stride, dilation, in_size)
            cols = cols.reshape(groups, -1, cols.shape[1])            # (G, C_out/G*KH*KW, H*W*N)
            if needs[0]:
                n, (h, w) = grad.shape[0], in_size
                gx = (w3 @ cols).reshape(groups * c_in_g, h, w, n).transpose(3, 0, 1, 2)
                gx = gx[0] if self.unbatched else gx
            if needs[1]:
                gw = (x3 @ cols.transpose(0, 2, 1)).reshape(self.weight_shape)
        if needs[2]:
            gb = grad.sum(axis=(0, 2, 3))
        return gx, gw, gb


# ---------------------------------------------------------------------------- argument checks

def check_groups(groups, name):
    """``groups`` as the functional convolutions check it: an int (TypeError), positive."""
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"{name}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise RuntimeError(f"{name}: non-positive groups is not supported (groups={groups})")
    return groups


def conv_transpose2d_params(stride, padding, output_padding, dilation, groups,
                            name="conv_transpose2d"):
    """Validated (stride, padding, output_padding, dilation) pairs, with PyTorch's errors."""
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    padding, output_padding = pair(padding, "padding"), pair(output_padding, "output_padding")
    check_groups(groups, name)
    if min(stride) < 1:
        raise RuntimeError(f"{name}: non-positive stride is not supported (stride={stride})")
    if min(padding) < 0:
        raise RuntimeError(f"{name}: negative padding is not supported (padding={padding})")
    if min(output_padding) < 0:
        raise RuntimeError(f"{name}: negative output_padding is not supported "
                           f"(output_padding={output_padding})")
    if min(dilation) < 1:
        raise RuntimeError(f"{name}: dilation should be greater than zero (dilation={dilation})")
    if not all(op < s or op < d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"{name}: output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {output_padding[0]} output_padding_width: {output_padding[1]} "
            f"stride_height: {stride[0]} stride_width: {stride[1]} dilation_height: {dilation[0]} "
            f"dilation_width: {dilation[1]}")
    return stride, padding, output_padding, dilation


def output_padding_for_size(input_shape, output_size, kernel, stride, padding, dilation,
                            name="ConvTranspose2d"):
    """The output_padding that gives ``output_size``, as PyTorch's ``forward(input, output_size)``.

    ``output_size`` lists the spatial sizes, or also the leading (N, C) / (C,) of the input's
    dims; each must lie between the size with no output padding and that plus stride - 1.
    """
    spatial = len(kernel)
    leading = len(input_shape) - spatial            # 2 for batched input, 1 for unbatched
    sizes = [int(s) for s in output_size]
    if len(sizes) == leading + spatial:
        sizes = sizes[leading:]
    if len(sizes) != spatial:
        raise ValueError(f"{name}: for {len(input_shape)}D input, output_size must have {spatial} "
                         f"or {leading + spatial} elements (got {len(output_size)})")
    smallest = [conv_transpose_output_size(size, k, s, p, 0, d) for size, k, s, p, d in
                zip(input_shape[leading:], kernel, stride, padding, dilation)]
    largest = [low + s - 1 for low, s in zip(smallest, stride)]
    if any(not low <= size <= high for size, low, high in zip(sizes, smallest, largest)):
        raise ValueError(f"{name}: requested an output size of {sizes}, but valid sizes range from "
                         f"{smallest} to {largest} (for an input of {list(input_shape[leading:])})")
    return tuple(size - low for size, low in zip(sizes, smallest))


def check_conv_dtypes(input, weight, bias, name):
    """A floating-point input, and a weight (and bias, if any) of the input's dtype."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating-point input, got {input.dtype}")
    for t, what in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{name}: Input type ({input.dtype}) and {what} type ({t.dtype}) "
                               f"should be the same")


def check_conv_transpose_shapes(input, weight, bias, groups, geometry, name, dims=2):
    """PyTorch's shape, dtype and output-size checks for ``dims`` (2 or 1) spatial dims.

    ``geometry``: (stride, padding, output_padding, dilation), each a ``dims``-tuple.
    """
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"{name}: Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) "
                           f"input to conv_transpose{dims}d, but got input of size: "
                           f"{list(input.shape)}")
    if weight.ndim != dims + 2:
        raise RuntimeError(f"{name}: expected a {dims + 2}D weight (in_channels, "
                           f"out_channels/groups, *kernel_size), got weight of size "
                           f"{list(weight.shape)}")
    c_in, c_out_g = weight.shape[:2]
    if c_in % groups:
        raise RuntimeError(f"{name}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size {list(weight.shape)} "
                           f"instead")
    channels = input.shape[-dims - 1]
    if channels != c_in:
        raise RuntimeError(f"{name}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {c_in} channels, but got "
                           f"{channels} channels instead")
    if bias is not None and tuple(bias.shape) != (c_out_g * groups,):
        raise RuntimeError(f"{name}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected bias to be 1-dimensional with {c_out_g * groups} elements, "
                           f"but got bias of size {list(bias.shape)} instead")
    check_conv_dtypes(input, weight, bias, name)
    sizes = [conv_transpose_output_size(*args)
             for args in zip(input.shape[-dims:], weight.shape[-dims:], *geometry)]
    if min(sizes) < 1:
        given, calculated = (" x ".join(map(str, s)) for s in (input.shape[-dims:], sizes))
        raise RuntimeError(f"{name}: Given input size per channel: ({given}). Calculated output "
                           f"size per channel: ({calculated}). Output size is too small")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, _name="conv_transpose2d"):
    """Transposed 2-D convolution, as ``torch.nn.functional.conv_transpose2d``.

    input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, KH, KW); bias (C_out,)
    or None. stride, padding, output_padding, dilation: int or pair; output_padding must be
    smaller than the stride or the dilation. Returns (N, C_out, OH, OW) (or (C_out, OH, OW)),
    OH = (H - 1)*stride - 2*padding + dilation*(KH - 1) + output_padding + 1.
    """
    stride, padding, output_padding, dilation = conv_transpose2d_params(
        stride, padding, output_padding, dilation, groups, _name)
    check_conv_transpose_shapes(input, weight, bias, groups,
                                (stride, padding, output_padding, dilation), _name)
    return ConvTranspose2d.apply(input, weight, bias, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation, groups=groups)
