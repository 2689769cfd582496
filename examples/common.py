"""What the three training scripts share: flags, MNIST loaders, the lecture's train() and
evaluate() loops, checkpoints and resuming.

Each ``train_*.py`` builds its model and optimizer and calls ``run()``.
"""
import argparse
import os
import sys
import time

from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinynn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn import backend, datasets, optim, transforms  # noqa: E402
from tinynn.utils import data  # noqa: E402

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def make_parser(description, epochs, batch_size, lr, momentum, optimizer, schedule="none"):
    """The flags every example takes; defaults are each example's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"],
                        help="numpy runs on the CPU, cupy on an NVIDIA GPU")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--momentum", type=float, default=momentum, help="SGD momentum")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--optimizer", default=optimizer, choices=["sgd", "adam"])
    parser.add_argument("--schedule", default=schedule, choices=["none", "cosine", "step"],
                        help="learning-rate schedule over the epochs (cosine: down to 0; "
                             "step: x0.1 at 50%% and 75%% of the epochs)")
    parser.add_argument("--data-dir", default="data", help="MNIST lives in DATA_DIR/MNIST/raw")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", metavar="PATH", help="write a checkpoint here after each epoch")
    parser.add_argument("--resume", metavar="PATH", help="continue from this checkpoint")
    parser.add_argument("--limit-train", type=int, default=None, metavar="N",
                        help="train on the first N images only (quick runs)")
    parser.add_argument("--log-interval", type=int, default=200)
    return parser


def mnist_loaders(args):
    """The lecture's train and test loaders (ToTensor + Normalize, shuffled)."""
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    trainset = datasets.MNIST(root=args.data_dir, train=True, download=True, transform=transform)
    testset = datasets.MNIST(root=args.data_dir, train=False, download=True, transform=transform)
    if args.limit_train:
        trainset = data.Subset(trainset, range(min(args.limit_train, len(trainset))))
    train_loader = data.DataLoader(dataset=trainset, batch_size=args.batch_size, shuffle=True)
    test_loader = data.DataLoader(dataset=testset, batch_size=1000, shuffle=False)
    return train_loader, test_loader


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
               disable=None)  # None: no bar when stderr is not a terminal (logs stay clean)
    for batch_idx, (images, target) in enumerate(bar):
        images, target = images.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(images)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            value = loss.item()  # the only device-to-host copy of the step, when logging
            bar.set_postfix(loss=f"{value:.4f}")
            tqdm.write("Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                epoch, batch_idx * len(images), len(train_loader.dataset),
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
    test_loss /= len(test_loader.dataset)
    test_accuracy = 100. * correct / len(test_loader.dataset)
    return test_loss, test_accuracy


def save_checkpoint(path, model, optimizer, scheduler, epoch):
    """Everything needed to continue exactly: weights, optimizer, schedule, epoch, RNG."""
    tinynn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                 "scheduler": scheduler.state_dict() if scheduler else None,
                 "epoch": epoch, "rng": backend.default_generator.get_state()}, path)


def load_checkpoint(path, model, optimizer, scheduler):
    """Restore a checkpoint written by ``save_checkpoint``; returns the next epoch."""
    state = tinynn.load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    backend.default_generator.set_state(state["rng"])
    return state["epoch"] + 1


def run(args, model, optimizer, scheduler=None, summary_input=None):
    """Train for ``args.epochs`` epochs, evaluating (and checkpointing) after each."""
    device = tinynn.device("cuda" if args.backend == "cupy" else "cpu")
    model.to(device)
    train_loader, test_loader = mnist_loaders(args)
    if summary_input is not None:
        print(tinynn.summary(model, summary_input))
    first_epoch = 1
    if args.resume:
        first_epoch = load_checkpoint(args.resume, model, optimizer, scheduler)
        print(f"resumed from {args.resume} at epoch {first_epoch}")
    print(f"device: {device}, {sum(p.numel() for p in model.parameters()):,} parameters")
    for epoch in range(first_epoch, args.epochs + 1):
        start = time.perf_counter()
        train(model, train_loader, optimizer, epoch, device, args.log_interval)
        if scheduler is not None:
            scheduler.step()
        seconds = time.perf_counter() - start
        test_loss, test_accuracy = evaluate(model, test_loader, device)
        print("[{}] Test Loss: {:.4f}, Accuracy: {:.2f}% ({:.1f} s/epoch)".format(
            epoch, test_loss, test_accuracy, seconds))
        if args.save:
            save_checkpoint(args.save, model, optimizer, scheduler, epoch)
    return model


def setup(args):
    """Seed everything and check the backend before any work."""
    if args.backend == "cupy" and not tinynn.cuda.is_available():
        sys.exit("--backend cupy needs CuPy and an NVIDIA GPU: pip install 'tinynn[gpu]'")
    tinynn.manual_seed(args.seed)
    backend.keep_freed_cpu_memory()  # reuse each batch's buffers instead of re-faulting them
