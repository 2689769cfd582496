"""The lecture's PyTorch code runs on tinynn with only its import lines switched.

The code below is the lecture's (slide typos such as ``nutput`` and the broken
indentation fixed, ``torch.`` written ``tinynn.``), run on a small MNIST made of IDX
files in a temporary folder (never the network: the pinned checksums are those of the
small files, and the mirrors are unusable).
"""
import os

import numpy as np
import pytest

# --- the lecture's imports, switched (DESIGN.md section 3) ---
import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
import tinynn.optim as optim
from tinynn.utils import data
from tinynn import datasets, transforms
DEVICE = tinynn.device("cuda" if tinynn.cuda.is_available() else "cpu")

from fixtures_mnist import resources_for, write_raw  # noqa: E402

BATCH_SIZE = 16


@pytest.fixture
def mnist_root(tmp_path, monkeypatch):
    """A 96 + 32 image MNIST whose labels a model can learn (the class is a bright stripe)."""
    rng = np.random.default_rng(0)

    def images(labels):
        x = rng.integers(0, 40, (len(labels), 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            x[i, 2 + 2 * label:4 + 2 * label, 4:24] = 250
        return x

    train_y = rng.integers(0, 10, 96).astype(np.uint8)
    test_y = rng.integers(0, 10, 32).astype(np.uint8)
    arrays = {"train-images-idx3-ubyte.gz": images(train_y), "train-labels-idx1-ubyte.gz": train_y,
              "t10k-images-idx3-ubyte.gz": images(test_y), "t10k-labels-idx1-ubyte.gz": test_y}
    write_raw(os.path.join(tmp_path, "MNIST", "raw"), arrays)
    monkeypatch.setattr(datasets.MNIST, "resources", resources_for(arrays))
    monkeypatch.setattr(datasets.MNIST, "mirrors", [])
    monkeypatch.setattr(datasets.MNIST, "fallback", None)
    return str(tmp_path) + "/"


def lecture_loaders(root):
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainset = datasets.MNIST(
        root = root,
        train = True,
        download = True,
        transform = transform
    )
    testset = datasets.MNIST(
        root = root,
        train = False,
        download = True,
        transform = transform
    )
    train_loader = data.DataLoader(
       dataset = trainset,
       batch_size = BATCH_SIZE, shuffle=True
    )
    test_loader = data.DataLoader(
       dataset = testset,
       batch_size = BATCH_SIZE, shuffle=True
    )
    return train_loader, test_loader


def train(model, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(DEVICE), target.to(DEVICE)
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % 200 == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))


def evaluate(model, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with tinynn.no_grad():
        for data, target in test_loader:
            data, target = data.to(DEVICE), target.to(DEVICE)
            output = model(data)
            test_loss += F.cross_entropy(output, target,
                                         reduction='sum').item()
            pred = output.max(1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    test_accuracy = 100. * correct / len(test_loader.dataset)
    return test_loss, test_accuracy


class LectureMLP(nn.Module):
    def __init__(self):
        super(LectureMLP, self).__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = tinynn.sigmoid(self.fc1(x))
        x = tinynn.sigmoid(self.fc2(x))
        x = self.fc3(x)
        return x


class LectureCNN(nn.Module):
    def __init__(self):
        super(LectureCNN, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.max_pool2d(x, 2)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.max_pool2d(x, 2)
        x = F.relu(x)
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return x


@pytest.mark.parametrize("Net, lr, epochs", [(LectureMLP, 0.5, 12), (LectureCNN, 0.05, 6)])
def test_lecture_code_trains_and_evaluates_unchanged(mnist_root, capsys, Net, lr, epochs):
    tinynn.manual_seed(1)
    train_loader, test_loader = lecture_loaders(mnist_root)
    model = Net().to(DEVICE)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.5)
    first_loss, _ = evaluate(model, test_loader)
    for epoch in range(1, epochs + 1):
        train(model, train_loader, optimizer, epoch)
    test_loss, test_accuracy = evaluate(model, test_loader)
    assert "Train Epoch: 1 [0/96 (0%)]" in capsys.readouterr().out
    assert test_loss < first_loss / 2
    assert test_accuracy >= 90.0  # the stripe task is easy: learning must have happened


def test_lecture_cnn_feature_map_sizes():
    # The lecture's table: [64, 1, 28, 28] -> [64, 10, 24, 24] -> ... -> [64, 10]
    shapes = tinynn.summary(LectureCNN(), (64, 1, 28, 28)).shapes
    for expected in [(64, 1, 28, 28), (64, 10, 24, 24), (64, 20, 4, 4), (64, 320), (64, 50), (64, 10)]:
        assert expected in shapes
    assert shapes[0] == (64, 1, 28, 28) and shapes[-1] == (64, 10)
