"""Training-step and epoch time of the row-by-row MNIST LSTM: tinynn beside PyTorch.

The model reads a 28x28 image as 28 steps of 28 pixels: ``nn.LSTM(28, 128,
batch_first=True)``, then ``nn.Linear(128, 10)`` on the last output; cross entropy, Adam
(lr 1e-3). Every run is a fresh process that trains on pre-batched float32 tensors (so
no data loading is timed), warms up, then times ``--steps`` steps; the epoch time is the
median step times the 60,000 / batch steps of an MNIST epoch. Runs alternate (tinynn,
its variants, PyTorch, tinynn, ...) so a noisy machine slows all of them alike; the
table shows medians over ``--repeats`` runs. PyTorch is timed when ``import torch``
works; otherwise the script says so.

tinynn runs three ways: as a plain script would (the default), with
``TINYNN_KEEP_FREED_MEMORY=0`` (glibc's default settings: the ~12 MB of arrays a step
allocates go back to the OS and are page-faulted in again every step), and with
``OPENBLAS_NUM_THREADS=1`` (on a machine busy with other work, OpenBLAS's threads can
spin waiting for each other; this model's matrices are small enough for one thread).

    python benchmarks/bench_lstm.py [--batch 64] [--steps 40] [--repeats 3]
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_IMAGES, SEQ, PIXELS, HIDDEN, CLASSES, LR = 60000, 28, 28, 128, 10, 1e-3


def batches(batch, count=8, seed=0):
    """``count`` pre-made batches of normalised pixels (N, 28, 28) and labels (N,)."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, SEQ, PIXELS), dtype=np.float32),
             rng.integers(0, CLASSES, batch)) for _ in range(count)]


def time_steps(step, data, steps, warmup=5):
    """Median wall-clock and CPU seconds (all threads of the process) of one training step."""
    for k in range(warmup):
        step(*data[k % len(data)])
    wall, cpu = [], []
    for k in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        step(*data[k % len(data)])
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def run_tinynn(batch, steps):
    sys.path.insert(0, ROOT)
    import tinynn
    import tinynn.nn as nn
    import tinynn.nn.functional as F
    from tinynn import optim

    tinynn.manual_seed(0)

    class RowLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(PIXELS, HIDDEN, batch_first=True)
            self.fc = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1, :])

    model = RowLSTM()
    opt = optim.Adam(model.parameters(), lr=LR)
    data = [(tinynn.tensor(x), tinynn.tensor(y)) for x, y in batches(batch)]

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return time_steps(step, data, steps)


def run_torch(batch, steps):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)

    class RowLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(PIXELS, HIDDEN, batch_first=True)
            self.fc = nn.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1, :])

    model = RowLSTM()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    data = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches(batch)]

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return time_steps(step, data, steps)


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def cpu_description():
    """(model name, whether the CPU reports AVX-512) from lscpu, else /proc/cpuinfo."""
    text = ""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        try:
            with open("/proc/cpuinfo") as f:
                text = f.read()
        except OSError:
            pass
    model, flags = "unknown", ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name",) and model == "unknown":
            model = value.strip()
        elif key in ("flags",) and not flags:
            flags = value
    return model, "avx512f" in flags.split()


# name: (label, extra environment variables)
VARIANTS = {"tinynn": ("tinynn (default)", {}),
            "tinynn-return": ("tinynn, TINYNN_KEEP_FREED_MEMORY=0", {"TINYNN_KEEP_FREED_MEMORY": "0"}),
            "tinynn-1thread": ("tinynn, OPENBLAS_NUM_THREADS=1", {"OPENBLAS_NUM_THREADS": "1"}),
            "torch": ("PyTorch (CPU)", {})}


def worker(args):
    if args.worker == "torch":
        seconds = run_torch(args.batch, args.steps)
    else:
        seconds = run_tinynn(args.batch, args.steps)
    print(json.dumps({"step": seconds[0], "cpu": seconds[1]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs per framework")
    parser.add_argument("--worker", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    model, avx512 = cpu_description()
    print(f"CPU: {model}; AVX-512: {'yes' if avx512 else 'no'}; {os.cpu_count()} logical CPUs")
    print(f"LSTM(28, 128) + Linear(128, 10) on MNIST rows, batch {args.batch}, Adam; "
          f"{args.steps} timed steps per run, {args.repeats} fresh runs each, alternating")
    names = ["tinynn", "tinynn-return", "tinynn-1thread"]
    if torch_available():
        names.append("torch")
    else:
        print("PyTorch is not installed here (import torch failed): timing tinynn only.")
    results = {name: [] for name in names}
    for _ in range(args.repeats):
        for name in names:
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", name,
                   "--batch", str(args.batch), "--steps", str(args.steps)]
            env = dict(os.environ, **VARIANTS[name][1])
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))

    steps_per_epoch = math.ceil(TRAIN_IMAGES / args.batch)
    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    print(f"\n{'':34s} {'step (ms)':>10s} {'epoch (s)':>10s} {'vs PyTorch':>11s} "
          f"{'CPU/step (ms)':>14s}")
    reference = median("torch", "step") if "torch" in results else None
    for name in names:
        step = median(name, "step")
        ratio = f"{step / reference:10.2f}x" if reference else f"{'-':>11s}"
        print(f"{VARIANTS[name][0]:34s} {step * 1e3:10.2f} {step * steps_per_epoch:10.1f} {ratio} "
              f"{median(name, 'cpu') * 1e3:14.2f}")
    print(f"(epoch = median step x {steps_per_epoch} steps; CPU = process time of all threads, "
          f"spinning BLAS threads included; step times of each run: "
          + "; ".join(f"{n} " + ", ".join(f"{r['step'] * 1e3:.1f}" for r in results[n]) + " ms"
                      for n in names) + ")")


if __name__ == "__main__":
    main()
