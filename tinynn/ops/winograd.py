"""Winograd convolution F(2x2, 3x3): 3x3, stride-1 convolutions with fewer multiplies.

For one input channel c and output channel f, a 2x2 block of outputs (a *tile*) depends on
the 4x4 block of padded input ``d`` around it, and (Lavin & Gray, 2016)

    Y (2x2) = A^T [ U * V ] A,    U = G g G^T (4x4, from the 3x3 kernel g),
                                  V = B^T d B (4x4, from the input block),

where ``*`` is elementwise. Summed over channels, each of the 16 positions (a, b) of the
4x4 product is one matrix product, M[a, b] (F, tiles) = U[a, b] (F, C) @ V[a, b] (C, tiles):
16 * F * C multiplies per tile of 4 outputs, against 36 * F * C for im2col + GEMM
(9 per output). The transforms are additions of strided slices (B and A hold 0 and +-1,
G also 1/2, so float32 keeps its accuracy: about 1e-6 relative error here).

Why only for wide layers: with NumPy the transforms are some 20 passes over arrays up to
4x the input's size (memory bound, and partly over runs of only N floats, as tiles step by
2 pixels in a batch-last layout), so the 2.25x fewer multiplies pay only where the GEMMs
dominate, and mostly in backward (forward's transform of the input is reused for the
weight gradient). Measured on the 2-core EPYC (``benchmarks/bench_conv_layers.py
--resnet --width 64``, forward / backward ms, batch 64, im2col's best against this):
512 channels at 4x4 13.8 / 31.7 against 11.9 / 19.3 (im2col also multiplies the zero
padding: 31% of its work at 4x4); 256 at 7x7 12.5 / 26.9 against 12.9 / 22.0; 128 at
14x14 about even; 64 at 28x28 15.4 / 31.4 against 27.7 / 68.6 (a GEMM over only K = 64
channels runs at 150 GFLOP/s, not 300). The whole ResNet-18-64 step, taking it from 128
channels: 0-7% faster than im2col everywhere in 7 A/B runs inside one process,
alternating every step (median 4.8%; least when the VM's memory was slow), 3% in 12 pairs
of fresh processes; and faster than from 256 channels. ResNet-18-16's 128-channel 4x4
layers, whose 16 products are 16x smaller, were not faster. Hence
``WINOGRAD_MIN_CHANNELS`` and ``WINOGRAD_MIN_PRODUCT``.

Backward uses the same pieces: the input gradient is this convolution of the padded output
gradient with the flipped, transposed kernel, whose transform is a permutation of U's
(``products(..., adjoint=True)``); the weight gradient is G^T dU G with
dU[a, b] = dM[a, b] @ V[a, b]^T, dM the output gradient's tiles spread by A (``A dY A^T``).
V is kept from forward (4x the input; cheaper than transforming the input again).
Everything runs band by band over tile rows (``BAND_BYTES``), which bounds the products'
and intermediates' memory whatever the image size.

Arrays are batch-last in memory as in ``conv_kernels``: inputs (C, H, W, N), tiles
(C, TY, TX, N). CPU only (NumPy arrays): on a GPU the im2col path's one large GEMM is kept.
"""
import numpy

from ..autograd import Function
from .conv_kernels import BATCH_LAST, conv_output_size, padded, row_chunks

__all__ = ["WinogradConv2d", "use_winograd", "convolve", "weight_grad", "filter_transform",
           "filter_grad", "input_transform", "output_transform", "grad_output_transform",
           "products", "output_size", "tile_counts", "tile_bands"]

# "auto": the layers where it measured faster (the rule in use_winograd); "always": every
# layer it can compute (tests compare it with im2col on small ones); "never": none.
WINOGRAD = "auto"

# "auto" takes layers with at least this many channels in and out (see the module docstring)
WINOGRAD_MIN_CHANNELS = 128
# ... whose 16 products have at least this many multiply-adds each (F * C * tiles): smaller
# GEMMs run well below BLAS's peak (ResNet-18-16's 128-channel 4x4 layers at batch 64, 2^22
# each: 0-5% slower in the whole step; ResNet-18-64's layers: 2^25 to 2^26).
WINOGRAD_MIN_PRODUCT = 1 << 24

# G maps a 3-vector of kernel taps to the 4 transformed taps.
_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))

# Flipping a kernel (g[::-1]) permutes G's rows: G J = P G with P swapping rows 0 and 3.
_FLIP = (3, 1, 2, 0)


