"""`gillab compare`: each interpreter in a venv of its own, merged results, one failing interpreter tolerated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gillab import environment
from gillab.compare import findings
from gillab.compare.report import compare_png
from gillab.harness.pythons import cost
from gillab.harness.pythons import run as compare_run
from gillab.harness.results import Cell, RunConfig, RunResult
from gillab.interpreters import default_pythons
from gillab.kinds import refresh_report

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _run(label: str, walls: dict[tuple[str, int], float]) -> RunResult:
    cells = tuple(
        Cell("fib", impl, "serial", 1, 1, size, status="ok", median_wall_s=wall, interpreter=label)
        for (impl, size), wall in walls.items()
    )
    return RunResult(replace(environment.info(), interpreter=label), RunConfig(), None, cells=cells)


def _build(label: str, version: str, ft: bool) -> cost.Build:
    return cost.Build(label, Path(sys.executable), version, ft, dict(os.environ))


def test_each_free_threaded_build_is_set_against_its_own_gil_build_else_the_newest() -> None:
    b311, b314 = _build("3.11.7", "3.11.7", False), _build("3.14.7", "3.14.7", False)
    t313, t314 = _build("3.13.5t", "3.13.5", True), _build("3.14.7t", "3.14.7", True)
    assert cost.pair(t314, [b311, b314]) == (b314, cost.SAME_MINOR)
    base, how = cost.pair(t313, [b311, b314]) or (None, "")
    assert base == b314
    assert "newest GIL build" in how
    assert "3.13" in how
    assert cost.pair(t314, []) is None


def test_the_cost_is_the_median_of_ratios_taken_in_the_same_round() -> None:
    builds = [_build("3.14.7", "3.14.7", False), _build("3.14.7t", "3.14.7", True)]
    rounds = [
        cost.SerialRounds(
            "3.14.7", "python", (1.0, 2.0, 1.0)
        ),  # the machine slowed down in round 2 ...
        cost.SerialRounds("3.14.7t", "python", (1.1, 2.2, 1.1)),  # ... for both: the ratio holds
    ]
    (c,) = cost.costs(builds, rounds)
    assert c.ratio == pytest.approx(1.1)
    assert c.ci95 == pytest.approx((1.1, 1.1))
    assert c.rounds == 3
    assert (c.free_threaded, c.gil_build, c.paired_by) == ("3.14.7t", "3.14.7", cost.SAME_MINOR)


def test_cost_rounds_run_each_build_in_a_child_and_keep_what_they_measured() -> None:
    builds = [_build("gil", "3.14.7", False), _build("ft", "3.14.7", True)]
    serial, errors = cost.run_rounds(builds, "fib", {"python": 15, "cython-nogil": 20}, rounds=2)
    assert errors == []
    assert {(s.label, s.impl) for s in serial} == {
        (b.label, i) for b in builds for i in ("python", "cython-nogil")
    }
    assert all(len(s.walls_s) == 2 and all(w > 0 for w in s.walls_s) for s in serial)
    got = cost.costs(builds, serial)
    assert {c.impl for c in got} == {"python", "cython-nogil"}
    assert all(c.ci95[0] <= c.ratio <= c.ci95[1] for c in got)


def test_an_impl_a_build_cannot_run_is_named_and_the_rest_measured() -> None:
    serial, errors = cost.run_rounds(
        [_build("gil", "3.14.7", False)], "fib", {"python": 15, "nope": 3}, rounds=1
    )
    assert [s.impl for s in serial] == ["python"]
    assert len(errors) == 1
    assert "nope" in errors[0]
    assert "\n" not in errors[0]


def test_what_changed_from_one_free_threaded_build_to_the_next_is_said_from_the_figures() -> None:
    def st(ft: str, base: str, ratio: float) -> cost.SingleThreadCost:
        return cost.SingleThreadCost(
            "python",
            ft,
            base,
            cost.SAME_MINOR,
            ratio,
            (ratio - 0.05, ratio + 0.05),
            7,
            ratio * 0.06,
            0.06,
        )

    merged = compare_run.CompareResult(
        ("a", "b"),
        (),
        None,
        single_thread=(
            st("3.13.5t", "3.13.5", 2.1),
            st("3.14.7t", "3.14.7", 1.09),
            st("3.14.7t PYTHON_GIL=1", "3.14.7", 1.1),
        ),
    )
    (line,) = findings.changes(merged)
    assert line.startswith(
        "From 3.13.5t to 3.14.7t, python's single-thread cost of free threading went from 2.10×"
    )
    assert "to 1.09× [1.04-1.14]" in line
    assert len(findings.lines(merged)) == 4


def test_the_default_interpreters_are_this_one_and_todays_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GILLAB_CACHE", str(tmp_path))
    found, missing = default_pythons(with_313t=False)
    assert found == [sys.executable]
    assert len(missing) == 2
    assert all("scripts/build-python.sh" in m for m in missing)
    fake = tmp_path / "python3.14t" / "bin" / "python3.14t"
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    found, missing = default_pythons(with_313t=True)
    assert found == [sys.executable, str(fake)]
    assert [m.split()[0] for m in missing] == ["python3.14", "python3.13t"]


@pytest.mark.slow
def test_a_broken_interpreter_is_reported_and_the_others_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GILLAB_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    merged = compare_run.compare(
        [sys.executable, str(tmp_path / "no-such-python")],
        [
            "--impl",
            "cython-nogil",
            "--executor",
            "thread",
            "--workers",
            "1,2",
            "--repeat",
            "1",
            "--max-wait",
            "0.2",
        ],
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


def test_a_lab_in_a_compare_folder_keeps_the_comparison_in_the_report(
    tmp_path: Path, cli: Cli
) -> None:
    # A lab refreshes report.html of the folder it writes to; a comparison there is no run result.
    merged = compare_run.CompareResult(
        ("py",),
        (),
        None,
        (compare_run.CompareRun("py", False, False, _run("3.11.7", {("python", 30): 1.0})),),
    )
    (tmp_path / "results.json").write_text(json.dumps(merged.to_json()))
    proc = cli("dis", "fib", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "report.html").read_text()
    assert "gillab compare" in page
    assert "gillab dis" in page
