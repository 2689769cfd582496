"""Per-layer forward/backward times of the lecture CNN's conv and pool layers (batch 64).

    python benchmarks/bench_conv_layers.py [--repeat 50] [--batch 64] [--torch]
    python benchmarks/bench_conv_layers.py --resnet [--width 16] [--repeat 15]

``--resnet``: instead, every distinct conv shape of ResNet-18 (28x28 input) with each
input-gradient strategy of ``ops/conv.py`` (col2im, rows, convolution of the output gradient),
Winograd F(2x2, 3x3) (``ops/winograd.py``, 3x3 stride-1 layers) and what conv2d picks by
default ("auto"), then its batch norms and ReLUs, times weighted by how often each shape
occurs in the network.

The lecture CNN: conv1 1->10 k5, max_pool 2, relu, conv2 10->20 k5, max_pool 2, relu,
fc 320->50->10. Each layer is timed on the input it really gets in that network (conv
outputs are batch-last views, pool outputs contiguous), backward with an upstream gradient
in the layout the next layer really sends. Times are the median of ``--repeat`` runs (the
minimum in brackets), in milliseconds. A last line times conv2's backward with each
input-gradient strategy.

PyTorch (``--torch``, from ``--torch-python``, default this interpreter) always runs in
fresh processes that never import tinynn: in one process the two disturb each other.
OpenBLAS's worker threads spin for a while after each of tinynn's GEMMs (PyTorch's 16->16
conv at 28x28 called just after one took 1.6-1.9x longer on the 2-core EPYC), and tinynn's
import sets the allocator to keep freed memory, which PyTorch then enjoys too.

- CNN mode: PyTorch's times of the same layers, called alone again and again.
- ``--resnet``: a last table of each conv shape's forward time *inside training steps*
  (bench_step.py's (a); hooks around every Conv2d; widths 16 and 64), tinynn beside
  PyTorch. Not PyTorch's layers called alone: their times swing 1.2-4.4 ms for the same
  16->16 forward, with whether glibc happens to hand back memory that still has its pages
  (PyTorch's CPU tensors are plain malloc'd memory), while inside a step its calls ran at
  1.4-1.6 ms, as steady as tinynn's (whose in-step total is within 10% of its alone one).

    python benchmarks/bench_conv_layers.py --resnet --torch --torch-python /path/to/venv/bin/python
"""
import argparse
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import REPO, emit, python_has, run_worker  # noqa: E402

sys.path.insert(0, REPO)   # tinynn from this checkout (imported only where it is timed)


