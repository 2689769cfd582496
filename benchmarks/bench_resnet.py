"""Training throughput (images/s) and peak memory of ResNet-18 on 28x28 MNIST-sized input.

Each measurement runs in a fresh process: a few warm-up steps, then timed training steps
(forward, cross entropy, backward, SGD with momentum and weight decay) on one fixed batch.
tinynn and PyTorch (when importable) alternate, so slow phases of a noisy machine hit
both; the table shows medians. Peak memory is the growth of the process's maximum
resident set during the steps (both) and tracemalloc's peak of one step (tinynn's
NumPy arrays). ``--profile`` breaks one tinynn step down by op and phase.

    python benchmarks/bench_resnet.py [--widths 16 64] [--batch 64] [--steps 5] [--repeats 2]
    python benchmarks/bench_resnet.py --profile 16
"""
import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB


# ---------------------------------------------------------------------------- one process

def tinynn_setup(width, batch):
    import tinynn
    import tinynn.nn.functional as F
    from tinynn import optim
    from tinynn.models import resnet18
    tinynn.manual_seed(0)
    model = resnet18(num_classes=10, in_channels=1, width=width)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x, y = tinynn.randn(batch, 1, 28, 28), tinynn.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def torch_setup(width, batch):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)

    class BasicBlock(nn.Module):   # the same network as tinynn.models.resnet18
        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                                              nn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + self.shortcut(x))

    layers, in_planes = [nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()], width
    for stage in range(4):
        planes = width * 2 ** stage
        for stride in [1 if stage == 0 else 2, 1]:
            layers.append(BasicBlock(in_planes, planes, stride))
            in_planes = planes
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(in_planes, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


def worker(impl, width, batch, warmup, steps):
    """Time ``steps`` training steps; print a JSON line with the results."""
    step = (tinynn_setup if impl == "tinynn" else torch_setup)(width, batch)
    for _ in range(warmup):
        step()
    rss_before = max_rss_mb()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = (time.perf_counter() - start) / steps
    result = {"impl": impl, "width": width, "img_s": batch / seconds, "s_step": seconds,
              "rss_growth_mb": max_rss_mb() - rss_before, "max_rss_mb": max_rss_mb()}
    if impl == "tinynn":   # NumPy reports its allocations to tracemalloc
        tracemalloc.start()
        step()
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps(result))


# ---------------------------------------------------------------------------- profile

