"""Run an example script as its own program, with MNIST served from a local folder.

    python tests/run_example.py MIRROR_DIR examples/train_cnn.py --epochs 1 ...

``MIRROR_DIR`` holds the four MNIST ``.gz`` files (small generated ones). MNIST's pinned
checksums become theirs and its only source is that folder (``file://``), with no PyPI
fallback: the example runs unchanged, on its real flags, and never touches the network.
``EXAMPLE_FETCH_DELAY`` (seconds before every read of a file but its first) stalls each
"download" after its first chunk, so a test can kill the run in the middle of a file
without racing the download's end; ``EXAMPLE_MIRROR_DOWN=1`` makes the source a
folder that does not exist, so every download fails.
"""
import gzip
import hashlib
import os
import runpy
import sys
import time


def point_mnist_at(mirror):
    from tinynn.datasets import MNIST
    from tinynn.datasets import download as dl
    resources = []
    for resource in dl.MNIST_RESOURCES:
        with open(os.path.join(mirror, resource.filename), "rb") as f:
            packed = f.read()
        resources.append(dl.Resource(resource.filename, hashlib.md5(packed).hexdigest(),
                                     hashlib.sha256(gzip.decompress(packed)).hexdigest()))
    MNIST.resources = resources
    MNIST.mirrors = ["file://" + os.path.abspath(mirror) + "/"]
    if os.environ.get("EXAMPLE_MIRROR_DOWN"):
        MNIST.mirrors = ["file://" + os.path.abspath(mirror) + "-down/"]
    MNIST.fallback = None
    delay = float(os.environ.get("EXAMPLE_FETCH_DELAY", "0"))
    if delay:
        MNIST.fetch = staticmethod(slow_fetch(delay))


def slow_fetch(delay):
    from tinynn.datasets.download import urlopen_fetch

    class Slow:
        def __init__(self, stream):
            self.stream, self.started = stream, False

        def read(self, n=-1):
            if self.started:
                time.sleep(delay)
            self.started = True
            return self.stream.read(n)

        def close(self):
            self.stream.close()

    def fetch(url):
        stream, total = urlopen_fetch(url)
        return Slow(stream), total
    return fetch


if __name__ == "__main__":
    mirror, script, *args = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # as if the script were run itself
    # this checkout's tinynn, as the example's own common.py would pick, not an installed one
    sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    point_mnist_at(mirror)
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")
