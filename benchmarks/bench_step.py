"""Training-step and DataLoader-epoch throughput of tinynn beside PyTorch CPU (issue 10).

(a) step: 8 fixed, pre-batched MNIST-shaped batches of 64 (random normal (64, 1, 28, 28)
    float32 images, int64 labels), SGD (lr 0.01, momentum 0.9), cross-entropy; 3 warm-up
    steps, then --steps timed steps cycling through the 8 batches; images/s over the
    timed steps. As a plain user script runs it: no allocator or thread calls (PyTorch
    with its default thread count), unless --return-freed adds a third variant that runs
    tinynn with TINYNN_KEEP_FREED_MEMORY=0 (glibc's default allocator settings: freed
    buffers go back to the OS and the next step faults them in again).
(b) epoch: 60,000 in-memory random images through each library's own
    DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True) and the lecture's loop
    (zero_grad, forward, cross_entropy, backward, step, loss.item() every 200 batches);
    the first --batches batches (the whole epoch with --full), timed from the first
    batch, no warm-up: what a user waits for.
(c) FLOP per image of a training step (forward multiply-adds of Conv2d/Linear x 2 x 3,
    see _harness.count_training_flop), tinynn's GFLOP/s and its share of the float32
    numpy.matmul rate measured in each tinynn process (1024^3 and the MLP's 64x784x256),
    peak RSS (ru_maxrss) of every process, and RSS after warm-up step 3 vs after the last
    step (growth from step to step), minor page faults per timed step.

Every measurement is a fresh process (this script re-run as a worker) with a chosen
interpreter: tinynn in --tinynn-python (default: this one), PyTorch in --torch-python
(default: this one, if it can import torch; otherwise the PyTorch columns say n/a).
Runs alternate tinynn / PyTorch (the order flips every repeat) and medians are shown.

    python benchmarks/bench_step.py --torch-python /work/venv-torch/bin/python
    python benchmarks/bench_step.py --models mlp --repeats 1          # a quick check
    python benchmarks/bench_step.py --models cnn --parts a --return-freed
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import (REPO, count_training_flop, current_rss_mb, emit, fmt, header_lines,  # noqa: E402
                      load_average, matmul_rates, median, minor_faults, peak_rss_mb,
                      python_has, ratio, run_worker, table, wait_until_idle)

MODELS = ("mlp", "cnn", "resnet18-16", "resnet18-64")
LABELS = {"mlp": "lecture MLP", "cnn": "lecture CNN", "resnet18-16": "ResNet-18, width 16",
          "resnet18-64": "ResNet-18, width 64"}
# Timed steps in (a). ResNet-18-64 takes 8: with 4, PyTorch's runs spread by +-14% and its
# median was 50 images/s against 61-63 with 8 steps or a whole (b) run (tinynn: 50-54 either way).
STEPS = {"mlp": 200, "cnn": 100, "resnet18-16": 16, "resnet18-64": 8}
# Batches in (b): enough that the first step (which faults in the activations' memory)
# weighs no more than a few percent, as in a whole epoch (938 batches).
BATCHES = {"mlp": 200, "cnn": 200, "resnet18-16": 120, "resnet18-64": 24}
REPEATS_64 = 3            # ResNet-18 width 64 repeats unless --repeats is given
BATCH, N_BATCHES, WARMUP, EPOCH_IMAGES, LOG_INTERVAL = 64, 8, 3, 60000, 200


# ================================================================== the models

def tinynn_setup(name):
    """tinynn's model, optimizer, functional module and tensor maker."""
    sys.path.insert(0, REPO)
    import tinynn
    import tinynn.nn.functional as F
    from tinynn import optim
    from tinynn.models import CNN, MLP
    from tinynn.models.resnet import resnet18
    model = {"mlp": lambda: MLP(), "cnn": lambda: CNN(),
             "resnet18-16": lambda: resnet18(width=16),
             "resnet18-64": lambda: resnet18(width=64)}[name]()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return tinynn, model, opt, F


