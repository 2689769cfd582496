"""Compose, ToTensor, Normalize, Lambda: per sample (torchvision's semantics) and batched."""
import numpy as np
import pytest

import tinynn
from tinynn import transforms as T

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (5, 7), dtype=np.uint8)          # (H, W), non-square
RGB = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)         # (H, W, C)
BATCH = RNG.integers(0, 256, (4, 5, 7), dtype=np.uint8)       # (B, H, W)


# ------------------------------------------------------------------ ToTensor

def test_to_tensor_grey_image_gives_1xHxW_float32_in_unit_range():
    x = T.ToTensor()(IMAGE)
    assert isinstance(x, tinynn.Tensor)
    assert x.shape == (1, 5, 7) and x.dtype == np.float32
    # torchvision computes x.float().div(255): the same float32 division, bit for bit
    np.testing.assert_array_equal(x.array[0], IMAGE.astype(np.float32) / np.float32(255))
    assert x.array.min() >= 0 and x.array.max() <= 1
    full = T.ToTensor()(np.array([[0, 255]], np.uint8)).array
    assert full.tolist() == [[[0.0, 1.0]]]


def test_to_tensor_moves_channels_first():
    x = T.ToTensor()(RGB)
    assert x.shape == (3, 5, 7) and x.array.flags.c_contiguous
    np.testing.assert_array_equal(x.array[2, 4, 6], np.float32(RGB[4, 6, 2]) / np.float32(255))


def test_to_tensor_keeps_non_uint8_values_and_dtype():
    image = RNG.standard_normal((5, 7))
    x = T.ToTensor()(image)
    assert x.dtype == np.float64 and x.shape == (1, 5, 7)
    np.testing.assert_array_equal(x.array[0], image)
    x.array[0, 0, 0] = 99.0
    assert image[0, 0] != 99.0  # a copy, not a view


def test_to_tensor_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\).*\(5,\)"):
        T.ToTensor()(np.zeros(5, np.uint8))
    with pytest.raises(TypeError, match="NumPy array, got list"):
        T.ToTensor()([[0, 1]])


def test_to_tensor_batch_matches_per_sample():
    xb = T.ToTensor().apply_batch(BATCH)
    assert xb.shape == (4, 1, 5, 7) and xb.dtype == np.float32
    np.testing.assert_array_equal(xb.array, np.stack([T.ToTensor()(im).array for im in BATCH]))
    rgb_batch = np.stack([RGB, RGB[::-1]])
    yb = T.ToTensor().apply_batch(rgb_batch)
    assert yb.shape == (2, 3, 5, 7) and yb.array.flags.c_contiguous
    np.testing.assert_array_equal(yb.array[1], T.ToTensor()(RGB[::-1]).array)
    with pytest.raises(ValueError, match=r"\(B, H, W\)"):
        T.ToTensor().apply_batch(IMAGE)


# ----------------------------------------------------------------- Normalize

def test_normalize_is_per_channel():
    x = tinynn.Tensor(RNG.random((3, 5, 7)).astype(np.float32))
    mean, std = (0.1, 0.2, 0.3), (0.5, 2.0, 4.0)
    y = T.Normalize(mean, std)(x)
    assert y.shape == (3, 5, 7) and y.dtype == np.float32  # no float64 creep
    for c in range(3):
        expected = (x.array[c] - np.float32(mean[c])) / np.float32(std[c])
        np.testing.assert_array_equal(y.array[c], expected)


def test_normalize_single_value_broadcasts_and_float64_stays_float64():
    x = tinynn.Tensor(RNG.random((2, 4, 4)))
    y = T.Normalize(0.5, (0.25,))(x)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.array, (x.array - 0.5) / 0.25)


def test_normalize_does_not_touch_its_input_unless_inplace():
    array = np.ones((1, 2, 2), np.float32)
    x = tinynn.Tensor(array)
    T.Normalize((0.5,), (0.5,))(x)
    assert (array == 1).all()
    y = T.Normalize((0.25,), (0.5,), inplace=True)(x)
    assert y is x and np.all(array == 1.5)  # (1 - 0.25) / 0.5, written into the array


def test_normalize_errors_are_clear():
    x = tinynn.Tensor(np.zeros((1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="mean has 3 values but the image has 1 channels"):
        T.Normalize((0.1, 0.2, 0.3), (1, 1, 1))(x)
    with pytest.raises(TypeError, match="float tensor, got uint8"):
        T.Normalize((0.1,), (1,))(tinynn.Tensor(np.zeros((1, 4, 4), np.uint8)))
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.1,), (0.0,))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        T.Normalize((0.1,), (1,))(tinynn.Tensor(np.zeros((4, 4), np.float32)))


def test_normalize_batch_matches_per_sample():
    xb = tinynn.Tensor(RNG.random((4, 3, 5, 7)).astype(np.float32))
    norm = T.Normalize((0.1, 0.2, 0.3), (0.5, 2.0, 4.0))
    yb = norm.apply_batch(xb)
    assert yb.shape == (4, 3, 5, 7) and yb.dtype == np.float32
    np.testing.assert_array_equal(yb.array, np.stack([norm(tinynn.Tensor(x)).array
                                                      for x in xb.array]))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        norm.apply_batch(tinynn.Tensor(np.zeros((3, 5, 7), np.float32)))


# ------------------------------------------------------------ Lambda, Compose

def test_lambda_applies_its_function_and_has_no_batched_path():
    t = T.Lambda(lambda x: x + 1)
    assert t(1) == 2 and not t.supports_batch
    with pytest.raises(TypeError, match="no batched path"):
        t.apply_batch(BATCH)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


def test_compose_applies_in_order():
    t = T.Compose([T.Lambda(lambda x: x + 1), T.Lambda(lambda x: x * 10)])
    assert t(1) == 20
    assert "Lambda()" in repr(t) and repr(t).startswith("Compose(")


def test_compose_batch_path_only_when_every_part_has_one():
    mnist = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    assert mnist.supports_batch
    xb = mnist.apply_batch(BATCH)
    assert xb.shape == (4, 1, 5, 7) and xb.dtype == np.float32
    np.testing.assert_array_equal(xb.array, np.stack([mnist(im).array for im in BATCH]))

    mixed = T.Compose([T.ToTensor(), T.Lambda(lambda x: x)])
    assert not mixed.supports_batch
    with pytest.raises(TypeError, match="Lambda.*no batched path"):
        mixed.apply_batch(BATCH)
    assert not T.Compose([T.ToTensor(), lambda x: x]).supports_batch  # plain function
