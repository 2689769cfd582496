"""Normalisation functions: ``F.batch_norm``, ``F.layer_norm``, ``F.group_norm``,
``F.instance_norm`` (kernels in ``tinynn/ops/batchnorm.py`` and ``tinynn/ops/normalization.py``)."""
from ...ops.batchnorm import batch_norm
from ...ops.normalization import group_norm, instance_norm, layer_norm

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]
