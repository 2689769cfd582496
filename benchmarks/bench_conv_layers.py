"""Per-layer forward/backward times of the lecture CNN's conv and pool layers (batch 64).

    python benchmarks/bench_conv_layers.py [--repeat 50] [--batch 64] [--torch]

The lecture CNN: conv1 1->10 k5, max_pool 2, relu, conv2 10->20 k5, max_pool 2, relu,
fc 320->50->10. Each layer is timed on the input it really gets in that network (conv
outputs are batch-last views, pool outputs contiguous), backward with an upstream gradient
in the layout the next layer really sends. Times are the median of ``--repeat`` runs (the
minimum in brackets), in milliseconds. ``--torch`` adds PyTorch's times when it is installed.
"""
import argparse
import os
import sys
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinynn  # noqa: E402
from tinynn.nn.conv import Conv2d  # noqa: E402
from tinynn.ops.pooling import max_pool2d  # noqa: E402


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--torch", action="store_true", help="also time PyTorch (if installed)")
    args = parser.parse_args()
    rows = tinynn_rows(args.batch, args.repeat)
    reference = None
    if args.torch:
        try:
            reference = torch_rows(args.batch, args.repeat)
        except ImportError:
            print("(PyTorch is not installed: no reference column)")
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


if __name__ == "__main__":
    main()