def timed(fn, repeat):
    """(median, min) wall time of ``fn()`` in ms over ``repeat`` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return float(numpy.median(times)), min(times)


def layer_times(forward, x, grad, repeat):
    """Forward and backward times of ``forward(x)``; backward re-uses one recorded graph."""
    import tinynn
    out = forward(x)
    fwd = timed(lambda: forward(x), repeat)
    grad_tensor = tinynn.Tensor(grad)
    bwd = timed(lambda: out.backward(grad_tensor, retain_graph=True), repeat)
    return fwd, bwd


def batch_last_like(shape, rng):
    """Random float32 (N, C, H, W) whose memory is (C, H, W, N): what pool backward hands conv."""
    n, c, h, w = shape
    return rng.standard_normal((c, h, w, n), dtype=numpy.float32).transpose(3, 0, 1, 2)


def tinynn_rows(batch, repeat):
    import tinynn
    from tinynn.nn.conv import Conv2d
    from tinynn.ops.pooling import max_pool2d
    rng = numpy.random.default_rng(0)
    tinynn.manual_seed(0)
    conv1, conv2 = Conv2d(1, 10, kernel_size=5), Conv2d(10, 20, kernel_size=5)
    images = tinynn.tensor(rng.random((batch, 1, 28, 28), dtype=numpy.float32))
    with tinynn.no_grad():   # the real inputs of each layer, in their real layouts
        c1 = conv1(images)
        p1 = max_pool2d(c1, 2).relu()
        c2 = conv2(p1)
    layers = [
        ("conv1 1->10 k5", conv1, images, batch_last_like((batch, 10, 24, 24), rng)),
        ("max_pool2d(2) 24->12", lambda t: max_pool2d(t, 2), c1,
         rng.standard_normal((batch, 10, 12, 12), dtype=numpy.float32)),
        ("conv2 10->20 k5", conv2, p1, batch_last_like((batch, 20, 8, 8), rng)),
        ("max_pool2d(2) 8->4", lambda t: max_pool2d(t, 2), c2,
         rng.standard_normal((batch, 20, 4, 4), dtype=numpy.float32)),
    ]
    rows = []
    for name, forward, x, grad in layers:
        x = tinynn.Tensor(x.array, requires_grad=x is not images)
        rows.append((name,) + layer_times(forward, x, grad, repeat))
    return rows


def conv2_strategy_times(batch, repeat):
    """conv2's backward ms (median) with each input-gradient strategy, and auto's pick."""
    import tinynn
    from tinynn.nn.conv import Conv2d
    from tinynn.ops import conv as conv_ops
    rng = numpy.random.default_rng(0)
    conv2 = Conv2d(10, 20, kernel_size=5)
    x = tinynn.Tensor(rng.standard_normal((batch, 10, 12, 12), dtype=numpy.float32),
                      requires_grad=True)
    grad = batch_last_like((batch, 20, 8, 8), rng)
    times = {}
    try:
        for strategy in ("col2im", "rows", "convolution"):
            conv_ops.INPUT_GRAD_STRATEGY = strategy
            times[strategy] = layer_times(conv2, x, grad, repeat)[1][0]
    finally:
        conv_ops.INPUT_GRAD_STRATEGY = "auto"
    picks = conv_ops.input_grad_strategy((1, 1), (4, 4, 4, 4), (1, 20, 250), (5, 5),
                                         (12, 12), (8, 8))
    return times, picks


def torch_rows(batch, repeat):
    import torch
    import torch.nn.functional as TF
    torch.manual_seed(0)
    conv1, conv2 = torch.nn.Conv2d(1, 10, 5), torch.nn.Conv2d(10, 20, 5)
    images = torch.rand(batch, 1, 28, 28)
    layers = [(conv1, images, (batch, 10, 24, 24)),
              (lambda t: TF.max_pool2d(t, 2), torch.randn(batch, 10, 24, 24), (batch, 10, 12, 12)),
              (conv2, torch.randn(batch, 10, 12, 12), (batch, 20, 8, 8)),
              (lambda t: TF.max_pool2d(t, 2), torch.randn(batch, 20, 8, 8), (batch, 20, 4, 4))]
    rows = []
    for forward, x, out_shape in layers:
        x.requires_grad_(x is not images)
        grad = torch.randn(out_shape)
        with torch.no_grad():
            fwd = timed(lambda: forward(x), repeat)
        out = forward(x)
        bwd = timed(lambda: out.backward(grad, retain_graph=True), repeat)
        rows.append((fwd, bwd))
    return rows


def shape_label(cin, cout, k, stride, pad, size):
    """A conv shape's row name in the --resnet tables, e.g. '16->32 k3 s2 p1 28x28'."""
    return f"{cin}->{cout} k{k} s{stride} p{pad} {size}x{size}"


