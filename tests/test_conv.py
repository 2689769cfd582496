"""Conv2d: im2col/col2im kernels, forward against a naive loop, gradchecks, module, errors."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
from tinynn.autograd import gradcheck
from tinynn.nn.conv import Conv2d
from tinynn.ops import conv_kernels as K
from tinynn.ops.conv import conv2d

SETTINGS = settings(max_examples=80, deadline=None)


# ---------------------------------------------------------------------------- naive references

def naive_conv2d(x, w, b=None, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """Direct loops over every output element: x (N, C, H, W), pad (top, bottom, left, right)."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    top, bottom, left, right = pad
    xp = np.zeros((n, c, h + top + bottom, wd + left + right), dtype=np.float64)
    xp[:, :, top:top + h, left:left + wd] = x
    oh = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, f, oh, ow))
    per_group = f // groups
    for ni in range(n):
        for fi in range(f):
            first = (fi // per_group) * cg
            for i in range(oh):
                for j in range(ow):
                    total = 0.0 if b is None else b[fi]
                    for ci in range(cg):
                        for a in range(kh):
                            for e in range(kw):
                                total += w[fi, ci, a, e] * xp[ni, first + ci, i * stride[0] + a * dilation[0],
                                                               j * stride[1] + e * dilation[1]]
                    out[ni, fi, i, j] = total
    return out


def naive_im2col(x, kernel, stride, dilation, out_size):
    """Rows (c, i, j), columns (oh, ow, n), as K.im2col documents."""
    n, c = x.shape[:2]
    (kh, kw), (oh, ow) = kernel, out_size
    cols = np.zeros((c, kh, kw, oh, ow, n))
    for ci in range(c):
        for i in range(kh):
            for j in range(kw):
                for a in range(oh):
                    for e in range(ow):
                        r, q = a * stride[0] + i * dilation[0], e * stride[1] + j * dilation[1]
                        cols[ci, i, j, a, e] = x[:, ci, r, q]
    return cols.reshape(c * kh * kw, oh * ow * n)


def t64(a, grad=True):
    return tinynn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


# ---------------------------------------------------------------------------- sizes

@given(size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3),
       d=st.integers(1, 3))
@SETTINGS
def test_output_size_formula(size, k, s, p, d):
    expected = math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1
    assert K.conv_output_size(size, k, s, p, d) == expected
    assert K.pool_output_size(size, k, s, p, d, ceil_mode=False) == expected
    # the output really has that many windows: the last starts inside, the next would not fit
    if expected >= 1:
        last_end = (expected - 1) * s + d * (k - 1)
        assert last_end <= size + 2 * p - 1 < last_end + s


def test_same_padding_puts_the_extra_cell_after():
    assert K.same_padding(3, 1) == (1, 1)
    assert K.same_padding(4, 1) == (1, 2)
    assert K.same_padding(4, 2) == (3, 3)
    assert K.same_padding(1, 1) == (0, 0)


# ---------------------------------------------------------------------------- kernels

@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 7), w=st.integers(1, 7),
       kh=st.integers(1, 3), kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       dh=st.integers(1, 2), dw=st.integers(1, 2), batch_last=st.booleans())
@SETTINGS
def test_im2col_and_col2im_against_loops(n, c, h, w, kh, kw, sh, sw, dh, dw, batch_last):
    oh, ow = K.conv_output_size(h, kh, sh, 0, dh), K.conv_output_size(w, kw, sw, 0, dw)
    if oh < 1 or ow < 1:
        return
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    if batch_last:  # any memory layout must give the same columns
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    geometry = ((kh, kw), (sh, sw), (dh, dw), (oh, ow))
    cols = K.im2col(x, *geometry)
    np.testing.assert_array_equal(cols, naive_im2col(x, *geometry))
    # col2im is the adjoint of im2col: <im2col(x), g> == <x, col2im(g)>
    g = rng.standard_normal(cols.shape)
    back = K.col2im(g, x.shape, *geometry)
    assert back.shape == x.shape
    np.testing.assert_allclose((cols * g).sum(), (x * back).sum(), rtol=1e-10)
    expected = np.zeros_like(x)
    g6 = g.reshape(c, kh, kw, oh, ow, n)
    for i in range(kh):
        for j in range(kw):
            for a in range(oh):
                for e in range(ow):
                    expected[:, :, a * sh + i * dh, e * sw + j * dw] += g6[:, i, j, a, e].T
    np.testing.assert_allclose(back, expected, rtol=1e-12, atol=1e-12)


def test_window_view_refuses_windows_that_do_not_fit():
    with pytest.raises(ValueError):
        K.window_view(np.zeros((1, 1, 4, 4)), (3, 3), (1, 1), (1, 1), (3, 2))


