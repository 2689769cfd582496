"""``tinynn.nn.parallel``: data-parallel training (``torch.nn.parallel``).

    import tinynn.distributed as dist
    from tinynn.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")          # under: mpiexec -n 2 python train.py
    model = DDP(model)                      # gradients averaged over the ranks in backward()
"""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
