"""Where a tinynn training step spends its time: per op (forward and backward), the
autograd engine, Function.apply's bookkeeping, the optimizer, page faults, and Python's
cost per op on a tiny tensor.

The step is bench_step.py's (a): 8 fixed batches of 64, SGD with momentum 0.9,
cross-entropy, 3 warm-up steps. Then:

1. the unprofiled step, phase by phase (zero_grad, forward + loss, backward, optimizer
   step) with minor page faults per phase;
2. the same steps with this script's per-op profiler: ``Function.apply`` and every
   Function class's ``forward`` and ``backward`` are wrapped (monkeypatched here only)
   to add up time per class. "apply bookkeeping" is apply's time outside forward (device
   check, Tensor wrapping, graph recording); "forward outside ops" is the forward phase
   minus all apply time (Module.__call__, F.* wrappers, hooks); "backward engine" is the
   backward phase minus every Function.backward (topological sort, gradient summing and
   routing, leaf accumulation);
3. cProfile's top functions by own time (tottime) over the same number of steps;
4. microbenchmarks: Python's cost per op on 1-element tensors, and what a page fault
   costs on this machine.

    python benchmarks/profile_step.py --model cnn
    python benchmarks/profile_step.py --model resnet18-16 --steps 8 --by-shape
    TINYNN_KEEP_FREED_MEMORY=0 python benchmarks/profile_step.py --model cnn  # glibc's defaults
"""
import argparse
import cProfile
import collections
import io
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import header_lines, load_average as _load_average, minor_faults, peak_rss_mb, table  # noqa: E402
from _harness import wait_until_idle  # noqa: E402

WAIT_IDLE = [0]    # --wait-idle seconds: each section first waits until nothing else is runnable


def load_average():
    """The load averages, and the runnable tasks other than this process (after waiting for
    an idle machine with --wait-idle)."""
    others = wait_until_idle(0.5, WAIT_IDLE[0]) if WAIT_IDLE[0] else None
    text = _load_average()
    return text if others is None else f"{text}, others runnable {others:.1f}"
from bench_step import BATCH, LABELS, MODELS, N_BATCHES, WARMUP, fixed_batches, tinynn_setup  # noqa: E402

# conv_kernels functions that touch array data (the others compute sizes)
ARRAY_KERNELS = {"padded", "crop", "window_view", "im2col", "col2im", "same_layout", "max_over_windows",
                 "route_to_argmax", "argmax_to_flat_index", "sum_over_windows", "spread_over_windows"}
PHASES = ("zero_grad", "forward + loss", "backward", "optimizer.step")


# ------------------------------------------------------------------ the step, by phase

def make_step(model, opt, F, X, Y):
    def step(i, clock):
        """One training step; ``clock(phase)`` is called after each phase."""
        opt.zero_grad()
        clock(0)
        loss = F.cross_entropy(model(X[i % N_BATCHES]), Y[i % N_BATCHES])
        clock(1)
        loss.backward()
        clock(2)
        opt.step()
        clock(3)
    return step


def run_phased(step, first, steps):
    """Seconds and minor faults per phase, summed over ``steps`` steps; the total seconds."""
    seconds, faults = [0.0] * 4, [0] * 4
    mark = [time.perf_counter(), minor_faults()]

    def clock(phase):
        now, flt = time.perf_counter(), minor_faults()
        seconds[phase] += now - mark[0]
        faults[phase] += flt - mark[1]
        mark[0], mark[1] = time.perf_counter(), minor_faults()

    start = time.perf_counter()
    for i in range(first, first + steps):
        mark[0], mark[1] = time.perf_counter(), minor_faults()
        step(i, clock)
    return seconds, faults, time.perf_counter() - start


# ------------------------------------------------------------------ the per-op profiler

