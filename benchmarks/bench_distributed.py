"""Data-parallel training step: 1 process with 2 BLAS threads vs 2 MPI ranks with 1 each.

The same global batch (MNIST-shaped, pre-batched random tensors: timing does not depend
on pixel values) is trained either by one process, or by ``mpiexec -n 2`` ranks with
DistributedDataParallel, each on half of it. Every measurement is a fresh process (or a
fresh mpiexec), and the two set-ups alternate so that a noisy machine's slow phases hit
both; the table shows medians over the repeats of the per-step median.

Per DDP run the table also gives the communication: the bytes each rank hands to the
gradient allreduce per step; the seconds per step a rank waited for the buckets (the part
not hidden behind backward) and for every collective (buckets, SyncBatchNorm's statistics,
buffer broadcasts); the copies into and out of the buckets; and the share of the step that
the waits and copies make ("comm share"). On one machine the waits include the time one
rank waits for the other to catch up. ``--sync-bn`` runs ResNet with SyncBatchNorm (the one-process result);
without it each rank normalises its own half (PyTorch's default with DDP).

    python benchmarks/bench_distributed.py [--models cnn resnet18] [--batch 64]
                                           [--steps 20] [--repeats 3] [--sync-bn]
                                           [--bucket-cap-mb 25]

Needs the mpi extra (pip install 'tinynn[mpi]').
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "BENCH-DISTRIBUTED "
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------- worker

def worker(args):
    """One measurement: warm-up steps, then timed steps; rank 0 prints one JSON line."""
    sys.path.insert(0, ROOT)
    import numpy as np
    import tinynn
    import tinynn.nn.functional as F
    from tinynn import optim
    from tinynn.models import CNN, resnet18

    rank, size, ddp = 0, 1, None
    if args.ddp:
        import tinynn.distributed as dist
        from tinynn.nn.parallel import DistributedDataParallel
        from tinynn.nn.sync_batchnorm import SyncBatchNorm
        dist.init_process_group("mpi")
        rank, size = dist.get_rank(), dist.get_world_size()
    tinynn.manual_seed(0)
    model = CNN() if args.model == "cnn" else resnet18(width=16)
    if args.ddp:
        if args.sync_bn:
            model = SyncBatchNorm.convert_sync_batchnorm(model)
        model = ddp = DistributedDataParallel(model, bucket_cap_mb=args.bucket_cap_mb)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(rank)
    per_rank = args.batch // size
    x = tinynn.tensor(rng.standard_normal((per_rank, 1, 28, 28), dtype=np.float32))
    y = tinynn.tensor(rng.integers(0, 10, per_rank))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    if ddp is not None:
        world = dist._require_world()
        dist.barrier()
        before = dict(ddp.reducer.stats, all_waits=world.seconds_waiting)
    times = []
    start = time.perf_counter()
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    result = {"step": statistics.median(times), "mean_step": total / args.steps}
    if ddp is not None:
        after = dict(ddp.reducer.stats, all_waits=world.seconds_waiting)
        stats = {k: (v - before[k]) / args.steps for k, v in after.items()}
        result.update(wait=stats["wait_seconds"], copy=stats["copy_seconds"],
                      all_waits=stats["all_waits"], bytes=stats["bytes_reduced"],
                      buckets=stats["buckets_reduced"])
        everyone = world.allgather_object(result)
        # The ranks move in lockstep; report the slowest rank's step and the mean wait.
        result = {"step": max(r["step"] for r in everyone),
                  "mean_step": max(r["mean_step"] for r in everyone),
                  "wait": statistics.mean(r["wait"] for r in everyone),
                  "all_waits": statistics.mean(r["all_waits"] for r in everyone),
                  "copy": statistics.mean(r["copy"] for r in everyone),
                  "bytes": result["bytes"], "buckets": result["buckets"]}
        dist.destroy_process_group()
    if rank == 0:
        print(TAG + json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- driver

def run(args, model, ddp):
    """A fresh process (or mpiexec) for one measurement; its JSON result."""
    threads = "1" if ddp else "2"
    env = dict(os.environ, **{name: threads for name in THREAD_VARIABLES})
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--model", model,
               "--batch", str(args.batch), "--steps", str(args.steps),
               "--warmup", str(args.warmup)]
    if ddp:
        command = [args.mpiexec, "-n", "2"] + command + ["--ddp"]
        command += ["--bucket-cap-mb", str(args.bucket_cap_mb)]
        if args.sync_bn:
            command.append("--sync-bn")
    out = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT,
                         timeout=1800)
    lines = [line for line in out.stdout.splitlines() if line.startswith(TAG)]
    if out.returncode != 0 or not lines:
        sys.exit(f"{' '.join(command)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(lines[-1][len(TAG):])


def machine():
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        text = ""
    fields = dict((k.strip(), v.strip()) for k, _, v in
                  (line.partition(":") for line in text.splitlines()))
    flags = fields.get("Flags", "").split()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"CPU: {fields.get('Model name', 'unknown')}, {os.cpu_count()} CPUs, AVX-512: "
            f"{'yes' if 'avx512f' in flags else 'no'}; load average before: {load}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "resnet18"],
                        choices=["cnn", "resnet18"])
    parser.add_argument("--batch", type=int, default=64, help="global batch (split across ranks)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm in the DDP runs")
    parser.add_argument("--bucket-cap-mb", type=float, default=25, help="DDP bucket size (MiB)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ddp", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--mpiexec", default=None, help="mpiexec to use (default: beside python)")
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    args.mpiexec = args.mpiexec or (beside if os.path.exists(beside) else shutil.which("mpiexec"))
    if args.mpiexec is None:
        sys.exit("no mpiexec found: pip install 'tinynn[mpi]'")
    print(machine())
    print(f"global batch {args.batch}; {args.steps} timed steps after {args.warmup} warm-up; "
          f"{args.repeats} alternating repeats; medians"
          + ("; ResNet with SyncBatchNorm" if args.sync_bn else ""))
    names = {"cnn": "lecture CNN", "resnet18": "ResNet-18 w16"}
    print("\n| model | 1 proc x 2 threads | 2 ranks x 1 thread | speed-up | epoch (60k) 1 proc "
          "| epoch 2 ranks | gradient allreduce bytes/step/rank | bucket wait/step "
          "| all collective waits/step | bucket copies/step | comm share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for model in args.models:
        single, double = [], []
        for _ in range(args.repeats):
            single.append(run(args, model, ddp=False))
            double.append(run(args, model, ddp=True))
        one = statistics.median(r["step"] for r in single)
        two = statistics.median(r["step"] for r in double)
        wait = statistics.median(r["wait"] for r in double)
        waits = statistics.median(r["all_waits"] for r in double)
        copy = statistics.median(r["copy"] for r in double)
        steps_per_epoch = 60000 / args.batch
        print(f"| {names[model]} | {one * 1e3:.1f} ms | {two * 1e3:.1f} ms | {one / two:.2f}x "
              f"| {one * steps_per_epoch:.1f} s | {two * steps_per_epoch:.1f} s "
              f"| {double[0]['bytes'] / 1e6:.3f} MB in {double[0]['buckets']:.0f} bucket(s) "
              f"| {wait * 1e3:.2f} ms | {waits * 1e3:.2f} ms | {copy * 1e3:.2f} ms "
              f"| {(waits + copy) / two:.1%} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