def test_padded_keeps_layout_and_skips_needless_copies():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    assert K.padded(x) is x
    batch_last = K.padded(x, order=K.BATCH_LAST)
    np.testing.assert_array_equal(batch_last, x)
    assert batch_last.transpose(K.BATCH_LAST).flags.c_contiguous
    assert K.padded(batch_last, order=K.BATCH_LAST) is batch_last
    p = K.padded(x, 1, 2, 0, 1, value=-1.0)
    assert p.shape == (1, 2, 6, 5) and p.flags.c_contiguous
    assert p[0, 0, 0, 0] == -1 and p[0, 0, 5, 4] == -1
    np.testing.assert_array_equal(p[:, :, 1:4, 0:4], x)


# ---------------------------------------------------------------------------- forward and gradients

@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 2))
    c = cg * groups
    f = groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    if draw(st.booleans()):
        kw = kh  # square kernels too
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from(["int", "pair", "same", "valid"]))
    if padding == "same":
        stride = 1
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        padding = {"int": draw(st.integers(0, 2)), "pair": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
                   "valid": "valid"}[padding]
    pads = (padding, padding) if isinstance(padding, int) else padding
    ph, pw = (0, 0) if isinstance(padding, str) else pads
    min_h = max(1, dh * (kh - 1) + 1 - 2 * ph)
    min_w = max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(min_h, min_h + 3)), draw(st.integers(min_w, min_w + 3))
    batch = draw(st.sampled_from([None, 1, 2]))   # None: unbatched (C, H, W)
    bias = draw(st.booleans())
    return dict(groups=groups, c=c, f=f, kernel=(kh, kw), dilation=(dh, dw), stride=stride,
                padding=padding, h=h, w=w, batch=batch, bias=bias)


def _conv_case(cfg, seed=0):
    rng = np.random.default_rng(seed)
    shape = (cfg["c"], cfg["h"], cfg["w"])
    if cfg["batch"] is not None:
        shape = (cfg["batch"],) + shape
    x = rng.standard_normal(shape)
    w = rng.standard_normal((cfg["f"], cfg["c"] // cfg["groups"]) + cfg["kernel"])
    b = rng.standard_normal(cfg["f"]) if cfg["bias"] else None
    kwargs = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
                  groups=cfg["groups"])
    return x, w, b, kwargs


def _explicit_pads(cfg):
    padding, (kh, kw), (dh, dw) = cfg["padding"], cfg["kernel"], cfg["dilation"]
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":  # PyTorch: total d*(k-1), the odd cell after
        th, tw = dh * (kh - 1), dw * (kw - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return (ph, ph, pw, pw)


@given(cfg=conv_configs())
@SETTINGS
def test_conv2d_forward_matches_naive_loops(cfg):
    x, w, b, kwargs = _conv_case(cfg)
    out = conv2d(t64(x, False), t64(w, False), None if b is None else t64(b, False), **kwargs)
    x4 = x if x.ndim == 4 else x[None]
    stride = (1, 1) if cfg["padding"] == "same" else cfg["stride"]
    expected = naive_conv2d(x4, w, b, stride, _explicit_pads(cfg), cfg["dilation"], cfg["groups"])
    if x.ndim == 3:
        expected = expected[0]
    if cfg["padding"] == "same":
        assert out.shape[-2:] == x.shape[-2:]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


@given(cfg=conv_configs())
@settings(max_examples=80, deadline=None)
def test_conv2d_gradcheck(cfg):
    x, w, b, kwargs = _conv_case(cfg, seed=1)
    inputs = [t64(x), t64(w)] + ([t64(b)] if b is not None else [])
    assert gradcheck(lambda *t: conv2d(*t, **kwargs), inputs)


def test_conv2d_gradcheck_depthwise_and_weight_only():
    rng = np.random.default_rng(2)
    x, w = t64(rng.standard_normal((2, 4, 6, 5))), t64(rng.standard_normal((8, 1, 3, 3)))
    b = t64(rng.standard_normal(8))
    assert gradcheck(lambda *t: conv2d(*t, padding=1, groups=4), (x, w, b))
    frozen_x = t64(rng.standard_normal((2, 3, 5, 5)), grad=False)   # images: no input gradient
    w2 = t64(rng.standard_normal((2, 3, 2, 2)))
    assert gradcheck(lambda a, c: conv2d(a, c, stride=2), (frozen_x, w2))
    assert frozen_x.grad is None


def test_float32_in_float32_out_and_grads():
    rng = np.random.default_rng(3)
    x = tinynn.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32), requires_grad=True)
    conv = Conv2d(3, 4, 3, padding=1)
    y = conv(x)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    for t in (x, conv.weight, conv.bias):
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


