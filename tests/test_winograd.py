"""The Winograd path of conv2d (ops/winograd.py, issue #10): 3x3, stride-1 convolutions of
wide layers by F(2x2, 3x3) tiles must give the im2col path's output and gradients.

By default only wide layers take it (``use_winograd``); the tests set ``WINOGRAD = "always"``
so that small float64 cases take it, and compare with ``WINOGRAD = "never"``.
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import tinynn
from tinynn import nn
from tinynn.autograd import gradcheck
from tinynn.ops import winograd
from tinynn.ops.conv import conv2d

from opcheck import check_op
from test_conv import t64


@pytest.fixture
def any_width(monkeypatch):
    """Winograd for every layer it can compute, however small."""
    monkeypatch.setattr(winograd, "WINOGRAD", "always")


def _results(x, w, b, padding, mode, upstream=None):
    """(output, input grad, weight grad, bias grad) of conv2d in float64 with WINOGRAD=mode,
    contracted with ``upstream`` (default: a fixed random one); and the op's class name."""
    old, winograd.WINOGRAD = winograd.WINOGRAD, mode
    try:
        xt, wt = t64(x), t64(w)
        bt = None if b is None else t64(b)
        out = conv2d(xt, wt, bt, padding=padding)
        if upstream is None:
            upstream = np.random.default_rng(3).standard_normal(tuple(out.shape))
        (out * tinynn.tensor(upstream)).sum().backward()
        grads = (xt.grad.numpy(), wt.grad.numpy(), None if b is None else bt.grad.numpy())
        return (out.detach().numpy(),) + grads, type(out.grad_fn).__name__
    finally:
        winograd.WINOGRAD = old


@given(n=st.integers(1, 3), c=st.integers(1, 4), f=st.integers(1, 4),
       h=st.integers(1, 9), w=st.integers(1, 9),
       pads=st.tuples(*[st.integers(0, 2)] * 2), bias=st.booleans())
@settings(max_examples=60, deadline=None)
def test_winograd_matches_im2col(n, c, f, h, w, pads, bias):
    """Odd and even sizes (the last tiles half empty), padding 0..2 per axis, 1x1 outputs."""
    assume(h + 2 * pads[0] >= 3 and w + 2 * pads[1] >= 3)   # else no 3x3 window fits
    rng = np.random.default_rng(n * 1000 + c * 100 + f * 10 + h)
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((f, c, 3, 3))
    b = rng.standard_normal(f) if bias else None
    fast, fast_op = _results(x, wt, b, pads, "always")
    plain, plain_op = _results(x, wt, b, pads, "never")
    assert (fast_op, plain_op) == ("WinogradConv2d", "Conv2d")
    for got, expected in zip(fast, plain):
        if expected is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("padding, shapes", [
    (1, ((2, 3, 5, 6), (4, 3, 3, 3))),            # ResNet's 'same' 3x3, odd height
    (0, ((1, 2, 6, 5), (3, 2, 3, 3))),            # 'valid', odd width
    ((2, 1), ((2, 2, 3, 4), (2, 2, 3, 3))),       # the largest padding the path takes
])
def test_gradcheck_and_float32(any_width, padding, shapes):
    fn = lambda x, w: conv2d(x, w, padding=padding)                      # noqa: E731
    assert type(fn(*[t64(np.ones(s)) for s in shapes]).grad_fn).__name__ == "WinogradConv2d"
    check_op(fn, shapes, "normal", None)
    rng = np.random.default_rng(6)
    x, w, b = (t64(rng.standard_normal(s)) for s in shapes + ((shapes[1][0],),))
    assert gradcheck(lambda *t: conv2d(*t, padding=padding), (x, w, b))


