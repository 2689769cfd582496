"""The lecture's models: MLP (and, with later layers, CNN and ResNet)."""
from .mlp import MLP, mlp2, mlp3