def test_backward_twice_accumulates_and_uses_saved_columns():
    rng = np.random.default_rng(4)
    x = t64(rng.standard_normal((1, 2, 5, 5)))
    w = t64(rng.standard_normal((3, 2, 3, 3)))
    y = conv2d(x, w)
    y.sum().backward(retain_graph=True)
    first = w.grad.numpy().copy()
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first)


# ---------------------------------------------------------------------------- the module

def test_lecture_cnn_shapes():
    conv1, conv2 = Conv2d(1, 10, kernel_size=5), Conv2d(10, 20, kernel_size=5)
    x = tinynn.randn(64, 1, 28, 28)
    y = conv1(x)
    assert y.shape == (64, 10, 24, 24)
    assert conv2(tinynn.randn(64, 10, 12, 12)).shape == (64, 20, 8, 8)
    assert conv1(tinynn.randn(1, 28, 28)).shape == (10, 24, 24)   # unbatched
    assert [p.shape for p in conv1.parameters()] == [(10, 1, 5, 5), (10,)]


def test_default_init_is_pytorchs_uniform_bound():
    tinynn.manual_seed(0)
    conv = Conv2d(6, 8, (3, 2), groups=2)
    fan_in = 3 * 3 * 2
    bound = 1 / math.sqrt(fan_in)
    for p in (conv.weight, conv.bias):
        a = p.detach().numpy()
        assert a.dtype == np.float32
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.7 * bound
    tinynn.manual_seed(0)
    again = Conv2d(6, 8, (3, 2), groups=2)
    np.testing.assert_array_equal(again.weight.detach().numpy(), conv.weight.detach().numpy())
    assert Conv2d(2, 2, 3, bias=False).bias is None


def test_module_attributes_and_repr():
    conv = Conv2d(1, 10, kernel_size=5)
    assert (conv.kernel_size, conv.stride, conv.padding) == ((5, 5), (1, 1), (0, 0))
    assert (conv.dilation, conv.groups) == ((1, 1), 1)
    assert repr(conv) == "Conv2d(1, 10, kernel_size=(5, 5), stride=(1, 1))"
    conv = Conv2d(4, 8, 3, stride=2, padding=1, dilation=2, groups=4, bias=False)
    assert repr(conv) == ("Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                          "dilation=(2, 2), groups=4, bias=False)")
    assert Conv2d(2, 2, 4, padding="same").padding == "same"
    y = Conv2d(2, 3, 4, padding="same")(tinynn.randn(1, 2, 7, 6))
    assert y.shape == (1, 3, 7, 6)


def test_module_double_and_state_dict():
    conv = Conv2d(2, 3, 3).double()
    x = t64(np.random.default_rng(5).standard_normal((1, 2, 4, 4)))
    assert conv(x).dtype == np.float64
    assert set(conv.state_dict()) == {"weight", "bias"}


# ---------------------------------------------------------------------------- errors

def test_wrong_channel_count_names_layer_and_shapes():
    conv = Conv2d(1, 10, kernel_size=5)
    message = r"Conv2d.*expected input\[64, 3, 28, 28\] to have 1 channels, but got 3"
    with pytest.raises(RuntimeError, match=message):
        conv(tinynn.randn(64, 3, 28, 28))


def test_wrong_ndim_and_dtype():
    conv = Conv2d(1, 2, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d.*3D \(unbatched\) or 4D \(batched\).*\[28, 28\]"):
        conv(tinynn.randn(28, 28))
    with pytest.raises(RuntimeError, match="Conv2d.*input type"):
        conv(tinynn.randn(1, 1, 5, 5, dtype=tinynn.float64))


def test_kernel_larger_than_padded_input():
    message = r"padded input size per channel: \(4 x 4\). Kernel size: \(5 x 5\)"
    with pytest.raises(RuntimeError, match=message):
        Conv2d(1, 1, 5)(tinynn.randn(1, 1, 4, 4))
    assert Conv2d(1, 1, 5, padding=1)(tinynn.randn(1, 1, 3, 3)).shape == (1, 1, 1, 1)


def test_bad_hyper_parameters():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="non-positive stride"):
        Conv2d(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        Conv2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="invalid padding string"):
        Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="negative padding"):
        conv2d(tinynn.randn(1, 1, 4, 4), tinynn.randn(1, 1, 3, 3), padding=-1)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        conv2d(tinynn.randn(1, 2, 4, 4), tinynn.randn(1, 2, 3, 3), groups=0)
    with pytest.raises(RuntimeError, match="expected bias of shape"):
        conv2d(tinynn.randn(1, 1, 4, 4), tinynn.randn(2, 1, 3, 3), tinynn.randn(3))
