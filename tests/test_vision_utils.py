"""tinynn.vision.utils: make_grid's layout (torchvision's) and save_image's PNG files.

The PNG files are decoded here with zlib and struct only (chunks, CRCs, filter-0 rows),
independently of the writer.
"""
import io
import os
import struct
import zlib

import numpy as np
import pytest

import tinynn
from tinynn import serialization
from tinynn.vision import utils as vutils
from tinynn.vision.utils import make_grid, save_image

RNG = np.random.default_rng(0)


def images(*shape, device=None):
    return tinynn.tensor(RNG.random(shape).astype(np.float32), device=device)


def host(x):
    return x.cpu().numpy()


# ------------------------------------------------------------------ PNG decoding

def decode_png(data):
    """PNG bytes -> (pixels (H, W, C) uint8, colour type); checks every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind}"
        chunks.append((kind, body))
        pos += 12 + length
    kinds = [k for k, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height, depth, colour, compression, filtering, interlace = \
        struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, compression, filtering, interlace) == (8, 0, 0, 0)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + width * channels)
    assert (rows[:, 0] == 0).all()                       # filter type 0: rows as they are
    return rows[:, 1:].reshape(height, width, channels), colour


def expected_pixels(grid):
    """torchvision's mapping: mul(255).add_(0.5).clamp_(0, 255), truncated to uint8."""
    values = np.clip(grid.astype(np.float32) * np.float32(255) + np.float32(0.5), 0, 255)
    return values.astype(np.uint8).transpose(1, 2, 0)


# ------------------------------------------------------------------ make_grid

