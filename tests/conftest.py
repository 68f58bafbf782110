"""Shared fixtures: the tests run against the installed gillab package."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


def run_gillab(*args: str, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `python -m gillab ARGS` in a child process and return it, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "gillab", *args], capture_output=True, text=True, check=False, timeout=timeout, **kwargs
    )


@pytest.fixture
def cli() -> Cli:
    """The gillab command line, run as a user runs it: `cli("run", "--workers", "2")`."""
    return run_gillab


@pytest.fixture
def switch_interval() -> Iterator[None]:
    """Restore sys.getswitchinterval() after a test that changes it."""
    old = sys.getswitchinterval()
    yield
    sys.setswitchinterval(old)
