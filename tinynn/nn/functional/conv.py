"""Convolution and pooling functions: ``F.conv2d``, ``F.max_pool2d``, ... (kernels in ``tinynn.ops``)."""
from ...ops.conv import conv2d
from ...ops.pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d"]