class OpProfiler:
    """Wraps Function.apply and every Function subclass's forward/backward; adds up time."""

    def __init__(self, Function, by_shape=False):
        self.Function, self.by_shape = Function, by_shape
        self.time = collections.defaultdict(float)    # (key, kind) -> seconds
        self.calls = collections.defaultdict(int)
        self.kernel_time = collections.defaultdict(float)     # (kernel, phase) -> seconds
        self.kernel_calls = collections.defaultdict(int)
        self.depth = {"apply": 0, "forward": 0, "backward": 0}
        self.patched = []

    def classes(self):
        seen, stack = [], [self.Function]
        while stack:
            for sub in stack.pop().__subclasses__():
                if sub not in seen:
                    seen.append(sub)
                    stack.append(sub)
        return seen

    def key(self, name, inputs=()):
        """The row an op is filed under: its class name, plus (with --by-shape) the shape
        of its first input that is not None."""
        if self.by_shape:
            shape = next((getattr(a, "shape", None) for a in inputs if a is not None), None)
            if shape is not None:
                name += f" {tuple(shape)}"
        return name

    def _timed(self, kind, orig, keyfn):
        prof = self

        def wrapper(*args, **kwargs):
            if prof.depth[kind]:
                return orig(*args, **kwargs)
            prof.depth[kind] += 1
            t = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t
                prof.depth[kind] -= 1
                k = keyfn(args)
                prof.time[k, kind] += dt
                prof.calls[k, kind] += 1
        return wrapper

    def install(self):
        F = self.Function
        orig_apply = F.__dict__["apply"]
        self.patched.append((F, "apply", orig_apply))
        setattr(F, "apply", classmethod(self._timed(
            "apply", orig_apply.__func__, lambda a: self.key(a[0].__name__, a[1:]))))

        def fwd_key(args):
            fn = args[0]
            k = self.key(type(fn).__name__, args[1:])
            if self.by_shape:
                fn._profile_key = k          # so backward is filed under the same shape
            return k

        def bwd_key(args):
            return getattr(args[0], "_profile_key", None) or type(args[0]).__name__

        for cls in self.classes():
            for attr, keyfn in (("forward", fwd_key), ("backward", bwd_key)):
                if attr in cls.__dict__:
                    orig = cls.__dict__[attr]
                    self.patched.append((cls, attr, orig))
                    setattr(cls, attr, self._timed(attr, orig, keyfn))

        self.install_kernels()
        # Leaf gradients: backward's engine hands each parameter its gradient here.
        from tinynn.tensor import Tensor
        orig = Tensor.__dict__["_accumulate_grad"]
        self.patched.append((Tensor, "_accumulate_grad", orig))
        setattr(Tensor, "_accumulate_grad", self._timed_kernel("Tensor._accumulate_grad", orig, "backward"))
        # Releasing each node's saved arrays after its backward (munmap of large buffers).
        for cls in [self.Function.__mro__[1]] + self.classes():
            if "_free" in cls.__dict__:
                orig = cls.__dict__["_free"]
                self.patched.append((cls, "_free", orig))
                setattr(cls, "_free", self._timed_kernel("Node._free", orig, "backward"))

    def install_kernels(self):
        """Time the array kernels (im2col, col2im, padding, pooling windows...) where the op
        modules call them, per phase: "conv.im2col (forward)"."""
        import importlib
        kernels = importlib.import_module("tinynn.ops.conv_kernels")
        names = {n for n in getattr(kernels, "__all__", ()) if n in ARRAY_KERNELS
                 and getattr(getattr(kernels, n, None), "__module__", "") == kernels.__name__}
        for modname in ("conv", "conv_transpose", "pooling"):
            try:
                module = importlib.import_module(f"tinynn.ops.{modname}")
            except ImportError:
                continue
            for n in names:
                orig = module.__dict__.get(n)
                if orig is None or orig is not getattr(kernels, n):
                    continue
                self.patched.append((module, n, orig))
                setattr(module, n, self._timed_kernel(f"{modname}.{n}", orig))

    def _timed_kernel(self, name, orig, phase=None):
        prof = self

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                ph = phase or ("backward" if prof.depth["backward"] else "forward")
                prof.kernel_time[name, ph] += time.perf_counter() - t
                prof.kernel_calls[name, ph] += 1
        return wrapper

    def uninstall(self):
        for cls, attr, orig in reversed(self.patched):
            setattr(cls, attr, orig)
        self.patched.clear()

    def reset(self):
        for d in (self.time, self.calls, self.kernel_time, self.kernel_calls):
            d.clear()


