"""ResNet (BasicBlock, Bottleneck, resnet18/34/50): shapes, parameter counts, deep-graph
backward, memory, the lecture's code, and the training example's checkpoints and resume."""
import gc
import inspect
import os
import sys
import tracemalloc

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.optim as optim
from tinynn.autograd import Function
from tinynn.models import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50

from opcheck import graph_nodes, holds_no_arrays

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


# ------------------------------------------------------------------ parameter counts

def expected_params(kind, blocks, num_classes=10, in_channels=1, width=64):
    """Parameter count from the architecture, written out independently of the model code."""
    conv = lambda cin, cout, k: cin * cout * k * k          # noqa: E731  (no conv biases)
    bn = lambda c: 2 * c                                    # noqa: E731  (gamma and beta)
    expansion = 1 if kind == "basic" else 4
    total = conv(in_channels, width, 3) + bn(width)          # stem
    in_planes = width
    for stage, depth in enumerate(blocks):
        planes = width * 2 ** stage
        for b in range(depth):
            stride = 2 if stage > 0 and b == 0 else 1
            out = planes * expansion
            if kind == "basic":
                total += conv(in_planes, planes, 3) + bn(planes) + conv(planes, planes, 3) + bn(planes)
            else:
                total += (conv(in_planes, planes, 1) + bn(planes) + conv(planes, planes, 3) + bn(planes)
                          + conv(planes, out, 1) + bn(out))
            if stride != 1 or in_planes != out:
                total += conv(in_planes, out, 1) + bn(out)   # projection shortcut
            in_planes = out
    return total + in_planes * num_classes + num_classes     # linear


def test_formula_matches_the_published_counts():
    # kuangliu/pytorch-cifar's counts for 3-channel input, minus the stem's 2 * 9 * 64 weights.
    assert expected_params("basic", [2, 2, 2, 2]) == 11_173_962 - 1152
    assert expected_params("basic", [3, 4, 6, 3]) == 21_282_122 - 1152
    assert expected_params("bottleneck", [3, 4, 6, 3]) == 23_520_842 - 1152


@pytest.mark.parametrize("factory, kind, blocks", [
    (resnet18, "basic", [2, 2, 2, 2]), (resnet34, "basic", [3, 4, 6, 3]),
    (resnet50, "bottleneck", [3, 4, 6, 3])])
def test_parameter_counts_width_64(factory, kind, blocks):
    model = factory(num_classes=10, in_channels=1, width=64)
    count = sum(p.numel() for p in model.parameters())
    assert count == expected_params(kind, blocks)
    # Buffers are not parameters: 3 per BatchNorm layer.
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert len(list(model.buffers())) == 3 * n_bn


def test_summary_reports_counts_and_shapes():
    model = resnet18(width=8)
    table = tinynn.summary(model, (2, 1, 28, 28))
    assert table.total_params == table.trainable_params == expected_params("basic", [2, 2, 2, 2], width=8)
    assert f"Total params: {table.total_params:,}" in str(table)
    shapes = [tuple(s) for s in table.shapes]
    assert shapes[0] == (2, 1, 28, 28) and shapes[-1] == (2, 10)
    for shape in [(2, 8, 28, 28), (2, 16, 14, 14), (2, 32, 7, 7), (2, 64, 4, 4), (2, 64, 1, 1)]:
        assert shape in shapes
    assert sum(p or 0 for _, _, p in table.rows) == table.total_params   # every layer has its row
    assert model.training   # summary restores the mode


def test_resnet50_summary_count():
    model = resnet50(width=4)
    assert tinynn.summary(model, (2, 1, 16, 16)).total_params == \
        expected_params("bottleneck", [3, 4, 6, 3], width=4)


# ------------------------------------------------------------------ shapes and blocks

@pytest.mark.parametrize("factory", [resnet18, resnet34, resnet50])
@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3)])
def test_output_shape(factory, size, channels):
    model = factory(num_classes=10, in_channels=channels, width=2)
    assert model(tinynn.randn(3, channels, size, size)).shape == (3, 10)


def test_blocks_and_shortcuts():
    assert BasicBlock.expansion == 1 and Bottleneck.expansion == 4
    same = BasicBlock(8, 8, stride=1)
    assert len(same.shortcut) == 0                                  # identity
    down = BasicBlock(8, 16, stride=2)
    assert isinstance(down.shortcut[0], nn.Conv2d) and down.shortcut[0].stride == (2, 2)
    assert down(tinynn.randn(2, 8, 7, 7)).shape == (2, 16, 4, 4)
    bottle = Bottleneck(16, 4, stride=1)                           # 16 == 4 * 4: identity
    assert len(bottle.shortcut) == 0
    assert Bottleneck(8, 4, stride=2)(tinynn.randn(2, 8, 6, 6)).shape == (2, 16, 3, 3)


