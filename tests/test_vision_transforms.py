"""tinynn.vision: the torchvision namespace and the geometric / dtype transforms.

Expected values are worked out by hand from torchvision's documented rules (see the
module docstring of tinynn/vision/transforms/functional.py), or come from NumPy
(numpy.pad, numpy.rot90, slicing), never from the implementation itself.
"""
import importlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynn
import tinynn.vision as torchvision
from tinynn.vision import transforms as T
from tinynn.vision.transforms import functional as F

RNG = np.random.default_rng(0)
GREY = np.arange(20, dtype=np.uint8).reshape(4, 5)                  # (H, W)
RGB = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)              # (H, W, C)
BATCH = RNG.integers(0, 256, (6, 9, 8), dtype=np.uint8)            # (B, H, W)
NEAREST, BILINEAR = T.InterpolationMode.NEAREST, T.InterpolationMode.BILINEAR


def tensor(array, device=None):
    return tinynn.tensor(np.asarray(array), device=device)


def host(x):
    return x.cpu().numpy() if isinstance(x, tinynn.Tensor) else np.asarray(x)


# ------------------------------------------------------------------ namespace

def test_vision_namespace_is_torchvision_shaped():
    assert torchvision.datasets is tinynn.datasets
    assert torchvision.models is tinynn.models
    assert torchvision.transforms is tinynn.transforms
    assert torchvision.transforms.functional is F
    from tinynn.vision.datasets import MNIST
    assert MNIST is tinynn.datasets.MNIST
    assert importlib.import_module("tinynn.vision.datasets") is tinynn.datasets
    from tinynn.vision.models import resnet18
    assert resnet18 is tinynn.models.resnet18
    # one module, not a second copy
    assert importlib.import_module("tinynn.transforms.functional") is F
    from tinynn import transforms
    assert transforms.ToTensor is T.ToTensor and transforms.Resize is T.Resize


@pytest.mark.parametrize("code", [
    # the old name first (through tinynn/transforms.py), then the new one, and back
    "from tinynn import transforms; import tinynn.vision.transforms as v; "
    "import tinynn.transforms.functional as f; "
    "assert transforms is v and f is v.functional and tinynn.transforms is v",
    "import tinynn.vision as tv; import tinynn.transforms as t; from tinynn import transforms; "
    "assert t is tv.transforms is transforms is tinynn.transforms; "
    "import tinynn.vision.datasets.mnist as m; assert m is tinynn.datasets.mnist",
])
def test_one_module_under_both_names_in_a_fresh_interpreter(code):
    subprocess.run([sys.executable, "-c", "import tinynn; " + code], check=True)


# ------------------------------------------------------------------ Resize

def test_resize_nearest_reads_floor_of_i_times_in_over_out():
    # rows floor(i * 4/2) = 0, 2; columns floor(j * 5/3) = 0, 1, 3
    out = F.resize(GREY, (2, 3), interpolation=NEAREST)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 1, 3], [10, 11, 13]])
    # upsampling by 2 repeats every pixel
    up = F.resize(GREY, (8, 10), interpolation=NEAREST)
    np.testing.assert_array_equal(up, GREY.repeat(2, 0).repeat(2, 1))
    # nearest-exact: floor((j + 0.5) * 5/3) = 0, 2, 4
    exact = F.resize(GREY, (4, 3), interpolation=T.InterpolationMode.NEAREST_EXACT)
    np.testing.assert_array_equal(exact, GREY[:, [0, 2, 4]])


def test_resize_bilinear_upsampling_by_hand():
    # out i samples (i + 0.5)/2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped right)
    x = tensor(np.array([[[0.0, 10.0]]], np.float32))
    y = F.resize(x, (1, 4))
    assert isinstance(y, tinynn.Tensor) and y.dtype == tinynn.float32
    np.testing.assert_allclose(y.numpy(), [[[0.0, 2.5, 7.5, 10.0]]])
    # uint8 stays uint8: 63.75 -> 64, 191.25 -> 191
    grey = np.array([[0, 255]], np.uint8)
    np.testing.assert_array_equal(F.resize(grey, (1, 4)), np.array([[0, 64, 191, 255]], np.uint8))