def op_table(prof, phase_s, steps, step_s):
    """Rows: op, forward ms, apply bookkeeping ms, backward ms, calls, share — per step."""
    keys = sorted({k for k, _ in prof.time}, key=lambda k: -(prof.time[k, "forward"] + prof.time[k, "backward"]
                                                              + prof.time[k, "apply"]))
    ms = 1000 / steps
    rows, sums = [], collections.Counter()
    for k in keys:
        fwd, bwd = prof.time[k, "forward"], prof.time[k, "backward"]
        apply_extra = max(prof.time[k, "apply"] - fwd, 0.0) if prof.calls[k, "apply"] else 0.0
        if not (fwd or bwd):
            continue
        sums.update(forward=fwd, backward=bwd, apply=prof.time[k, "apply"], extra=apply_extra)
        calls = prof.calls[k, "forward"] or prof.calls[k, "backward"]
        rows.append([k, f"{fwd * ms:.2f}", f"{apply_extra * ms:.2f}", f"{bwd * ms:.2f}",
                     f"{calls / steps:.0f}", f"{100 * (fwd + bwd + apply_extra) / step_s:.1f}%"])
    zero, forward, backward, optim = phase_s
    outside = forward - sums["apply"]
    leaf = prof.kernel_time.get(("Tensor._accumulate_grad", "backward"), 0.0)
    free = prof.kernel_time.get(("Node._free", "backward"), 0.0)
    engine = backward - sums["backward"] - leaf - free
    extra = [["**all ops (sum of the rows above)**", f"{sums['forward'] * ms:.2f}", f"{sums['extra'] * ms:.2f}",
              f"{sums['backward'] * ms:.2f}", "",
              f"{100 * (sums['forward'] + sums['extra'] + sums['backward']) / step_s:.1f}%"],
             ["forward outside ops (Module.__call__, F.*, Python)", f"{outside * ms:.2f}", "", "", "",
              f"{100 * outside / step_s:.1f}%"],
             ["backward engine (run_backward minus Function.backward, leaf .grad, Node._free)", "", "",
              f"{engine * ms:.2f}", "", f"{100 * engine / step_s:.1f}%"],
             ["releasing saved arrays after each backward (Node._free)", "", "",
              f"{free * ms:.2f}", "", f"{100 * free / step_s:.1f}%"],
             ["leaf .grad accumulation (Tensor._accumulate_grad: a copy on first use)", "", "",
              f"{leaf * ms:.2f}", "", f"{100 * leaf / step_s:.1f}%"],
             ["optimizer.step", f"{optim * ms:.2f}", "", "", "", f"{100 * optim / step_s:.1f}%"],
             ["optimizer.zero_grad", f"{zero * ms:.2f}", "", "", "", f"{100 * zero / step_s:.1f}%"],
             ["**whole step (profiled)**", f"{forward * ms:.2f} (fwd phase)", "",
              f"{backward * ms:.2f} (bwd phase)", "", f"{step_s * ms:.2f} ms"]]
    return rows + extra


def kernel_table(prof, steps, step_s):
    ms = 1000 / steps
    keys = sorted(prof.kernel_time, key=lambda k: -prof.kernel_time[k])
    return [[f"{name} ({phase})", f"{prof.kernel_time[name, phase] * ms:.2f}",
             f"{prof.kernel_calls[name, phase] / steps:.0f}",
             f"{100 * prof.kernel_time[name, phase] / step_s:.1f}%"] for name, phase in keys]