def step_conv_forwards(lib, width):
    """Median forward ms per call of each conv shape inside training steps of ResNet-18-width
    in this process: bench_step.py's (a) (8 fixed batches of 64, SGD with momentum), with a
    hook before and after every Conv2d, over STEP_STEPS steps after its warm-up."""
    from bench_step import N_BATCHES, WARMUP, fixed_batches, setup
    lib_module, model, opt, F = setup(lib, f"resnet18-{width}")
    xs, ys = fixed_batches()
    X = [lib_module.from_numpy(x) for x in xs]
    Y = [lib_module.from_numpy(y) for y in ys]
    times, started = {}, {}

    def before(conv, inputs):
        started[conv] = time.perf_counter()

    def after(conv, inputs, output):
        n, c, h, w = inputs[0].shape
        key = shape_label(c, conv.out_channels, conv.kernel_size[0], conv.stride[0],
                          conv.padding[0], h)
        times.setdefault(key, []).append((time.perf_counter() - started[conv]) * 1e3)

    for module in model.modules():
        if isinstance(module, lib_module.nn.Conv2d):
            module.register_forward_pre_hook(before)
            module.register_forward_hook(after)
    for i in range(WARMUP + STEP_STEPS):
        if i == WARMUP:
            times.clear()
        opt.zero_grad()
        F.cross_entropy(model(X[i % N_BATCHES]), Y[i % N_BATCHES]).backward()
        opt.step()
    return {key: float(numpy.median(t)) for key, t in times.items()}


STEP_STEPS, STEP_RUNS = 8, 3


def step_forward_rows(args):
    """Print each conv shape's forward ms inside training steps, tinynn beside PyTorch, each
    library in STEP_RUNS fresh processes (alternating), medians of the runs."""
    if args.width not in (16, 64):
        print(f"\n(bench_step.py has ResNet-18 at widths 16 and 64 only: no in-step table "
              f"for width {args.width})")
        return
    torch_python = args.torch_python or sys.executable
    if not python_has(torch_python, "torch"):
        print(f"\n(PyTorch is not importable by {torch_python}: no in-step table)")
        return
    runs = {"tinynn": [], "torch": []}
    for run in range(STEP_RUNS):
        for lib in (("tinynn", "torch") if run % 2 == 0 else ("torch", "tinynn")):
            python = sys.executable if lib == "tinynn" else torch_python
            res = run_worker(python, os.path.abspath(__file__),
                             ["--step-worker", lib, "--width", str(args.width)])
            if "error" in res:
                print(f"\n(the {lib} worker failed: {res['error']})")
                return
            runs[lib].append(res["forward_ms"])
    print(f"\nconv forward inside training steps, ms per call (ResNet-18 width {args.width}, "
          f"bench_step.py's (a), hooks around each Conv2d, {STEP_STEPS} steps; median of "
          f"{STEP_RUNS} fresh processes per library)")
    print(f"{'shape':<36}{'x':>3}{'tinynn':>10}{'PyTorch':>10}{'ratio':>8}")
    totals = [0.0, 0.0]
    for cin, cout, k, stride, pad, size, count in resnet_shapes(args.width):
        key = shape_label(cin, cout, k, stride, pad, size)
        mine, theirs = (float(numpy.median([r[key] for r in runs[lib]])) for lib in runs)
        totals[0] += mine * count
        totals[1] += theirs * count
        print(f"{key:<36}{count:>3}{mine:>10.3f}{theirs:>10.3f}{mine / theirs:>8.2f}")
    print(f"{'total (weighted by count)':<39}{totals[0]:>10.2f}{totals[1]:>10.2f}"
          f"{totals[0] / totals[1]:>8.2f}")


def torch_reference(args):
    """PyTorch's rows of the CNN mode, from a fresh process of --torch-python; None (and why,
    printed) when that fails."""
    python = args.torch_python or sys.executable
    if not python_has(python, "torch"):
        print(f"(PyTorch is not importable by {python}: no reference columns)")
        return None
    res = run_worker(python, os.path.abspath(__file__),
                     ["--torch-worker", "--batch", str(args.batch), "--repeat", str(args.repeat)])
    if "error" in res:
        print(f"(the PyTorch worker failed: {res['error']})")
        return None
    return res["rows"]