def test_eval_forward_with_and_without_grad_agree():
    # Under no_grad `out += shortcut(x)` runs in place: it must not change anything else.
    model = resnet18(width=4)
    model(tinynn.randn(8, 1, 28, 28))      # move the running stats off their defaults
    model.eval()
    x = tinynn.randn(4, 1, 28, 28)
    with tinynn.no_grad():
        a = model(x).numpy().copy()
        b = model(x).numpy()
    c = model(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)


def test_float32_end_to_end():
    model = resnet18(width=2)
    out = model(tinynn.randn(2, 1, 28, 28))
    F.cross_entropy(out, tinynn.tensor([1, 2])).backward()
    assert out.dtype == tinynn.float32
    assert all(p.grad is not None and p.grad.dtype == tinynn.float32 for p in model.parameters())


def test_training_step_on_device(device):
    model = resnet18(width=2).to(device)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    images, target = tinynn.randn(4, 1, 28, 28).to(device), tinynn.tensor([0, 1, 2, 3]).to(device)
    loss = F.cross_entropy(model(images), target)
    loss.backward()
    opt.step()
    assert all(p.device == device and p.grad.device == device for p in model.parameters())
    assert all(b.device == device for b in model.buffers())


# ------------------------------------------------------------------ the backward engine


def test_resnet50_backward_without_recursion():
    model = resnet50(width=2)
    loss = F.cross_entropy(model(tinynn.randn(2, 1, 16, 16)), tinynn.tensor([3, 7]))
    nodes = graph_nodes(loss.grad_fn)
    assert len(nodes) > 170     # 53 convolutions, 53 batch norms, 49 relus, 16 adds, ...
    # Allow far fewer Python frames than the graph is deep: a recursive walk would fail.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 80)
    try:
        loss.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert all(p.grad is not None for p in model.parameters())
    # Every node dropped its saved arrays once used.
    assert all(holds_no_arrays(fn) for fn in nodes)


def live_functions():
    gc.collect()
    return sum(isinstance(o, Function) for o in gc.get_objects())


def test_training_memory_does_not_grow():
    model = resnet18(width=4)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x, y = tinynn.randn(16, 1, 28, 28), tinynn.randint(0, 10, (16,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    step()
    step()                       # optimizer state exists from here on
    baseline_functions = live_functions()
    tracemalloc.start()
    try:
        currents, peaks = [], []
        for _ in range(4):
            tracemalloc.reset_peak()
            step()
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            currents.append(current)
            peaks.append(peak)
    finally:
        tracemalloc.stop()
    assert live_functions() == baseline_functions    # no graph survives its step
    # What stays between steps and the peak of a step are flat from step to step.
    assert max(currents) - min(currents) < 64 * 1024, currents
    assert max(peaks) < min(peaks) * 1.05, peaks


# ------------------------------------------------------------------ the lecture's code

def test_lecture_resnet_code_runs_unchanged():
    # The lecture's ResNet (its BasicBlock from kuangliu/pytorch-cifar), with only the
    # imports switched to tinynn and conv1 taking the 1 channel of MNIST.
    import tinynn
    import tinynn.nn as nn
    import tinynn.nn.functional as F
    import tinynn.optim as optim
    DEVICE = tinynn.device("cuda" if tinynn.cuda.is_available() else "cpu")

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super(BasicBlock, self).__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3,
                                   stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3,
                                   stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)

            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != self.expansion*planes:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion*planes,
                              kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(self.expansion*planes)
                )

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            out = F.relu(out)
            return out

    class ResNet(nn.Module):
        def __init__(self, block, num_blocks, num_classes=10):
            super(ResNet, self).__init__()
            self.in_planes = 64
            self.conv1 = nn.Conv2d(1, 64, kernel_size=3,
                                   stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.layer1 = self._make_layer(block, 64, num_blocks[0], stride=1)
            self.layer2 = self._make_layer(block, 128, num_blocks[1], stride=2)
            self.layer3 = self._make_layer(block, 256, num_blocks[2], stride=2)
            self.layer4 = self._make_layer(block, 512, num_blocks[3], stride=2)
            self.linear = nn.Linear(512*block.expansion, num_classes)

        def _make_layer(self, block, planes, num_blocks, stride):
            strides = [stride] + [1]*(num_blocks-1)
            layers = []
            for stride in strides:
                layers.append(block(self.in_planes, planes, stride))
                self.in_planes = planes * block.expansion
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer1(out)
            out = self.layer2(out)
            out = self.layer3(out)
            out = self.layer4(out)
            out = F.avg_pool2d(out, 4)
            out = out.view(out.size(0), -1)
            out = self.linear(out)
            return out

    model = ResNet(BasicBlock, [2, 2, 2, 2]).to(DEVICE)
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = tinynn.randn(4, 1, 28, 28).to(DEVICE)
    target = tinynn.tensor([0, 1, 2, 3]).to(DEVICE)
    before = model.linear.weight.detach().numpy().copy()

    model.train()
    optimizer.zero_grad()
    output = model(images)
    loss = F.cross_entropy(output, target)
    loss.backward()
    optimizer.step()

    assert output.shape == (4, 10) and np.isfinite(loss.item())
    assert sum(p.numel() for p in model.parameters()) == expected_params("basic", [2, 2, 2, 2])
    assert not np.array_equal(model.linear.weight.detach().numpy(), before)
    assert model.bn1.num_batches_tracked.item() == 1


# ------------------------------------------------------------------ example: checkpoints, resume

@pytest.fixture
def example(monkeypatch, tmp_path):
    """The example's modules, with a tiny MNIST in tmp_path and downloads switched off."""
    from fixtures_mnist import make_arrays, write_raw
    from tinynn import datasets
    write_raw(os.path.join(tmp_path, "data", "MNIST", "raw"), make_arrays(n_train=40, n_test=12))
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: None)   # never the network
    monkeypatch.syspath_prepend(EXAMPLES)
    import common
    import train_resnet
    return common, train_resnet


