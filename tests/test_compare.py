"""`gillab compare`: each interpreter in a venv of its own, merged results, one failing interpreter tolerated."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gillab import environment
from gillab.cli.report import refresh_report
from gillab.compare import run as compare_run
from gillab.compare.report import compare_png
from gillab.harness.results import Cell, RunConfig, RunResult

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _run(label: str, walls: dict[tuple[str, int], float]) -> RunResult:
    cells = tuple(
        Cell("fib", impl, "serial", 1, 1, size, status="ok", median_wall_s=wall, interpreter=label)
        for (impl, size), wall in walls.items()
    )
    return RunResult(replace(environment.info(), interpreter=label), RunConfig(), None, cells=cells)


def test_slowdowns_pair_free_threaded_with_gil_builds_of_equal_size() -> None:
    # Which run is free-threaded comes from the interpreter itself, never from its label.
    runs = (
        compare_run.CompareRun("py311", False, False, _run("3.11.7", {("python", 30): 1.0})),
        compare_run.CompareRun(
            "py313t", False, True, _run("3.13.5t", {("python", 30): 1.5, ("cython-nogil", 40): 2.0})
        ),
        compare_run.CompareRun("py313t", True, True, _run("3.13.5t PYTHON_GIL=1", {("python", 30): 1.4})),
        compare_run.CompareRun("odd", False, False, _run("ends-with-t", {("python", 30): 3.0})),
    )
    got = {(s.free_threaded, s.gil_build): s.slowdown for s in compare_run.slowdowns(runs)}
    assert got == {
        ("3.13.5t", "3.11.7"): 1.5,
        ("3.13.5t", "ends-with-t"): 0.5,
        ("3.13.5t PYTHON_GIL=1", "3.11.7"): 1.4,
        ("3.13.5t PYTHON_GIL=1", "ends-with-t"): pytest.approx(1.4 / 3.0),
    }


@pytest.mark.slow
def test_a_broken_interpreter_is_reported_and_the_others_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GILLAB_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    merged = compare_run.compare(
        [sys.executable, str(tmp_path / "no-such-python")],
        ["--impl", "cython-nogil", "--executor", "thread", "--workers", "1,2", "--repeat", "1", "--max-wait", "0.2"],
        "25",
        out,
        progress=lambda _m: None,
    )
    assert len(merged.errors) == 1
    assert "no-such-python" in merged.errors[0]
    assert merged.cells
    label = merged.runs[0].label
    expected = {label, f"{label} PYTHON_GIL=1"} if environment.free_threaded_build() else {label}
    assert {c.interpreter for c in merged.cells} == expected
    assert merged.runs[0].free_threaded is environment.free_threaded_build()
    assert all(c.status == "ok" and c.size == 25 for c in merged.cells)
    data = json.loads((out / "results.json").read_text())
    assert data["kind"] == "compare"
    assert data["schema_version"] == compare_run.COMPARE_SCHEMA_VERSION
    assert compare_run.CompareResult.from_json(data) == merged
    assert compare_png(merged, out / "compare.png")
    refresh_report(out)
    assert "no-such-python" in (out / "report.html").read_text()


def test_a_lab_in_a_compare_folder_keeps_the_comparison_in_the_report(tmp_path: Path, cli: Cli) -> None:
    # A lab refreshes report.html of the folder it writes to; a comparison there is no run result.
    merged = compare_run.CompareResult(
        ("py",), (), None, (compare_run.CompareRun("py", False, False, _run("3.11.7", {("python", 30): 1.0})),)
    )
    (tmp_path / "results.json").write_text(json.dumps(merged.to_json()))
    proc = cli("dis", "fib", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "report.html").read_text()
    assert "gillab compare" in page
    assert "gillab dis" in page
