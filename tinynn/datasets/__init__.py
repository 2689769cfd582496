"""Datasets: MNIST and Fashion-MNIST (torchvision's layout), IDX files, downloads."""
from .download import DatasetError, DownloadError
from .idx import IDXError, read_idx, write_idx
from .mnist import MNIST, DatasetNotFoundError, FashionMNIST

__all__ = ["MNIST", "FashionMNIST", "DatasetError", "DatasetNotFoundError", "DownloadError",
           "IDXError", "read_idx", "write_idx"]