def profile(width, batch, steps, top=12):
    """Where a tinynn step's time goes: per op and output shape (i.e. per layer kind and
    stage), forward and backward; then cProfile's busiest functions."""
    import cProfile
    import pstats

    from tinynn import autograd
    from tinynn.autograd import Function

    spent = collections.defaultdict(lambda: {"forward": 0.0, "backward": 0.0})

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    def timed(method, phase):
        def wrapper(self, *args, **kwargs):
            start = time.perf_counter()
            result = method(self, *args, **kwargs)
            # forward returns the output, backward receives the output's gradient
            shape = (result if phase == "forward" else args[0]).shape
            spent[type(self).__name__, tuple(shape)][phase] += time.perf_counter() - start
            return result
        return wrapper

    step = tinynn_setup(width, batch)
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    plain = (time.perf_counter() - start) / steps
    originals = {}
    for cls in set(subclasses(Function)):
        for phase in ("forward", "backward"):
            if phase in cls.__dict__:
                originals[cls, phase] = cls.__dict__[phase]
                setattr(cls, phase, timed(cls.__dict__[phase], phase))
    engine = autograd.backward
    backward_time = [0.0]

    def timed_engine(*args, **kwargs):
        start = time.perf_counter()
        engine(*args, **kwargs)
        backward_time[0] += time.perf_counter() - start
    autograd.backward = timed_engine
    start = time.perf_counter()
    for _ in range(steps):
        step()
    total = (time.perf_counter() - start) / steps
    autograd.backward = engine
    for (cls, phase), method in originals.items():
        setattr(cls, phase, method)

    print(f"tinynn ResNet-18 width {width}, batch {batch}: {plain * 1000:.0f} ms/step "
          f"({batch / plain:.0f} img/s) unprofiled; {total * 1000:.0f} ms/step timed per op")
    by_op = collections.defaultdict(lambda: [0.0, 0.0])
    for (name, _), t in spent.items():
        by_op[name][0] += t["forward"] / steps
        by_op[name][1] += t["backward"] / steps
    print(f"\n{'op':<14}{'forward ms':>12}{'backward ms':>13}{'share':>8}")
    for name, (f, b) in sorted(by_op.items(), key=lambda kv: -sum(kv[1])):
        if f + b >= 0.0005 * total:
            print(f"{name:<14}{f * 1000:>12.1f}{b * 1000:>13.1f}{(f + b) / total:>8.1%}")
    ops = sum(f + b for f, b in by_op.values())
    engine_other = backward_time[0] / steps - sum(b for _, b in by_op.values())
    print(f"{'backward engine (outside ops)':<39}{engine_other * 1000:>8.1f} ms")
    print(f"{'rest (module calls, loss, optimizer)':<39}{(total - ops - engine_other) * 1000:>8.1f} ms")
    print(f"\n{'op [output shape] (its layers)':<40}{'forward ms':>12}{'backward ms':>13}{'share':>8}")
    rows = sorted(spent.items(), key=lambda kv: -(kv[1]["forward"] + kv[1]["backward"]))
    for (name, shape), t in rows[:top]:
        f, b = t["forward"] / steps, t["backward"] / steps
        print(f"{name + ' ' + str(list(shape)):<40}{f * 1000:>12.1f}{b * 1000:>13.1f}"
              f"{(f + b) / total:>8.1%}")
    profiler = cProfile.Profile()
    profiler.enable()
    step()
    profiler.disable()
    print("\ncProfile, one step, by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


# ---------------------------------------------------------------------------- driver

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-torch", action="store_true", help="time tinynn only")
    parser.add_argument("--profile", type=int, metavar="WIDTH", help="profile tinynn at WIDTH")
    parser.add_argument("--worker", nargs=2, metavar=("IMPL", "WIDTH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], int(args.worker[1]), args.batch, args.warmup, args.steps)
    if args.profile:
        return profile(args.profile, args.batch, args.steps)
    impls = ["tinynn"]
    if not args.no_torch:
        try:
            import torch
            impls.append("torch")
            print(f"PyTorch {torch.__version__}, {os.cpu_count()} threads")
        except ImportError:
            print("PyTorch is not importable: timing tinynn only")
    results = collections.defaultdict(list)
    for width in args.widths:
        for _ in range(args.repeats):
            for impl in impls:   # alternate: tinynn, torch, tinynn, torch ...
                cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, str(width),
                       "--batch", str(args.batch), "--warmup", str(args.warmup), "--steps", str(args.steps)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                results[impl, width].append(json.loads(out.strip().splitlines()[-1]))
    print(f"ResNet-18 (CIFAR-style stem), 28x28x1 input, batch {args.batch}, "
          f"{args.warmup} warm-up + {args.steps} timed steps, median of {args.repeats} runs")
    print(f"{'impl':<8}{'width':>6}{'img/s':>9}{'min':>8}{'max':>8}{'s/step':>8}"
          f"{'RSS growth MB':>15}{'max RSS MB':>12}{'traced peak MB':>16}")
    for (impl, width), runs in results.items():
        rates = [r["img_s"] for r in runs]
        med = lambda key: statistics.median(r[key] for r in runs)   # noqa: E731
        traced = f"{med('traced_peak_mb'):>16.0f}" if "traced_peak_mb" in runs[0] else f"{'-':>16}"
        print(f"{impl:<8}{width:>6}{statistics.median(rates):>9.1f}{min(rates):>8.1f}{max(rates):>8.1f}"
              f"{med('s_step'):>8.2f}{med('rss_growth_mb'):>15.0f}{med('max_rss_mb'):>12.0f}{traced}")


if __name__ == "__main__":
    main()