def conv_split(prof, steps):
    """Conv2d's time split into its copies (padding, im2col / col2im, crop) and the rest
    (the GEMMs, bias, and any layout copy of the gradient)."""
    ms = 1000 / steps
    conv_f = sum(v for (k, kind), v in prof.time.items() if kind == "forward" and k.split()[0] == "Conv2d")
    conv_b = sum(v for (k, kind), v in prof.time.items() if kind == "backward" and k.split()[0] == "Conv2d")
    if not (conv_f or conv_b):
        return None
    kf = {n: v for (n, ph), v in prof.kernel_time.items() if n.startswith("conv.") and ph == "forward"}
    kb = {n: v for (n, ph), v in prof.kernel_time.items() if n.startswith("conv.") and ph == "backward"}
    rows = [[f"forward: {n}", f"{v * ms:.2f}"] for n, v in sorted(kf.items(), key=lambda x: -x[1])]
    rows.append(["forward: GEMM + bias + the rest", f"{(conv_f - sum(kf.values())) * ms:.2f}"])
    rows += [[f"backward: {n}", f"{v * ms:.2f}"] for n, v in sorted(kb.items(), key=lambda x: -x[1])]
    rows.append(["backward: 2 GEMMs + bias grad + grad layout + the rest",
                 f"{(conv_b - sum(kb.values())) * ms:.2f}"])
    rows.append(["**Conv2d total**", f"{(conv_f + conv_b) * ms:.2f}"])
    return rows


# ------------------------------------------------------------------ microbenchmarks

def per_call_us(fn, n):
    for _ in range(min(n, 100)):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def micro_overheads(tinynn, Function, n=20000):
    """Python's cost per op, in microseconds, on 1-element float32 tensors."""
    import numpy as np

    class Identity(Function):
        def forward(self, x):
            return x

        def backward(self, grad):
            return grad

    a_np, b_np = np.ones(1, np.float32), np.ones(1, np.float32)
    a, b = tinynn.tensor(a_np), tinynn.tensor(b_np)
    ag = tinynn.tensor(a_np, requires_grad=True)
    bg = tinynn.tensor(b_np, requires_grad=True)
    rows = [["numpy: a + b on 1-element arrays", per_call_us(lambda: a_np + b_np, n)],
            ["Identity.apply(x), x needs no grad (forward returns x)", per_call_us(lambda: Identity.apply(a), n)],
            ["Identity.apply(x), x requires grad (graph recorded)", per_call_us(lambda: Identity.apply(ag), n)],
            ["tinynn a + b, no grad", per_call_us(lambda: a + b, n)],
            ["tinynn a + b, requires grad", per_call_us(lambda: ag + bg, n)],
            ["tinynn a * b, requires grad", per_call_us(lambda: ag * bg, n)],
            ["tinynn relu(a), requires grad", per_call_us(lambda: tinynn.relu(ag), n)]]
    with tinynn.no_grad():
        rows.append(["tinynn a + b under no_grad", per_call_us(lambda: ag + bg, n)])

    # Backward per node: build a chain of ``depth`` nodes (not timed), time its backward.
    depth, reps = 500, 30
    seed = tinynn.tensor(np.ones(1, np.float32))

    def backward_us(link):
        total = 0.0
        for r in range(reps + 3):
            ag.grad = bg.grad = None
            y = ag
            for _ in range(depth):
                y = link(y)
            t = time.perf_counter()
            y.backward(seed)
            if r >= 3:
                total += time.perf_counter() - t
        return total / reps / depth * 1e6

    rows.append(["backward per node: chain of 500 Identity nodes (engine + a trivial backward)",
                 backward_us(Identity.apply)])
    rows.append(["backward per node: chain of 500 y + b (Add's backward, b's grad summed 500 times)",
                 backward_us(lambda y: y + bg)])
    return rows


