"""Train the lecture's ResNet (CIFAR-style: 3x3 stem, no max-pool) on MNIST.

    python examples/train_resnet.py                 # ResNet-18, width 16, 2 epochs: 99.27%
    python examples/train_resnet.py --arch resnet50 --width 64 --backend cupy   # on a GPU
    python examples/train_resnet.py --save ckpt.npz                     # checkpoint every epoch
    python examples/train_resnet.py --epochs 3 --save ckpt.npz --resume ckpt.npz   # one epoch more

The default run takes about 4 minutes per epoch on 2 CPU cores. SGD (batch 64, lr 0.05,
momentum 0.9, weight decay 5e-4); the learning rate follows a cosine from --lr down over
--epochs (CosineAnnealingLR with T_max=epochs, stepped once per epoch; with --resume,
rebuilt for the new --epochs and continued from the checkpoint's epoch). ``--width`` scales
every layer's channels (64 is the lecture's network; 16 trains in minutes on a CPU).
"""
from common import make_optimizer, make_parser, make_scheduler, parse_args as parse_flags
from common import positive_int, run

from tinynn.models import resnet18, resnet34, resnet50

ARCHS = {"resnet18": resnet18, "resnet34": resnet34, "resnet50": resnet50}


def make_resnet_parser():
    parser = make_parser(__doc__.splitlines()[0], epochs=2, batch_size=64, lr=0.05,
                         momentum=0.9, optimizer="sgd", schedule="cosine")
    parser.set_defaults(weight_decay=5e-4)
    parser.add_argument("--arch", default="resnet18", choices=sorted(ARCHS))
    parser.add_argument("--width", type=positive_int, default=16,
                        help="channels of the first stage (the lecture's ResNet: 64)")
    return parser


def parse_args(argv=None):
    """The flags, checked before any work (see ``common.parse_args``)."""
    return parse_flags(make_resnet_parser(), argv)


def build(args):
    """The model, its optimizer and the per-epoch schedule (cosine unless --schedule)."""
    model = ARCHS[args.arch](num_classes=10, in_channels=1, width=args.width)
    optimizer = make_optimizer(args, model.parameters())
    return model, optimizer, make_scheduler(args, optimizer)


def main(argv=None):
    parser = make_resnet_parser()
    args = parse_flags(parser, argv)
    model, optimizer, scheduler = build(args)
    return run(parser, args, model, optimizer, scheduler,
               architecture={"arch": args.arch, "width": args.width},
               summary_input=(args.batch_size, 1, 28, 28))


if __name__ == "__main__":
    main()
