"""Training seconds per epoch and inference images per second for the lecture's CNN.

60,000 images (MNIST when it is in ./data, else random stand-ins: the timing does not
depend on pixel values), batch 64, SGD with momentum. Runs alternate between tinynn and
PyTorch (when importable) so a noisy machine's slow phases hit both; medians are shown.
Per-layer forward/backward times of the conv and pooling layers: bench_conv_layers.py.

    python benchmarks/bench_cnn.py [--repeats 3] [--images 60000] [--batch-size 64]
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
from tinynn.models import CNN  # noqa: E402
from tinynn.utils import data  # noqa: E402


def load_images(count):
    """Normalised MNIST training images (N, 1, 28, 28) float32 and int64 labels."""
    try:
        from tinynn.datasets import MNIST
        ds = MNIST(os.path.join(os.path.dirname(__file__), "..", "data"), train=True)
        x = ((ds.data[:count].astype(np.float32) / 255) - 0.1307) / 0.3081
        return x[:, None], ds.targets[:count].astype(np.int64)
    except Exception:
        rng = np.random.default_rng(0)
        return rng.standard_normal((count, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, count)


def tinynn_train(x, y, batch):
    model = CNN()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    loader = data.DataLoader(data.TensorDataset(tinynn.tensor(x), tinynn.tensor(y)),
                             batch_size=batch, shuffle=True)
    start = time.perf_counter()
    for images, target in loader:
        opt.zero_grad()
        F.cross_entropy(model(images), target).backward()
        opt.step()
    return time.perf_counter() - start


def tinynn_infer(x, batch):
    model = CNN().eval()
    start = time.perf_counter()
    with tinynn.no_grad():
        for s in range(0, len(x), batch):
            model(tinynn.tensor(x[s:s + batch]))
    return len(x) / (time.perf_counter() - start)


def torch_model():
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5)
            self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)

        def forward(self, x):
            x = torch.relu(torch.max_pool2d(self.conv1(x), 2))
            x = torch.relu(torch.max_pool2d(self.conv2(x), 2))
            return self.fc2(torch.relu(self.fc1(x.view(-1, 320))))
    return Net()


def torch_train(x, y, batch):
    import torch
    model = torch_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                                         batch_size=batch, shuffle=True)
    start = time.perf_counter()
    for images, target in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(images), target).backward()
        opt.step()
    return time.perf_counter() - start


def torch_infer(x, batch):
    import torch
    model = torch_model().eval()
    xt = torch.from_numpy(x)
    start = time.perf_counter()
    with torch.no_grad():
        for s in range(0, len(x), batch):
            model(xt[s:s + batch])
    return len(x) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    x, y = load_images(args.images)
    runners = {"tinynn": (tinynn_train, tinynn_infer)}
    try:
        import torch
        torch.set_num_threads(os.cpu_count())
        runners["pytorch"] = (torch_train, torch_infer)
    except ImportError:
        print("(PyTorch not installed: pip install torch==2.13.0 to compare)")
    train_s = {name: [] for name in runners}
    infer_ips = {name: [] for name in runners}
    for _ in range(args.repeats):
        for name, (train, infer) in runners.items():
            train_s[name].append(train(x, y, args.batch_size))
            infer_ips[name].append(infer(x[:10000], 1000))
    print(f"lecture CNN, {len(x)} images, batch {args.batch_size}, {args.repeats} alternating runs, "
          f"{os.cpu_count()} cores")
    print(f"{'':<10}{'train s/epoch':>15}{'(min)':>8}{'infer img/s':>14}{'train vs tinynn':>17}")
    base = statistics.median(train_s["tinynn"])
    for name in runners:
        med = statistics.median(train_s[name])
        print(f"{name:<10}{med:>15.2f}{min(train_s[name]):>8.2f}{statistics.median(infer_ips[name]):>14,.0f}"
              f"{med / base:>16.2f}x")


if __name__ == "__main__":
    main()