def test_resize_bilinear_downsampling_with_and_without_antialias():
    row = tensor(np.array([[[0.0, 1.0, 2.0, 3.0]]]))
    # without antialias: the two nearest pixels around (i + 0.5) * 2 - 0.5 = 0.5, 2.5
    np.testing.assert_allclose(F.resize(row, (1, 2), antialias=False).numpy(), [[[0.5, 2.5]]])
    # antialias: triangle weights 1 - |j + 0.5 - c| / 2 around c = 1 and 3, cut at the border
    # and renormalised: (0*.75 + 1*.75 + 2*.25) / 1.75 and (1*.25 + 2*.75 + 3*.75) / 1.75
    np.testing.assert_allclose(F.resize(row, (1, 2)).numpy(), [[[5 / 7, 16 / 7]]])
    assert F.resize(row, (1, 2)).dtype == tinynn.float64
    # a 2x shrink of a long row: interior outputs are (1, 3, 3, 1) / 8 weighted sums
    long = np.arange(12.0)[None, None]
    out = F.resize(tensor(long), (1, 6)).numpy()[0, 0]
    np.testing.assert_allclose(out[1:-1], [(1 * j + 3 * (j + 1) + 3 * (j + 2) + 1 * (j + 3)) / 8
                                          for j in (1, 3, 5, 7)])


def test_resize_int_matches_the_smaller_edge():
    assert F.resize(np.zeros((5, 7), np.uint8), 10).shape == (10, 14)
    assert F.resize(np.zeros((7, 5), np.uint8), 10).shape == (14, 10)
    assert F.resize(np.zeros((6, 4), np.uint8), 3).shape == (4, 3)        # int(3 * 6 / 4)
    assert F.resize(np.zeros((5, 7), np.uint8), [10]).shape == (10, 14)
    assert F.resize(np.zeros((5, 7), np.uint8), 10, max_size=12).shape == (8, 12)
    assert T.Resize((3, 2))(tensor(np.zeros((2, 5, 7), np.float32))).shape == (2, 3, 2)
    with pytest.raises(ValueError, match="max_size"):
        T.Resize(10, max_size=10)
    with pytest.raises(ValueError, match="max_size"):
        T.Resize((10, 12), max_size=20)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="sequence"):
        T.Resize("big")
    with pytest.raises(ValueError, match="BICUBIC is not supported"):
        T.Resize(4, interpolation=T.InterpolationMode.BICUBIC)


def test_resize_keeps_layout_and_channels():
    out = T.Resize((10, 14))(RGB)
    assert out.shape == (10, 14, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], F.resize(RGB[..., c], (10, 14)))
    assert T.Resize(3, interpolation="nearest")(tensor(np.ones((3, 6, 6), np.float32))).shape \
        == (3, 3, 3)
    assert "Resize(size=3, interpolation=bilinear" in repr(T.Resize(3))


def test_resize_batch_equals_per_sample_and_feeds_to_tensor():
    t = T.Compose([T.Resize(12), T.ToTensor()])
    assert t.supports_batch
    xb = t.apply_batch(BATCH)
    assert xb.shape == (6, 1, 13, 12) and xb.dtype == tinynn.float32      # int(12 * 9/8) = 13
    np.testing.assert_array_equal(xb.numpy(), np.stack([t(im).numpy() for im in BATCH]))


def test_resize_on_device_matches_cpu(device):
    x = RNG.random((2, 3, 6, 9)).astype(np.float32)
    for mode in ("nearest", "bilinear"):
        expected = T.Resize((4, 13), interpolation=mode)(tensor(x)).numpy()
        out = T.Resize((4, 13), interpolation=mode).apply_batch(tensor(x, device))
        assert out.device == device
        np.testing.assert_allclose(host(out), expected, rtol=1e-6)


# ------------------------------------------------------------------ crops and pads

