"""Shared pytest setup: make the repo importable and seed every test."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinynn  # noqa: E402


# TINYNN_RECORD_CUPY_API=path: record the CuPy API tinynn uses on the stand-in (tests/fake_cupy.py).
if os.environ.get("TINYNN_RECORD_CUPY_API"):  # absolute, for subprocesses started elsewhere
    os.environ["TINYNN_RECORD_CUPY_API"] = os.path.abspath(os.environ["TINYNN_RECORD_CUPY_API"])


def pytest_sessionfinish(session):
    """Merge what was recorded into $TINYNN_RECORD_CUPY_API (tests/test_cupy_api.py reads it)."""
    if "fake_cupy" in sys.modules:
        sys.modules["fake_cupy"].save_recording()


@pytest.fixture(autouse=True)
def _seed():
    tinynn.manual_seed(0)
    yield


# ---------------------------------------------------------------------------- backends

def _backend_params():
    """"cpu" always; "cuda" on a machine where CuPy finds a GPU, else the NumPy stand-in."""
    if tinynn.cuda.is_available():
        return ["cpu", "cuda"]
    return ["cpu", "fake-cuda"]


@pytest.fixture(params=_backend_params())
def device(request, monkeypatch):
    """A ``tinynn.device`` to run the test on, once per available backend.

    "fake-cuda" installs ``fake_cupy`` (CuPy's behaviour on NumPy: no implicit conversion
    to NumPy, no mixing with host arrays) as tinynn's GPU backend for this test only, so
    the CuPy code path is exercised where there is no GPU. The test sees ``cuda``.
    """
    if request.param == "fake-cuda":
        import fake_cupy
        from tinynn import backend
        monkeypatch.setattr(backend, "_gpu", fake_cupy.make_backend())
        monkeypatch.setattr(backend, "_gpu_error", None)
        tinynn.manual_seed(0)  # seed the fake GPU stream too
        return tinynn.device("cuda")
    return tinynn.device(request.param)
