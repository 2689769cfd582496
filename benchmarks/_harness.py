"""What bench_step.py and profile_step.py share: the machine header, fresh-process workers,
RSS and page-fault readings, the training-step FLOP count, the matmul-rate yardstick,
medians and markdown tables.

Nothing here imports tinynn or torch at module level: a worker imports the library it
measures, so the other library's import never weighs on its time or memory.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_TAG = "BENCH-RESULT "


# ------------------------------------------------------------------ the machine

def lscpu_fields():
    """lscpu's model name, the avx512f flag, and the CPU count (None where lscpu is missing)."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        text = ""
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = fields.get("Flags", "").split()
    return {"model": fields.get("Model name", "unknown"),
            "avx512f": ("yes" if "avx512f" in flags else "no") if flags else "unknown",
            "cpus": os.cpu_count()}


def load_average():
    """The 1-, 5- and 15-minute load averages as a short string."""
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "n/a"


def git_state():
    """Commit and whether the tracked tinynn/ files differ from it (others edit the tree)."""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "tinynn")
    return commit + (" (+ uncommitted changes in tinynn/)" if dirty else "")


def header_lines(title):
    cpu = lscpu_fields()
    return [f"# {title}", "",
            f"- CPU: {cpu['model']}; avx512f: {cpu['avx512f']}; {cpu['cpus']} logical CPUs",
            f"- tinynn tree: {git_state()}",
            "- thread settings in the environment: " + (", ".join(
                f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                  "MKL_NUM_THREADS") if k in os.environ)
                or "none (each library uses its defaults)"),
            "- BLAS kernel overrides in the environment: " + (", ".join(
                f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                if k in os.environ) or "none (OpenBLAS picks the kernels for this CPU)"),
            f"- load average at start (1/5/15 min): {load_average()}", ""]


# ------------------------------------------------------------------ process readings

def current_rss_mb():
    """Resident set size now (Linux /proc), in MB; None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb():
    """Peak resident set size of this process (ru_maxrss: KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


# ------------------------------------------------------------------ FLOPs

def count_training_flop(model, forward, batch):
    """FLOP per image of one training step, from the forward multiply-adds (MACs) of every
    Conv2d and Linear layer: output elements x (input channels per group x kernel area)
    for a convolution, output elements x input features for a linear layer. Each MAC is
    2 FLOP and a training step does the product 3 times (forward, input gradient, weight
    gradient), except for a layer whose input needs no gradient (the first layer, fed the
    images), which does it twice. Returns (flop, naive) per image, where ``naive`` counts
    every layer x 2 x 3. Works on tinynn and torch modules alike (forward hooks reading
    each layer's weight shape); ``forward()`` runs one forward pass with autograd on."""
    flop, naive, handles = [0], [0], []

    def hook(module, inputs, output):
        per_output = 1
        for d in module.weight.shape[1:]:   # Conv2d: Cin/groups x kh x kw; Linear: in_features
            per_output *= int(d)
        macs = output.numel() * per_output
        flop[0] += macs * (6 if inputs[0].requires_grad else 4)
        naive[0] += 6 * macs

    for m in model.modules():
        if type(m).__name__ in ("Conv2d", "Linear"):
            handles.append(m.register_forward_hook(hook))
    forward()
    for h in handles:
        h.remove()
    return flop[0] / batch, naive[0] / batch


def matmul_rates(repeats=30):
    """numpy.matmul GFLOP/s in float32 in this process: 1024x1024x1024 and the lecture
    MLP's first layer, (64, 784) @ (784, 256). ``out=`` keeps page faults out of it;
    the median of ``repeats`` timed calls after a warm-up."""
    import numpy as np
    rng = np.random.default_rng(0)
    rates = {}
    for name, (m, k, n), reps in (("1024^3", (1024, 1024, 1024), repeats),
                                  ("64x784x256", (64, 784, 256), repeats * 20)):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), np.float32)
        for _ in range(3):
            np.matmul(a, b, out=out)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            np.matmul(a, b, out=out)
            times.append(time.perf_counter() - t)
        rates[name] = 2 * m * k * n / statistics.median(times) / 1e9
    return rates


# ------------------------------------------------------------------ workers

def emit(result):
    """A worker's one result line on stdout (everything else it prints is ignored)."""
    print(RESULT_TAG + json.dumps(result), flush=True)


def runnable_now():
    """Runnable tasks on the machine now, not counting the process that asks (Linux)."""
    try:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):
        return None


def runnable_others(samples=10, interval=0.1):
    """Mean runnable tasks over about a second: what else wants the CPUs (None off Linux)."""
    values = []
    for _ in range(samples):
        r = runnable_now()
        if r is None:
            return None
        values.append(r)
        time.sleep(interval)
    return sum(values) / len(values)


def wait_until_idle(max_runnable=0.5, max_wait=600):
    """Sleep until the mean runnable count is at most ``max_runnable`` (or ``max_wait`` s)."""
    deadline = time.time() + max_wait
    while True:
        r = runnable_others()
        if r is None or r <= max_runnable or time.time() >= deadline:
            return r
        time.sleep(2)


def run_worker(python, script, args, timeout=None):
    """Run ``python script args`` in a fresh process; its result dict, or {'error': ...}.

    While it runs, the machine's runnable-task count is sampled every 0.2 s: the result's
    ``runnable`` is their mean, the worker's own threads included (at most the CPU count
    when nothing else competes)."""
    import tempfile
    cmd = [python, script, *args]
    samples = []
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, cwd=REPO)
        start = time.time()
        while proc.poll() is None:
            if timeout is not None and time.time() - start > timeout:
                proc.kill()
                proc.wait()
                return {"error": f"timed out after {timeout} s: {' '.join(cmd)}"}
            r = runnable_now()
            if r is not None:
                samples.append(r)
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            result = json.loads(line[len(RESULT_TAG):])
            result["runnable"] = sum(samples) / len(samples) if samples else None
            return result
    tail = (stderr or stdout).strip().splitlines()[-15:]
    return {"error": f"exit {proc.returncode}: {' '.join(cmd)}\n    " + "\n    ".join(tail)}


def python_has(python, module):
    """Whether ``python -c 'import module'`` works."""
    try:
        return subprocess.run([python, "-c", f"import {module}"], capture_output=True,
                              timeout=120).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# ------------------------------------------------------------------ output

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0, unit=""):
    if value is None:
        return "n/a"
    if digits == 0:
        return f"{value:,.0f}{unit}"
    return f"{value:,.{digits}f}{unit}"


def ratio(a, b, digits=2):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}x"


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