def test_center_crop_rounds_like_torchvision():
    image = np.arange(28).reshape(4, 7)
    # top = round((4 - 2) / 2) = 1, left = round((7 - 4) / 2) = round(1.5) = 2
    np.testing.assert_array_equal(F.center_crop(image, (2, 4)), image[1:3, 2:6])
    # left = round(2.5) = 2 (Python rounds half to even)
    wide = np.arange(9)[None].repeat(2, 0)
    np.testing.assert_array_equal(F.center_crop(wide, (2, 4)), wide[:, 2:6])
    # larger than the image: zeros, (out - in) // 2 of them before the image
    out = T.CenterCrop(6)(GREY)
    expected = np.zeros((6, 6), np.uint8)
    expected[1:5, 0:5] = GREY
    np.testing.assert_array_equal(out, expected)
    assert T.CenterCrop(2)(tensor(np.ones((3, 5, 5), np.float32))).shape == (3, 2, 2)


def test_crop_outside_the_image_is_zero():
    out = F.crop(GREY, -1, 3, 3, 4)
    expected = np.zeros((3, 4), np.uint8)
    expected[1:, :2] = GREY[0:2, 3:5]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(F.crop(GREY, 1, 1, 2, 2), GREY[1:3, 1:3])


def _numpy_pad(image, ltrb, mode, channels_last):
    left, top, right, bottom = ltrb
    widths = [(top, bottom), (left, right)] + ([(0, 0)] if channels_last else [])
    if not channels_last and image.ndim == 3:
        widths = [(0, 0)] + widths[:2]
    return np.pad(image, widths, mode=mode)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("padding, ltrb", [(2, (2, 2, 2, 2)), ((1, 3), (1, 3, 1, 3)),
                                           ((1, 0, 3, 2), (1, 0, 3, 2)), ([2], (2, 2, 2, 2))])
def test_pad_matches_numpy_pad(mode, padding, ltrb):
    np.testing.assert_array_equal(F.pad(GREY, padding, padding_mode=mode),
                                  _numpy_pad(GREY, ltrb, mode, False))
    np.testing.assert_array_equal(T.Pad(padding, padding_mode=mode)(RGB),
                                  _numpy_pad(RGB, ltrb, mode, True))
    chw = RNG.random((2, 4, 5)).astype(np.float32)
    out = T.Pad(padding, padding_mode=mode)(tensor(chw))
    assert out.dtype == tinynn.float32
    np.testing.assert_array_equal(out.numpy(), _numpy_pad(chw, ltrb, mode, False))


@settings(max_examples=25, deadline=None)
@given(h=st.integers(2, 6), w=st.integers(2, 6), ltrb=st.tuples(*[st.integers(0, 4)] * 4),
       mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]))
def test_pad_property_against_numpy(h, w, ltrb, mode):
    image = np.arange(h * w * 2, dtype=np.float64).reshape(2, h, w)
    np.testing.assert_array_equal(F.pad(tensor(image), list(ltrb), padding_mode=mode).numpy(),
                                  _numpy_pad(image, ltrb, mode, False))


def test_pad_fill_per_channel_and_negative_padding():
    out = T.Pad(1, fill=(10, 20, 30))(RGB)
    assert out.shape == (7, 9, 3)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out[1:-1, 1:-1], RGB)
    np.testing.assert_array_equal(F.pad(GREY, (-1, 0, 1, -2)),       # negative: crop
                                  np.pad(GREY[:2, 1:], ((0, 0), (0, 1))))
    with pytest.raises(ValueError, match="1, 2, or 4 element tuple, not a 3 element tuple"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="padding_mode should be either constant"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="fill has 2 values but the image has 3 channels"):
        T.Pad(1, fill=(1, 2))(RGB)


def test_pad_batch_and_device(device):
    x = RNG.random((3, 2, 4, 5)).astype(np.float32)
    for mode in ("constant", "reflect"):
        out = T.Pad((1, 2), fill=0.5, padding_mode=mode).apply_batch(tensor(x, device))
        assert out.device == device
        np.testing.assert_array_equal(host(out), np.pad(x, [(0, 0), (0, 0), (2, 2), (1, 1)], mode,
                                                        **({"constant_values": 0.5}
                                                           if mode == "constant" else {})))


