"""F.interpolate / nn.Upsample and F.pad / the padding layers, from PyTorch's documentation.

Expected values: the worked examples of torch.nn.Upsample, UpsamplingBilinear2d,
ReflectionPad2d, ReplicationPad2d, ConstantPad, circular padding, small cases computed by
hand, and NumPy references written from the documented index formulas:
nearest picks floor(j * in/out) (floor(j / scale_factor) when a scale factor is given);
bilinear with align_corners=False samples at (j + 0.5) * in/out - 0.5 clamped at 0, with
align_corners=True at j * (in - 1)/(out - 1).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from opcheck import check_op


def npy(x):
    return x.detach().cpu().numpy()


def t(a, device=None, requires_grad=False):
    return tinynn.tensor(a, device=device, requires_grad=requires_grad)


DOC_INPUT = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)


# ---------------------------------------------------------------------------- references

def nearest_index(in_size, out_size):
    return [min(math.floor(j * in_size / out_size), in_size - 1) for j in range(out_size)]


def linear_weights(in_size, out_size, align_corners):
    """Per output position: (i0, i1, lambda) from the documented source coordinate."""
    rows = []
    for j in range(out_size):
        if align_corners:
            src = j * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        else:
            src = max((j + 0.5) * in_size / out_size - 0.5, 0.0)
        i0 = min(int(math.floor(src)), in_size - 1)
        i1 = min(i0 + 1, in_size - 1)
        rows.append((i0, i1, src - i0))
    return rows


def ref_bilinear(x, out_h, out_w, align_corners):
    n, c, h, w = x.shape
    out = np.zeros((n, c, out_h, out_w))
    for oy, (y0, y1, ly) in enumerate(linear_weights(h, out_h, align_corners)):
        for ox, (x0, x1, lx) in enumerate(linear_weights(w, out_w, align_corners)):
            out[:, :, oy, ox] = ((1 - ly) * ((1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1])
                                 + ly * ((1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]))
    return out


# ---------------------------------------------------------------------------- documented examples

def test_upsample_doc_examples():
    x = t(DOC_INPUT)
    np.testing.assert_array_equal(npy(nn.Upsample(scale_factor=2, mode="nearest")(x))[0, 0],
                                  [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    np.testing.assert_allclose(npy(nn.Upsample(scale_factor=2, mode="bilinear")(x))[0, 0],
                               [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5],
                                [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]], rtol=1e-6)
    third = [[1.0, 4 / 3, 5 / 3, 2.0], [5 / 3, 2.0, 7 / 3, 8 / 3],
             [7 / 3, 8 / 3, 3.0, 10 / 3], [3.0, 10 / 3, 11 / 3, 4.0]]
    np.testing.assert_allclose(
        npy(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(x))[0, 0], third,
        rtol=1e-6)
    np.testing.assert_allclose(npy(nn.UpsamplingBilinear2d(scale_factor=2)(x))[0, 0], third,
                               rtol=1e-6)


def test_upsample_doc_example_on_a_larger_tensor():
    big = np.zeros((1, 1, 3, 3), np.float32)
    big[:, :, :2, :2] = DOC_INPUT
    out = npy(nn.Upsample(scale_factor=2, mode="bilinear")(t(big)))[0, 0]
    np.testing.assert_allclose(out, [[1.0, 1.25, 1.75, 1.5, 0.5, 0.0],
                                     [1.5, 1.75, 2.25, 1.875, 0.625, 0.0],
                                     [2.5, 2.75, 3.25, 2.625, 0.875, 0.0],
                                     [2.25, 2.4375, 2.8125, 2.25, 0.75, 0.0],
                                     [0.75, 0.8125, 0.9375, 0.75, 0.25, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], rtol=1e-6)
    out = npy(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(t(big)))[0, 0]
    np.testing.assert_allclose(out, [[1.0, 1.4, 1.8, 1.6, 0.8, 0.0],
                                     [1.8, 2.2, 2.6, 2.24, 1.12, 0.0],
                                     [2.6, 3.0, 3.4, 2.88, 1.44, 0.0],
                                     [2.4, 2.72, 3.04, 2.56, 1.28, 0.0],
                                     [1.2, 1.36, 1.52, 1.28, 0.64, 0.0],
                                     [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], rtol=1e-5, atol=1e-6)


def test_padding_layer_doc_examples():
    x = t(np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3))
    np.testing.assert_array_equal(npy(nn.ReflectionPad2d(2)(x))[0, 0],
                                  [[8, 7, 6, 7, 8, 7, 6], [5, 4, 3, 4, 5, 4, 3],
                                   [2, 1, 0, 1, 2, 1, 0], [5, 4, 3, 4, 5, 4, 3],
                                   [8, 7, 6, 7, 8, 7, 6], [5, 4, 3, 4, 5, 4, 3],
                                   [2, 1, 0, 1, 2, 1, 0]])
    np.testing.assert_array_equal(npy(nn.ReflectionPad2d((1, 1, 2, 0))(x))[0, 0],
                                  [[7, 6, 7, 8, 7], [4, 3, 4, 5, 4], [1, 0, 1, 2, 1],
                                   [4, 3, 4, 5, 4], [7, 6, 7, 8, 7]])
    np.testing.assert_array_equal(npy(nn.ReplicationPad2d(2)(x))[0, 0],
                                  [[0, 0, 0, 1, 2, 2, 2], [0, 0, 0, 1, 2, 2, 2],
                                   [0, 0, 0, 1, 2, 2, 2], [3, 3, 3, 4, 5, 5, 5],
                                   [6, 6, 6, 7, 8, 8, 8], [6, 6, 6, 7, 8, 8, 8],
                                   [6, 6, 6, 7, 8, 8, 8]])
    np.testing.assert_array_equal(npy(nn.ReplicationPad2d((1, 1, 2, 0))(x))[0, 0],
                                  [[0, 0, 1, 2, 2], [0, 0, 1, 2, 2], [0, 0, 1, 2, 2],
                                   [3, 3, 4, 5, 5], [6, 6, 7, 8, 8]])
    assert nn.ZeroPad2d(2)(tinynn.randn(1, 1, 3, 3)).shape == (1, 1, 7, 7)
    assert nn.ZeroPad2d((1, 1, 2, 0))(tinynn.randn(1, 1, 3, 3)).shape == (1, 1, 5, 5)
    c = npy(nn.ConstantPad2d((3, 0, 2, 1), 3.5)(tinynn.ones(1, 2, 2)))
    assert c.shape == (1, 5, 5)
    expected = np.full((5, 5), 3.5, np.float32)
    expected[2:4, 3:5] = 1
    np.testing.assert_array_equal(c[0], expected)
    # ReflectionPad1d(2) of [[0, 1, 2, 3], [4, 5, 6, 7]] is [[2, 1, 0, 1, 2, 3, 2, 1], ...]
    row = npy(nn.ReflectionPad1d(2)(t(np.arange(8, dtype=np.float32).reshape(1, 2, 4))))
    np.testing.assert_array_equal(row[0], [[2, 1, 0, 1, 2, 3, 2, 1], [6, 5, 4, 5, 6, 7, 6, 5]])


def test_pad_modes_on_one_dim():
    a = t(np.arange(1, 9, dtype=np.float32).reshape(1, 1, 8))
    np.testing.assert_array_equal(npy(F.pad(a, (2, 3), mode="reflect"))[0, 0],
                                  [3, 2, 1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5])
    np.testing.assert_array_equal(npy(F.pad(a, (2, 3), mode="replicate"))[0, 0],
                                  [1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8])
    np.testing.assert_array_equal(npy(F.pad(a, (2, 3), mode="circular"))[0, 0],
                                  [7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3])
    np.testing.assert_array_equal(npy(F.pad(a, (2, 3), value=-1.0))[0, 0],
                                  [-1, -1, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1])


def test_constant_pad_any_dims_and_negative_pads_crop():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out = npy(F.pad(t(x), (1, 1, 0, 2, 1, 0)))
    assert out.shape == (3, 5, 6)
    np.testing.assert_array_equal(out[1:, 0:3, 1:5], x)
    assert out.sum() == x.sum()
    crop = npy(F.pad(t(x), (-1, 2, 0, -2)))
    expected = np.zeros((2, 1, 5), np.float32)
    expected[:, :, :3] = x[:, :1, 1:]
    np.testing.assert_array_equal(crop, expected)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(2, 6), w=st.integers(2, 6), pads=st.lists(st.integers(0, 5), min_size=4,
                                                               max_size=4),
       mode=st.sampled_from(["reflect", "replicate", "circular", "constant"]),
       seed=st.integers(0, 50))
def test_pad_matches_numpy_pad(h, w, pads, mode, seed):
    # NumPy's 'reflect', 'edge' and 'wrap' are PyTorch's reflect, replicate and circular
    left, right, top, bottom = pads
    limit = {"reflect": lambda n, p: min(p, n - 1), "circular": lambda n, p: min(p, n)}.get(
        mode, lambda n, p: p)
    left, right, top, bottom = limit(w, left), limit(w, right), limit(h, top), limit(h, bottom)
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    out = F.pad(t(x), (left, right, top, bottom), mode=mode)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap",
               "constant": "constant"}[mode]
    expected = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode=np_mode)
    np.testing.assert_array_equal(npy(out), expected)


# ---------------------------------------------------------------------------- hand-computed interpolation

def test_nearest_index_rules():
    x = t(np.array([[[10.0, 11, 12, 13, 14]]]))
    # size: floor(j * 5/8)
    np.testing.assert_array_equal(npy(F.interpolate(x, size=8))[0, 0],
                                  [10, 10, 11, 11, 12, 13, 13, 14])
    # scale_factor 1.7 -> 8 outputs, but PyTorch uses 1/1.7 in the index: floor(j / 1.7)
    np.testing.assert_array_equal(npy(F.interpolate(x, scale_factor=1.7))[0, 0],
                                  [10, 10, 11, 11, 12, 12, 13, 14])
    # recompute_scale_factor=True uses in/out again
    np.testing.assert_array_equal(
        npy(F.interpolate(x, scale_factor=1.7, recompute_scale_factor=True))[0, 0],
        [10, 10, 11, 11, 12, 13, 13, 14])
    # downsampling 5 -> 2 picks floor(j * 2.5) = 0, 2
    np.testing.assert_array_equal(npy(F.interpolate(x, size=2))[0, 0], [10, 12])
    # nearest-exact: floor((j + 0.5) * 2.5) = 1, 3
    np.testing.assert_array_equal(npy(F.interpolate(x, size=2, mode="nearest-exact"))[0, 0],
                                  [11, 13])


def test_linear_by_hand_both_align_corners_settings():
    x = t(np.array([[[0.0, 10.0, 20.0]]]))
    # align_corners=False: src = (j + 0.5) * 0.6 - 0.5 = -0.2 (-> 0), 0.4, 1.0, 1.6, 2.2
    np.testing.assert_allclose(npy(F.interpolate(x, size=5, mode="linear"))[0, 0],
                               [0, 4, 10, 16, 20], atol=1e-12)
    # align_corners=True: src = j * 2/4
    np.testing.assert_allclose(
        npy(F.interpolate(x, size=5, mode="linear", align_corners=True))[0, 0],
        [0, 5, 10, 15, 20], atol=1e-12)
    # downsampling 3 -> 2, align_corners=False: src = 0.25, 1.75
    np.testing.assert_allclose(npy(F.interpolate(x, size=2, mode="linear"))[0, 0], [2.5, 17.5])


def test_bilinear_halving_averages_two_by_two_blocks():
    # align_corners=False, 4 -> 2: src = 0.5, 2.5, the centre of each 2x2 block
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    expected = x.reshape(1, 1, 2, 2, 2, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(npy(F.interpolate(t(x), size=(2, 2), mode="bilinear")), expected)
    np.testing.assert_allclose(npy(F.interpolate(t(x), size=(2, 2), mode="area")), expected)


def test_area_is_adaptive_average_pooling():
    x = np.array([[[1.0, 2.0, 4.0, 8.0, 16.0]]])
    # windows [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(npy(F.interpolate(t(x), size=3, mode="area"))[0, 0],
                               [1.5, 14 / 3, 12.0])
    img = t(np.random.default_rng(0).standard_normal((2, 3, 7, 5)))
    np.testing.assert_allclose(npy(F.interpolate(img, size=(3, 2), mode="area")),
                               npy(F.adaptive_avg_pool2d(img, (3, 2))), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), oh=st.integers(1, 9), ow=st.integers(1, 9),
       align=st.booleans(), seed=st.integers(0, 50))
def test_bilinear_matches_the_documented_formula(h, w, oh, ow, align, seed):
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    out = F.interpolate(t(x), size=(oh, ow), mode="bilinear", align_corners=align)
    np.testing.assert_allclose(npy(out), ref_bilinear(x, oh, ow, align), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), oh=st.integers(1, 11), ow=st.integers(1, 11),
       seed=st.integers(0, 50))
def test_nearest_matches_the_documented_formula(h, w, oh, ow, seed):
    x = np.random.default_rng(seed).standard_normal((1, 3, h, w)).astype(np.float32)
    out = F.interpolate(t(x), size=(oh, ow))
    expected = x[:, :, nearest_index(h, oh)][:, :, :, nearest_index(w, ow)]
    np.testing.assert_array_equal(npy(out), expected)


def test_nearest_keeps_integer_images():
    img = t(np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4))
    out = F.interpolate(img, scale_factor=2)
    assert out.dtype == tinynn.uint8 and out.shape == (1, 1, 6, 8)


def test_trilinear_and_nearest_on_volumes():
    x = np.random.default_rng(1).standard_normal((1, 2, 2, 3, 2))
    out = F.interpolate(t(x), size=(4, 3, 2), mode="trilinear", align_corners=True)
    assert out.shape == (1, 2, 4, 3, 2)
    np.testing.assert_allclose(npy(out)[:, :, ::3], x, atol=1e-12)   # corners kept
    assert F.interpolate(t(x), scale_factor=2).shape == (1, 2, 4, 6, 4)


# ---------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("kwargs", [
    dict(scale_factor=2, mode="nearest"), dict(size=(3, 5), mode="nearest"),
    dict(size=(5, 2), mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear"), dict(size=(5, 3), mode="bilinear"),
    dict(size=(2, 7), mode="bilinear", align_corners=True),
    dict(scale_factor=1.5, mode="bilinear", align_corners=False),
    dict(size=(2, 3), mode="area"),
])
def test_interpolate_gradcheck_4d(device, kwargs):
    check_op(lambda x: F.interpolate(x, **kwargs), [(2, 2, 4, 4)], "normal", device)


@pytest.mark.parametrize("kwargs", [dict(size=7, mode="linear"), dict(size=3, mode="linear",
                                                                    align_corners=True),
                                    dict(scale_factor=3, mode="nearest"), dict(size=2, mode="area")])
def test_interpolate_gradcheck_3d(device, kwargs):
    check_op(lambda x: F.interpolate(x, **kwargs), [(2, 3, 5)], "normal", device)


def test_trilinear_gradcheck(device):
    check_op(lambda x: F.interpolate(x, size=(3, 2, 3), mode="trilinear"), [(1, 1, 2, 3, 2)],
             "normal", device)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [(1, 2), (2, 1, 0, 2), (-1, 2, 1, 0)])
def test_pad_gradcheck(device, mode, padding):
    shape = (2, 4, 3) if len(padding) == 2 else (2, 3, 4, 3)   # PyTorch's non-constant ranks
    check_op(lambda x: F.pad(x, padding, mode=mode), [shape], "normal", device)


def test_gradients_of_repeated_reads_add_up(device):
    # nearest 2x upsampling: every input pixel is read by 4 outputs
    x = tinynn.randn(2, 3, 4, 5, device=device, requires_grad=True)
    F.interpolate(x, scale_factor=2).sum().backward()
    np.testing.assert_array_equal(npy(x.grad), 4)
    # replicate padding: the corner pixel is read by (1 + 2) * (1 + 3) outputs
    y = tinynn.randn(1, 1, 3, 3, device=device, requires_grad=True)
    F.pad(y, (2, 0, 3, 0), mode="replicate").sum().backward()
    assert npy(y.grad)[0, 0, 0, 0] == 12


@settings(max_examples=20, deadline=None)
@given(h=st.integers(1, 5), w=st.integers(2, 5), oh=st.integers(1, 8), ow=st.integers(1, 8),
       mode=st.sampled_from(["nearest", "bilinear", "bilinear-ac", "area"]),
       seed=st.integers(0, 50))
def test_backward_is_the_adjoint(h, w, oh, ow, mode, seed):
    # <interpolate(x), g> == <x, interpolate^T(g)>, with interpolate^T the gradient
    rng = np.random.default_rng(seed)
    x = t(rng.standard_normal((2, 1, h, w)), requires_grad=True)
    g = rng.standard_normal((2, 1, oh, ow))
    kwargs = dict(mode="bilinear", align_corners=True) if mode == "bilinear-ac" else dict(mode=mode)
    out = F.interpolate(x, size=(oh, ow), **kwargs)
    out.backward(t(g))
    assert np.isclose((npy(out) * g).sum(), (npy(x) * npy(x.grad)).sum())


def test_float32_stays_float32_and_non_contiguous_input(device):
    x = tinynn.randn(2, 3, 5, 4, device=device).transpose(2, 3)      # (2, 3, 4, 5), a view
    expected = F.interpolate(x.contiguous(), size=(6, 7), mode="bilinear")
    out = F.interpolate(x, size=(6, 7), mode="bilinear")
    assert out.dtype == tinynn.float32 and out.device == device
    np.testing.assert_allclose(npy(out), npy(expected), rtol=1e-6)
    assert F.pad(x, (1, 1, 1, 1), mode="reflect").dtype == tinynn.float32


def test_output_is_a_new_array_even_when_nothing_changes():
    x = tinynn.randn(1, 1, 3, 3)
    out = F.interpolate(x, size=(3, 3))
    out.array[...] = 0
    assert np.any(x.numpy() != 0)
    out = F.pad(x, (0, 0))
    out.array[...] = 0
    assert np.any(x.numpy() != 0)


def test_grad_fn_names():
    x = tinynn.randn(1, 1, 3, 3, requires_grad=True)
    assert F.interpolate(x, scale_factor=2).grad_fn.name == "UpsampleNearest2DBackward0"
    assert F.interpolate(x, scale_factor=2, mode="bilinear").grad_fn.name == \
        "UpsampleBilinear2DBackward0"
    assert F.pad(x, (1, 1, 1, 1), mode="reflect").grad_fn.name == "ReflectionPad2DBackward0"
    assert F.pad(x, (1, 1)).grad_fn.name == "ConstantPadNdBackward0"


# ---------------------------------------------------------------------------- modules

def test_upsample_module_repr_and_state():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(4, 5), mode="bilinear")) == \
        "Upsample(size=(4, 5), mode='bilinear')"
    assert repr(nn.UpsamplingNearest2d(scale_factor=3)) == \
        "UpsamplingNearest2d(scale_factor=3.0, mode='nearest')"
    assert list(nn.Upsample(scale_factor=2).state_dict()) == []
    x = tinynn.randn(1, 2, 3, 3)
    np.testing.assert_array_equal(npy(nn.UpsamplingNearest2d(size=5)(x)),
                                  npy(F.interpolate(x, size=5)))


def test_padding_module_reprs():
    assert repr(nn.ZeroPad2d(2)) == "ZeroPad2d((2, 2, 2, 2))"
    assert repr(nn.ConstantPad2d((3, 0, 2, 1), 3.5)) == \
        "ConstantPad2d(padding=(3, 0, 2, 1), value=3.5)"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.ReflectionPad2d((1, 1, 2, 0))) == "ReflectionPad2d((1, 1, 2, 0))"
    assert repr(nn.ReplicationPad1d(3)) == "ReplicationPad1d((3, 3))"
    assert list(nn.ReflectionPad2d(1).parameters()) == []


def test_upsample_in_a_model_trains(device):
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(1, 1, 3),
                          nn.ReflectionPad2d(1)).to(device)
    x = tinynn.randn(2, 1, 4, 4, device=device)
    out = model(x)
    assert out.shape == (2, 1, 8, 8)
    out.sum().backward()
    assert model[1].weight.grad.dtype == tinynn.float32


# ---------------------------------------------------------------------------- errors

def test_interpolate_errors():
    x = tinynn.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the "
                                         "interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(tinynn.randn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="Input and output must have the same number of spatial "
                                         "dimensions"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="Input and scale_factor must have the same number"):
        F.interpolate(x, scale_factor=(2, 2, 2))
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input"):
        F.interpolate(tinynn.randn(4, 4), scale_factor=2)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(RuntimeError, match="floating-point"):
        F.interpolate(tinynn.tensor([[[1, 2]]]), size=3, mode="linear")
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=2, recompute_scale_factor=True)


def test_pad_errors():
    x = tinynn.randn(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two "
                                           "times the input dimension"):
        F.pad(tinynn.randn(3), (1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding "
                                           "input dimension"):
        F.pad(x, (3, 0, 0, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="Only 2D, 3D, 4D, 5D padding with non-constant "
                                                  "padding are supported for now"):
        F.pad(tinynn.randn(1, 1, 1, 3, 3), (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(x, (1, 1, 1, 1), mode="replicate", value=2.0)
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (4, 0, 0, 0), mode="circular")
    with pytest.raises(RuntimeError, match="negative output size"):
        F.pad(x, (-2, -2))
    with pytest.raises(NotImplementedError):
        F.pad(x, (1, 1), mode="mirror")
