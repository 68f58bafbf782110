"""What differs between the OSes: process workers started by spawn (the default on macOS and Windows), run on
Linux too through $GILLAB_START_METHOD (docs/platforms.md)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest

from gillab.harness.executors.local import START_METHOD, mp_context
from gillab.harness.rounds import measure_cell

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_a_start_method_this_os_lacks_is_one_line_and_exit_2(cli: Cli) -> None:
    got = cli("info", env={**os.environ, START_METHOD: "teleport"})
    assert got.returncode == 2
    assert got.stderr.strip().count("\n") == 0
    assert "$GILLAB_START_METHOD must be one of" in got.stderr
    assert "Traceback" not in got.stderr


def test_process_workers_started_by_spawn_run_their_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_METHOD, "spawn")
    assert mp_context().get_start_method() == "spawn"
    cell = measure_cell("fib", "python", "process", 2, tasks=2, size=15, repeat=1)
    assert cell.status == "ok", cell.reason  # its workers imported what they run without a fork
    assert cell.median_wall_s is not None
