"""Shared fixtures: the tests run against the installed gillab package."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gillab import environment
from gillab.harness.results import Cell

Cli = Callable[..., subprocess.CompletedProcess[str]]


def run_gillab(*args: str, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run `python -m gillab ARGS` in a child process and return it, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "gillab", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        **kwargs,
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


def _quiet(cell: Cell) -> bool:
    """Whether the cores were free for the cell: no other process took a share (the lab flags cells where one
    did)."""
    return (
        cell.available_cores is not None
        and cell.available_cores >= environment.usable_cores() - 0.2
    )


@pytest.fixture
def quiet() -> Callable[[Cell], bool]:
    """Whether no other process took a core from a cell: CPU figures are asserted of such cells only."""
    return _quiet


def _busiest_quiet_round(cell: Cell) -> float:
    """The most cores any kept, undisturbed round of a cell kept busy at once (0 where none was quiet)."""
    busy = [
        p
        for r in cell.repeats
        if not r.dropped and not r.interference.disturbed and (p := r.parallelism)
    ]
    return max(busy, default=0.0)


@pytest.fixture
def busiest_quiet_round() -> Callable[[Cell], float]:
    """What to assert of a cell that should keep more than one core busy: its busiest quiet round.

    Not its median: a host that slows one vCPU leaves the other core idle at the tail of each round, and CI saw
    a quiet 2-thread nogil cell's median at 1.49. One round at 1.4 is already more than code holding one GIL
    can do (at most 1.1), which is the lesson asserted."""
    return _busiest_quiet_round