# ------------------------------------------------------------------ RandomCrop

def _window_positions(out, padded):
    """All (top, left) where ``out`` is a window of ``padded`` (last two axes)."""
    th, tw = out.shape[-2:]
    return [(i, j) for i in range(padded.shape[-2] - th + 1)
            for j in range(padded.shape[-1] - tw + 1)
            if np.array_equal(padded[..., i:i + th, j:j + tw], out)]


def test_random_crop_is_a_window_of_the_padded_input():
    image = RNG.integers(1, 256, (3, 9, 8)).astype(np.float32)   # no zeros: padding shows
    padded = np.pad(image, [(0, 0), (2, 2), (2, 2)])
    seen = set()
    for seed in range(40):
        tinynn.manual_seed(seed)
        out = T.RandomCrop((9, 8), padding=2)(tensor(image)).numpy()
        positions = _window_positions(out, padded)
        assert positions, "not a window of the padded image"
        seen.update(positions)
    assert len(seen) > 12                     # 25 possible windows, spread over many


def test_random_crop_hits_every_position_with_equal_odds():
    counts = {}
    crop = T.RandomCrop(3)
    image = np.arange(25).reshape(5, 5)
    outs = crop.apply_batch(np.broadcast_to(image, (900, 5, 5)).copy())
    for out in outs:
        (pos,) = _window_positions(out, image)
        counts[pos] = counts.get(pos, 0) + 1
    assert sorted(counts) == [(i, j) for i in range(3) for j in range(3)]
    assert all(60 < c < 140 for c in counts.values())              # about 100 each


def test_random_crop_pad_if_needed_and_errors():
    out = T.RandomCrop((6, 9), pad_if_needed=True, fill=7)(GREY)
    assert out.shape == (6, 9)
    # padded by 2 rows above and below and 4 columns on both sides first
    assert _window_positions(out, np.pad(GREY, ((2, 2), (4, 4)), constant_values=7))
    with pytest.raises(ValueError, match=r"Required crop size \(6, 9\) is larger than input "
                                         r"image size \(4, 5\)"):
        T.RandomCrop((6, 9))(GREY)
    assert np.array_equal(T.RandomCrop((4, 5))(GREY), GREY)
    assert T.RandomCrop.get_params(tensor(np.zeros((1, 4, 5))), (4, 5)) == (0, 0, 4, 5)
    top, left, h, w = T.RandomCrop.get_params(tensor(np.zeros((1, 9, 8))), (3, 3))
    assert 0 <= top <= 6 and 0 <= left <= 5 and (h, w) == (3, 3)


def test_random_crop_batch_equals_per_sample_under_one_seed():
    crop = T.RandomCrop(7, padding=1, padding_mode="reflect")
    tinynn.manual_seed(3)
    batch = crop.apply_batch(BATCH)
    tinynn.manual_seed(3)
    singles = np.stack([crop(image) for image in BATCH])
    assert batch.shape == (6, 7, 7)
    np.testing.assert_array_equal(batch, singles)
    # a Tensor with leading dims gets one window for all of it (torchvision's semantics)
    x = tensor(np.stack([BATCH[0], BATCH[0]]).astype(np.float32))
    out = T.RandomCrop(5)(x).numpy()
    np.testing.assert_array_equal(out[0], out[1])


# ------------------------------------------------------------------ flips

