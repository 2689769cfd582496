"""The lecture's multi-layer perceptrons for 28x28 MNIST digits."""
from .. import nn


class MLP(nn.Module):
    """The lecture's MLP: 784 -> 256 -> 128 -> 10 with sigmoid activations.

    ``hidden`` sets the hidden sizes (``(256,)`` gives the lecture's first, two-layer
    variant); ``activation`` is ``"sigmoid"`` (the lecture) or ``"relu"``.
    Input (N, 1, 28, 28) or (N, 784) -> logits (N, 10).
    """

    def __init__(self, hidden=(256, 128), num_classes=10, in_features=784, activation="sigmoid"):
        super().__init__()
        if activation not in ("sigmoid", "relu"):
            raise ValueError(f"MLP: activation must be 'sigmoid' or 'relu', got {activation!r}")
        self.in_features, self.activation = in_features, activation
        sizes = [in_features, *hidden, num_classes]
        # Named fc1, fc2, fc3 as in the lecture, so its state dicts line up.
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            setattr(self, f"fc{i}", nn.Linear(n_in, n_out))
        self.num_layers = len(sizes) - 1

    def forward(self, x):
        x = x.view(-1, self.in_features)
        act = nn.functional.sigmoid if self.activation == "sigmoid" else nn.functional.relu
        for i in range(1, self.num_layers):
            x = act(getattr(self, f"fc{i}")(x))
        return getattr(self, f"fc{self.num_layers}")(x)


def mlp2(**kwargs):
    """The lecture's first MLP: fc1 784 -> 256, sigmoid, fc2 256 -> 10."""
    return MLP(hidden=(256,), **kwargs)


def mlp3(**kwargs):
    """The lecture's second MLP: 784 -> 256 -> 128 -> 10 with sigmoids."""
    return MLP(hidden=(256, 128), **kwargs)