def test_float32_accuracy_on_a_wide_layer(any_width):
    """The real thing: 128 channels in float32, against the im2col path in float64."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 128, 7, 7)).astype(np.float32)
    w = (rng.standard_normal((128, 128, 3, 3)) / 34).astype(np.float32)
    upstream = rng.standard_normal((2, 128, 7, 7)).astype(np.float32)
    xt, wt = tinynn.tensor(x, requires_grad=True), tinynn.tensor(w, requires_grad=True)
    out = conv2d(xt, wt, padding=1)
    assert type(out.grad_fn).__name__ == "WinogradConv2d"
    (out * tinynn.tensor(upstream)).sum().backward()
    got = (out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy())
    assert all(a.dtype == np.float32 for a in got)
    expected, _ = _results(x.astype(np.float64), w.astype(np.float64), None, 1, "never",
                           upstream.astype(np.float64))
    for g, e in zip(got, expected):
        scale = np.abs(e).max()
        np.testing.assert_allclose(g, e, rtol=0, atol=1e-5 * scale)


def test_layouts_and_needs(any_width):
    """Output batch-last (like the im2col path's), weight gradient C-contiguous; only the
    gradients asked for are computed."""
    rng = np.random.default_rng(8)
    x = t64(rng.standard_normal((3, 2, 5, 5)), grad=False)
    w = t64(rng.standard_normal((4, 2, 3, 3)))
    out = conv2d(x, w, padding=1)
    assert out.detach().numpy().transpose(1, 2, 3, 0).flags.c_contiguous
    gx, gw, gb = out.grad_fn.backward(np.ones(out.shape))
    assert gx is None and gb is None                   # not asked for: not computed
    assert gw.base is None     # its own memory (no view): the engine takes it over as .grad
    out.sum().backward()
    assert x.grad is None and w.grad.numpy().flags.c_contiguous


def test_which_layers_take_the_path():
    take = winograd.use_winograd
    wide = np.zeros((128, 128, 3, 3), np.float32)
    batch = np.zeros((64, 128, 8, 8), np.float32)     # 16 products of 128 * 128 * 1024
    assert take(batch, wide, (1, 1), (1, 1), 1, (1, 1, 1, 1))
    assert take(batch, wide, (1, 1), (1, 1), 1, (2, 2, 1, 1))
    assert not take(batch, wide, (2, 2), (1, 1), 1, (1, 1, 1, 1))          # strided
    assert not take(batch, wide, (1, 1), (2, 2), 1, (2, 2, 2, 2))          # dilated
    assert not take(batch, wide, (1, 1), (1, 1), 1, (3, 3, 3, 3))          # padding > 2
    assert not take(batch[0], wide, (1, 1), (1, 1), 1, (1, 1, 1, 1))       # unbatched
    assert not take(batch, np.zeros((128, 128, 5, 5)), (1, 1), (1, 1), 1, (2, 2, 2, 2))
    assert not take(batch, np.zeros((64, 128, 3, 3)), (1, 1), (1, 1), 1, (1, 1, 1, 1))
    grouped = np.zeros((128, 64, 3, 3), np.float32)
    assert not take(batch, grouped, (1, 1), (1, 1), 2, (1, 1, 1, 1))
    assert not take(batch[:32], wide, (1, 1), (1, 1), 1, (1, 1, 1, 1))     # products too small
    assert not take(batch[:, :, :4, :4], wide, (1, 1), (1, 1), 1, (1, 1, 1, 1))
    assert take(np.zeros((64, 512, 4, 4)), np.zeros((512, 512, 3, 3)), (1, 1), (1, 1), 1,
                (1, 1, 1, 1))                          # ResNet-18-64's last layers
    op = lambda width: type(nn.Conv2d(width, width, 3, padding=1)(               # noqa: E731
        tinynn.zeros(64, width, 8, 8)).grad_fn).__name__
    assert (op(128), op(64)) == ("WinogradConv2d", "Conv2d")


def test_transforms_against_their_definition():
    """U = G g G^T and the kernel gradient G^T dU G, checked with explicit matrices."""
    rng = np.random.default_rng(9)
    g = rng.standard_normal((2, 3, 3, 3))
    big_g = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
    u = winograd.filter_transform(g)
    for f in range(2):
        for c in range(3):
            np.testing.assert_allclose(u[:, :, f, c], big_g @ g[f, c] @ big_g.T, rtol=1e-14)
    du = rng.standard_normal((4, 4, 2, 3))
    dg = winograd.filter_grad(du)
    assert dg.flags.c_contiguous
    np.testing.assert_allclose(dg[1, 2], big_g.T @ du[:, :, 1, 2] @ big_g, rtol=1e-14)


@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (1, 2, 8, 6)])
def test_bands_add_up_to_one_band(any_width, shape, monkeypatch):
    """Forward, the input gradient and the weight gradient run band by band over tile rows
    (one tile row per band here); odd heights leave the last band half empty."""
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((4, shape[1], 3, 3)), None
    monkeypatch.setattr(winograd, "BAND_BYTES", 1 << 40)
    one, _ = _results(x, w, b, 1, "always")
    monkeypatch.setattr(winograd, "BAND_BYTES", 1)
    assert len(winograd.tile_bands(winograd.tile_counts(shape[2:]), shape[1], shape[0], 8)) > 2
    banded, op = _results(x, w, b, 1, "always")
    assert op == "WinogradConv2d"
    for got, expected in zip(banded[:3], one[:3]):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: conv2d(*t, padding=1), (t64(x), t64(w)))
