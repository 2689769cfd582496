"""Train the lecture's MLP (784 -> 256 -> 128 -> 10, sigmoid) on MNIST.

    python examples/train_mlp.py                    # Adam, 5 epochs: about 97.5-98%
    python examples/train_mlp.py --optimizer sgd --lr 0.01 --momentum 0.5   # the lecture's setting
"""
from common import make_optimizer, make_parser, make_scheduler, parse_args, run

from tinynn.models import MLP


def main(argv=None):
    parser = make_parser(__doc__.splitlines()[0], epochs=5, batch_size=64, lr=1e-3,
                         momentum=0.9, optimizer="adam")
    parser.add_argument("--layers", type=int, choices=[2, 3], default=3,
                        help="the lecture's two-layer (784-256-10) or three-layer MLP")
    args = parse_args(parser, argv)
    model = MLP(hidden=(256, 128) if args.layers == 3 else (256,))
    optimizer = make_optimizer(args, model.parameters())
    return run(parser, args, model, optimizer, make_scheduler(args, optimizer),
               architecture={"layers": args.layers})


if __name__ == "__main__":
    main()
