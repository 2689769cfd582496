"""Shared pytest setup: make the repo importable and seed every test."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinynn  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    tinynn.manual_seed(0)
    yield