def argv(tmp_path, *extra):
    return ["--data-dir", str(tmp_path / "data"), "--width", "2", "--batch-size", "16",
            "--log-interval", "100", *extra]


def test_resume_continues_exactly(example, tmp_path, monkeypatch, capsys):
    common, train_resnet = example
    straight, split = tmp_path / "straight.npz", tmp_path / "split.npz"
    after_epoch_1 = tmp_path / "after1.npz"
    save = common.save_checkpoint

    def save_and_keep_epoch_1(path, model, optimizer, scheduler, epoch, *config):
        save(path, model, optimizer, scheduler, epoch, *config)
        if epoch == 1 and path == str(straight):
            save(str(after_epoch_1), model, optimizer, scheduler, epoch, *config)

    monkeypatch.setattr(common, "save_checkpoint", save_and_keep_epoch_1)
    train_resnet.main(argv(tmp_path, "--epochs", "2", "--save", str(straight)))
    out = capsys.readouterr().out
    assert "Total params" in out and "Accuracy" in out          # summary, then the epochs
    # A run that stopped after epoch 1, continued by a fresh model/optimizer/scheduler.
    train_resnet.main(argv(tmp_path, "--epochs", "2", "--resume", str(after_epoch_1),
                           "--save", str(split)))
    assert "resumed from" in capsys.readouterr().out
    a, b = tinynn.load(straight), tinynn.load(split)
    assert a["epoch"] == b["epoch"] == 2
    assert list(a["model"]) == list(b["model"])
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key].numpy(), b["model"][key].numpy(), err_msg=key)
    assert a["model"]["bn1.num_batches_tracked"].item() == 2 * 3   # 40 images / 16 = 3 steps
    assert a["scheduler"] == b["scheduler"] and a["rng"] == b["rng"]
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values()):
        np.testing.assert_array_equal(sa["momentum_buffer"].numpy(), sb["momentum_buffer"].numpy())


def test_defaults(example):
    _, train_resnet = example
    args = train_resnet.parse_args([])
    assert (args.arch, args.width, args.optimizer, args.momentum, args.weight_decay, args.batch_size) == \
        ("resnet18", 16, "sgd", 0.9, 5e-4, 64)
    args = train_resnet.parse_args(["--width", "2", "--epochs", "4"])
    model, optimizer, scheduler = train_resnet.build(args)
    assert isinstance(scheduler, optim.lr_scheduler.CosineAnnealingLR) and scheduler.T_max == 4
    assert isinstance(model, ResNet)


def small_checkpoint(common, path):
    model = resnet18(width=2)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    common.save_checkpoint(str(path), model, optimizer, scheduler, 1)
    return model, optimizer, scheduler


def test_checkpoint_is_npz_without_pickle(example, tmp_path):
    common, _ = example
    path = tmp_path / "ckpt.npz"
    small_checkpoint(common, path)
    with np.load(path, allow_pickle=False) as archive:      # plain arrays only
        assert all(archive[k].dtype != object for k in archive.files)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_checkpoint_gives_clear_error(example, tmp_path, damage):
    common, _ = example
    path = tmp_path / "ckpt.npz"
    model, optimizer, scheduler = small_checkpoint(common, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00" * 100 + data[100:])
    with pytest.raises(RuntimeError, match="not a readable tinynn checkpoint"):
        common.load_checkpoint(str(path), model, optimizer, scheduler)


def test_crash_while_saving_keeps_previous_checkpoint(example, tmp_path, monkeypatch):
    common, _ = example
    path = tmp_path / "ckpt.npz"
    model, optimizer, scheduler = small_checkpoint(common, path)
    good = path.read_bytes()

    def crash(*args):
        raise KeyboardInterrupt   # e.g. Ctrl-C just before the file would be complete

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(os, "fsync", crash)
        common.save_checkpoint(str(path), model, optimizer, scheduler, 2)
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == sorted(["ckpt.npz", "data"])   # no half-written file left
    assert common.load_checkpoint(str(path), model, optimizer, scheduler) == 2