def torch_setup(name):
    """PyTorch twins of tinynn.models: the same layers, shapes and activations."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    class MLP(nn.Module):                 # tinynn/models/mlp.py: 784-256-128-10, sigmoid
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = x.view(-1, 784)
            return self.fc3(torch.sigmoid(self.fc2(torch.sigmoid(self.fc1(x)))))

    class CNN(nn.Module):                 # tinynn/models/cnn.py (dropout 0)
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 10, kernel_size=5), nn.Conv2d(10, 20, kernel_size=5)
            self.fc1, self.fc2 = nn.Linear(320, 50), nn.Linear(50, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2(x), 2))
            x = x.view(-1, 320)
            x = F.relu(self.fc1(x))
            return self.fc2(x)

    def shortcut(in_planes, out_planes, stride):
        if stride == 1 and in_planes == out_planes:
            return nn.Sequential()
        return nn.Sequential(nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False),
                             nn.BatchNorm2d(out_planes))

    class BasicBlock(nn.Module):          # tinynn/models/resnet.py BasicBlock
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = shortcut(in_planes, planes, stride)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class ResNet(nn.Module):              # CIFAR-style stem: 3x3 stride 1, no max-pool
        def __init__(self, num_blocks=(2, 2, 2, 2), num_classes=10, in_channels=1, width=64):
            super().__init__()
            self.in_planes = width
            self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.layer1 = self._make_layer(width, num_blocks[0], 1)
            self.layer2 = self._make_layer(2 * width, num_blocks[1], 2)
            self.layer3 = self._make_layer(4 * width, num_blocks[2], 2)
            self.layer4 = self._make_layer(8 * width, num_blocks[3], 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.linear = nn.Linear(8 * width, num_classes)

        def _make_layer(self, planes, num_blocks, stride):
            layers = []
            for s in [stride] + [1] * (num_blocks - 1):
                layers.append(BasicBlock(self.in_planes, planes, s))
                self.in_planes = planes
            return nn.Sequential(*layers)

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
            return self.linear(self.avgpool(out).flatten(1))

    model = {"mlp": MLP, "cnn": CNN, "resnet18-16": lambda: ResNet(width=16),
             "resnet18-64": lambda: ResNet(width=64)}[name]()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return torch, model, opt, F


def setup(lib, name):
    lib_module, model, opt, F = (tinynn_setup if lib == "tinynn" else torch_setup)(name)
    return lib_module, model, opt, F


# ================================================================== workers

def fixed_batches():
    import numpy as np
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32) for _ in range(N_BATCHES)]
    ys = [rng.integers(0, 10, BATCH, dtype=np.int64) for _ in range(N_BATCHES)]
    return xs, ys


def worker_step(lib, name, steps, return_freed):
    """(a): the training step on pre-batched tensors; plus (c)'s readings."""
    xs, ys = fixed_batches()
    if return_freed:   # glibc's default allocator settings, as before tinynn kept freed memory
        os.environ["TINYNN_KEEP_FREED_MEMORY"] = "0"
    lib_module, model, opt, F = setup(lib, name)
    X = [lib_module.from_numpy(x) for x in xs]
    Y = [lib_module.from_numpy(y) for y in ys]

    def step(i):
        opt.zero_grad()
        loss = F.cross_entropy(model(X[i % N_BATCHES]), Y[i % N_BATCHES])
        loss.backward()
        opt.step()
        return loss

    for i in range(WARMUP):
        step(i)
    rss_warm, faults = current_rss_mb(), minor_faults()
    start = time.perf_counter()
    for i in range(WARMUP, WARMUP + steps):
        loss = step(i)
    seconds = time.perf_counter() - start
    faults, rss_last = minor_faults() - faults, current_rss_mb()
    final_loss = float(loss.item())
    flop, naive_flop = count_training_flop(model, lambda: model(X[0]), BATCH)
    result = {"images_per_s": steps * BATCH / seconds, "seconds": seconds, "steps": steps,
              "rss_after_warmup_mb": rss_warm, "rss_last_mb": rss_last,
              "peak_rss_mb": peak_rss_mb(), "faults_per_step": faults / steps,
              "flop_per_image": flop, "naive_flop_per_image": naive_flop, "loss": final_loss,
              "params": sum(p.numel() for p in model.parameters())}
    if lib == "tinynn":
        result["matmul_gflops"] = matmul_rates()
    else:
        result["threads"] = lib_module.get_num_threads()
        result["mm_1024_gflops"] = torch_mm_rate(lib_module)
    return result