TORCH_MICRO = """
import time, torch
a, b = torch.ones(1), torch.ones(1)
ag, bg = torch.ones(1, requires_grad=True), torch.ones(1, requires_grad=True)
def us(fn, n=20000):
    for _ in range(100): fn()
    t = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - t) / n * 1e6
print('PyTorch a + b, no grad', us(lambda: a + b))
print('PyTorch a + b, requires grad', us(lambda: ag + bg))
print('PyTorch relu(a), requires grad', us(lambda: torch.relu(ag)))
total = 0.0
for r in range(33):
    y = ag
    for _ in range(500): y = y + bg
    t = time.perf_counter(); y.backward(); dt = time.perf_counter() - t
    if r >= 3: total += dt
print('PyTorch backward per node: chain of 500 y + b', total / 30 / 500 * 1e6)
"""


def torch_micro(python):
    """The same microbenchmarks in PyTorch (a fresh process of ``python``), for reference."""
    import subprocess
    try:
        out = subprocess.run([python, "-c", TORCH_MICRO], capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        return [[f"PyTorch: could not run {python}: {e}", "n/a"]]
    rows = []
    for line in out.stdout.splitlines():
        name, _, value = line.rpartition(" ")
        rows.append([name, f"{float(value):.2f}"])
    return rows or [[f"PyTorch: {python} failed: {out.stderr.strip()[-200:]}", "n/a"]]


def thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            text = f.read()
        return text[text.index("[") + 1:text.index("]")]
    except (OSError, ValueError):
        return "unknown"


def page_fault_cost():
    """ms per MB to write fresh (never touched) memory beyond rewriting it, and to free it:
    one 64 MB array (huge pages where numpy's madvise gets them) and 16 arrays of 1 MB
    (4 KB pages)."""
    import numpy as np
    out = []
    for count, mb in ((1, 64), (16, 1)):
        n = mb * 2**20 // 4
        arrays = [np.empty(n, np.float32) for _ in range(count)]
        f0, t = minor_faults(), time.perf_counter()
        for a in arrays:
            a.fill(1.0)
        first, faults = time.perf_counter() - t, minor_faults() - f0
        t = time.perf_counter()
        for a in arrays:
            a.fill(2.0)
        second = time.perf_counter() - t
        t = time.perf_counter()
        del a, arrays            # munmap (glibc returns blocks this large to the OS)
        release = time.perf_counter() - t
        out.append((f"{count} x {mb} MB", faults, 1000 * (first - second) / (count * mb),
                    1000 * second / (count * mb), 1000 * release / (count * mb)))
    return out


# ------------------------------------------------------------------ main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn", choices=MODELS)
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per measurement (default: mlp 100, cnn 40, resnet18-16 8, resnet18-64 3)")
    parser.add_argument("--top", type=int, default=20, help="cProfile rows")
    parser.add_argument("--by-shape", action="store_true", help="one row per op and input shape")
    parser.add_argument("--no-micro", action="store_true", help="skip the per-op microbenchmarks")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="before each section, wait up to SECONDS until no other task is runnable")
    parser.add_argument("--torch-python", default=None,
                        help="an interpreter with torch: adds PyTorch's cost per op for reference")
    args = parser.parse_args(argv)
    WAIT_IDLE[0] = args.wait_idle
    steps = args.steps or {"mlp": 100, "cnn": 40, "resnet18-16": 8, "resnet18-64": 3}[args.model]

    # Measured first, while glibc's heap is fresh: later, freed step buffers are reused.
    fault_costs = None if args.no_micro else page_fault_cost()
    xs, ys = fixed_batches()
    tinynn, model, opt, F = tinynn_setup(args.model)
    from tinynn.autograd import Function
    X, Y = [tinynn.from_numpy(x) for x in xs], [tinynn.from_numpy(y) for y in ys]
    step = make_step(model, opt, F, X, Y)
    noclock = (lambda phase: None)
    for i in range(WARMUP):
        step(i, noclock)

    print("\n".join(header_lines(f"tinynn step profile: {LABELS[args.model]}, batch {BATCH}")))

    # 1. unprofiled phases
    load0 = load_average()
    plain_s, plain_faults, plain_total = run_phased(step, WARMUP, steps)
    print(f"## Unprofiled step, by phase ({steps} steps; load avg {load0})\n")
    rows = [[name, f"{1000 * s / steps:.2f}", f"{100 * s / plain_total:.1f}%", f"{f / steps:,.0f}"]
            for name, s, f in zip(PHASES, plain_s, plain_faults)]
    rows.append(["**step**", f"{1000 * plain_total / steps:.2f}", "100%", f"{sum(plain_faults) / steps:,.0f}"])
    print(table(["phase", "ms / step", "share", "minor page faults / step"], rows))
    print(f"\n{BATCH * steps / plain_total:,.0f} images/s; peak RSS so far {peak_rss_mb():.0f} MB; "
          f"transparent huge pages: {thp_mode()} (numpy asks for huge pages on arrays of 4 MB and "
          "more, so one fault there brings in 2 MB, elsewhere 4 KB)\n")

    # 2. per-op profile
    prof = OpProfiler(Function, by_shape=args.by_shape)
    prof.install()
    try:
        for i in range(2):          # let the wrappers warm up
            step(i, noclock)
        prof.reset()
        load1 = load_average()
        prof_s, _, prof_total = run_phased(step, WARMUP, steps)
    finally:
        prof.uninstall()
    print(f"## Per-op profile, ms per step ({steps} steps; load avg {load1}; "
          f"profiled step {1000 * prof_total / steps:.2f} ms vs {1000 * plain_total / steps:.2f} unprofiled)\n")
    print(table(["op", "forward ms", "apply bookkeeping ms", "backward ms", "calls / step", "share of step"],
                op_table(prof, prof_s, steps, prof_total)))
    print("\nforward ms: time inside the op's forward(); apply bookkeeping: Function.apply's time "
          "outside forward (device check, Tensor creation, graph edges); backward ms: time inside "
          "the op's backward(); shares are of the profiled step. The wrappers themselves add "
          "about 1 µs per call to the rows outside ops.\n")
    if prof.kernel_time:
        print("Array kernels (conv_kernels functions, timed where conv.py, conv_transpose.py and "
              "pooling.py call them, so included in the op rows above; and the engine's leaf "
              "gradient accumulation and release of saved arrays):\n")
        print(table(["kernel (phase)", "ms / step", "calls / step", "share of step"],
                    kernel_table(prof, steps, prof_total)))
        split = conv_split(prof, steps)
        if split:
            print("\nConv2d, split (ms per step):\n")
            print(table(["part", "ms / step"], split))
        print()

    # 3. cProfile
    pr = cProfile.Profile()
    load2 = load_average()
    pr.enable()
    run_phased(step, WARMUP, steps)
    pr.disable()
    out = io.StringIO()
    stats = pstats.Stats(pr, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    text = out.getvalue()
    body = text[text.find("ncalls"):] if "ncalls" in text else text
    print(f"## cProfile, top {args.top} by tottime ({steps} steps; load avg {load2}; cProfile slows "
          f"Python-heavy code, so read shares, not absolute times)\n")
    print("```\n" + body.rstrip() + "\n```\n")

    # 4. microbenchmarks
    if not args.no_micro:
        rows = [[name, f"{us:.2f}"] for name, us in micro_overheads(tinynn, Function)]
        if args.torch_python:
            rows += torch_micro(args.torch_python)
        print(f"## Python cost per op on 1-element float32 tensors (load avg {load_average()})\n")
        print(table(["operation", "µs per call"], rows))
        print("\nWhat touching fresh memory costs in a fresh process (first fill minus a second fill "
              "of the same arrays; measured before the model was built):\n")
        print(table(["fresh arrays", "minor faults", "fault cost, ms per MB", "rewrite, ms per MB",
                     "free (munmap), ms per MB"],
                    [[n, f"{f:,}", f"{c:.3f}", f"{w:.3f}", f"{r:.3f}"] for n, f, c, w, r in fault_costs]))
        print()
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