def test_flips_are_exact():
    np.testing.assert_array_equal(F.hflip(GREY), GREY[:, ::-1])
    np.testing.assert_array_equal(F.vflip(RGB), RGB[::-1])
    x = tensor(RNG.random((2, 3, 4)))
    np.testing.assert_array_equal(F.hflip(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(RGB), RGB[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=0.0)(RGB), RGB)
    assert repr(T.RandomVerticalFlip(0.3)) == "RandomVerticalFlip(p=0.3)"


@pytest.mark.parametrize("flip, p, reverse", [(T.RandomHorizontalFlip, 0.5, np.s_[..., ::-1]),
                                              (T.RandomVerticalFlip, 0.25, np.s_[..., ::-1, :])])
def test_flips_happen_with_probability_p(flip, p, reverse):
    image = np.arange(6).reshape(2, 3)
    flipped = 0
    for seed in range(400):  # per sample, over many seeds
        tinynn.manual_seed(seed)
        out = flip(p)(image)
        assert np.array_equal(out, image) or np.array_equal(out, image[reverse])
        flipped += not np.array_equal(out, image)
    assert abs(flipped / 400 - p) < 0.08
    outs = flip(p).apply_batch(np.broadcast_to(image, (4000, 2, 3)).copy())   # batched
    changed = np.array([not np.array_equal(o, image) for o in outs])
    assert abs(changed.mean() - p) < 0.03
    np.testing.assert_array_equal(outs[changed],
                                  np.broadcast_to(image[reverse], outs[changed].shape))


def test_flip_batch_equals_per_sample_and_runs_on_device(device):
    x = RNG.random((16, 2, 3, 4)).astype(np.float32)
    flip = T.RandomHorizontalFlip()
    tinynn.manual_seed(5)
    batch = flip.apply_batch(tensor(x, device))
    assert batch.device == device
    tinynn.manual_seed(5)
    singles = np.stack([host(flip(tensor(s, device))) for s in x])
    np.testing.assert_array_equal(host(batch), singles)


# ------------------------------------------------------------------ rotation, affine

@pytest.mark.parametrize("shape", [(5, 5), (6, 6), (3, 3, 2)])
def test_rotation_by_90_with_nearest_is_rot90(shape):
    image = RNG.integers(0, 256, shape).astype(np.uint8)
    for k in range(-2, 5):
        out = T.RandomRotation((90 * k, 90 * k))(image)          # counter-clockwise
        np.testing.assert_array_equal(out, np.rot90(image, k, axes=(0, 1)))
    np.testing.assert_array_equal(F.rotate(image, 180), image[::-1, ::-1])


def test_rotation_expand_holds_the_whole_image():
    for k in range(4):
        np.testing.assert_array_equal(F.rotate(RGB, 90 * k, expand=True),
                                      np.rot90(RGB, k, axes=(0, 1)))
    x = tensor(RNG.random((2, 4, 7)).astype(np.float32))
    np.testing.assert_allclose(F.rotate(x, 90, interpolation=BILINEAR, expand=True).numpy(),
                               np.rot90(x.numpy(), 1, axes=(1, 2)), atol=1e-5)
    # 45 degrees: the bounding box of a 3x3 square turned, 3 * sqrt(2) = 4.24 -> 5
    assert F.rotate(np.ones((3, 3)), 45, expand=True).shape == (5, 5)
    assert not T.RandomRotation(10, expand=True).supports_batch
    with pytest.raises(TypeError, match="no batched path"):
        T.RandomRotation(10, expand=True).apply_batch(BATCH)


def test_rotation_fill_and_center():
    out = F.rotate(np.ones((5, 5), np.float32), 45, fill=7.0)
    assert out[0, 0] == 7.0 and out[2, 2] == 1.0 and out[0, 2] == 1.0
    # rotating about the top-left pixel's centre by 180 leaves only that pixel inside
    image = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
    out = F.rotate(image, 180, center=(0.5, 0.5), fill=-1.0)
    expected = np.full((3, 3), -1.0, np.float32)
    expected[0, 0] = 1.0
    np.testing.assert_array_equal(out, expected)
    rgb = T.RandomRotation((30, 30), fill=(1, 2, 3))(RGB)
    np.testing.assert_array_equal(rgb[0, 0], [1, 2, 3])


def test_affine_by_hand():
    image = np.arange(12.0).reshape(3, 4)
    # translate one pixel right: the left column is fill
    np.testing.assert_array_equal(F.affine(image, 0, (1, 0), 1.0, 0.0, fill=-1),
                                  [[-1, 0, 1, 2], [-1, 4, 5, 6], [-1, 8, 9, 10]])
    # scale 2 about the centre: output centres -1.5..1.5 read input centres -0.75..0.75,
    # nearest pixels 1, 1, 2, 2
    square = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(F.affine(square, 0, (0, 0), 2.0, 0.0),
                                  square[[1, 1, 2, 2]][:, [1, 1, 2, 2]])
    # shear x by 45 degrees: output (x, y) reads input (x + y, y) (y down, centred)
    nine = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(F.affine(nine, 0, (0, 0), 1.0, 45.0, fill=-1),
                                  [[-1, 0, 1], [3, 4, 5], [7, 8, -1]])
    # clockwise: affine(+90) is rotate(-90)
    np.testing.assert_array_equal(F.affine(square, 90, (0, 0), 1.0, 0.0), np.rot90(square, -1))
    # bilinear half-pixel shift: averages of neighbours; the image as if surrounded by fill
    halves = np.column_stack([square[:, 0] / 2, (square[:, :3] + square[:, 1:]) / 2])
    np.testing.assert_allclose(F.affine(square, 0, (0.5, 0), 1.0, 0.0, interpolation=BILINEAR),
                               halves)


def test_random_affine_translate_is_a_whole_pixel_shift_within_bounds():
    image = RNG.integers(1, 256, (10, 10)).astype(np.uint8)
    affine = T.RandomAffine(degrees=0, translate=(0.2, 0.3))
    shifts = set()
    for seed in range(30):
        tinynn.manual_seed(seed)
        out = affine(image)
        padded = np.pad(image, 3)
        found = [(3 - i, 3 - j) for i, j in _window_positions(out, padded)]
        assert len(found) == 1, "not a shifted copy"
        dy, dx = found[0]
        assert abs(dx) <= 2 and abs(dy) <= 3               # |dx| < 0.2 * 10, |dy| < 0.3 * 10
        shifts.add((dy, dx))
    assert len(shifts) > 5
    angle, (dx, dy), scale, shear = T.RandomAffine.get_params([-10, 10], (0.2, 0.3), (0.8, 1.2),
                                                              [-5, 5, -2, 2], [10, 10])
    assert -10 <= angle <= 10 and abs(dx) <= 2 and abs(dy) <= 3 and 0.8 <= scale <= 1.2
    assert -5 <= shear[0] <= 5 and -2 <= shear[1] <= 2


def test_random_affine_arguments_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        T.RandomAffine(0, translate=(0.1, 1.5))
    with pytest.raises(ValueError, match="positive"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="single number, it must be positive"):
        T.RandomAffine(-3)
    with pytest.raises(ValueError, match="length 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(ValueError, match="NEAREST, BILINEAR"):
        T.RandomRotation(3, interpolation="bicubic")
    r = repr(T.RandomAffine(10, translate=(0.1, 0.1)))
    assert r.startswith("RandomAffine(degrees=[-10.0, 10.0], translate=(0.1, 0.1)")


@pytest.mark.parametrize("make", [
    lambda: T.RandomRotation(30),
    lambda: T.RandomRotation((-20, 40), interpolation=BILINEAR, fill=0.5),
    lambda: T.RandomAffine(15, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -3, 3)),
    lambda: T.RandomAffine(15, scale=(0.9, 1.1), interpolation=BILINEAR),
])
def test_random_warps_batch_equals_per_sample(make, device):
    x = RNG.random((5, 2, 9, 8)).astype(np.float32)
    t = make()
    tinynn.manual_seed(11)
    batch = t.apply_batch(tensor(x, device))
    assert batch.shape == (5, 2, 9, 8) and batch.dtype == tinynn.float32 and batch.device == device
    tinynn.manual_seed(11)
    singles = np.stack([t(tensor(s)).numpy() for s in x])       # on the cpu
    np.testing.assert_allclose(host(batch), singles, rtol=1e-6, atol=1e-6)
    # uint8 arrays in, uint8 arrays out
    tinynn.manual_seed(11)
    out = t.apply_batch(BATCH)
    assert out.dtype == np.uint8 and out.shape == BATCH.shape


def test_random_transforms_are_reproducible_under_manual_seed():
    t = T.Compose([T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(),
                   T.RandomAffine(10, translate=(0.1, 0.1)), T.ToTensor()])
    assert t.supports_batch
    runs = []
    for seed in (0, 0, 1):
        tinynn.manual_seed(seed)
        runs.append(t.apply_batch(BATCH).numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


# ------------------------------------------------------------------ ConvertImageDtype

def test_convert_image_dtype_uint8_float_round_trip():
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    x = T.ConvertImageDtype(tinynn.float32)(tensor(levels))
    assert x.dtype == tinynn.float32
    np.testing.assert_array_equal(x.numpy(), levels.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(x.numpy()[None], T.ToTensor()(levels).numpy())  # bit for bit
    back = T.ConvertImageDtype(tinynn.uint8)(x)
    assert back.dtype == tinynn.uint8
    np.testing.assert_array_equal(back.numpy(), levels)


def test_convert_image_dtype_float_to_int_by_hand():
    # x * (255 + 1 - 0.001), truncated: 0.5 -> 127, 1.0 -> 255, 0.999 -> 255, 0.1 -> 25
    x = tensor(np.array([0.0, 0.1, 0.5, 0.999, 1.0], np.float32))
    np.testing.assert_array_equal(F.convert_image_dtype(x, tinynn.uint8).numpy(),
                                  [0, 25, 127, 255, 255])
    # integers by powers of two: uint8 -> int16 * 128, back // 128
    levels = tensor(np.array([0, 1, 255], np.uint8))
    wide = F.convert_image_dtype(levels, tinynn.int16)
    np.testing.assert_array_equal(wide.numpy(), [0, 128, 32640])
    np.testing.assert_array_equal(F.convert_image_dtype(wide, tinynn.uint8).numpy(), [0, 1, 255])
    assert F.convert_image_dtype(x, tinynn.float64).dtype == tinynn.float64
    assert F.convert_image_dtype(x, tinynn.float32) is x
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(x, tinynn.int64)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(x.double(), tinynn.int64)


def test_convert_image_dtype_batched_and_on_device(device):
    levels = RNG.integers(0, 256, (2, 1, 3, 3)).astype(np.uint8)
    t = T.ConvertImageDtype(tinynn.float32)
    assert t.supports_batch
    out = t.apply_batch(tensor(levels, device))
    assert out.device == device and out.dtype == tinynn.float32
    np.testing.assert_array_equal(host(out), levels / np.float32(255))
    np.testing.assert_array_equal(host(T.ConvertImageDtype(tinynn.uint8)(out)), levels)


# ------------------------------------------------------------------ inputs

def test_bad_inputs_are_refused_clearly():
    with pytest.raises(TypeError, match="expected a Tensor or a NumPy/CuPy image array, got list"):
        T.RandomCrop(2)([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\).*\(5,\)"):
        T.Resize(3)(np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"\(B, H, W\) or \(B, H, W, C\)"):
        T.CenterCrop(3).apply_batch(GREY)
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W\)"):
        T.RandomHorizontalFlip()(tensor(np.zeros(3)))
    assert F.get_dimensions(RGB) == [3, 5, 7] and F.get_image_size(RGB) == [7, 5]
    assert F.get_dimensions(tensor(np.zeros((2, 4, 6)))) == [2, 4, 6]


def test_transform_outputs_are_new_arrays():
    image = GREY.copy()
    for t in (T.CenterCrop(4), T.RandomCrop((4, 5)), T.RandomHorizontalFlip(0.0), T.Pad(0),
              T.Resize((4, 5)), T.RandomRotation(0)):
        out = t(image)
        out[...] = 99
        np.testing.assert_array_equal(image, GREY)
