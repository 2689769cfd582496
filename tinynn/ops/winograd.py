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

Why here, and only for wide layers: with NumPy the transforms cost passes over 4x-sized
arrays whose inner runs are N floats long (tiles step by 2 pixels in a batch-last layout),
so the 2.25x fewer multiplies pay only where the GEMMs dominate. Measured on the 2-core
EPYC (benchmarks/bench_conv_layers.py), forward of ResNet-18-64's layers, batch 64:
128 channels at 14x14 and 256 at 7x7 1.17x faster than im2col, 512 at 4x4 1.8x (im2col
also multiplies the zero padding there: a third of its work at 4x4); 64 channels at 28x28
0.8x (a GEMM over only K = 64 channels runs at 150 GFLOP/s, not 300). Hence
``WINOGRAD_MIN_CHANNELS``.

Backward uses the same pieces: the input gradient is this convolution of the padded output
gradient with the flipped, transposed kernel, whose transform is a permutation of U's
(``products(..., adjoint=True)``); the weight gradient is G^T dU G with
dU[a, b] = dM[a, b] @ V[a, b]^T, dM the output gradient's tiles spread by A (``A dY A^T``).
V is kept from forward (4x the input; cheaper than transforming the input again).

Arrays are batch-last in memory as in ``conv_kernels``: inputs (C, H, W, N), tiles
(C, TY, TX, N).
"""
from ..autograd import Function
from ..backend import get_array_module
from .conv_kernels import BATCH_LAST, padded

__all__ = ["WinogradConv2d", "use_winograd", "filter_transform", "filter_grad", "input_transform",
           "output_transform", "grad_output_transform", "products", "tile_counts"]

# Layers with fewer input or output channels than this use im2col (see the module docstring).
WINOGRAD_MIN_CHANNELS = 128

# "auto": by the rule in use_winograd; "never" turns the path off (tests compare the two).
WINOGRAD = "auto"

# G maps a 3-vector of kernel taps to the 4 transformed taps.
_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))

# Flipping a kernel (g[::-1]) permutes G's rows: G J = P G with P swapping rows 0 and 3.
_FLIP = (3, 1, 2, 0)


def use_winograd(x, weight, stride, dilation, groups, padding):
    """True when ``conv2d`` should take the Winograd path for these arrays and settings.

    A NumPy batch (N, C, H, W), a (F, C, 3, 3) kernel, stride and dilation 1, no groups,
    padding of at most 2 on each side (the input gradient's convolution then needs none
    cropped), at least ``WINOGRAD_MIN_CHANNELS`` channels in and out.
    """
    if WINOGRAD == "never" or x.ndim != 4 or get_array_module(x).__name__ != "numpy":
        return False
    f, c, kh, kw = weight.shape
    return ((kh, kw) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1 and max(padding) <= 2 and min(f, c) >= WINOGRAD_MIN_CHANNELS)


def tile_counts(out_size):
    """(TY, TX): 2x2 tiles that cover an (OH, OW) output (the last ones half empty when odd)."""
    return (out_size[0] + 1) // 2, (out_size[1] + 1) // 2


# ---------------------------------------------------------------------------- transforms

def _kernel_map(xp, dtype):
    """The (16, 9) matrix kron(G, G): U[a, b] = sum over (i, j) of G[a, i] G[b, j] g[i, j]."""
    g = xp.asarray(_G, dtype=dtype)
    return xp.kron(g, g)


def filter_transform(weight):
    """U (4, 4, F, C), C-contiguous: G g G^T for each (f, c) kernel g of ``weight`` (F, C, 3, 3).

    One GEMM, (16, 9) @ (9, F*C) (an einsum over the same axes ran 20x slower at 512x512).
    """
    xp = get_array_module(weight)
    f, c = weight.shape[:2]
    u = _kernel_map(xp, weight.dtype) @ weight.reshape(f * c, 9).T
    return u.reshape(4, 4, f, c)


def filter_grad(grad_u):
    """The kernel gradient (F, C, 3, 3), C-contiguous, from U's gradient (4, 4, F, C):
    G^T dU G for each (f, c), as one GEMM (F*C, 16) @ (16, 9)."""
    xp = get_array_module(grad_u)
    f, c = grad_u.shape[2:]
    return (grad_u.reshape(16, f * c).T @ _kernel_map(xp, grad_u.dtype)).reshape(f, c, 3, 3)


def _b_transpose(d, out):
    """out[k] = sum over a of B^T[k, a] d[a], for four equally shaped slices d[0..3].

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
    """
    xp = get_array_module(out[0])
    xp.subtract(d[0], d[2], out=out[0])
    xp.add(d[1], d[2], out=out[1])
    xp.subtract(d[2], d[1], out=out[2])
    xp.subtract(d[1], d[3], out=out[3])


def input_transform(x, tiles):
    """V (4, 4, C, TY, TX, N) = B^T d B for every 4x4 input block d of tiles (TY, TX).

    ``x`` is the padded input (N, C, Hp, Wp), best batch-last in memory, with
    Hp >= 2*TY + 2 and Wp >= 2*TX + 2; tile (ty, tx) reads rows 2*ty .. 2*ty+3 and the
    same columns. Columns first: those passes read runs of only N floats (every other
    pixel), so they make the 2x-sized intermediate; the row passes that make the 4x-sized
    V read runs of TX*N (measured 1.6x faster than rows first).
    """
    xp = get_array_module(x)
    ty, tx = tiles
    d = x.transpose(1, 2, 3, 0)[:, :2 * ty + 2]                  # (C, rows used, Wp, N)
    c, h, _, n = d.shape
    cols = xp.empty((4, c, h, tx, n), dtype=x.dtype)             # d B, per block column
    _b_transpose([d[:, :, b:b + 2 * tx - 1:2] for b in range(4)], cols)
    v = xp.empty((4, 4, c, ty, tx, n), dtype=x.dtype)
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
    xp = get_array_module(v)
    channels_out = u.shape[3] if adjoint else u.shape[2]
    m = xp.empty((4, 4, channels_out) + v.shape[3:], dtype=v.dtype)
    for a in range(4):
        for b in range(4):
            kernel = u[_FLIP[a], _FLIP[b]].T if adjoint else u[a, b]
            xp.matmul(kernel, v[a, b].reshape(v.shape[2], -1),
                      out=m[a, b].reshape(channels_out, -1))
    return m


def output_transform(m, out_size):
    """The output (F, OH, OW, N), C-contiguous, from the tiles' products m (4, 4, F, TY, TX, N):
    each tile's 2x2 outputs are A^T M A, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]; the last
    tiles' second row or column is dropped when OH or OW is odd."""
    xp = get_array_module(m)
    f, ty, tx, n = m.shape[2:]
    s = xp.empty((2, 4, f, ty, tx, n), dtype=m.dtype)           # A^T M, per block column
    for i in range(2):
        _a_transpose(m, i, s[i])
    out = xp.empty((f,) + tuple(out_size) + (n,), dtype=m.dtype)
    for i in range(2):
        for j in range(2):
            target = out[:, i::2, j::2]                          # output pixels (2ty+i, 2tx+j)
            rows, cols = target.shape[1:3]
            _a_transpose([s[i, b, :, :rows, :cols] for b in range(4)], j, target)
    return out