def use_winograd(x, weight, stride, dilation, groups, padding):
    """True when ``conv2d`` should take the Winograd path for these arrays and settings.

    It can compute a NumPy batch (N, C, H, W) with a (F, C, 3, 3) kernel, stride and
    dilation 1, no groups and padding of at most 2 on each side (the input gradient's
    convolution then needs none cropped); with ``WINOGRAD = "auto"`` it takes those with
    ``WINOGRAD_MIN_CHANNELS`` channels in and out and ``WINOGRAD_MIN_PRODUCT``-sized products.
    """
    if WINOGRAD == "never" or x.ndim != 4 or not isinstance(x, numpy.ndarray):
        return False
    f, c, kh, kw = weight.shape
    if not ((kh, kw) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1 and max(padding) <= 2):
        return False
    if WINOGRAD == "always":
        return True
    ty, tx = tile_counts(output_size(x.shape, padding))
    return (min(f, c) >= WINOGRAD_MIN_CHANNELS
            and f * c * x.shape[0] * ty * tx >= WINOGRAD_MIN_PRODUCT)


def output_size(x_shape, padding):
    """(OH, OW) of a 3x3, stride-1 convolution of an (N, C, H, W) input padded by
    (top, bottom, left, right)."""
    top, bottom, left, right = padding
    return (conv_output_size(x_shape[2], 3, 1, (top, bottom)),
            conv_output_size(x_shape[3], 3, 1, (left, right)))


def tile_counts(out_size):
    """(TY, TX): 2x2 tiles that cover an (OH, OW) output (the last ones half empty when odd)."""
    return (out_size[0] + 1) // 2, (out_size[1] + 1) // 2


# ---------------------------------------------------------------------------- transforms

def _kernel_map(dtype):
    """The (16, 9) matrix kron(G, G): U[a, b] = sum over (i, j) of G[a, i] G[b, j] g[i, j]."""
    g = numpy.asarray(_G, dtype=dtype)
    return numpy.kron(g, g)


def filter_transform(weight):
    """U (4, 4, F, C), C-contiguous: G g G^T for each (f, c) kernel g of ``weight`` (F, C, 3, 3).

    One GEMM, (16, 9) @ (9, F*C) (an einsum over the same axes took 10x longer at 512x512,
    and its result was not contiguous).
    """
    f, c = weight.shape[:2]
    u = _kernel_map(weight.dtype) @ weight.reshape(f * c, 9).T
    return u.reshape(4, 4, f, c)


def filter_grad(grad_u):
    """The kernel gradient (F, C, 3, 3) from U's gradient (4, 4, F, C): G^T dU G for each
    (f, c), as one GEMM (F*C, 16) @ (16, 9), written into an array of its own (a reshaped
    view would be copied once more when it becomes the weight's .grad)."""
    f, c = grad_u.shape[2:]
    out = numpy.empty((f, c, 3, 3), dtype=grad_u.dtype)
    numpy.matmul(grad_u.reshape(16, f * c).T, _kernel_map(grad_u.dtype), out=out.reshape(f * c, 9))
    return out


def _b_transpose(d, out):
    """out[k] = sum over a of B^T[k, a] d[a], for four equally shaped slices d[0..3].

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
    """
    numpy.subtract(d[0], d[2], out=out[0])
    numpy.add(d[1], d[2], out=out[1])
    numpy.subtract(d[2], d[1], out=out[2])
    numpy.subtract(d[1], d[3], out=out[3])


def input_transform(x, tiles):
    """V (4, 4, C, TY, TX, N) = B^T d B for every 4x4 input block d of tiles (TY, TX).

    ``x`` is the padded input (N, C, Hp, Wp), best batch-last in memory, with
    Hp >= 2*TY + 2 and Wp >= 2*TX + 2; tile (ty, tx) reads rows 2*ty .. 2*ty+3 and the
    same columns. Columns first (4 passes reading every other pixel: runs of N floats),
    then rows (16 passes over runs of TX*N floats).
    """
    ty, tx = tiles
    d = x.transpose(1, 2, 3, 0)[:, :2 * ty + 2]                  # (C, rows used, Wp, N)
    c, h, _, n = d.shape
    cols = numpy.empty((4, c, h, tx, n), dtype=x.dtype)          # d B, per block column
    _b_transpose([d[:, :, b:b + 2 * tx - 1:2] for b in range(4)], cols)
    v = numpy.empty((4, 4, c, ty, tx, n), dtype=x.dtype)
    for b in range(4):
        _b_transpose([cols[b][:, a:a + 2 * ty - 1:2] for a in range(4)],
                     [v[a, b] for a in range(4)])
    return v


