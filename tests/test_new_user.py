"""What a new user hit, each now behaviour that holds: no overwritten results, no stale pictures, no
traceback for a closed pipe, runaway input refused before any work, files that follow the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab import _native, environment
from gillab.cli import main
from gillab.harness.results import Cell, RunConfig, RunResult

Cli = Callable[..., subprocess.CompletedProcess[str]]

SMALL = [
    *(
        "--impl",
        "cython-nogil",
        "--executor",
        "thread",
        "--workers",
        "2",
        "--size",
        "20",
        "--repeat",
        "2",
    ),
    *("--max-wait", "0.2"),
]


@pytest.mark.slow
def test_a_second_run_never_overwrites_the_first_without_force(tmp_path: Path, cli: Cli) -> None:
    first = cli("run", *SMALL, "--out", str(tmp_path))
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "results.json").read_text()
    again = cli("run", *SMALL, "--out", str(tmp_path))
    assert again.returncode == 2
    assert "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert (tmp_path / "results.json").read_text() == before
    forced = cli("run", *SMALL, "--out", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "results.json").read_text() != before


def test_a_run_that_measures_nothing_exits_1_and_shows_no_old_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *SMALL, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "speedup.png").exists()
    capsys.readouterr()
    monkeypatch.setitem(_native.NATIVE_MODULES, "cython-nogil", "gillab._no_such_module")
    assert main(["run", *SMALL, "--out", str(tmp_path), "--force"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        "gillab run: no cell was measured: the cython-nogil variant is not built"
    )
    assert not (tmp_path / "speedup.png").exists()
    assert not (tmp_path / "timeline.png").exists()
    assert "data:image/png" not in (tmp_path / "report.html").read_text()
    data = json.loads((tmp_path / "results.json").read_text())
    assert {c["status"] for c in data["cells"]} == {"skipped"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workload", "sumsq", "--size", "10000000000"], "would take at least"),
        (["--workload", "counter", "--size", "99999999999"], "would take at least"),
        (["--workers", "100000"], "above the limit of"),
        (["--repeat", "1000000"], "could take up to"),
        (["--workers", "1,,2"], "no empty item"),
        (["--repeat", "1,2"], "a whole number above 0"),
        (["--min-repeat", "5", "--repeat", "3"], "above --repeat"),
    ],
)
def test_runaway_input_is_refused_before_any_work(
    args: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    t0 = time.monotonic()
    proc = cli("run", *args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert time.monotonic() - t0 < 60  # refused from an estimate, not after hours
    assert not (tmp_path / "o" / "results.json").exists()


def test_a_closed_pipe_costs_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        f"{sys.executable} -m gillab dis counter --out {tmp_path} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert "BrokenPipeError" not in proc.stderr
    assert (tmp_path / "dis.json").exists()  # written before anything was printed


def test_version(cli: Cli) -> None:
    proc = cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("gillab ")


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    proc = subprocess.run(
        f"umask 022 && {sys.executable} -m gillab dis fib --out {tmp_path} --json {tmp_path / 'copy.json'}",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("dis.json", "copy.json", "report.html"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o644, name


def test_help_lists_the_valid_impls_and_variants(cli: Cli) -> None:
    run_help = cli("run", "--help").stdout
    assert "python-rcw" in run_help
    assert "numpy" in run_help
    race_help = cli("race", "--help").stdout
    assert "cython-atomic" in race_help


def _result(speedups: dict[tuple[str, int], tuple[float, float, float]]) -> dict[str, object]:
    cells = [
        Cell("fib", impl, "thread", w, w, 30, status="ok", speedup=s, speedup_ci95=(lo, hi))
        for (impl, w), (s, lo, hi) in speedups.items()
    ]
    return RunResult(environment.info(), RunConfig(), None, cells=tuple(cells)).to_json()


def test_diff_pairs_cells_and_says_when_a_change_is_within_the_noise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b"
    b.mkdir()
    a.write_text(
        json.dumps(
            _result({("python", 2): (0.98, 0.9, 1.05), ("cython-nogil", 2): (1.5, 1.45, 1.55)})
        )
    )
    (b / "results.json").write_text(
        json.dumps(
            _result({("python", 2): (1.01, 0.95, 1.08), ("cython-nogil", 2): (1.9, 1.85, 1.95)})
        )
    )
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    python = next(line for line in out if " python " in line)
    nogil = next(line for line in out if " cython-nogil " in line)
    assert "no significant change" in python
    assert "B scales better" in nogil
    assert "1.27" in nogil  # 1.9 / 1.5


def test_diff_refuses_what_is_not_a_run_in_one_line(tmp_path: Path, cli: Cli) -> None:
    proc = cli("diff", str(tmp_path / "nope.json"), str(tmp_path / "nope2.json"))
    assert proc.returncode == 2
    assert "No such file" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_blas_pools_are_pinned_while_measuring_and_the_run_says_so() -> None:
    from gillab.harness.results import RunConfig
    from gillab.harness.runner import run_matrix

    cfg = RunConfig(
        workload="sumsq",
        impls=("numpy",),
        executors=("thread",),
        workers=(2,),
        tasks=2,
        sizes={"numpy": 200_000},
        repeat=1,
        min_repeat=1,
        max_wait_s=0.2,
    )
    result = run_matrix(cfg, None)
    pools = result.environment.threadpools
    assert pools is not None
    assert "pinned to 1 thread" in (result.environment.threadpools_note or "")
    assert all(p.threads == 1 for p in pools), pools
    serial = next(c for c in result.cells if c.executor == "serial")
    assert serial.ok, serial.reason


def test_annotate_says_what_the_gil_build_runs_without_the_gil() -> None:
    from gillab.labs import annotate

    clean = annotate.Build("x.html", 10, ())
    assert annotate.sentence("nogil", 23, clean) == (
        "nogil build: of the 23 lines that run without the GIL, none touch Python"
    )
    gil = annotate.sentence("gil", 23, clean)
    assert gil.startswith("gil build: nothing runs without the GIL here")
    assert "of the 23 lines that run without the GIL" not in gil