def resnet_shapes(width):
    """(in, out, kernel, stride, padding, input size, count) of ResNet-18's convolutions."""
    w = width
    return [(1, w, 3, 1, 1, 28, 1), (w, w, 3, 1, 1, 28, 4),
            (w, 2 * w, 3, 2, 1, 28, 1), (w, 2 * w, 1, 2, 0, 28, 1),
            (2 * w, 2 * w, 3, 1, 1, 14, 3),
            (2 * w, 4 * w, 3, 2, 1, 14, 1), (2 * w, 4 * w, 1, 2, 0, 14, 1),
            (4 * w, 4 * w, 3, 1, 1, 7, 3),
            (4 * w, 8 * w, 3, 2, 1, 7, 1), (4 * w, 8 * w, 1, 2, 0, 7, 1),
            (8 * w, 8 * w, 3, 1, 1, 4, 3)]


def resnet_rows(batch, width, repeat):
    """Forward and backward ms of each ResNet-18 conv shape: im2col with each input-gradient
    strategy, Winograd F(2x2, 3x3) where it applies (3x3, stride 1), and what conv2d
    picks by default ("auto")."""
    import tinynn
    from tinynn.nn.conv import Conv2d
    from tinynn.ops import conv as conv_ops, winograd
    rng = numpy.random.default_rng(0)
    # (label, INPUT_GRAD_STRATEGY, WINOGRAD) of each timed variant
    variants = (("col2im", "col2im", "never"), ("rows", "rows", "never"),
                ("convolution", "convolution", "never"),
                ("winograd", "auto", "always"), ("auto", "auto", "auto"))
    print(f"{'ResNet-18 width %d conv (batch %d)' % (width, batch):<36}{'x':>3}"
          + "".join(f"{'fwd/bwd ' + v[0]:>22}" for v in variants) + "   auto picks")
    totals = [0.0] * (2 * len(variants))
    for cin, cout, k, stride, pad, size, count in resnet_shapes(width):
        conv = Conv2d(cin, cout, k, stride=stride, padding=pad, bias=False)
        x = tinynn.Tensor(batch_last_like((batch, cin, size, size), rng), requires_grad=cin > 1)
        grad = batch_last_like(tuple(conv(x).shape), rng)
        times = []
        for _, strategy, mode in variants:
            conv_ops.INPUT_GRAD_STRATEGY, winograd.WINOGRAD = strategy, mode
            if mode == "always" and not (k == 3 and stride == 1):
                times += [float("nan")] * 2                   # Winograd does not apply
                continue
            fwd, bwd = layer_times(conv, x, grad, repeat)
            times += [fwd[0], bwd[0]]
        conv_ops.INPUT_GRAD_STRATEGY, winograd.WINOGRAD = "auto", "auto"
        out = conv(x)                                         # what conv2d picks by default
        picks = type(out.grad_fn).__name__ if cin > 1 else "(no input grad)"
        if picks == "Conv2d":
            picks = conv_ops.input_grad_strategy(
                (stride, stride), (k - 1 - pad,) * 4, (1, cout, cin * k * k), (k, k),
                (size, size), tuple(out.shape[2:]))
        for i, t in enumerate(times):
            totals[i] += 0.0 if t != t else t * count         # nan: not applicable
        name = shape_label(cin, cout, k, stride, pad, size)
        print(f"{name:<36}{count:>3}" + "".join(f"{times[i]:>11.3f}{times[i + 1]:>11.3f}"
                                                 for i in range(0, len(times), 2))
              + f"   {picks}")
    print(f"{'total (weighted by count)':<39}" + "".join(
        f"{totals[i]:>11.2f}{totals[i + 1]:>11.2f}" for i in range(0, len(totals), 2))
          + "\n(winograd totals leave out the layers it does not apply to)")