def products(u, v, adjoint=False):
    """M (4, 4, F, TY, TX, N): M[a, b] = U[a, b] @ V[a, b], summing over channels.

    u (4, 4, F, C) and v (4, 4, C, TY, TX, N). With ``adjoint`` the kernel is the flipped,
    transposed one of the input gradient, whose transform is U[P a, P b]^T (``_FLIP``): then
    u is the forward's (4, 4, C_out, C_in) and v holds C_out channels.
    """
    channels_out = u.shape[3] if adjoint else u.shape[2]
    m = numpy.empty((4, 4, channels_out) + v.shape[3:], dtype=v.dtype)
    for a in range(4):
        for b in range(4):
            kernel = u[_FLIP[a], _FLIP[b]].T if adjoint else u[a, b]
            numpy.matmul(kernel, v[a, b].reshape(v.shape[2], -1),
                         out=m[a, b].reshape(channels_out, -1))
    return m


def output_transform(m, out_size, out=None):
    """The output (F, OH, OW, N), C-contiguous, from the tiles' products m (4, 4, F, TY, TX, N):
    each tile's 2x2 outputs are A^T M A, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]; the last
    tiles' second row or column is dropped when OH or OW is odd. ``out``: an (F, OH, OW, N)
    array to write into instead (e.g. a band of rows of a larger output)."""
    f, ty, tx, n = m.shape[2:]
    s = numpy.empty((2, 4, f, ty, tx, n), dtype=m.dtype)        # A^T M, per block column
    for i in range(2):
        _a_transpose(m, i, s[i])
    if out is None:
        out = numpy.empty((f,) + tuple(out_size) + (n,), dtype=m.dtype)
    for i in range(2):
        for j in range(2):
            target = out[:, i::2, j::2]                          # output pixels (2ty+i, 2tx+j)
            rows, cols = target.shape[1:3]
            _a_transpose([s[i, b, :, :rows, :cols] for b in range(4)], j, target)
    return out


def _a_transpose(m, i, out):
    """out = sum over a of A^T[i, a] m[a]: m[0] + m[1] + m[2] (i = 0) or m[1] - m[2] - m[3]."""
    if i == 0:
        numpy.add(m[0], m[1], out=out)
        out += m[2]
    else:
        numpy.subtract(m[1], m[2], out=out)
        out -= m[3]


def grad_output_transform(grad, tiles):
    """dM (4, 4, F, TY, TX, N) = A dY A^T for every 2x2 tile dY of the output gradient
    ``grad`` (F, OH, OW, N) (a missing last row or column of a tile counts as zero).

    A = [[1, 0], [1, 1], [1, -1], [0, -1]] spreads a tile back over the 4x4 product.
    """
    ty, tx = tiles
    f, oh, ow, n = grad.shape
    if (oh, ow) != (2 * ty, 2 * tx):                             # odd: zero-fill the last tiles
        even = numpy.zeros((f, 2 * ty, 2 * tx, n), dtype=grad.dtype)
        even[:, :oh, :ow] = grad
        grad = even
    cols = numpy.empty((4, f, 2 * ty, tx, n), dtype=grad.dtype) # dY A^T: short runs, 2x size
    _a(grad[:, :, 0::2], grad[:, :, 1::2], cols)
    dm = numpy.empty((4, 4, f, ty, tx, n), dtype=grad.dtype)
    for b in range(4):                                           # A (dY A^T): runs of TX*N
        _a(cols[b][:, 0::2], cols[b][:, 1::2], [dm[a, b] for a in range(4)])
    return dm


def _a(y0, y1, out):
    """out[k] = A[k, 0] y0 + A[k, 1] y1: y0, y0 + y1, y0 - y1, -y1."""
    out[0][...] = y0
    numpy.add(y0, y1, out=out[1])
    numpy.subtract(y0, y1, out=out[2])
    numpy.negative(y1, out=out[3])


# ---------------------------------------------------------------------------- bands

# Bytes of transformed input (V) per band of tile rows. Bands bound the memory of the
# products and intermediates (16x the output's size in one band: 0.8 GB for a 256-channel
# 56x56 layer at batch 64). Larger bands keep the 16 GEMMs wide: ResNet-18-64's step (A/B in
# one process, alternating every step) took 0.92-0.95x the time with 16 MB, 32 MB or
# unbounded bands as with 4 MB ones (GEMMs over 128-256 columns), 0.99x with 1 MB.
BAND_BYTES = 16 << 20


def tile_bands(tiles, channels, batch, itemsize):
    """(start, stop) bands of tile rows, each about ``BAND_BYTES`` of V (at least one row)."""
    return row_chunks(tiles[0], 16 * channels * tiles[1] * batch * itemsize,
                      band_bytes=BAND_BYTES)


