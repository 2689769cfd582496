"""LeNet-5 with LeakyReLU and Dropout2d, trained by Adadelta with StepLR (the official
PyTorch MNIST example's optimizer), keeping 10% of the training set for validation through
SubsetRandomSampler.

    python examples/coursework/lenet.py --epochs 2            # tinynn
    FRAMEWORK=torch python examples/coursework/lenet.py       # the same code on PyTorch
"""
import argparse

from _imports import DataLoader, F, SubsetRandomSampler, TensorDataset, nn, optim, torch, torchvision


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.dropout = nn.Dropout2d(0.2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x):
        x = F.max_pool2d(self.act(self.conv1(x)), 2)
        x = F.max_pool2d(self.dropout(self.act(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return F.log_softmax(self.fc3(x), dim=1)


def datasets(args):
    if args.synthetic:  # a small learnable stand-in: the label is the brightest image row band
        torch.manual_seed(0)
        images = torch.rand(args.synthetic, 1, 28, 28) * 0.1
        labels = torch.randint(0, 10, (args.synthetic,))
        for c in range(10):
            rows = slice(2 * c + 4, 2 * c + 6)
            images[labels == c, :, rows, :] += 1.0
        split = args.synthetic * 4 // 5
        return TensorDataset(images[:split], labels[:split]), TensorDataset(images[split:], labels[split:])
    transform = torchvision.transforms.Compose([torchvision.transforms.ToTensor(),
                                               torchvision.transforms.Normalize((0.1307,), (0.3081,))])
    train = torchvision.datasets.MNIST(args.data_dir, train=True, download=True, transform=transform)
    test = torchvision.datasets.MNIST(args.data_dir, train=False, download=True, transform=transform)
    return train, test


def evaluate(model, loader):
    model.eval()
    loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for data, target in loader:
            output = model(data)
            loss += F.nll_loss(output, target, reduction="sum").item()
            correct += output.argmax(dim=1).eq(target).sum().item()
            count += len(target)
    return loss / count, correct / count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="train on N generated images instead of MNIST (for tests)")
    args = parser.parse_args(argv)
    torch.manual_seed(1)
    train_set, test_set = datasets(args)
    indices = torch.randperm(len(train_set)).tolist()
    n_valid = len(train_set) // 10
    train_loader = DataLoader(train_set, batch_size=args.batch_size,
                              sampler=SubsetRandomSampler(indices[n_valid:]))
    valid_loader = DataLoader(train_set, batch_size=1000, sampler=SubsetRandomSampler(indices[:n_valid]))
    test_loader = DataLoader(test_set, batch_size=1000)

    model = LeNet()
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch, (data, target) in enumerate(train_loader):
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()
            optimizer.step()
        scheduler.step()
        valid_loss, valid_acc = evaluate(model, valid_loader)
        print(f"epoch {epoch}: train loss {loss.item():.4f}, validation loss {valid_loss:.4f}, "
              f"accuracy {valid_acc:.2%}")
    test_loss, test_acc = evaluate(model, test_loader)
    print(f"test loss {test_loss:.4f}, accuracy {test_acc:.2%}")
    return test_acc


if __name__ == "__main__":
    main()
