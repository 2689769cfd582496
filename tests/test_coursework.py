"""The coursework programs of examples/coursework/, on small generated data.

Each program is PyTorch code with only its import lines switched (examples/coursework/
_imports.py); these short runs show that every layer, loss, optimizer, sampler and utility
they use works together. Their full MNIST runs, beside PyTorch's, are in the README.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples", "coursework"))

import dcgan  # noqa: E402
import lenet  # noqa: E402
import lstm_rows  # noqa: E402
import vae  # noqa: E402
import xor  # noqa: E402


def test_xor_with_bce_with_logits_learns_all_four_points():
    loss, accuracy = xor.main(steps=300)
    assert accuracy == 1.0 and loss < 0.05


def test_lenet_with_adadelta_steplr_and_a_validation_split(capsys):
    accuracy = lenet.main(["--synthetic", "400", "--epochs", "2", "--batch-size", "32"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["epoch 1", "epoch 2"]
    assert accuracy > 0.3   # 10 classes: chance is 0.1


def test_lstm_reading_rows_runs_and_learns(capsys):
    accuracy = lstm_rows.main(["--synthetic", "300", "--epochs", "2", "--batch-size", "30",
                               "--lr", "0.01"])
    assert 0.0 <= accuracy <= 1.0
    assert "epoch 2" in capsys.readouterr().out


def test_vae_loss_falls_and_reconstructions_are_saved(tmp_path, capsys):
    out = tmp_path / "recon.png"
    vae.main(["--synthetic", "200", "--epochs", "2", "--batch-size", "40", "--out", str(out)])
    first, second = (float(line.split("train loss ")[1].split(",")[0])
                     for line in capsys.readouterr().out.splitlines())
    assert second < first
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("steps", [6])
def test_dcgan_trains_without_error(tmp_path, steps):
    out = tmp_path / "samples.png"
    loss_d, loss_g = dcgan.main(["--synthetic", "64", "--steps", str(steps), "--batch-size", "16",
                                 "--out", str(out)])
    assert loss_d > 0 and loss_g > 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
