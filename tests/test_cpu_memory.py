"""import tinynn keeps freed CPU memory for reuse (tinynn/cpu_memory.py), so a training
step does not page-fault in the buffers the step before freed."""
import os
import platform
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLIBC = platform.libc_ver()[0] == "glibc"

# A step's pattern: allocate and fill arrays, then free them all. After two warm-up
# rounds, print the minor page faults of five more rounds. glibc's defaults trim the freed
# top of the heap and unmap blocks of 32 MB and more, so every round faults them in again.
FAULTS_OF_REUSED_BUFFERS = """
import resource, numpy
{setup}
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def step():
    arrays = [numpy.ones({size}, numpy.float32) for _ in range({count})]
    del arrays
step(); step()
before = faults()
for _ in range(5):
    step()
print(faults() - before)
"""


def faults_of_reused_buffers(setup, size=1 << 18, count=16, **env):
    code = FAULTS_OF_REUSED_BUFFERS.format(setup=setup, size=size, count=count)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, **env}, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's; elsewhere import tinynn leaves malloc alone")
def test_import_keeps_freed_buffers_for_the_next_step():
    without = faults_of_reused_buffers("", TINYNN_KEEP_FREED_MEMORY="1")
    with_tinynn = faults_of_reused_buffers("import tinynn", TINYNN_KEEP_FREED_MEMORY="1")
    assert without >= 5 * 3000          # each round faults its 4,096 pages in again
    assert with_tinynn < 100            # the freed pages are reused


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_blocks_beyond_glibcs_mapping_threshold_are_reused_too():
    # 48 MB arrays (ResNet width 64's im2col columns are 115 MB): with huge pages a fault
    # brings in 2 MB, so count relative to glibc's defaults.
    args = dict(size=12 << 20, count=2)
    without = faults_of_reused_buffers("", TINYNN_KEEP_FREED_MEMORY="0", **args)
    with_tinynn = faults_of_reused_buffers("import tinynn", TINYNN_KEEP_FREED_MEMORY="1", **args)
    assert without >= 5 * 2 * 20 and with_tinynn < without / 10


@pytest.mark.skipif(not GLIBC, reason="glibc only")
@pytest.mark.parametrize("env", [{"TINYNN_KEEP_FREED_MEMORY": "0"},
                                 {"MALLOC_TRIM_THRESHOLD_": str(128 << 10)},
                                 {"MALLOC_MMAP_MAX_": "65536"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"}])
def test_the_environment_can_keep_glibc_defaults(env):
    assert faults_of_reused_buffers("import tinynn", **env) >= 5 * 3000


def test_keep_freed_cpu_memory_is_still_callable():
    import tinynn
    assert tinynn.backend.keep_freed_cpu_memory(256 << 20) in (True, False)
    assert tinynn.backend.keep_freed_cpu_memory(1 << 30) is (GLIBC or False)
