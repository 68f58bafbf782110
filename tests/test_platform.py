"""What differs between the OSes: process workers started by spawn (the default on macOS and Windows), run on
Linux too through $GILLAB_START_METHOD (docs/platforms.md)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import pytest

from gillab.errors import UsageError
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


def test_portable_turns_off_every_proc_reader_and_reads_cpu_through_psutil(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gillab import environment
    from gillab.harness import instruments, interference

    monkeypatch.setenv(environment.PLATFORM, "portable")
    assert environment.linux_readers_off() == "$GILLAB_PLATFORM=portable"
    snap = interference.snapshot()  # other processes' CPU from psutil, as on macOS and Windows
    assert snap is not None
    assert snap.resolution_s >= interference.PSUTIL_RESOLUTION_S
    assert not instruments.has_proc()
    burn = sum(i * i for i in range(300_000))  # some CPU time of this process's own
    assert burn > 0
    assert instruments._process_cpu_s(os.getpid()) > 0  # psutil's, where /proc is not read
    monkeypatch.setenv(environment.PLATFORM, "elsewhere")
    with pytest.raises(UsageError, match="GILLAB_PLATFORM must be portable"):
        environment.linux_readers_off()


def test_a_run_says_once_what_this_platform_could_not_measure() -> None:
    from dataclasses import replace

    from gillab.harness.results import Cell
    from gillab.outputs.findings import unmeasured_note

    cell = Cell("fib", "python", "thread", 2, 4, 20, status="ok")
    result = _result((replace(cell, thread_states_note="thread states not sampled (no /proc)"),))
    assert unmeasured_note(result) == " Not measured here (no /proc): thread states."
    assert unmeasured_note(_result((cell,))) == ""


def _result(cells: tuple[object, ...]):  # type: ignore[no-untyped-def]
    from gillab import environment
    from gillab.harness.results import RunConfig, RunResult

    return RunResult(environment.info(), RunConfig(), None, cells=cells)  # type: ignore[arg-type]
