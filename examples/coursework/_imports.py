"""The import lines of the coursework programs: tinynn by default, PyTorch with FRAMEWORK=torch.

Each program below is written once, as a student writes it for PyTorch; only these lines
differ between the two frameworks, which is the point: ``FRAMEWORK=torch python
examples/coursework/xor.py`` runs the very same code on PyTorch for comparison.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

if os.environ.get("FRAMEWORK") == "torch":
    import torch  # noqa: F401
    import torch.nn as nn  # noqa: F401
    import torch.nn.functional as F  # noqa: F401
    import torch.optim as optim  # noqa: F401
    import torchvision  # noqa: F401
    from torch.utils.data import DataLoader, SubsetRandomSampler, TensorDataset  # noqa: F401
else:
    import tinynn as torch  # noqa: F401
    import tinynn.nn as nn  # noqa: F401
    import tinynn.nn.functional as F  # noqa: F401
    import tinynn.optim as optim  # noqa: F401
    import tinynn.vision as torchvision  # noqa: F401
    from tinynn.utils.data import DataLoader, SubsetRandomSampler, TensorDataset  # noqa: F401
