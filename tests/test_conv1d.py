"""Conv1d, MaxPool1d, AvgPool1d and the adaptive 1-D pools, from PyTorch's documentation.

Each is checked against a NumPy reference written from its definition and against the
2-D layer on an input of height 1; gradchecks on both backends; the docs' examples;
PyTorch's errors.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from opcheck import check_op, make_array

SETTINGS = settings(max_examples=60, deadline=None)


def t64(a, grad=False, device=None):
    return tinynn.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad, device=device)


def distinct(shape, seed=0):
    return make_array(shape, "distinct", np.random.default_rng(seed))


# ---------------------------------------------------------------------------- references

def naive_conv1d(x, w, b, stride, left, right, dilation, groups):
    """out[n, f, o] = b[f] + sum over (c, j) of w[f, c, j] * x_padded[n, first(f) + c, o*s + j*d],
    first(f) being the first input channel of f's group."""
    n, c, length = x.shape
    f, cg, k = w.shape
    xp = np.zeros((n, c, length + left + right))
    xp[:, :, left:left + length] = x
    out_len = (length + left + right - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n, f, out_len))
    for fi in range(f):
        first = (fi // (f // groups)) * cg
        for o in range(out_len):
            for ci in range(cg):
                for j in range(k):
                    out[:, fi, o] += w[fi, ci, j] * xp[:, first + ci, o * stride + j * dilation]
        if b is not None:
            out[:, fi] += b[fi]
    return out


def pool_length(length, k, s, p, d, ceil_mode):
    """The docs' L_out; with ceil_mode the last window must start inside the input or the left
    padding."""
    span = length + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def naive_max_pool1d(x, k, s, p, d, ceil_mode):
    """Values and first-maximum indices (positions along L), padding as -inf."""
    length = x.shape[-1]
    out_len = pool_length(length, k, s, p, d, ceil_mode)
    out = np.full(x.shape[:-1] + (out_len,), -np.inf)
    idx = np.zeros(x.shape[:-1] + (out_len,), dtype=np.int64)
    for o in range(out_len):
        for j in range(k):
            pos = o * s + j * d - p
            if 0 <= pos < length:
                better = x[..., pos] > out[..., o]
                out[..., o] = np.where(better, x[..., pos], out[..., o])
                idx[..., o] = np.where(better, pos, idx[..., o])
    return out, idx


def naive_avg_pool1d(x, k, s, p, ceil_mode, count_include_pad):
    length = x.shape[-1]
    out_len = pool_length(length, k, s, p, 1, ceil_mode)
    out = np.zeros(x.shape[:-1] + (out_len,))
    for o in range(out_len):
        start, end = o * s - p, o * s - p + k
        inside = range(max(start, 0), min(end, length))
        total = sum(x[..., i] for i in inside)
        divisor = (min(end, length + p) - start) if count_include_pad else len(inside)
        out[..., o] = total / divisor
    return out


# ---------------------------------------------------------------------------- conv1d

@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    cfg = dict(n=draw(st.integers(1, 3)), groups=groups, c=groups * draw(st.integers(1, 2)),
               f=groups * draw(st.integers(1, 2)), length=draw(st.integers(1, 9)),
               k=draw(st.integers(1, 4)), stride=draw(st.integers(1, 3)),
               dilation=draw(st.integers(1, 3)), bias=draw(st.booleans()),
               unbatched=draw(st.booleans()),
               padding=draw(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"]))))
    if cfg["padding"] == "same":
        cfg["stride"] = 1
    total = cfg["dilation"] * (cfg["k"] - 1)
    pads = {"same": (total // 2, total - total // 2), "valid": (0, 0)}
    cfg["pads"] = pads.get(cfg["padding"], (cfg["padding"], cfg["padding"]))
    assume(cfg["length"] + sum(cfg["pads"]) >= total + 1)
    return cfg


@given(cfg=conv_configs())
@SETTINGS
def test_conv1d_matches_the_definition_and_conv2d_on_height_one(cfg):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cfg["n"], cfg["c"], cfg["length"]))
    w = rng.standard_normal((cfg["f"], cfg["c"] // cfg["groups"], cfg["k"]))
    b = rng.standard_normal(cfg["f"]) if cfg["bias"] else None
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"])
    ref = naive_conv1d(x, w, b, cfg["stride"], *cfg["pads"], cfg["dilation"], cfg["groups"])
    if cfg["unbatched"]:
        x, ref = x[0], ref[0]
    tb = None if b is None else t64(b)
    out = F.conv1d(t64(x), t64(w), tb, **kw)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    kw2 = dict(kw, stride=(1, cfg["stride"]), dilation=(1, cfg["dilation"]),
               padding=cfg["padding"] if isinstance(cfg["padding"], str) else (0, cfg["padding"]))
    out2 = F.conv2d(t64(x).unsqueeze(-2), t64(w).unsqueeze(2), tb, **kw2).squeeze(-2)
    np.testing.assert_allclose(out.numpy(), out2.numpy(), atol=1e-12)


@pytest.mark.parametrize("kw, shapes", [
    (dict(stride=2, padding=1), [(2, 3, 7), (4, 3, 3), (4,)]),
    (dict(padding="same", dilation=2, groups=2), [(2, 4, 6), (2, 2, 4), (2,)]),
    (dict(stride=3, groups=3), [(6, 8), (6, 2, 2)]),                   # unbatched, no bias
])
def test_conv1d_gradcheck_and_float32(kw, shapes, device):
    check_op(lambda *a: F.conv1d(*a, **kw), shapes, "normal", device)


def test_conv1d_module_docs_example_and_repr():
    m = nn.Conv1d(16, 33, 3, stride=2)
    assert m(tinynn.randn(20, 16, 50)).shape == (20, 33, 24)
    assert m.weight.shape == (33, 16, 3) and m.bias.shape == (33,)
    assert m.kernel_size == (3,) and m.stride == (2,) and m.padding == (0,) and m.dilation == (1,)
    assert repr(m) == "Conv1d(16, 33, kernel_size=(3,), stride=(2,))"
    same = nn.Conv1d(4, 6, 4, padding="same", dilation=2, groups=2, bias=False)
    assert repr(same) == ("Conv1d(4, 6, kernel_size=(4,), stride=(1,), padding=same, "
                          "dilation=(2,), groups=2, bias=False)")
    assert same(tinynn.randn(3, 4, 9)).shape == (3, 6, 9)
    assert same(tinynn.randn(4, 9)).shape == (6, 9)                    # unbatched (C, L)
    assert list(m.state_dict()) == ["weight", "bias"]


def test_conv1d_default_initialisation():
    # U(-sqrt(k), sqrt(k)), k = groups / (C_in * kernel_size)
    m = nn.Conv1d(8, 64, 5, groups=2)
    bound = math.sqrt(2 / (8 * 5))
    assert np.abs(m.weight.detach().numpy()).max() <= bound
    assert np.abs(m.weight.detach().numpy()).max() > 0.95 * bound
    assert np.abs(m.bias.detach().numpy()).max() <= bound


def test_conv1d_module_equals_conv2d_module_with_the_same_weights(device):
    m1 = nn.Conv1d(3, 5, 3, padding=1, stride=2)
    m2 = nn.Conv2d(3, 5, (1, 3), padding=(0, 1), stride=(1, 2))
    m2.load_state_dict({"weight": m1.weight.detach().unsqueeze(2), "bias": m1.bias.detach()})
    m1.to(device), m2.to(device)
    x = tinynn.randn(4, 3, 10, device=device)
    out1, out2 = m1(x), m2(x.unsqueeze(2)).squeeze(2)
    assert out1.dtype == tinynn.float32 and out1.device == device
    np.testing.assert_allclose(out1.detach().cpu().numpy(), out2.detach().cpu().numpy(), rtol=1e-6)


def test_conv1d_height_is_a_view_not_a_copy():
    from tinynn.ops.conv1d import _image
    x = tinynn.randn(2, 3, 5)
    assert np.shares_memory(_image(x).array, x.array)


def test_conv1d_errors():
    w = tinynn.zeros(33, 16, 3)
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[33, 16, 3\], "
                                           r"expected input\[20, 15, 50\] to have 16 channels, "
                                           r"but got 15 channels instead"):
        F.conv1d(tinynn.zeros(20, 15, 50), w)
    with pytest.raises(RuntimeError, match=r"Expected 2D \(unbatched\) or 3D \(batched\) input to "
                                           r"conv1d, but got input of size: \[1, 16, 5, 5\]"):
        F.conv1d(tinynn.zeros(1, 16, 5, 5), w)
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided"):
        F.conv1d(tinynn.zeros(1, 16, 5), w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv1d(tinynn.zeros(1, 16, 2), w)
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 33 elements"):
        F.conv1d(tinynn.zeros(1, 16, 5), w, tinynn.zeros(3))
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv1d(tinynn.zeros(1, 16, 5), w, stride=0)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv1d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv1d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match=r"Conv1d\(2, 4, kernel_size=\(3,\).*to have 2 channels"):
        nn.Conv1d(2, 4, 3)(tinynn.zeros(1, 3, 8))


# ---------------------------------------------------------------------------- pooling

@st.composite
def pool_configs(draw, dilation=True):
    k = draw(st.integers(1, 4))
    cfg = dict(k=k, s=draw(st.one_of(st.none(), st.integers(1, 3))), p=draw(st.integers(0, k // 2)),
               d=draw(st.integers(1, 3)) if dilation else 1, ceil_mode=draw(st.booleans()),
               shape=draw(st.sampled_from([(3,), (1, 2), (2, 3)])) + (draw(st.integers(1, 10)),))
    stride = cfg["s"] or k
    assume(pool_length(cfg["shape"][-1], k, stride, cfg["p"], cfg["d"], cfg["ceil_mode"]) >= 1)
    return cfg


@given(cfg=pool_configs(), ties=st.booleans())
@SETTINGS
def test_max_pool1d_matches_the_definition_and_max_pool2d(cfg, ties):
    x = distinct(cfg["shape"])
    if ties:
        x = np.round(x / 4)            # the first maximum in window order wins
    args = (cfg["k"], cfg["s"], cfg["p"], cfg["d"], cfg["ceil_mode"])
    out, idx = F.max_pool1d(t64(x), *args, return_indices=True)
    ref, ref_idx = naive_max_pool1d(x, cfg["k"], cfg["s"] or cfg["k"], cfg["p"], cfg["d"],
                                    cfg["ceil_mode"])
    np.testing.assert_array_equal(out.numpy(), ref)
    assert idx.dtype == tinynn.int64
    finite = np.isfinite(ref)          # a window of padding only has no index to compare
    np.testing.assert_array_equal(idx.numpy()[finite], ref_idx[finite])
    stride2d = None if cfg["s"] is None else (1, cfg["s"])
    two_d = F.max_pool2d(t64(x).unsqueeze(-2), (1, cfg["k"]), stride2d, (0, cfg["p"]),
                         (1, cfg["d"]), cfg["ceil_mode"])
    np.testing.assert_array_equal(out.numpy(), two_d.squeeze(-2).numpy())


@given(cfg=pool_configs(dilation=False), count_include_pad=st.booleans())
@SETTINGS
def test_avg_pool1d_matches_the_definition_and_avg_pool2d(cfg, count_include_pad):
    x = distinct(cfg["shape"])
    args = (cfg["k"], cfg["s"], cfg["p"], cfg["ceil_mode"], count_include_pad)
    out = F.avg_pool1d(t64(x), *args)
    ref = naive_avg_pool1d(x, cfg["k"], cfg["s"] or cfg["k"], cfg["p"], cfg["ceil_mode"],
                           count_include_pad)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    stride2d = None if cfg["s"] is None else (1, cfg["s"])
    two_d = F.avg_pool2d(t64(x).unsqueeze(-2), (1, cfg["k"]), stride2d, (0, cfg["p"]),
                         cfg["ceil_mode"], count_include_pad)
    np.testing.assert_allclose(out.numpy(), two_d.squeeze(-2).numpy(), atol=1e-12)


def test_docs_examples():
    assert nn.MaxPool1d(3, stride=2)(tinynn.randn(20, 16, 50)).shape == (20, 16, 24)
    out = nn.AvgPool1d(3, stride=2)(tinynn.tensor([[[1.0, 2, 3, 4, 5, 6, 7]]]))
    np.testing.assert_array_equal(out.numpy(), [[[2.0, 4.0, 6.0]]])
    assert nn.AdaptiveAvgPool1d(5)(tinynn.randn(1, 64, 8)).shape == (1, 64, 5)
    assert nn.AdaptiveMaxPool1d(5)(tinynn.randn(1, 64, 8)).shape == (1, 64, 5)


def test_max_pool1d_pads_with_minus_infinity_and_returns_positions():
    x = t64([[[-3.0, -1.0, -2.0, -5.0]]])
    out, idx = nn.MaxPool1d(2, stride=2, padding=1, return_indices=True)(x)
    np.testing.assert_array_equal(out.numpy(), [[[-3.0, -1.0, -5.0]]])
    np.testing.assert_array_equal(idx.numpy(), [[[0, 1, 3]]])


def test_avg_pool1d_ceil_mode_divisor_stops_at_the_padded_end():
    x = t64([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    # windows [0:3], [2:5], [4:6]: the last averages 2 cells, not 3 (PyTorch's rule)
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, ceil_mode=True).numpy(), [[2.0, 4.0, 5.5]])
    # padding 1, count_include_pad: padded cells count; without it they do not
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1).numpy(), [[1.0, 3.0, 5.0]])
    np.testing.assert_allclose(F.avg_pool1d(x, 3, 2, 1, count_include_pad=False).numpy(),
                               [[1.5, 3.0, 5.0]])


def test_adaptive_pools_match_their_bins():
    x = distinct((2, 3, 7))
    for size in (1, 3, 5, 7):
        starts = [(i * 7) // size for i in range(size)]
        ends = [-(-((i + 1) * 7) // size) for i in range(size)]
        avg = np.stack([x[..., s:e].mean(-1) for s, e in zip(starts, ends)], -1)
        mx = np.stack([x[..., s:e].max(-1) for s, e in zip(starts, ends)], -1)
        arg = np.stack([x[..., s:e].argmax(-1) + s for s, e in zip(starts, ends)], -1)
        np.testing.assert_allclose(F.adaptive_avg_pool1d(t64(x), size).numpy(), avg, atol=1e-12)
        out, idx = F.adaptive_max_pool1d(t64(x), size, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), mx)
        np.testing.assert_array_equal(idx.numpy(), arg)
    assert F.adaptive_avg_pool1d(t64(x[0]), 3).shape == (3, 3)                # unbatched


@pytest.mark.parametrize("fn, domain", [
    (lambda x: F.max_pool1d(x, 3, 2, 1, 2, True), "distinct"),
    (lambda x: F.max_pool1d(x, 2), "distinct"),
    (lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), "normal"),
    (lambda x: F.avg_pool1d(x, 2), "normal"),
    (lambda x: F.adaptive_avg_pool1d(x, 3), "normal"),
    (lambda x: F.adaptive_max_pool1d(x, 3), "distinct"),
])
@pytest.mark.parametrize("shape", [(2, 3, 7), (3, 8)])
def test_pool1d_gradcheck_and_float32(fn, domain, shape, device):
    check_op(fn, [shape], domain, device)


def test_pool_module_reprs_and_attributes():
    m = nn.MaxPool1d(3, stride=2)
    assert repr(m) == "MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert nn.MaxPool1d(3).stride == 3
    a = nn.AvgPool1d(3, stride=2)
    assert repr(a) == "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))"
    assert nn.AvgPool1d(4).stride == (4,)
    assert repr(nn.AdaptiveMaxPool1d(5)) == "AdaptiveMaxPool1d(output_size=5)"


def test_pool1d_errors():
    x = tinynn.zeros(1, 2, 5)
    with pytest.raises(RuntimeError, match="padding should be at most half of kernel size, but got "
                                           "padding=2 and kernel_size=3"):
        F.max_pool1d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match="padding should be at most half of kernel size"):
        nn.AvgPool1d(2, padding=2)
    with pytest.raises(RuntimeError, match="kernel_size must be greater than zero, but got 0"):
        nn.MaxPool1d(0)
    with pytest.raises(RuntimeError, match="stride must be greater than zero, but got 0"):
        F.avg_pool1d(x, 2, 0)
    with pytest.raises(RuntimeError, match="Invalid computed output size: 0"):
        F.max_pool1d(x, 3, dilation=3)
    with pytest.raises(RuntimeError, match=r"Expected 2D or 3D input tensor.*\[1, 2, 5, 5\]"):
        F.max_pool1d(tinynn.zeros(1, 2, 5, 5), 2)
    with pytest.raises(RuntimeError, match=r"MaxPool1d\(kernel_size=4.*Invalid computed output"):
        nn.MaxPool1d(4)(tinynn.zeros(1, 3))
