"""What the three training scripts share: flags and their checks, MNIST loaders, the
lecture's train() and evaluate() loops, checkpoints and resuming.

Each ``train_*.py`` builds its parser with ``make_parser``, reads it with ``parse_args``
(every flag and path is checked there, before any download or training), builds its
model and optimizer and calls ``run()``.

A problem the user can fix (a bad flag, path or checkpoint, an unusable data folder)
ends the program with one line, ``train_cnn.py: error: ...``, and exit status 2, as
argparse does; a download or a disk that fails during the run ends the same way with
status 1. No tracebacks for either.
"""
import argparse
import math
import os
import sys
import time
import zipfile

# Under ``mpiexec -n N`` every rank trains on its share of each batch (data-parallel). Set
# before NumPy loads: each rank's BLAS gets its share of this machine's cores (override
# with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS).
WORLD = int(os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE") or 1)
if WORLD > 1:
    _ranks_here = int(os.environ.get("MPI_LOCALNRANKS") or
                      os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or WORLD)
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, str(max(1, (os.cpu_count() or 1) // _ranks_here)))

import numpy as np
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinynn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn import backend, datasets, optim, transforms  # noqa: E402
from tinynn.serialization import CheckpointError, check_folder_writable  # noqa: E402
from tinynn.utils import data  # noqa: E402
from tinynn.vision.utils import save_image  # noqa: E402

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

RESUME_HELP = ("continue from a checkpoint written by --save: the model, optimizer and "
               "random-number state are restored and training goes on from the epoch after "
               "the checkpoint's up to --epochs. The learning-rate schedule is rebuilt for this "
               "run's --epochs and --lr and advanced to the checkpoint's epoch, so a cosine "
               "continues along the longer curve: epoch e of E trains at "
               "lr * (1 + cos(pi * (e-1) / E)) / 2, never at 0. The model flags (and "
               "--optimizer) must match the checkpoint's; asking for no more epochs than it "
               "holds does nothing and says so.")


class UsageError(Exception):
    """A problem with what the user asked for: one line, exit status 2."""


class RunError(Exception):
    """A failure while working (download, disk): one line, exit status 1."""


# ------------------------------------------------------------------------ flags

class OneLineParser(argparse.ArgumentParser):
    """argparse, with each error on one line, ``prog: error: message`` (no usage block:
    the message says what is wrong, ``--help`` says the rest)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(convert, kind, minimum, strict):
    """An argparse ``type``: ``convert`` the text, finite, at least ``minimum`` (above it
    when ``strict``); a bad value is one line naming the flag."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text}")
        return value
    return parse


positive_int = _number(int, "a positive integer", 0, strict=True)
nonnegative_int = _number(int, "an integer >= 0", 0, strict=False)
positive_float = _number(float, "a positive number", 0.0, strict=True)
nonnegative_float = _number(float, "a number >= 0", 0.0, strict=False)


def make_parser(description, epochs, batch_size, lr, momentum, optimizer, schedule="none"):
    """The flags every example takes; defaults are each example's own."""
    parser = OneLineParser(description=description)
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"],
                        help="numpy runs on the CPU, cupy on an NVIDIA GPU")
    parser.add_argument("--epochs", type=positive_int, default=epochs,
                        help="train up to this epoch (with --resume: the new total, counting "
                             "the checkpoint's epochs)")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size)
    parser.add_argument("--lr", type=positive_float, default=lr)
    parser.add_argument("--momentum", type=nonnegative_float, default=momentum, help="SGD momentum")
    parser.add_argument("--weight-decay", type=nonnegative_float, default=0.0)
    parser.add_argument("--optimizer", default=optimizer, choices=["sgd", "adam"])
    parser.add_argument("--schedule", default=schedule, choices=["none", "cosine", "step"],
                        help="learning-rate schedule over the epochs (cosine: from --lr down "
                             "towards 0 at the end of the last epoch; step: x0.1 at 50%% and "
                             "75%% of the epochs)")
    parser.add_argument("--data-dir", default="data", help="MNIST lives in DATA_DIR/MNIST/raw")
    parser.add_argument("--seed", type=nonnegative_int, default=1)
    parser.add_argument("--save", metavar="PATH",
                        help="write a checkpoint here after each epoch, replacing the last one "
                             "atomically (the folder must exist)")
    parser.add_argument("--resume", metavar="PATH", help=RESUME_HELP)
    parser.add_argument("--limit-train", type=positive_int, default=None, metavar="N",
                        help="train on the first N images only (quick runs)")
    parser.add_argument("--log-interval", type=positive_int, default=200, metavar="STEPS",
                        help="print the loss every STEPS batches")
    parser.add_argument("--save-samples", metavar="PNG",
                        help="after training, save the first 64 test digits as a PNG grid "
                             "(wrong predictions in red) and print the predictions")
    return parser


