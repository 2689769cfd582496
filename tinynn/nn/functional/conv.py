"""Convolution and pooling functions: ``F.conv2d``, ``F.max_pool2d``, ... (kernels in ``tinynn.ops``)."""
from ...ops.conv import conv2d
from ...ops.conv1d import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d,
                           conv_transpose1d, max_pool1d)
from ...ops.conv_transpose import conv_transpose2d
from ...ops.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d"]
