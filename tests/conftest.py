"""Shared fixtures: the tests run against the installed gillab package."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

NATIVE = ("cython-gil", "cython-nogil")


@pytest.fixture
def switch_interval() -> Iterator[None]:
    """Restore sys.getswitchinterval() after a test that changes it."""
    old = sys.getswitchinterval()
    yield
    sys.setswitchinterval(old)
