"""The lecture's CNN for 28x28 MNIST digits."""
from .. import nn
from ..nn import functional as F


class CNN(nn.Module):
    """conv(1->10, 5x5) -> max-pool 2 -> relu -> conv(10->20, 5x5) -> max-pool 2 -> relu
    -> flatten -> fc 320 -> 50 -> relu -> fc 50 -> 10.

    Feature maps for a batch of 64: [64, 1, 28, 28] -> [64, 10, 24, 24] -> [64, 10, 12, 12]
    -> [64, 20, 8, 8] -> [64, 20, 4, 4] -> [64, 320] -> [64, 50] -> [64, 10] (logits).
    ``dropout`` (0 in the lecture) adds dropout before each fully connected layer.
    """

    def __init__(self, num_classes=10, in_channels=1, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, num_classes)
        self.dropout = dropout

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.view(-1, 320)
        x = F.dropout(x, self.dropout, self.training)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, self.dropout, self.training)
        return self.fc2(x)
