"""Train the lecture's CNN (two 5x5 convolutions, max-pooling, two linear layers) on MNIST.

    python examples/train_cnn.py                        # defaults: about 99% after 3 epochs
    python examples/train_cnn.py --backend cupy         # on an NVIDIA GPU
    python examples/train_cnn.py --optimizer sgd --lr 0.01 --momentum 0.5 --schedule none \
                                 --weight-decay 0
                                                        # the lecture's own setting
    python examples/train_cnn.py --epochs 2 --save ck.npz
    python examples/train_cnn.py --epochs 3 --save ck.npz --resume ck.npz   # one epoch more
"""
from common import make_optimizer, make_parser, make_scheduler, parse_args, run

from tinynn.models import CNN


def main(argv=None):
    parser = make_parser(__doc__.splitlines()[0], epochs=3, batch_size=64, lr=0.05,
                         momentum=0.9, optimizer="sgd", schedule="cosine")
    parser.set_defaults(weight_decay=5e-4)  # a little decay: the 10-epoch run stays above 99%
    args = parse_args(parser, argv)
    model = CNN()
    optimizer = make_optimizer(args, model.parameters())
    return run(parser, args, model, optimizer, make_scheduler(args, optimizer),
               architecture={}, summary_input=(args.batch_size, 1, 28, 28))


if __name__ == "__main__":
    main()
