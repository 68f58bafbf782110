"""Rounds where the doubt is: after a run's own rounds, rounds are added to the cells still unsteady, each with
its serial baseline, within the run's --settle seconds; a steady cell gets none (asserted of which cells got
rounds and how they are recorded and said, never of how much they narrowed)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab.harness import rounds
from gillab.harness.results import SCHEMA_VERSION, Cell, RepeatRecord, RunConfig, RunResult
from gillab.harness.runner import run_matrix
from gillab.outputs.findings import machine_note

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _config(**kw: object) -> RunConfig:
    base: dict[str, object] = {
        "workload": "fib",
        "impls": ("cython-nogil",),
        "executors": ("thread",),
        "workers": (1, 2),
        "tasks": 4,
        "sizes": {"cython-nogil": 25},
        "repeat": 3,
        "min_repeat": 3,
        "max_wait_s": 0.0,
    }
    return RunConfig(**(base | kw))  # type: ignore[arg-type]


def _kept(c: Cell) -> list[RepeatRecord]:
    return [r for r in c.repeats if not r.dropped]


@pytest.mark.slow
def test_rounds_are_added_to_the_unsteady_cell_and_its_baseline_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # which cell is unsteady is the machine's to say: here the 2-thread cell is made to stay unsteady, so that
    # the rounds go on until the budget is spent
    monkeypatch.setattr(rounds, "wants_rounds", lambda c: c.ok and c.workers == 2)
    result = run_matrix(_config(settle_s=5.0), tmp_path)
    by = {(c.executor, c.workers): c for c in result.cells}
    two, one, serial = by["thread", 2], by["thread", 1], by["serial", 1]
    assert two.rounds_added >= 1
    assert two.rounds == 3 + two.rounds_added
    assert one.rounds_added == 0 and one.rounds == 3  # noqa: PT018
    assert serial.rounds == two.rounds  # every added round pairs the cell with its baseline
    assert serial.rounds_added == two.rounds_added
    assert {r.round for r in _kept(serial)} == {r.round for r in _kept(two)}
    assert result.settle_spent_s > 0
    assert f"It added {two.rounds_added} round" in machine_note(result)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["schema_version"] == SCHEMA_VERSION  # 8 added settle_spent_s; 9 keeps it
    assert RunResult.from_json(saved).settle_spent_s == result.settle_spent_s


@pytest.mark.slow
def test_no_round_is_added_where_settle_is_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rounds, "wants_rounds", lambda c: c.ok)
    result = run_matrix(_config(settle_s=0.0, workers=(2,)), None)
    assert all(c.rounds_added == 0 and c.rounds == 3 for c in result.cells if c.ok)
    assert result.settle_spent_s == 0.0
    assert "It added" not in machine_note(result)


def test_an_older_file_reads_with_no_round_added() -> None:
    data = json.loads((Path(__file__).parent / "golden" / "diff-a.json").read_text())
    assert data["schema_version"] < 8
    run = RunResult.from_json(data)
    assert run.settle_spent_s == 0.0
    assert all(c.rounds_added == 0 for c in run.cells)


def test_settle_below_0_is_refused_in_one_line(cli: Cli) -> None:
    done = cli("run", "--settle", "-1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--settle" in lines[0]  # noqa: PT018