def convolve(x_padded, u, out_size, adjoint=False, keep=False):
    """The convolution (F, OH, OW, N) of the padded input ``x_padded`` (N, C, Hp, Wp) (rows
    and columns enough for whole tiles), band by band of tile rows; and, with ``keep``,
    each band's V (for the weight gradient), else None.

    u: the forward's U (4, 4, F, C), taken as the input gradient's kernel with ``adjoint``.
    """
    oh, ow = out_size
    n, c = x_padded.shape[:2]
    tiles = tile_counts(out_size)
    channels_out = u.shape[3] if adjoint else u.shape[2]
    out = numpy.empty((channels_out, oh, ow, n), dtype=x_padded.dtype)
    kept = []
    for start, stop in tile_bands(tiles, c, n, x_padded.itemsize):
        v = input_transform(x_padded[:, :, 2 * start:2 * stop + 2], (stop - start, tiles[1]))
        rows = out[:, 2 * start:min(2 * stop, oh)]
        output_transform(products(u, v, adjoint), rows.shape[1:3], out=rows)
        if keep:
            kept.append(v)
    return out, (kept if keep else None)


def weight_grad(grad, kept, out_size, channels_in):
    """The kernel gradient (F, C, 3, 3) from the output gradient ``grad`` (F, OH, OW, N) and
    the bands' V kept by ``convolve``: G^T dU G with dU summed over bands of dM @ V^T."""
    f, oh = grad.shape[:2]
    tiles = tile_counts(out_size)
    grad_u = None
    for (start, stop), v in zip(tile_bands(tiles, channels_in, grad.shape[3], grad.itemsize),
                                kept):
        rows = grad[:, 2 * start:min(2 * stop, oh)]
        dm = grad_output_transform(rows, (stop - start, tiles[1]))
        band = numpy.matmul(dm.reshape(16, f, -1),
                            v.reshape(16, channels_in, -1).transpose(0, 2, 1))
        grad_u = band if grad_u is None else numpy.add(grad_u, band, out=grad_u)
    return filter_grad(grad_u.reshape(4, 4, f, channels_in))


# ---------------------------------------------------------------------------- the op

class WinogradConv2d(Function):
    """``conv2d`` of a batch by a 3x3 kernel, stride 1, groups 1, by F(2x2, 3x3) tiles
    (see the module docstring); chosen by ``conv2d`` when ``use_winograd`` says so.

    x (N, C, H, W), weight (F, C, 3, 3), bias (F,) or None, padding (top, bottom, left,
    right), each at most 2. Returns (N, F, OH, OW), batch-last in memory.
    """

    def forward(self, x, weight, bias, *, padding):
        h, w = x.shape[2:]
        top, bottom, left, right = padding
        out_size = output_size(x.shape, padding)
        tiles = tile_counts(out_size)
        # Pad one more row (column) below (right) when the output's height (width) is odd:
        # the last tiles then read zeros, and their extra outputs are dropped.
        x_padded = padded(x, top, bottom + 2 * tiles[0] - out_size[0],
                          left, right + 2 * tiles[1] - out_size[1], order=BATCH_LAST)
        u = filter_transform(weight)
        out, kept = convolve(x_padded, u, out_size, keep=True)      # (F, OH, OW, N)
        if bias is not None:
            out += bias[:, None, None, None]
        self.save_for_backward(u, *kept)
        self.padding, self.in_size, self.out_size = padding, (h, w), out_size
        return out.transpose(3, 0, 1, 2)

    def backward(self, grad):
        u, *kept = self.saved_arrays
        top, bottom, left, right = self.padding
        g = grad.transpose(1, 2, 3, 0)                             # (F, OH, OW, N)
        needs = self.needs_input_grad
        gx = gw = gb = None
        if needs[0]:
            # The input gradient is a 'valid' correlation of the output gradient, padded by
            # 2 - padding on each side, with the flipped kernel (F and C swapped).
            tiles = tile_counts(self.in_size)
            g_padded = padded(grad, 2 - top, 2 - bottom + 2 * tiles[0] - self.in_size[0],
                              2 - left, 2 - right + 2 * tiles[1] - self.in_size[1],
                              order=BATCH_LAST)
            gx = convolve(g_padded, u, self.in_size, adjoint=True)[0].transpose(3, 0, 1, 2)
        if needs[1]:
            gw = weight_grad(g, kept, self.out_size, u.shape[3])
        if needs[2]:
            gb = g.sum(axis=(1, 2, 3))
        return gx, gw, gb