def resnet_norm_rows(batch, width, repeat):
    """Forward and backward ms of ResNet-18's batch norms and ReLUs on batch-last input
    (what the convolutions hand them), weighted by how often each size occurs."""
    import tinynn
    from tinynn.ops.batchnorm import batch_norm
    rng = numpy.random.default_rng(0)
    w = width
    # (channels, size, batch norms, relus) in ResNet-18 at 28x28 input
    sizes = [(w, 28, 9, 9), (2 * w, 14, 5, 4), (4 * w, 7, 5, 4), (8 * w, 4, 5, 4)]
    print(f"\n{'batch norm / relu (batch %d)' % batch:<28}{'bn fwd':>9}{'bn bwd':>9}"
          f"{'relu fwd':>10}{'relu bwd':>10}   (counts bn, relu)")
    totals = [0.0] * 4
    for c, size, n_bn, n_relu in sizes:
        x = tinynn.Tensor(batch_last_like((batch, c, size, size), rng), requires_grad=True)
        grad = batch_last_like((batch, c, size, size), rng)
        weight, bias = tinynn.ones(c, requires_grad=True), tinynn.zeros(c, requires_grad=True)
        mean, var = tinynn.zeros(c), tinynn.ones(c)
        bn = layer_times(lambda t: batch_norm(t, mean, var, weight, bias, True), x, grad, repeat)
        relu = layer_times(tinynn.relu, x, grad, repeat)
        row = [bn[0][0], bn[1][0], relu[0][0], relu[1][0]]
        for i, (t, count) in enumerate(zip(row, (n_bn, n_bn, n_relu, n_relu))):
            totals[i] += t * count
        print(f"{'%d ch %dx%d' % (c, size, size):<28}" + "".join(f"{t:>9.3f}" for t in row[:2])
              + "".join(f"{t:>10.3f}" for t in row[2:]) + f"   ({n_bn}, {n_relu})")
    print(f"{'total (weighted by count)':<28}" + "".join(f"{t:>9.2f}" for t in totals[:2])
          + "".join(f"{t:>10.2f}" for t in totals[2:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--torch", action="store_true", help="also time PyTorch (if installed)")
    parser.add_argument("--resnet", action="store_true",
                        help="ResNet-18's conv shapes, per input-gradient strategy")
    parser.add_argument("--width", type=int, default=16, help="ResNet width (with --resnet)")
    parser.add_argument("--torch-python", help="the interpreter that runs PyTorch for --torch "
                        "(default: this one)")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--step-worker", choices=("tinynn", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    # workers: fresh processes that each time one library only (see the docstring)
    if args.torch_worker:
        emit({"rows": torch_rows(args.batch, args.repeat)})
        return
    if args.step_worker:
        emit({"forward_ms": step_conv_forwards(args.step_worker, args.width)})
        return
    if args.resnet:
        resnet_rows(args.batch, args.width, args.repeat)
        resnet_norm_rows(args.batch, args.width, args.repeat)
        if args.torch:
            step_forward_rows(args)
        return
    reference = torch_reference(args) if args.torch else None
    rows = tinynn_rows(args.batch, args.repeat)
    header = f"{'layer (batch %d)' % args.batch:<24}{'forward ms':>18}{'backward ms':>18}"
    if reference:
        header += f"{'torch fwd':>12}{'torch bwd':>12}"
    print(header)
    print("-" * len(header))
    totals = [0.0, 0.0, 0.0, 0.0]
    for k, (name, (f_med, f_min), (b_med, b_min)) in enumerate(rows):
        line = f"{name:<24}{f_med:>10.3f} [{f_min:.3f}]{b_med:>10.3f} [{b_min:.3f}]"
        totals[0] += f_med
        totals[1] += b_med
        if reference:
            (tf, _), (tb, _) = reference[k]
            line += f"{tf:>12.3f}{tb:>12.3f}"
            totals[2] += tf
            totals[3] += tb
        print(line)
    line = f"{'total':<24}{totals[0]:>10.3f}{'':8}{totals[1]:>10.3f}{'':8}"
    if reference:
        line += f"{totals[2]:>12.3f}{totals[3]:>12.3f}"
    print(line)
    times, picks = conv2_strategy_times(args.batch, args.repeat)
    print("\nconv2 backward ms by input-gradient strategy: "
          + ", ".join(f"{name} {t:.3f}" for name, t in times.items()) + f" (auto picks {picks})")


if __name__ == "__main__":
    main()