def _a_transpose(m, i, out):
    """out = sum over a of A^T[i, a] m[a]: m[0] + m[1] + m[2] (i = 0) or m[1] - m[2] - m[3]."""
    xp = get_array_module(out)
    if i == 0:
        xp.add(m[0], m[1], out=out)
        out += m[2]
    else:
        xp.subtract(m[1], m[2], out=out)
        out -= m[3]


def grad_output_transform(grad, tiles):
    """dM (4, 4, F, TY, TX, N) = A dY A^T for every 2x2 tile dY of the output gradient
    ``grad`` (F, OH, OW, N) (a missing last row or column of a tile counts as zero).

    A = [[1, 0], [1, 1], [1, -1], [0, -1]] spreads a tile back over the 4x4 product.
    """
    xp = get_array_module(grad)
    ty, tx = tiles
    f, oh, ow, n = grad.shape
    if (oh, ow) != (2 * ty, 2 * tx):                             # odd: zero-fill the last tiles
        even = xp.zeros((f, 2 * ty, 2 * tx, n), dtype=grad.dtype)
        even[:, :oh, :ow] = grad
        grad = even
    cols = xp.empty((4, f, 2 * ty, tx, n), dtype=grad.dtype)    # dY A^T: short runs, 2x size
    _a(grad[:, :, 0::2], grad[:, :, 1::2], cols)
    dm = xp.empty((4, 4, f, ty, tx, n), dtype=grad.dtype)
    for b in range(4):                                           # A (dY A^T): runs of TX*N
        _a(cols[b][:, 0::2], cols[b][:, 1::2], [dm[a, b] for a in range(4)])
    return dm


def _a(y0, y1, out):
    """out[k] = A[k, 0] y0 + A[k, 1] y1: y0, y0 + y1, y0 - y1, -y1."""
    xp = get_array_module(out[0])
    out[0][...] = y0
    xp.add(y0, y1, out=out[1])
    xp.subtract(y0, y1, out=out[2])
    xp.negative(y1, out=out[3])


# ---------------------------------------------------------------------------- the op

class WinogradConv2d(Function):
    """``conv2d`` of a batch by a 3x3 kernel, stride 1, groups 1, by F(2x2, 3x3) tiles
    (see the module docstring); chosen by ``conv2d`` when ``use_winograd`` says so.

    x (N, C, H, W), weight (F, C, 3, 3), bias (F,) or None, padding (top, bottom, left,
    right), each at most 2. Returns (N, F, OH, OW), batch-last in memory.
    """

    def forward(self, x, weight, bias, *, padding):
        n, c, h, w = x.shape
        top, bottom, left, right = padding
        out_size = (h + top + bottom - 2, w + left + right - 2)
        tiles = tile_counts(out_size)
        # Pad one more row (column) below (right) when the output's height (width) is odd:
        # the last tiles then read zeros, and their extra outputs are dropped.
        x_padded = padded(x, top, bottom + 2 * tiles[0] - out_size[0],
                          left, right + 2 * tiles[1] - out_size[1], order=BATCH_LAST)
        v = input_transform(x_padded, tiles)
        u = filter_transform(weight)
        out = output_transform(products(u, v), out_size)          # (F, OH, OW, N)
        if bias is not None:
            out += bias[:, None, None, None]
        self.save_for_backward(v, u)
        self.padding, self.in_size, self.out_size = padding, (h, w), out_size
        return out.transpose(3, 0, 1, 2)

    def backward(self, grad):
        v, u = self.saved_arrays
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
            m = products(u, input_transform(g_padded, tiles), adjoint=True)
            gx = output_transform(m, self.in_size).transpose(3, 0, 1, 2)
        if needs[1]:
            dm = grad_output_transform(g, tile_counts(self.out_size))
            xp = get_array_module(dm)
            f, c = u.shape[2:]
            grad_u = xp.matmul(dm.reshape(16, f, -1), v.reshape(16, c, -1).transpose(0, 2, 1))
            gw = filter_grad(grad_u.reshape(4, 4, f, c))
        if needs[2]:
            gb = g.sum(axis=(1, 2, 3))
        return gx, gw, gb
