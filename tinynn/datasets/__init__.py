"""Datasets, as torchvision's: MNIST, FashionMNIST, KMNIST (IDX files), CIFAR10 and
CIFAR100 (pickled batches in a tar.gz), FakeData; downloads, IDX files, safe extraction."""
from .archive import ArchiveError
from .cifar import CIFAR10, CIFAR100
from .download import DatasetError, DownloadError
from .fake import FakeData
from .idx import IDXError, read_idx, write_idx
from .mnist import KMNIST, MNIST, DatasetNotFoundError, FashionMNIST
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "CIFAR10", "CIFAR100", "FakeData",
           "VisionDataset", "DatasetError", "DatasetNotFoundError", "DownloadError",
           "ArchiveError", "IDXError", "read_idx", "write_idx"]
