"""An LSTM that reads each MNIST digit row by row (28 steps of 28 pixels) and classifies it
from its last hidden state.

    python examples/coursework/lstm_rows.py --epochs 2        # about 97-98% test accuracy
"""
import argparse
import time

from _imports import DataLoader, TensorDataset, nn, optim, torch, torchvision


class RowLSTM(nn.Module):
    def __init__(self, hidden=128):
        super().__init__()
        self.lstm = nn.LSTM(input_size=28, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, images):
        out, (h_n, c_n) = self.lstm(images.view(-1, 28, 28))   # (N, 28 steps, 28 pixels)
        return self.head(out[:, -1, :])


def datasets(args):
    if args.synthetic:  # the label is the row band that is lit: only memory can tell
        torch.manual_seed(0)
        images = torch.rand(args.synthetic, 1, 28, 28) * 0.1
        labels = torch.randint(0, 10, (args.synthetic,))
        for c in range(10):
            images[labels == c, :, 2 * c + 4:2 * c + 6, :] += 1.0
        split = args.synthetic * 4 // 5
        return TensorDataset(images[:split], labels[:split]), TensorDataset(images[split:], labels[split:])
    transform = torchvision.transforms.Compose([torchvision.transforms.ToTensor(),
                                               torchvision.transforms.Normalize((0.1307,), (0.3081,))])
    return (torchvision.datasets.MNIST(args.data_dir, train=True, download=True, transform=transform),
            torchvision.datasets.MNIST(args.data_dir, train=False, download=True, transform=transform))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    torch.manual_seed(1)
    train_set, test_set = datasets(args)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = RowLSTM()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        model.train()
        start = time.perf_counter()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        seconds = time.perf_counter() - start
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += (model(images).argmax(1) == labels).sum().item()
        accuracy = correct / len(test_loader.dataset)
        print(f"epoch {epoch}: loss {loss.item():.4f}, test accuracy {accuracy:.2%} ({seconds:.1f} s)")
    return accuracy


if __name__ == "__main__":
    main()
