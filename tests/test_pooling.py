"""Pooling: forward against naive loops, PyTorch's sizes/divisors/indices, gradchecks, modules."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import tinynn
from tinynn.autograd import gradcheck
from tinynn.nn.conv import Conv2d
from tinynn.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from tinynn.ops.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

SETTINGS = settings(max_examples=80, deadline=None)
LECTURE = [[4, 3, 1, 5], [1, 3, 4, 8], [4, 5, 4, 3], [6, 5, 9, 4]]


# ---------------------------------------------------------------------------- naive references

def out_size(size, k, s, p, d=1, ceil_mode=False):
    """PyTorch's pooling_output_shape, written out."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def naive_max_pool(x, k, s, p, d, ceil_mode):
    """Loops; padding is skipped (= -inf); ties keep the first maximum; flat h*W + w indices."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], d[0], ceil_mode), out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    out, idx = np.full((n, c, oh, ow), -np.inf), np.zeros((n, c, oh, ow), dtype=np.int64)
    for a in range(oh):
        for b in range(ow):
            for i in range(k[0]):
                for j in range(k[1]):
                    r, q = a * s[0] - p[0] + i * d[0], b * s[1] - p[1] + j * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        better = x[:, :, r, q] > out[:, :, a, b]
                        out[:, :, a, b] = np.where(better, x[:, :, r, q], out[:, :, a, b])
                        idx[:, :, a, b] = np.where(better, r * w + q, idx[:, :, a, b])
    return out, idx


def naive_avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    """PyTorch's CPU kernel: the window is clipped to the padded border, then to the input."""
    n, c, h, w = x.shape
    oh, ow = out_size(h, k[0], s[0], p[0], 1, ceil_mode), out_size(w, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for a in range(oh):
        for b in range(ow):
            h0, w0 = a * s[0] - p[0], b * s[1] - p[1]
            h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
            pool_size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
            divisor = divisor_override or (pool_size if count_include_pad else (h1 - h0) * (w1 - w0))
            out[:, :, a, b] = total / divisor
    return out


def bins(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def naive_adaptive(x, oh, ow, reduce):
    n, c, h, w = x.shape
    out, idx = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), dtype=np.int64)
    for a, (h0, h1) in enumerate(bins(h, oh)):
        for b, (w0, w1) in enumerate(bins(w, ow)):
            block = x[:, :, h0:h1, w0:w1]
            if reduce == "mean":
                out[:, :, a, b] = block.mean(axis=(2, 3))
            else:
                flat = block.reshape(n, c, -1)
                pos = flat.argmax(-1)   # the first maximum
                out[:, :, a, b] = flat.max(-1)
                idx[:, :, a, b] = (h0 + pos // (w1 - w0)) * w + w0 + pos % (w1 - w0)
    return out, idx


def distinct(shape, seed=0, dtype=np.float64):
    """Values without ties (a scaled permutation), so max-pool gradients have no kinks."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 3.0).astype(dtype)


def t(a, grad=False, dtype=None):
    return tinynn.tensor(np.asarray(a), dtype=dtype, requires_grad=grad)


# ---------------------------------------------------------------------------- hypothesis configs

@st.composite
def pool_configs(draw, dilation=True):
    k = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    if draw(st.booleans()):
        k = (k[0], k[0])
    s = draw(st.sampled_from([None, (1, 1), (2, 2), (1, 2), (3, 1), (2, 3), (3, 3)]))
    p = (draw(st.integers(0, min(2, k[0] // 2))), draw(st.integers(0, min(2, k[1] // 2))))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    ceil_mode = draw(st.booleans())
    sizes = []
    for kk, pp, dd in zip(k, p, d):
        smallest = max(1, dd * (kk - 1) + 1 - 2 * pp)
        sizes.append(draw(st.integers(smallest, smallest + 4)))
    batch = draw(st.sampled_from([None, 1, 2]))
    shape = ((batch,) if batch else ()) + (draw(st.integers(1, 2)),) + tuple(sizes)
    return dict(k=k, s=s, p=p, d=d, ceil_mode=ceil_mode, shape=shape)


def _as4d(x):
    return x if x.ndim == 4 else x[None]


def _max_window_has_input(cfg):
    """False when dilation puts some window entirely in the padding (a degenerate corner)."""
    s = cfg["s"] or cfg["k"]
    for size, k, st_, p, d in zip(cfg["shape"][-2:], cfg["k"], s, cfg["p"], cfg["d"]):
        for o in range(out_size(size, k, st_, p, d, cfg["ceil_mode"])):
            if not any(0 <= o * st_ - p + i * d < size for i in range(k)):
                return False
    return True


# ---------------------------------------------------------------------------- the lecture's examples

def test_lecture_worked_examples_exactly():
    x = t([LECTURE], dtype=tinynn.float32)        # (1, 4, 4): unbatched, one channel
    np.testing.assert_array_equal(max_pool2d(x, 2).numpy(), [[[4, 8], [6, 9]]])
    np.testing.assert_array_equal(avg_pool2d(x, 2).numpy(), [[[2.75, 4.5], [5.0, 5.0]]])
    np.testing.assert_array_equal(MaxPool2d(2)(x).numpy(), [[[4, 8], [6, 9]]])
    np.testing.assert_array_equal(AvgPool2d(2)(x).numpy(), [[[2.75, 4.5], [5.0, 5.0]]])
    for global_max in (AdaptiveMaxPool2d(1)(x), AdaptiveMaxPool2d((1, 1))(x), MaxPool2d(4)(x)):
        np.testing.assert_array_equal(global_max.numpy(), [[[9.0]]])
    for global_avg in (AdaptiveAvgPool2d(1)(x), AdaptiveAvgPool2d((1, 1))(x), AvgPool2d(4)(x)):
        np.testing.assert_array_equal(global_avg.numpy(), [[[4.3125]]])
    assert max_pool2d(x, 2).dtype == np.float32


def test_lecture_cnn_pipeline_shapes_and_view():
    conv1, conv2 = Conv2d(1, 10, kernel_size=5), Conv2d(10, 20, kernel_size=5)
    x = tinynn.randn(64, 1, 28, 28)
    x = max_pool2d(conv1(x), 2).relu()
    assert x.shape == (64, 10, 12, 12)
    x = max_pool2d(conv2(x), 2).relu()
    assert x.shape == (64, 20, 4, 4)
    assert x.view(-1, 320).shape == (64, 320)   # pooling outputs are contiguous, as PyTorch's


# ---------------------------------------------------------------------------- max pooling

@given(cfg=pool_configs(), ties=st.booleans())
@SETTINGS
def test_max_pool_forward_and_indices_match_loops(cfg, ties):
    x = distinct(cfg["shape"])
    if ties:
        x = np.round(x / 4)   # many ties: the first maximum in window order wins
    out, idx = max_pool2d(t(x), cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil_mode"], return_indices=True)
    ref, ref_idx = naive_max_pool(_as4d(x), cfg["k"], cfg["s"] or cfg["k"], cfg["p"], cfg["d"],
                                  cfg["ceil_mode"])
    if x.ndim == 3:
        ref, ref_idx = ref[0], ref_idx[0]
    np.testing.assert_array_equal(out.numpy(), ref)
    assert idx.dtype == np.int64
    if _max_window_has_input(cfg):
        np.testing.assert_array_equal(idx.numpy(), ref_idx)


@given(cfg=pool_configs())
@SETTINGS
def test_max_pool_gradcheck(cfg):
    assume(_max_window_has_input(cfg))   # an all-padding window outputs -inf: no finite differences
    x = t(distinct(cfg["shape"], seed=1), grad=True)
    assert gradcheck(lambda a: max_pool2d(a, cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil_mode"]), (x,))


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = t(np.ones((1, 1, 4, 4)), grad=True)
    max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_overlapping_windows_accumulate_on_a_shared_maximum():
    x = t([[[[0.0, 1.0, 0.0], [0.0, 5.0, 0.0], [0.0, 1.0, 0.0]]]], grad=True)
    out = max_pool2d(x, 2, stride=1)                 # all four windows pick the centre
    np.testing.assert_array_equal(out.detach().numpy(), np.full((1, 1, 2, 2), 5.0))
    out.backward(t(np.array([[[[1.0, 2.0], [3.0, 4.0]]]])))
    expected = np.zeros((3, 3))
    expected[1, 1] = 10.0
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_max_pool_pads_with_minus_infinity_not_zero():
    x = -1.0 - distinct((1, 2, 3, 3), dtype=np.float32) ** 2           # all negative
    out = max_pool2d(t(x), 3, stride=1, padding=1)
    ref, _ = naive_max_pool(x, (3, 3), (1, 1), (1, 1), (1, 1), False)
    assert (out.numpy() < 0).all()
    np.testing.assert_array_equal(out.numpy(), ref.astype(np.float32))
    corner = max_pool2d(t(np.full((1, 1, 2, 2), -7.0)), 2, stride=1, padding=1)
    np.testing.assert_array_equal(corner.numpy(), np.full((1, 1, 3, 3), -7.0))


def test_return_indices_follow_pytorchs_convention():
    x = t([LECTURE])
    out, idx = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[0, 7], [12, 14]]])   # flat h*W + w in the plane
    _, idx = max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    # windows start at -1 (padding): indices still refer to the unpadded 4x4 plane
    np.testing.assert_array_equal(idx.numpy(), [[[0, 7], [12, 14]]])
    out, idx = MaxPool2d(2, return_indices=True)(t([[LECTURE, LECTURE]]))
    assert out.shape == idx.shape == (1, 2, 2, 2)


def test_max_pool_propagates_nan():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    out, idx = max_pool2d(t(x), 2, return_indices=True)
    assert np.isnan(out.numpy()[0, 0, 0, 0]) and idx.numpy()[0, 0, 0, 0] == 1
    assert out.numpy()[0, 0, 1, 1] == 15


def test_max_pool_nan_rule_last_nan_wins_and_other_windows_keep_first_max():
    # Window (0, 0) holds two NaNs (offsets 1 and 2): the last one is the argmax, as in
    # PyTorch. Window (0, 1) has a tie (offsets 0 and 3): the first maximum wins.
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    x[0, 0, 0, 2] = x[0, 0, 1, 3] = 100.0
    xt = t(x)
    xt.requires_grad = True
    out, idx = max_pool2d(xt, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[[4, 2], [13, 15]]]])
    out.sum().backward()
    expected = np.zeros((4, 4))
    expected[1, 0] = expected[0, 2] = expected[3, 1] = expected[3, 3] = 1
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], expected)


@pytest.mark.parametrize("kernel, stride, dilation", [(2, 2, 1), (2, 4, 2), (3, 3, 1)])
def test_max_pool_backward_leaves_zeros_outside_the_argmax(kernel, stride, dilation):
    # stride 4 with dilation 2 reads offsets 0 and 2 of each 4 pixels: 1 and 3 get no
    # gradient even though the windows' strides tile the plane.
    rng = np.random.default_rng(0)
    x = t(rng.standard_normal((2, 3, 12, 12)))
    x.requires_grad = True
    out = max_pool2d(x, kernel, stride, dilation=dilation)
    out.backward(t(np.ones(out.shape)))
    grad = x.grad.numpy()
    assert np.isfinite(grad).all()
    assert grad.sum() == out.numel() and set(np.unique(grad)) <= {0.0, 1.0}


# ---------------------------------------------------------------------------- average pooling

@given(cfg=pool_configs(dilation=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 1, 3]))
@SETTINGS
def test_avg_pool_forward_matches_pytorchs_divisor_rule(cfg, count_include_pad, divisor_override):
    x = distinct(cfg["shape"])
    out = avg_pool2d(t(x), cfg["k"], cfg["s"], cfg["p"], cfg["ceil_mode"], count_include_pad,
                     divisor_override)
    ref = naive_avg_pool(_as4d(x), cfg["k"], cfg["s"] or cfg["k"], cfg["p"], cfg["ceil_mode"],
                         count_include_pad, divisor_override)
    np.testing.assert_allclose(out.numpy(), ref if x.ndim == 4 else ref[0], rtol=1e-12, atol=1e-12)


@given(cfg=pool_configs(dilation=False), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, None, 2]))
@SETTINGS
def test_avg_pool_gradcheck(cfg, count_include_pad, divisor_override):
    x = t(distinct(cfg["shape"], seed=2), grad=True)
    assert gradcheck(lambda a: avg_pool2d(a, cfg["k"], cfg["s"], cfg["p"], cfg["ceil_mode"],
                                          count_include_pad, divisor_override), (x,))


def test_ceil_mode_divisor_stops_at_the_padded_border():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    out = avg_pool2d(t(x), 3, stride=2, ceil_mode=True)
    assert out.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(out.numpy()[0, 0, 0, 2], x[0, 0, 0:3, 4:6].mean())   # 2 columns, not 3
    padded = avg_pool2d(t(x), 3, stride=2, padding=1, ceil_mode=True)
    # the last window covers padded column 6 (counted) but not column 7 (past the border)
    np.testing.assert_allclose(padded.numpy()[0, 0, 1, 3], x[0, 0, 1:4, 5].sum() / 6)


# ---------------------------------------------------------------------------- adaptive pooling

@st.composite
def adaptive_configs(draw):
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    oh, ow = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    size = draw(st.sampled_from(["pair", "int", "none_h", "none_w"]))
    output_size = {"pair": (oh, ow), "int": oh, "none_h": (None, ow), "none_w": (oh, None)}[size]
    expected = {"pair": (oh, ow), "int": (oh, oh), "none_h": (h, ow), "none_w": (oh, w)}[size]
    batch = draw(st.sampled_from([None, 1, 2]))
    shape = ((batch,) if batch else ()) + (draw(st.integers(1, 2)), h, w)
    return shape, output_size, expected


@given(cfg=adaptive_configs(), ties=st.booleans())
@SETTINGS
def test_adaptive_pools_match_loops(cfg, ties):
    shape, output_size, (oh, ow) = cfg
    x = distinct(shape)
    if ties:
        x = np.round(x / 4)
    out, idx = adaptive_max_pool2d(t(x), output_size, return_indices=True)
    ref, ref_idx = naive_adaptive(_as4d(x), oh, ow, "max")
    ref_avg, _ = naive_adaptive(_as4d(x), oh, ow, "mean")
    if x.ndim == 3:
        ref, ref_idx, ref_avg = ref[0], ref_idx[0], ref_avg[0]
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    np.testing.assert_allclose(adaptive_avg_pool2d(t(x), output_size).numpy(), ref_avg,
                               rtol=1e-12, atol=1e-12)


@given(cfg=adaptive_configs())
@SETTINGS
def test_adaptive_pools_gradcheck(cfg):
    shape, output_size, _ = cfg
    x = t(distinct(shape, seed=3), grad=True)
    assert gradcheck(lambda a: adaptive_max_pool2d(a, output_size), (x,))
    assert gradcheck(lambda a: adaptive_avg_pool2d(a, output_size), (x,))


def test_adaptive_examples_from_the_docs():
    x = tinynn.randn(1, 64, 8, 9)
    assert AdaptiveMaxPool2d((5, 7))(x).shape == (1, 64, 5, 7)
    assert AdaptiveAvgPool2d((5, 7))(x).shape == (1, 64, 5, 7)
    x = tinynn.randn(1, 64, 10, 9)
    assert AdaptiveMaxPool2d(7)(x).shape == (1, 64, 7, 7)
    assert AdaptiveMaxPool2d((None, 7))(x).shape == (1, 64, 10, 7)
    assert AdaptiveAvgPool2d((None, 7))(x).shape == (1, 64, 10, 7)
    out, idx = AdaptiveMaxPool2d(1, return_indices=True)(t([[LECTURE]], dtype=tinynn.float32))
    assert out.item() == 9 and idx.item() == 14 and idx.dtype == np.int64


# ---------------------------------------------------------------------------- dtypes and layouts

@pytest.mark.parametrize("pool", [
    lambda a: max_pool2d(a, 2), lambda a: max_pool2d(a, 3, 1, 1), lambda a: avg_pool2d(a, 3, 2, 1, True),
    lambda a: adaptive_max_pool2d(a, (2, 3)), lambda a: adaptive_avg_pool2d(a, (2, 3)),
    lambda a: adaptive_max_pool2d(a, 1), lambda a: adaptive_avg_pool2d(a, 1)])
def test_float32_stays_float32_and_layout_does_not_matter(pool):
    x = distinct((2, 3, 5, 6), dtype=np.float32)
    a = t(x, grad=True)
    y = pool(a)
    assert y.dtype == np.float32
    g = np.random.default_rng(0).standard_normal(y.shape).astype(np.float32)
    y.backward(t(g))
    assert a.grad.dtype == np.float32 and a.grad.shape == a.shape
    # the same values stored batch-last in memory (as conv outputs are) give the same results
    b = tinynn.Tensor(np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2), requires_grad=True)
    z = pool(b)
    np.testing.assert_array_equal(z.detach().numpy(), y.detach().numpy())
    z.backward(t(g))
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------- modules and errors

def test_module_defaults_and_repr():
    m = MaxPool2d(2)
    assert m.stride == 2 and m.padding == 0 and not m.ceil_mode
    assert repr(m) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(AvgPool2d(3, 2)) == "AvgPool2d(kernel_size=3, stride=2, padding=0)"
    assert repr(AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert list(MaxPool2d(2).parameters()) == []


def test_padding_larger_than_half_the_kernel_is_an_error():
    with pytest.raises(ValueError, match="MaxPool2d.*pad should be at most half of kernel size"):
        MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="avg_pool2d.*pad should be at most half"):
        avg_pool2d(tinynn.randn(1, 1, 4, 4), 3, padding=2)
    # the check ignores dilation, as PyTorch's: padding 1 <= 3 // 2 is fine with dilation 3
    assert max_pool2d(tinynn.randn(1, 1, 9, 9), 3, padding=1, dilation=3).shape == (1, 1, 2, 2)


def test_pool_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match="non-positive stride"):
        MaxPool2d(2, stride=0)
    with pytest.raises(ValueError, match="kernel_size must be greater than zero"):
        max_pool2d(tinynn.randn(1, 1, 4, 4), 0)
    with pytest.raises(RuntimeError, match=r"MaxPool2d.*\[1, 1, 2, 2\].*too small"):
        MaxPool2d(3)(tinynn.randn(1, 1, 2, 2))
    with pytest.raises(RuntimeError, match=r"AvgPool2d.*3D \(C, H, W\) or 4D.*\[4, 4\]"):
        AvgPool2d(2)(tinynn.randn(4, 4))
    with pytest.raises(ValueError, match="divisor must be not zero"):
        AvgPool2d(2, divisor_override=0)
    with pytest.raises(ValueError, match="output_size must be positive"):
        AdaptiveMaxPool2d((0, 2))(tinynn.randn(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="AdaptiveAvgPool2d"):
        AdaptiveAvgPool2d(2)(tinynn.randn(1, 1, 1, 0, 4))