def parse_args(parser, argv=None):
    """Read the flags, check the paths, seed the generators; any problem ends the program
    with one line (exit status 2) before anything is downloaded or trained."""
    args = parser.parse_args(argv)
    try:
        if args.backend == "cupy" and not tinynn.cuda.is_available():
            raise UsageError("--backend cupy needs CuPy and an NVIDIA GPU: "
                             "pip install 'tinynn[gpu]'")
        if args.save:
            check_save_path(args.save)
        if args.save_samples:
            check_samples_path(args.save_samples)
        if args.resume:
            check_resume_path(args.resume)
        if args.batch_size % WORLD:
            raise UsageError(f"--batch-size {args.batch_size} must divide evenly over the "
                             f"{WORLD} ranks of mpiexec")
    except UsageError as exc:
        parser.error(str(exc))
    if WORLD > 1:
        import tinynn.distributed as dist
        dist.init_process_group("mpi")
    tinynn.manual_seed(args.seed)
    return args


def check_samples_path(path):
    """The PNG of ``--save-samples`` can be written: a .png name in a writable folder."""
    if not path.lower().endswith(".png"):
        raise UsageError(f"--save-samples {path}: give a file name ending in .png")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise UsageError(f"--save-samples {path}: cannot write a file there (the folder must "
                         f"exist and be writable)")


def check_save_path(path):
    """A checkpoint can be written at ``path``: it is not a folder, its folder exists and
    takes a new file, and it does not hold something else that would be overwritten."""
    if os.path.isdir(path):
        raise UsageError(f"--save {path} is a folder; give a file name, e.g. "
                         f"{os.path.join(path, 'checkpoint.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--save {path}: the folder {folder} does not exist")
    try:
        check_folder_writable(folder)  # create and remove a file there: the real test
    except OSError as exc:
        raise UsageError(f"--save {path}: cannot write in {folder} ({exc.strerror})") from None
    if os.path.exists(path) and not _looks_like_checkpoint(path):
        raise UsageError(f"--save {path} exists and is not a tinynn checkpoint; refusing to "
                         f"overwrite it (choose another name, or remove it)")


