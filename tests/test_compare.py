"""`gillab compare`: each interpreter in a venv of its own, merged results, one failing interpreter tolerated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gillab import environment
from gillab.compare import run as compare_run


def test_slowdowns_pair_free_threaded_with_gil_builds_of_equal_size() -> None:
    def cell(interp: str, impl: str, wall: float, size: int = 30) -> dict[str, object]:
        return {
            "interpreter": interp,
            "impl": impl,
            "executor": "serial",
            "status": "ok",
            "size": size,
            "median_wall_s": wall,
        }

    cells = [
        cell("3.11.7", "python", 1.0),
        cell("3.13.5t", "python", 1.5),
        cell("3.13.5t PYTHON_GIL=1", "python", 1.4),
        cell("3.13.5t", "cython-nogil", 2.0, size=40),
    ]
    assert compare_run.slowdowns(cells) == [
        {"impl": "python", "free_threaded": "3.13.5t", "gil_build": "3.11.7", "slowdown": 1.5}
    ]


def test_a_broken_interpreter_is_reported_and_the_others_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GILLAB_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    merged = compare_run.compare(
        [sys.executable, str(tmp_path / "no-such-python")],
        ["--impl", "cython-nogil", "--executor", "thread", "--workers", "1,2", "--repeat", "1"],
        "25",
        out,
        progress=lambda _m: None,
    )
    assert len(merged["errors"]) == 1
    assert "no-such-python" in merged["errors"][0]
    assert merged["cells"]
    label = merged["environment"]["interpreter"]
    expected = {label, f"{label} PYTHON_GIL=1"} if environment.free_threaded_build() else {label}
    assert {c["interpreter"] for c in merged["cells"]} == expected
    assert all(c["status"] == "ok" and c["size"] == 25 for c in merged["cells"])
    data = json.loads((out / "results.json").read_text())
    assert data["schema_version"] == 2
    assert compare_run.compare_png(merged, out / "compare.png")
    compare_run.compare_report(merged, out)
    assert "no-such-python" in (out / "report.html").read_text()