def torch_mm_rate(torch, repeats=30):
    """torch.mm GFLOP/s on 1024x1024 float32 (the same yardstick as numpy's, for reference)."""
    import statistics
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    out = torch.empty(1024, 1024)
    for _ in range(3):
        torch.mm(a, b, out=out)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b, out=out)
        times.append(time.perf_counter() - t)
    return 2 * 1024 ** 3 / statistics.median(times) / 1e9


def worker_epoch(lib, name, batches, return_freed):
    """(b): the lecture's loop over each library's DataLoader on in-memory tensors."""
    import numpy as np
    rng = np.random.default_rng(1)
    images = rng.standard_normal((EPOCH_IMAGES, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, EPOCH_IMAGES, dtype=np.int64)
    if return_freed:   # glibc's default allocator settings, as before tinynn kept freed memory
        os.environ["TINYNN_KEEP_FREED_MEMORY"] = "0"
    lib_module, model, opt, F = setup(lib, name)
    if lib == "tinynn":
        from tinynn.utils.data import DataLoader, TensorDataset
    else:
        from torch.utils.data import DataLoader, TensorDataset
    loader = DataLoader(TensorDataset(lib_module.from_numpy(images), lib_module.from_numpy(labels)),
                        batch_size=BATCH, shuffle=True)
    total = len(loader)
    batches = total if batches is None else min(batches, total)
    model.train()
    faults = minor_faults()
    start, done = time.perf_counter(), 0
    for batch_idx, (data, target) in enumerate(loader):
        if batch_idx == batches:
            break
        opt.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        opt.step()
        if batch_idx % LOG_INTERVAL == 0:
            loss.item()
        done += len(data)
    seconds = time.perf_counter() - start
    faults = minor_faults() - faults
    return {"seconds": seconds, "batches": batches, "batches_per_epoch": total,
            "faults_per_batch": faults / batches,
            "images_per_s": done / seconds, "epoch_seconds": seconds * total / batches,
            "peak_rss_mb": peak_rss_mb()}


# ================================================================== the driver

def variants(args, torch_python):
    out = [("tinynn", args.tinynn_python, [])]
    if torch_python:
        out.append(("torch", torch_python, []))
    if args.return_freed:
        out.append(("tinynn+return", args.tinynn_python, ["--return-freed"]))
    return out


def measure(args, part, name, runs, torch_python, extra):
    """Alternating fresh-process runs of every variant; {variant: [result, ...]}, loads.

    With --wait-idle, each run waits (at most that many seconds) until nothing else is
    runnable. A run during which more tasks were runnable than there are CPUs (someone
    else competed) is run again, up to --retries times; the least disturbed attempt counts.
    """
    results = {v: [] for v, _, _ in variants(args, torch_python)}
    loads, cpus = [load_average()], os.cpu_count() or 1
    for r in range(runs):
        order = variants(args, torch_python)
        for variant, python, flags in (order if r % 2 == 0 else order[::-1]):
            lib = "torch" if variant == "torch" else "tinynn"
            best = None
            for attempt in range(args.retries + 1):
                if args.wait_idle:
                    wait_until_idle(0.5, args.wait_idle)
                res = run_worker(python, os.path.abspath(__file__),
                                 ["--worker", lib, "--part", part, "--models", name, *flags, *extra])
                if "error" in res:
                    print(f"  ! {variant} {name} ({part}): {res['error']}", file=sys.stderr)
                    break
                res["attempts"] = attempt + 1
                busy = res.get("runnable")
                if best is None or (busy is not None and busy < best.get("runnable", 1e9)):
                    best = res
                if args.verbose:
                    print(f"  {name} {part} run {r + 1} {variant}: {fmt(res.get('images_per_s'))} img/s"
                          f" (mean runnable tasks {fmt(busy, 2)})", file=sys.stderr)
                if busy is None or busy <= cpus + 0.5:
                    break
            if best is not None:
                results[variant].append(best)
    loads.append(load_average())
    return results, loads


def busy(res):
    """The worst mean runnable-task count among the kept runs, and how many runs were redone."""
    runs = [x for rs in res.values() for x in rs]
    worst = max((x["runnable"] for x in runs if x.get("runnable") is not None), default=None)
    redone = sum(x.get("attempts", 1) - 1 for x in runs)
    return f"{fmt(worst, 1)} / {redone}"


def med(results, key):
    return median([r.get(key) for r in results])


def paired_ratio(tinynn_runs, torch_runs, key):
    """The median of tinynn's run i over PyTorch's run i: each pair ran back to back, so a
    slow spell of the machine (a VM's neighbours) slows both sides of a pair alike."""
    pairs = [a[key] / b[key] for a, b in zip(tinynn_runs, torch_runs) if a.get(key) and b.get(key)]
    return f"{median(pairs):.2f}x" if pairs else "n/a"


def spread(results, key):
    values = [r[key] for r in results if r.get(key)]
    if len(values) < 2:
        return ""
    return f" (±{50 * (max(values) - min(values)) / median(values):.0f}%)"


def report_step(args, torch_python, models):
    keep = args.return_freed
    rows_a, rows_c, rows_mm, loads_all = [], [], [], []
    for name in models:
        steps = args.steps or STEPS[name]
        runs = args.repeats or (REPEATS_64 if name == "resnet18-64" else 5)
        res, loads = measure(args, "step", name, runs, torch_python, ["--steps", str(steps)])
        tn, pt, tk = res["tinynn"], res.get("torch", []), res.get("tinynn+return", [])
        t_ips, p_ips, k_ips = med(tn, "images_per_s"), med(pt, "images_per_s"), med(tk, "images_per_s")
        load = f"{loads[0]} → {loads[1]}"
        row = [LABELS[name], f"{steps} x {BATCH}", f"{len(tn)}",
               fmt(t_ips) + spread(tn, "images_per_s")]
        if keep:
            row += [fmt(k_ips) + spread(tk, "images_per_s"), ratio(t_ips, k_ips)]
        row += [fmt(p_ips) + spread(pt, "images_per_s") if torch_python else "n/a",
                ratio(t_ips, p_ips), paired_ratio(tn, pt, "images_per_s")]
        if keep:
            row.append(ratio(k_ips, p_ips))
        rows_a.append(row + [busy(res), load])

        flop = med(tn, "flop_per_image")
        p_flop = med(pt, "flop_per_image")
        twin = "" if not pt or (abs(p_flop - flop) < 1e-6 * flop and
                                med(pt, "params") == med(tn, "params")) else " (twin differs!)"
        mm = [r["matmul_gflops"] for r in tn if "matmul_gflops" in r]
        mm_big, mm_mlp = median([m["1024^3"] for m in mm]), median([m["64x784x256"] for m in mm])
        t_gf = flop * t_ips / 1e9 if t_ips else None
        p_gf = flop * p_ips / 1e9 if p_ips else None

        def growth(rs):
            g = med(rs, "rss_last_mb"), med(rs, "rss_after_warmup_mb")
            return "n/a" if None in g else f"{g[1]:.0f} → {g[0]:.0f} MB ({g[0] - g[1]:+.1f})"
        row_c = [LABELS[name], f"{flop / 1e6:,.1f} M ({med(tn, 'naive_flop_per_image') / 1e6:,.1f} M){twin}", fmt(t_gf, 1),
                 f"{100 * t_gf / mm_big:.0f}%" if t_gf and mm_big else "n/a",
                 f"{100 * t_gf / mm_mlp:.0f}%" if t_gf and mm_mlp else "n/a", fmt(p_gf, 1),
                 fmt(med(tn, "peak_rss_mb"), 0, " MB"), fmt(med(pt, "peak_rss_mb"), 0, " MB"),
                 ratio(med(tn, "peak_rss_mb"), med(pt, "peak_rss_mb")),
                 growth(tn), growth(pt),
                 f"{fmt(med(tn, 'faults_per_step'))} / {fmt(med(pt, 'faults_per_step'))}"]
        if keep:
            row_c.append(f"{fmt(med(tk, 'peak_rss_mb'), 0, ' MB')}, "
                         f"{fmt(med(tk, 'faults_per_step'))} faults/step")
        rows_c.append(row_c)
        rows_mm.append([LABELS[name], fmt(mm_big, 0), fmt(mm_mlp, 0), fmt(med(pt, "mm_1024_gflops"), 0),
                        str(med(pt, "threads")) if pt else "n/a"])
        loads_all.append(load)

    print("## (a) training step on 8 pre-batched batches of 64 (images/s, median of runs)\n")
    head = ["model", "timed steps", "runs", "tinynn (as a user runs it)"]
    if keep:
        head += ["tinynn, TINYNN_KEEP_FREED_MEMORY=0", "default / returning freed memory"]
    head += ["PyTorch CPU", "tinynn / PyTorch", "paired ratios (median)"]
    if keep:
        head.append("tinynn+return / PyTorch")
    print(table(head + ["busy / reruns", "load avg (start → end)"], rows_a))
    print(f"\n±x%: half the spread between the fastest and slowest run, in % of the median. paired "
          f"ratios: the median over repeats of tinynn's run divided by the PyTorch run next to it "
          f"in time (steadier than the ratio of medians on a machine whose speed drifts). busy: the "
          f"highest mean count of runnable tasks during a kept run, its own threads included "
          f"(at most {os.cpu_count()} on this machine when nothing else competes); reruns: runs "
          f"repeated because others competed.\n")
    print("## (c) FLOP, GFLOP/s, memory\n")
    head_c = ["model", "FLOP/image (training)", "tinynn GFLOP/s", "share of numpy 1024³ rate",
              "share of numpy 64x784x256 rate", "PyTorch GFLOP/s", "tinynn peak RSS",
              "PyTorch peak RSS", "RSS tinynn / PyTorch", "tinynn RSS after step 3 → last",
              "PyTorch RSS after step 3 → last", "minor page faults / step (tinynn / PyTorch)"]
    if keep:
        head_c.append("tinynn+return peak RSS, faults")
    print(table(head_c, rows_c))
    print("\nFLOP/image: forward multiply-adds of every Conv2d and Linear layer x 2 (multiply + add)"
          " x 3 (forward, input gradient, weight gradient), but x 2 x 2 for the first layer, whose "
          "input (the images) needs no gradient; in brackets every layer x 6. Counted with forward "
          "hooks in each library's model (the PyTorch twin must give the same count and parameter "
          "number, else 'twin differs!'). GFLOP/s and shares use the first count.\n")
    print("Float32 matrix-product yardstick, GFLOP/s (median of timed calls, out= given), measured "
          "inside each tinynn (numpy) and PyTorch process of the runs above:\n")
    print(table(["runs of", "numpy.matmul 1024³", "numpy.matmul 64x784 @ 784x256",
                 "torch.mm 1024³", "PyTorch threads"], rows_mm))
    print()


def report_epoch(args, torch_python, models):
    rows = []
    for name in models:
        batches = None if args.full else (args.batches or BATCHES[name])
        runs = args.repeats or (REPEATS_64 if name == "resnet18-64" else 5)
        extra = ["--full"] if args.full else ["--batches", str(batches)]
        res, loads = measure(args, "epoch", name, runs, torch_python, extra)
        tn, pt, tk = res["tinynn"], res.get("torch", []), res.get("tinynn+return", [])
        nb = med(tn, "batches")
        row = [LABELS[name], f"{fmt(nb)} of {fmt(med(tn, 'batches_per_epoch'))}", f"{len(tn)}",
               fmt(med(tn, "images_per_s")) + spread(tn, "images_per_s"),
               fmt(med(pt, "images_per_s")) + spread(pt, "images_per_s") if pt else "n/a",
               ratio(med(tn, "images_per_s"), med(pt, "images_per_s")),
               paired_ratio(tn, pt, "images_per_s"),
               fmt(med(tn, "epoch_seconds"), 1, " s"), fmt(med(pt, "epoch_seconds"), 1, " s")]
        if args.return_freed:
            row += [fmt(med(tk, "images_per_s")), ratio(med(tk, "images_per_s"), med(pt, "images_per_s"))]
        row += [fmt(med(tn, "peak_rss_mb"), 0, " MB"), fmt(med(pt, "peak_rss_mb"), 0, " MB"),
                f"{fmt(med(tn, 'faults_per_batch'))} / {fmt(med(pt, 'faults_per_batch'))}",
                busy(res), f"{loads[0]} → {loads[1]}"]
        rows.append(row)
    print("## (b) the lecture's loop through each library's DataLoader "
          "(TensorDataset of 60,000 in-memory images, batch 64, shuffle=True)\n")
    head = ["model", "batches", "runs", "tinynn img/s", "PyTorch img/s", "tinynn / PyTorch",
            "paired ratios (median)", "tinynn s/epoch", "PyTorch s/epoch"]
    if args.return_freed:
        head += ["tinynn+return img/s", "tinynn+return / PyTorch"]
    print(table(head + ["tinynn peak RSS", "PyTorch peak RSS", "page faults / batch (tinynn / PyTorch)",
                        "busy / reruns", "load avg (start → end)"], rows))
    print("\ns/epoch: the measured batches' time scaled to the whole epoch "
          "(measured directly with --full); no warm-up, the first batches included. "
          "Peak RSS includes the 188 MB dataset.\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated, from {', '.join(MODELS)} (default: all)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="fresh-process runs per library and model (default 5; "
                             f"{REPEATS_64} for resnet18-64)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps in (a) (default per model: "
                             + ", ".join(f"{k} {v}" for k, v in STEPS.items()) + ")")
    parser.add_argument("--parts", default="a,b", help="a (step, with c's readings), b (epoch)")
    parser.add_argument("--batches", type=int, default=None,
                        help="batches in (b) (default per model: "
                             + ", ".join(f"{k} {v}" for k, v in BATCHES.items()) + ")")
    parser.add_argument("--full", action="store_true", help="(b) over the whole 60,000 images")
    parser.add_argument("--return-freed", action="store_true",
                        help="add a tinynn variant with TINYNN_KEEP_FREED_MEMORY=0")
    parser.add_argument("--tinynn-python", default=sys.executable)
    parser.add_argument("--torch-python", default=None,
                        help="interpreter with torch (default: this one, if it has torch)")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each run, wait up to SECONDS until no other task is runnable")
    parser.add_argument("--retries", type=int, default=2,
                        help="rerun a run during which other tasks competed for the CPUs, up to "
                             "this many times (default 2); the least disturbed attempt counts")
    parser.add_argument("--verbose", "-v", action="store_true", help="each run's figure on stderr")
    parser.add_argument("--worker", choices=("tinynn", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--part", choices=("step", "epoch"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            parser.error(f"unknown model {m!r}; choose from {', '.join(MODELS)}")

    if args.worker:
        if args.part == "step":
            emit(worker_step(args.worker, models[0], args.steps or STEPS[models[0]], args.return_freed))
        else:
            emit(worker_epoch(args.worker, models[0], None if args.full else
                              (args.batches or BATCHES[models[0]]), args.return_freed))
        return

    torch_python = args.torch_python or sys.executable
    torch_note = f"PyTorch from {torch_python}"
    if not python_has(torch_python, "torch"):
        torch_note = (f"PyTorch is not importable in {torch_python}: tinynn only "
                      "(pass --torch-python PATH to compare)")
        torch_python = None
    print("\n".join(header_lines("tinynn vs PyTorch CPU: training step and epoch")))
    print(f"- tinynn from {args.tinynn_python}; {torch_note}\n")
    parts = {p.strip() for p in args.parts.split(",")}
    if "a" in parts or "c" in parts:
        report_step(args, torch_python, models)
    if "b" in parts:
        report_epoch(args, torch_python, models)
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
