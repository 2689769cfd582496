"""A rank that fails while the others wait in a collective; tests/test_distributed.py runs

    mpiexec -n 2 python tests/distributed/faults.py raise|exit

and checks that every rank stops, soon, with a message that says why.

raise: rank 1 raises in the middle of training; the excepthook installed by
       init_process_group prints the traceback and calls MPI_Abort.
exit:  rank 1 leaves with sys.exit(0) (no exception to see); rank 0 waits in its next
       allreduce until the watchdog's timeout (2 s here) aborts every rank.
"""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tinynn  # noqa: E402
import tinynn.distributed as dist  # noqa: E402
import tinynn.nn as nn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402
from tinynn.nn.parallel import DistributedDataParallel  # noqa: E402

mode = sys.argv[1]
# The watchdog's timeout is short only where it is what must stop the ranks ("exit"); with
# "raise" a slow machine must not let it fire before the excepthook has said why.
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=2 if mode == "exit" else 60))
model = DistributedDataParallel(nn.Linear(4, 2))
for step in range(1000):
    if dist.get_rank() == 1 and step == 2:
        if mode == "raise":
            raise ValueError("rank 1 failed on purpose at step 2")
        sys.exit(0)
    F.cross_entropy(model(tinynn.randn(8, 4)), tinynn.zeros(8, dtype=tinynn.int64)).backward()
print("rank", dist.get_rank(), "finished: the fault was not noticed")
