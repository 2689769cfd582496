"""Seconds per epoch for the lecture's MLP: tinynn beside a hand-written NumPy loop.

Both train the same model (784 -> 256 -> 128 -> 10, sigmoid, cross entropy, SGD with
momentum) on the same 60,000 float32 images in batches of 64, shuffled each epoch. Runs
alternate (tinynn, NumPy, tinynn, ...) so slow phases of a noisy machine hit both; the
table shows medians. PyTorch is timed too when it is importable.

    python benchmarks/bench_mlp.py [--repeats 3] [--images 60000]
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinynn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn import optim  # noqa: E402
from tinynn.models import MLP  # noqa: E402
from tinynn.utils import data  # noqa: E402

BATCH, LR, MOMENTUM = 64, 0.01, 0.5


def load_images(count):
    """Normalised MNIST training images (N, 784) float32 and labels, or random stand-ins."""
    try:
        from tinynn.datasets import MNIST
        ds = MNIST(os.path.join(os.path.dirname(__file__), "..", "data"), train=True)
        x = ((ds.data[:count].reshape(-1, 784).astype(np.float32) / 255) - 0.1307) / 0.3081
        return x, ds.targets[:count].astype(np.int64)
    except Exception:  # no MNIST on disk: timing does not depend on the pixel values
        rng = np.random.default_rng(0)
        return rng.standard_normal((count, 784), dtype=np.float32), rng.integers(0, 10, count)


def epoch_tinynn(x, y):
    model = MLP()
    opt = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loader = data.DataLoader(data.TensorDataset(tinynn.tensor(x), tinynn.tensor(y)),
                             batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    for images, target in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(images), target)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def epoch_numpy(x, y):
    """The same training step written out by hand on NumPy arrays."""
    rng = np.random.default_rng(0)
    sizes = [784, 256, 128, 10]
    W = [rng.uniform(-1, 1, (o, i)).astype(np.float32) / np.sqrt(i) for i, o in zip(sizes, sizes[1:])]
    b = [np.zeros(o, np.float32) for o in sizes[1:]]
    vW = [np.zeros_like(w) for w in W]
    vb = [np.zeros_like(v) for v in b]
    start = time.perf_counter()
    order = rng.permutation(len(x))
    for s in range(0, len(x), BATCH):
        idx = order[s:s + BATCH]
        xb, yb = x[idx], y[idx]
        acts = [xb]
        for k in range(3):  # forward: sigmoid hidden layers, linear output
            z = acts[-1] @ W[k].T + b[k]
            acts.append(1 / (1 + np.exp(-z)) if k < 2 else z)
        logits = acts[-1]
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = p
        g[np.arange(len(yb)), yb] -= 1
        g /= len(yb)
        for k in (2, 1, 0):  # backward + SGD with momentum
            gW, gb = g.T @ acts[k], g.sum(0)
            if k:
                g = (g @ W[k]) * acts[k] * (1 - acts[k])
            vW[k] = MOMENTUM * vW[k] + gW
            vb[k] = MOMENTUM * vb[k] + gb
            W[k] -= LR * vW[k]
            b[k] -= LR * vb[k]
    return time.perf_counter() - start


def epoch_torch(x, y):
    import torch
    torch.set_num_threads(os.cpu_count())
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.Sigmoid(), torch.nn.Linear(256, 128),
                                torch.nn.Sigmoid(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xt, yt), batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    for images, target in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(images), target).backward()
        opt.step()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=60000)
    args = parser.parse_args()
    x, y = load_images(args.images)
    runners = {"tinynn": epoch_tinynn, "numpy by hand": epoch_numpy}
    try:
        import torch  # noqa: F401
        runners["pytorch"] = epoch_torch
    except ImportError:
        pass
    times = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            times[name].append(run(x, y))
    base = statistics.median(times["numpy by hand"])
    print(f"MLP 784-256-128-10, {len(x)} images, batch {BATCH}, {args.repeats} alternating runs")
    print(f"{'implementation':<16}{'median s/epoch':>16}{'min':>8}{'vs numpy':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<16}{med:>16.3f}{min(ts):>8.3f}{med / base:>9.2f}x")


if __name__ == "__main__":
    main()
