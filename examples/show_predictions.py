"""Look at what a trained CNN does: the first 64 test digits, with its predictions.

    python examples/train_cnn.py --save cnn.ckpt                  # train, keep a checkpoint
    python examples/show_predictions.py cnn.ckpt --out predictions.png

Prints the predictions as an 8x8 block laid out like the picture (a wrong one shows the
true label too: ``3(5)`` is "predicted 3, label 5") and writes the digits as one PNG
grid with ``tinynn.vision.utils.save_image``: right answers grey, wrong ones red.
"""
import argparse

from common import MNIST_MEAN, MNIST_STD, prediction_block, save_grid  # also puts the repository on sys.path

import tinynn
import tinynn.vision as torchvision
from tinynn.models import CNN
from tinynn.utils import data
from tinynn.vision import transforms


def load_model(path, device):
    """The CNN from a ``train_cnn.py --save`` checkpoint (or a bare state dict)."""
    state = tinynn.load(path)
    model = CNN()
    model.load_state_dict(state["model"] if "model" in state else state)
    return model.to(device).eval()


def first_test_digits(data_dir, count):
    """The first ``count`` test images (normalised as in training) and their labels."""
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    testset = torchvision.datasets.MNIST(data_dir, train=False, download=True,
                                         transform=transform)
    loader = data.DataLoader(testset, batch_size=count, shuffle=False)
    return next(iter(loader))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a checkpoint written by train_cnn.py --save")
    parser.add_argument("--out", default="predictions.png", metavar="PATH",
                        help="where to write the PNG grid (default: predictions.png)")
    parser.add_argument("--count", type=int, default=64, help="how many test digits")
    parser.add_argument("--nrow", type=int, default=8, help="digits per row")
    parser.add_argument("--data-dir", default="data", help="MNIST lives in DATA_DIR/MNIST/raw")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    args = parser.parse_args(argv)
    device = tinynn.device("cuda" if args.backend == "cupy" else "cpu")

    model = load_model(args.checkpoint, device)
    images, labels = first_test_digits(args.data_dir, args.count)
    with tinynn.no_grad():
        predicted = model(images.to(device)).argmax(dim=1).cpu().numpy()
    labels = labels.numpy()
    wrong = predicted != labels

    print(f"predictions for the first {len(labels)} test digits "
          f"(as in the picture; 3(5): predicted 3, label 5):")
    print(prediction_block(predicted.tolist(), labels.tolist(), args.nrow))
    print(f"right: {len(labels) - wrong.sum()}/{len(labels)}")
    save_grid(images, wrong, args.out, args.nrow)
    print(f"wrote {args.out} ({args.nrow} digits per row, wrong ones in red)")


if __name__ == "__main__":
    main()