def test_grid_size_and_where_each_image_lands():
    x = images(10, 3, 4, 5)
    grid = make_grid(x, nrow=4, padding=2, pad_value=0.25).numpy()
    # xmaps = 4, ymaps = ceil(10 / 4) = 3; height 3 * (4 + 2) + 2, width 4 * (5 + 2) + 2
    assert grid.shape == (3, 20, 30) and grid.dtype == np.float32
    covered = np.zeros(grid.shape[1:], bool)
    for k in range(10):
        top, left = (k // 4) * 6 + 2, (k % 4) * 7 + 2
        np.testing.assert_array_equal(grid[:, top:top + 4, left:left + 5], x.numpy()[k])
        covered[top:top + 4, left:left + 5] = True
    assert (grid[:, ~covered] == 0.25).all()           # padding and the two empty cells


def test_grid_grey_becomes_three_channels_and_one_image_is_not_padded():
    grey = images(5, 1, 3, 3)
    grid = make_grid(grey, nrow=5, padding=1).numpy()
    assert grid.shape == (3, 5, 21)
    np.testing.assert_array_equal(grid[0], grid[1])
    np.testing.assert_array_equal(grid[0], grid[2])
    np.testing.assert_array_equal(grid[0, 1:4, 1:4], grey.numpy()[0, 0])
    one = images(1, 3, 4, 4)
    np.testing.assert_array_equal(make_grid(one).numpy(), one.numpy()[0])   # as torchvision
    hw = images(4, 6)
    np.testing.assert_array_equal(make_grid(hw).numpy(), np.stack([hw.numpy()] * 3))
    chw = images(1, 4, 6)
    assert make_grid(chw).shape == (3, 4, 6)


def test_grid_from_a_list_equals_the_stacked_batch_and_padding_zero_tiles():
    x = images(6, 3, 2, 3)
    np.testing.assert_array_equal(make_grid(list(x.unbind(0)), nrow=3).numpy(),
                                  make_grid(x, nrow=3).numpy())
    tiled = make_grid(x, nrow=3, padding=0).numpy()
    expected = np.concatenate([np.concatenate(list(x.numpy()[r * 3:r * 3 + 3]), axis=2)
                               for r in range(2)], axis=1)
    np.testing.assert_array_equal(tiled, expected)
    assert make_grid(x, nrow=100).shape == (3, 6, 6 * 5 + 2)   # xmaps = min(nrow, B)
    with pytest.raises(ValueError, match="same shape"):
        make_grid([images(3, 2, 2), images(3, 2, 3)])
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid("images")


def test_grid_normalize_and_value_range():
    x = tinynn.tensor(np.array([[[[-1.0, 0.0]]], [[[1.0, 3.0]]]], np.float32))   # (2, 1, 1, 2)
    grid = make_grid(x, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(grid, [[0.0, 0.25, 0.5, 1.0]])                      # min -1, max 3
    grid = make_grid(x, padding=0, normalize=True, value_range=(0.0, 2.0)).numpy()[0]
    np.testing.assert_allclose(grid, [[0.0, 0.0, 0.5, 1.0]])                       # clamped
    grid = make_grid(x, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(grid, [[0.0, 1.0, 0.0, 1.0]])                       # per image
    flat = make_grid(tinynn.ones(2, 1, 2, 2), normalize=True, padding=0).numpy()
    assert (flat == 0).all()                                       # span 1e-5, not 0/0
    np.testing.assert_array_equal(x.numpy()[1, 0, 0], [1.0, 3.0])  # the input is untouched
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(x, normalize=True, value_range=[0, 1])
    with pytest.warns(DeprecationWarning, match="value_range"):
        old = make_grid(x, padding=0, normalize=True, range=(0.0, 2.0)).numpy()[0]
    np.testing.assert_allclose(old, [[0.0, 0.0, 0.5, 1.0]])


def test_grid_on_device(device):
    x = images(3, 1, 4, 4, device=device)
    grid = make_grid(x, nrow=2, normalize=True)
    assert grid.device == device and grid.shape == (3, 14, 14)
    np.testing.assert_allclose(host(grid), make_grid(x.cpu(), nrow=2, normalize=True).numpy())


# ------------------------------------------------------------------ save_image

def test_save_image_writes_a_png_with_torchvision_levels(tmp_path):
    x = tinynn.tensor(np.array([[[[0.0, 0.5, 1.0, 1.5, -1.0, 0.998, 0.0019, 0.2]]]],
                               np.float32))
    path = tmp_path / "levels.png"
    save_image(x, path)
    pixels, colour = decode_png(path.read_bytes())
    assert colour == 0 and pixels.shape == (1, 8, 1)             # grey: R = G = B
    # 0.5 * 255 + 0.5 = 128; 0.998 -> 254.99 -> 254; 0.0019 -> 0.98 -> 0; 0.2 -> 51.5 -> 51
    np.testing.assert_array_equal(pixels[0, :, 0], [0, 128, 255, 255, 0, 254, 0, 51])


def test_save_image_grid_pixels_match_make_grid(tmp_path):
    x = images(10, 1, 5, 4)
    path = os.fspath(tmp_path / "digits.png")
    save_image(x, path, nrow=4, padding=2, pad_value=1.0)
    pixels, colour = decode_png(open(path, "rb").read())
    grid = make_grid(x, nrow=4, padding=2, pad_value=1.0).numpy()
    assert colour == 0 and pixels.shape == (grid.shape[1], grid.shape[2], 1)
    np.testing.assert_array_equal(pixels[..., 0], expected_pixels(grid)[..., 0])


def test_save_image_rgb_and_rgba(tmp_path):
    rgb = images(4, 3, 6, 7)
    save_image(rgb, tmp_path / "rgb.png", nrow=2)
    pixels, colour = decode_png((tmp_path / "rgb.png").read_bytes())
    assert colour == 2
    np.testing.assert_array_equal(pixels, expected_pixels(make_grid(rgb, nrow=2).numpy()))
    rgba = images(4, 5, 3)
    save_image(rgba, tmp_path / "rgba.png")
    pixels, colour = decode_png((tmp_path / "rgba.png").read_bytes())
    assert colour == 6
    np.testing.assert_array_equal(pixels, expected_pixels(rgba.numpy()))


def test_save_image_to_a_file_object_and_from_a_device(tmp_path, device):
    x = images(3, 3, 4, 4, device=device)
    buffer = io.BytesIO()
    save_image(x, buffer)
    save_image(x.cpu(), tmp_path / "same.png")
    assert buffer.getvalue() == (tmp_path / "same.png").read_bytes()


def test_save_image_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "grid.png"
    save_image(images(4, 1, 3, 3), path)
    assert os.listdir(tmp_path) == ["grid.png"]                 # no temporary left behind
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_image(images(4, 1, 3, 3), path)
    assert path.read_bytes() == before                          # the old file is intact
    assert os.listdir(tmp_path) == ["grid.png"]


def test_save_image_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ValueError, match="PNG files only"):
        save_image(images(1, 3, 3), tmp_path / "grid.jpg")
    save_image(images(1, 3, 3), tmp_path / "grid.jpg", format="png")
    assert decode_png((tmp_path / "grid.jpg").read_bytes())[1] == 0
    with pytest.raises(TypeError, match="float images"):
        save_image(tinynn.zeros(1, 3, 3, dtype=tinynn.uint8), tmp_path / "ints.png")
    assert sorted(os.listdir(tmp_path)) == ["grid.jpg"]


def test_encode_png_round_trips_every_colour_type():
    for channels in (1, 2, 3, 4):
        pixels = RNG.integers(0, 256, (3, 5, channels), dtype=np.uint8)
        decoded, colour = decode_png(vutils.encode_png(pixels))
        assert colour == {1: 0, 2: 4, 3: 2, 4: 6}[channels]
        np.testing.assert_array_equal(decoded, pixels)
    with pytest.raises(TypeError, match="uint8"):
        vutils.encode_png(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="C in 1..4"):
        vutils.encode_png(np.zeros((2, 2, 5), np.uint8))


# ------------------------------------------------------------------ the example

def test_show_predictions_example(tmp_path, monkeypatch, capsys):
    """examples/show_predictions.py on a generated MNIST and an untrained CNN's checkpoint."""
    import importlib.util

    from fixtures_mnist import make_arrays, resources_for, write_raw
    from tinynn.datasets import MNIST
    from tinynn.models import CNN

    arrays = make_arrays(n_train=1, n_test=70)
    write_raw(tmp_path / "MNIST" / "raw", arrays)
    monkeypatch.setattr(MNIST, "resources", resources_for(arrays))   # pins of this data
    checkpoint = tmp_path / "cnn.ckpt"
    tinynn.save({"model": CNN().state_dict(), "epoch": 1}, checkpoint)
    examples = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")
    monkeypatch.syspath_prepend(examples)
    spec = importlib.util.spec_from_file_location(
        "show_predictions", os.path.join(examples, "show_predictions.py"))
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)

    out = tmp_path / "predictions.png"
    example.main([str(checkpoint), "--out", str(out), "--data-dir", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    block = lines[1:9]
    assert len(block) == 8 and all(len(line.split()) == 8 for line in block)
    assert lines[9].startswith("right: ") and lines[9].endswith("/64")
    pixels, _ = decode_png(out.read_bytes())
    assert pixels.shape[:2] == (8 * 30 + 2, 8 * 30 + 2)      # 8x8 digits of 28 + 2 padding
