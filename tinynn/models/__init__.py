"""The lecture's models: the MLP, the CNN and the ResNets."""
from .cnn import CNN
from .mlp import MLP, mlp2, mlp3
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
