"""The lecture's ResNet for small images (the CIFAR-style variant of kuangliu/pytorch-cifar).

Compared with ImageNet's ResNet (7x7 stride-2 stem + 3x3 max-pool for 224x224 input) the
stem is one 3x3 stride-1 convolution without max-pool, so a 28x28 digit keeps its detail:

    stage     output (28x28 input)   BasicBlock (18 / 34)         Bottleneck (50)
    conv1     width   x 28 x 28      3x3, width
    layer1    width   x 28 x 28      [3x3, w; 3x3, w] x 2 / 3     [1x1, w; 3x3, w; 1x1, 4w] x 3
    layer2    2 width x 14 x 14      [3x3, 2w; 3x3, 2w] x 2 / 4   [1x1, 2w; 3x3, 2w; 1x1, 8w] x 4
    layer3    4 width x  7 x  7      [3x3, 4w; 3x3, 4w] x 2 / 6   [1x1, 4w; 3x3, 4w; 1x1, 16w] x 6
    layer4    8 width x  4 x  4      [3x3, 8w; 3x3, 8w] x 2 / 3   [1x1, 8w; 3x3, 8w; 1x1, 32w] x 3
    pool      global average -> (N, 8 width * expansion) -> linear -> (N, num_classes)

(the Bottleneck stages output 4x the channels). width=64 is the lecture's network.
"""
from .. import nn
from ..nn import functional as F

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50"]


def shortcut(in_planes, out_planes, stride):
    """The residual path: identity when the shapes match, else a strided 1x1 conv + batch norm
    that brings x to the block's output shape."""
    if stride == 1 and in_planes == out_planes:
        return nn.Sequential()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_planes))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, plus the shortcut: relu(bn2(conv2(.)) + x).

    (N, in_planes, H, W) -> (N, planes, H/stride, W/stride).
    """

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = shortcut(in_planes, self.expansion * planes, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class Bottleneck(nn.Module):
    """1x1 (reduce) -> 3x3 (stride) -> 1x1 (expand x4) convolutions with batch norm + shortcut.

    (N, in_planes, H, W) -> (N, 4 * planes, H/stride, W/stride).
    """

    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, self.expansion * planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(self.expansion * planes)
        self.shortcut = shortcut(in_planes, self.expansion * planes, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet(nn.Module):
    """ResNet from ``block`` (BasicBlock or Bottleneck) and four stage depths ``num_blocks``.

    Input (N, in_channels, H, W), any H, W >= 8 (e.g. 28x28 MNIST, 32x32 CIFAR) ->
    logits (N, num_classes). Stage widths are width, 2 width, 4 width, 8 width.
    """

    def __init__(self, block, num_blocks, num_classes=10, in_channels=1, width=64):
        super().__init__()
        if len(num_blocks) != 4:
            raise ValueError(f"ResNet: num_blocks must give the depth of 4 stages, got {num_blocks!r}")
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(block, width, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 2 * width, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, num_blocks[3], stride=2)
        # Global average pooling: any input size ends as one value per channel.
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        # Only the first block of a stage changes the resolution (and the width).
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.layer4(out)
        out = self.avgpool(out)
        out = out.flatten(1)
        out = self.linear(out)
        return out


def resnet18(num_classes=10, in_channels=1, width=64):
    """ResNet-18: BasicBlocks [2, 2, 2, 2] (11.2 M parameters at width 64, 10 classes)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, in_channels, width)


def resnet34(num_classes=10, in_channels=1, width=64):
    """ResNet-34: BasicBlocks [3, 4, 6, 3] (21.3 M parameters at width 64, 10 classes)."""
    return ResNet(BasicBlock, [3, 4, 6, 3], num_classes, in_channels, width)


def resnet50(num_classes=10, in_channels=1, width=64):
    """ResNet-50: Bottlenecks [3, 4, 6, 3] (23.5 M parameters at width 64, 10 classes)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], num_classes, in_channels, width)