def _looks_like_checkpoint(path):
    """Cheap check (the zip's table of contents only) that ``path`` is tinynn.save's."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "__structure__.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def check_resume_path(path):
    if not os.path.exists(path):
        raise UsageError(f"--resume {path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"--resume {path} is a folder; give the checkpoint file written by --save")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise UsageError(f"--resume {path}: cannot read it ({exc.strerror})") from None


# ------------------------------------------------------------------ data, model

def mnist_loaders(args):
    """The lecture's train and test loaders (ToTensor + Normalize, shuffled)."""
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    trainset = datasets.MNIST(root=args.data_dir, train=True, download=True, transform=transform)
    testset = datasets.MNIST(root=args.data_dir, train=False, download=True, transform=transform)
    if args.limit_train:
        trainset = data.Subset(trainset, range(min(args.limit_train, len(trainset))))
    if WORLD == 1:
        train_loader = data.DataLoader(dataset=trainset, batch_size=args.batch_size, shuffle=True)
        test_loader = data.DataLoader(dataset=testset, batch_size=1000, shuffle=False)
        return train_loader, test_loader
    # Each rank: its own part of every epoch's shuffle, batches of batch_size / WORLD (the
    # global batch stays --batch-size), and every WORLD-th test image.
    sampler = data.DistributedSampler(trainset, seed=args.seed)
    train_loader = data.DataLoader(trainset, batch_size=args.batch_size // WORLD, sampler=sampler)
    testset = data.Subset(testset, range(rank(), len(testset), WORLD))
    return train_loader, data.DataLoader(testset, batch_size=1000, shuffle=False)


def rank():
    """This process's rank under mpiexec (0 when it runs alone)."""
    if WORLD == 1:
        return 0
    import tinynn.distributed as dist
    return dist.get_rank()


def log(*values):
    """print, on rank 0 only."""
    if rank() == 0:
        print(*values)


def make_optimizer(args, parameters):
    if args.optimizer == "adam":
        return optim.Adam(parameters, lr=args.lr, weight_decay=args.weight_decay)
    return optim.SGD(parameters, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)


def make_scheduler(args, optimizer):
    """The per-epoch learning-rate schedule chosen by ``--schedule`` (or None)."""
    if args.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if args.schedule == "step":
        milestones = sorted({max(1, args.epochs // 2), max(1, args.epochs * 3 // 4)})
        return optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    return None


def train(model, train_loader, optimizer, epoch, device, log_interval=200):
    """One epoch of the lecture's training loop, with a progress bar."""
    model.train()
    bar = tqdm(train_loader, desc=f"epoch {epoch}", leave=False, dynamic_ncols=True,
               disable=None if rank() == 0 else True)  # None: no bar when not a terminal
    for batch_idx, (images, target) in enumerate(bar):
        images, target = images.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(images)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0 and rank() == 0:
            value = loss.item()  # the only device-to-host copy of the step, when logging
            bar.set_postfix(loss=f"{value:.4f}")
            tqdm.write("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                epoch, batch_idx * len(images) * WORLD, len(train_loader.dataset),
                100. * batch_idx / len(train_loader), value))


def evaluate(model, test_loader, device):
    """The lecture's evaluation: average test loss and accuracy in percent."""
    model.eval()
    test_loss = 0
    correct = 0
    with tinynn.no_grad():
        for images, target in test_loader:
            images, target = images.to(device), target.to(device)
            output = model(images)
            test_loss += F.cross_entropy(output, target, reduction="sum").item()
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
    count = len(test_loader.dataset)
    if WORLD > 1:  # every rank tested its share: add them up
        import tinynn.distributed as dist
        totals = tinynn.tensor([test_loss, correct, count], dtype=tinynn.float64)
        dist.all_reduce(totals)
        test_loss, correct, count = totals.tolist()
    test_loss /= count
    test_accuracy = 100. * correct / count
    return test_loss, test_accuracy


# ------------------------------------------------------------------ checkpoints

# flags that change what is trained, noted when a resumed run changes them
TRAINING_FLAGS = ("lr", "momentum", "weight_decay", "schedule", "batch_size", "limit_train")


def run_config(prog, args, architecture):
    """What a checkpoint records about its run: the script (``prog``), the model flags
    that must match to resume (``architecture`` plus the optimizer, whose state must fit)
    and every flag."""
    return {"script": prog,
            "model": {**architecture, "optimizer": args.optimizer},
            "flags": dict(vars(args))}


def save_checkpoint(path, model, optimizer, scheduler, epoch, config=None):
    """Everything needed to continue: weights, optimizer, schedule, epoch, RNG, and the
    run's configuration (``run_config``)."""
    tinynn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict() if scheduler else None,
                 "epoch": epoch, "rng": backend.default_generator.get_state(),
                 "config": config}, path)


def read_checkpoint(path):
    """The checkpoint at ``path``, checked to be one that ``save_checkpoint`` wrote
    (``tinynn.load`` raises ``CheckpointError`` for any other file)."""
    try:
        state = tinynn.load(path)
    except OSError as exc:  # it was readable when the flags were checked
        raise UsageError(f"--resume {path}: cannot read it ({exc.strerror or exc})") from None
    expected = ("model", "optimizer", "epoch", "rng")
    if not isinstance(state, dict) or any(key not in state for key in expected):
        raise UsageError(f"--resume {path} is a tinynn file but not a training checkpoint "
                         f"(it needs {', '.join(expected)}); give a file written by --save")
    epoch = state["epoch"]
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise UsageError(f"--resume {path}: its epoch {epoch!r} is not a number of epochs")
    config = state.get("config")
    if config is not None and not _is_run_config(config):
        raise UsageError(f"--resume {path}: its recorded configuration is damaged")
    return state


def _is_run_config(config):
    return (isinstance(config, dict) and isinstance(config.get("script"), str)
            and isinstance(config.get("model"), dict) and isinstance(config.get("flags"), dict))


def check_same_model(path, saved, current):
    """``saved`` and ``current`` are ``run_config`` dicts; a checkpoint of another script
    or model cannot be continued, and the message says which flags differ."""
    if not saved:  # written before checkpoints recorded their flags
        return
    if saved["script"] != current["script"]:
        raise UsageError(f"--resume {path} was written by {saved['script']}, "
                         f"not {current['script']}")
    keys = sorted(set(saved["model"]) | set(current["model"]))
    differ = [f"--{key.replace('_', '-')} {saved['model'].get(key)} "
              f"(this run: {current['model'].get(key)})"
              for key in keys if saved["model"].get(key) != current["model"].get(key)]
    if differ:
        raise UsageError(f"--resume {path} was made with a different model: {', '.join(differ)}; "
                         f"pass the same flags to continue it, or leave out --resume")


def check_fits(path, state, model):
    """The checkpoint's weights have this model's names and shapes (checked before any
    download; for checkpoints that record no flags this is the only model check)."""
    saved, mine = state["model"], model.state_dict()
    if not isinstance(saved, dict):
        raise UsageError(f"--resume {path}: its 'model' entry is not a state dict")
    shape = {key: tuple(getattr(value, "shape", ())) for key, value in saved.items()}
    problems = [f"{key} is missing" for key in mine if key not in saved]
    problems += [f"{key} is not in this model" for key in saved if key not in mine]
    problems += [f"{key} has shape {shape[key]}, this model's {tuple(value.shape)}"
                 for key, value in mine.items() if key in saved and shape[key] != tuple(value.shape)]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise UsageError(f"--resume {path} does not fit this model: "
                         f"{'; '.join(problems[:3])}{more}")


def changed_training_flags(saved, current):
    """``--lr 0.1 (was 0.05)`` for each training flag this run changes."""
    if not saved:
        return []
    old, new = saved["flags"], current["flags"]
    return [f"--{key.replace('_', '-')} {new.get(key)} (was {old.get(key)})"
            for key in TRAINING_FLAGS if key in old and old.get(key) != new.get(key)]


def restore(state, model, optimizer, scheduler):
    """Put a checkpoint's state into a freshly built model, optimizer and scheduler;
    returns the first epoch still to train.

    The optimizer keeps its buffers (momentum, Adam's moments) from the checkpoint but
    this run's hyperparameters; the scheduler, built for this run's ``--epochs``, is
    stepped through the epochs already done. So a longer run continues along its own
    schedule instead of the old one's (whose cosine had reached lr 0).
    """
    model.load_state_dict(state["model"])
    this_run = [{k: v for k, v in group.items() if k != "params"}
                for group in optimizer.param_groups]
    optimizer.load_state_dict(state["optimizer"])
    for group, hyperparameters in zip(optimizer.param_groups, this_run):
        group.update(hyperparameters)
    backend.default_generator.set_state(state["rng"])
    if scheduler is not None:
        for _ in range(state["epoch"]):
            scheduler.step()
    return state["epoch"] + 1


def restore_checked(path, state, model, optimizer, scheduler):
    """``restore``, with a checkpoint that does not fit the model said in one line."""
    try:
        return restore(state, model, optimizer, scheduler)
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        reason = " ".join(str(exc).split())  # the error's lines joined into one
        raise UsageError(f"--resume {path} does not fit this model: {reason}") from None


def load_checkpoint(path, model, optimizer, scheduler, config=None):
    """Read, check and restore the checkpoint at ``path``; returns the next epoch."""
    state = read_checkpoint(path)
    if config is not None:
        check_same_model(path, state.get("config"), config)
    return restore_checked(path, state, model, optimizer, scheduler)


# ------------------------------------------------------------------ the run

def run(parser, args, model, optimizer, scheduler=None, architecture=None, summary_input=None):
    """Train for ``args.epochs`` epochs (after ``--resume``'s, if given), evaluating and
    checkpointing after each. ``architecture``: the flags that define the model.

    Every error the user can act on ends the program with one line (see the module's
    docstring); so does Ctrl-C.
    """
    try:
        return _run(args, model, optimizer, scheduler,
                    run_config(parser.prog, args, architecture or {}), summary_input)
    except UsageError as exc:
        parser.error(str(exc))
    except CheckpointError as exc:  # from reading --resume
        parser.error(f"--resume: {exc}")
    except datasets.DownloadError as exc:
        parser.exit(1, f"{parser.prog}: error: {exc}\n")
    except datasets.DatasetError as exc:  # an unusable --data-dir
        parser.error(str(exc))
    except (RunError, datasets.IDXError) as exc:
        parser.exit(1, f"{parser.prog}: error: {exc}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: interrupted\n")


def _run(args, model, optimizer, scheduler, config, summary_input):
    device = tinynn.device("cuda" if args.backend == "cupy" else "cpu")
    model.to(device)
    state = read_checkpoint(args.resume) if args.resume else None
    if state is not None:  # before the data: a checkpoint that cannot be used fails at once
        check_same_model(args.resume, state.get("config"), config)
        check_fits(args.resume, state, model)
        if state["epoch"] >= args.epochs:
            log(f"{config['script']}: nothing to do: {args.resume} already holds "
                  f"{state['epoch']} epochs and --epochs is {args.epochs}; pass a larger "
                  f"--epochs to train further")
            return model
    train_loader, test_loader = mnist_loaders(args)
    if summary_input is not None:  # its random input draws from the generator: restore after it
        log(tinynn.summary(model, summary_input))
    first_epoch = 1
    if state is not None:
        first_epoch = restore_checked(args.resume, state, model, optimizer, scheduler)
        log(f"resumed from {args.resume} at epoch {first_epoch} of {args.epochs}")
        changed = changed_training_flags(state.get("config"), config)
        if changed:
            log("this run changes " + ", ".join(changed))
    log(f"device: {device}, {sum(p.numel() for p in model.parameters()):,} parameters"
        + (f", {WORLD} ranks of batch {args.batch_size // WORLD}" if WORLD > 1 else ""))
    net = model
    if WORLD > 1:  # gradients averaged over the ranks during backward
        from tinynn.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(model)
    for epoch in range(first_epoch, args.epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        start = time.perf_counter()
        if isinstance(train_loader.sampler, data.DistributedSampler):
            train_loader.sampler.set_epoch(epoch)
        train(net, train_loader, optimizer, epoch, device, args.log_interval)
        if scheduler is not None:
            scheduler.step()
        seconds = time.perf_counter() - start
        test_loss, test_accuracy = evaluate(model, test_loader, device)
        log("[{}] Test Loss: {:.4f}, Accuracy: {:.2f}% (lr {:.4g}, {:.1f} s/epoch)".format(
            epoch, test_loss, test_accuracy, lr, seconds))
        if args.save and rank() == 0:
            try:
                save_checkpoint(args.save, model, optimizer, scheduler, epoch, config)
            except OSError as exc:
                raise RunError(f"cannot write the checkpoint {args.save} after epoch {epoch}: "
                               f"{exc.strerror or exc}; the previous checkpoint is "
                               f"unchanged") from None
    if args.save_samples and rank() == 0:
        save_samples(model, test_loader, device, args.save_samples)
    return model


def save_samples(model, test_loader, device, path, count=64, nrow=8):
    """Print the model's predictions for the first ``count`` test digits and save them as a
    PNG grid, so a student can look at what the model does."""
    images, labels = next(iter(test_loader))
    images, labels = images[:count], labels[:count]
    model.eval()
    with tinynn.no_grad():
        predicted = model(images.to(device)).argmax(dim=1).cpu().numpy()
    labels = labels.numpy()
    wrong = predicted != labels
    print(f"predictions for the first {len(labels)} test digits (3(5): predicted 3, label 5):")
    print(prediction_block(predicted.tolist(), labels.tolist(), nrow))
    save_grid(images, wrong, path, nrow)
    print(f"wrote {path}: {len(labels) - int(wrong.sum())}/{len(labels)} right, wrong ones in red")


def prediction_block(predicted, labels, nrow):
    """The predictions as text, ``nrow`` per line like the grid; wrong ones as ``p(label)``."""
    cells = [f"{p}" if p == y else f"{p}({y})" for p, y in zip(predicted, labels)]
    return "\n".join("".join(f"{cell:>6}" for cell in cells[i:i + nrow])
                     for i in range(0, len(cells), nrow))


def save_grid(images, wrong, path, nrow):
    """Un-normalise to [0, 1], colour the wrong digits red, and save the grid."""
    pixels = np.clip(images.cpu().numpy() * MNIST_STD + MNIST_MEAN, 0.0, 1.0)
    rgb = np.repeat(pixels, 3, axis=1)                   # (N, 3, 28, 28)
    rgb[wrong, 1:] *= 0.25                               # keep red, dim green and blue
    save_image(tinynn.tensor(rgb), path, nrow=nrow, padding=2, pad_value=0.5)

