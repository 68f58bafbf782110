"""One view per result: the terminal, report.html, the notebook and `gillab show` render the same View.

A folder is filled once by the commands a learner runs (small sizes); every kind found in it is then read
back from its JSON and rendered in every medium, which must give the same lesson sentences and the same
table columns, and no terminal line wider than 100 columns.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gillab import kinds
from gillab.advice import course
from gillab.advice.model import Advice, Option
from gillab.advice.report import view as advise_view
from gillab.compare import report as compare_report
from gillab.harness import results
from gillab.harness.executors import Family
from gillab.harness.pythons.run import CompareResult, CompareRun
from gillab.harness.results import read_json
from gillab.kinds import refresh_report
from gillab.notebook import display
from gillab.outputs import columns
from gillab.outputs.documents import figures, write_document
from gillab.outputs.findings import lesson
from gillab.present import page, terminal
from gillab.present.view import Doubt, Table, View

WIDTH = 100
COMMANDS = {
    "dis": ["dis", "counter"],
    "race": ["race", "--variant", "python,python-lock", "-k", "2000", "--repeat", "2"],
    "io": ["io", "--concurrency", "1,2", "--requests", "4", "--delay", "0.001", "--sleep"],
    "states": ["states"],
    "run": [
        "run",
        "--impl",
        "python,cython-nogil",
        "--executor",
        "serial,thread",
        "--workers",
        "2",
        "--size",
        "python=20,cython-nogil=30",
        "--repeat",
        "2",
        "--max-wait",
        "0.2",
    ],
    "check": [
        "check",
        "zlib:compress",
        "--setup",
        "data = bytes(1 << 16)",
        "--threads",
        "1,2",
        "--duration",
        "0.1",
        "--safety-time",
        "0.2",
    ],
}
"""One small run of each command whose result a folder keeps (check: a few seconds)."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A folder holding one result of each kind above, and what each command printed."""
    out = tmp_path_factory.mktemp("views")
    printed = {}
    for name, args in COMMANDS.items():
        proc = run_gillab(*args, "--out", str(out))
        assert proc.returncode == 0, (name, proc.stderr)
        printed[name] = proc.stdout
    return out, printed


def run_gillab(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m gillab ARGS`, as a user runs it (the module's fixture outlives the `cli` fixture)."""
    return subprocess.run(
        [sys.executable, "-m", "gillab", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _plain(text: str) -> str:
    """Text with whitespace collapsed: a wrapped sentence reads as one line again."""
    return re.sub(r"\s+", " ", text)


DOCUMENTS = sorted(set(COMMANDS) - {"run"})


def _same_everywhere(view: View, media: dict[str, str], terminals: dict[str, str]) -> None:
    """Every lesson sentence in every medium; every table's columns on the pages, its header in the terminals."""
    assert view.lesson, f"{view.title} has no lesson"
    for sentence in view.lesson:
        for medium, text in {**media, **terminals}.items():
            assert _plain(sentence) in text, f"{view.title}: {medium} lacks the lesson {sentence!r}"
    for table in view.tables:
        for column in table.columns:
            for medium, text in media.items():
                assert column in text, f"{view.title}: {medium} lacks the column {column!r}"
        header = _plain(terminal.table_lines(table)[0])
        for medium, text in terminals.items():
            assert header in text, f"{view.title}: {medium} lacks the table's header"


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_medium_shows_the_same_lesson_and_columns(
    name: str, folder: tuple[Path, dict[str, str]]
) -> None:
    out, printed = folder
    kind = next(k for k in kinds.DOCUMENTS if k.name == name)
    result = kind.load(figures(read_json(out / f"{name}.json")))
    display.register()
    media = {
        "report": _plain(html.unescape((out / "report.html").read_text())),
        "notebook": _plain(html.unescape(display.view_html(result))),
    }
    terminals = {
        "command": _plain(printed[name]),
        "show": _plain(run_gillab("show", str(out / f"{name}.json")).stdout),
    }
    _same_everywhere(kind.view(result), media, terminals)


@pytest.mark.slow
def test_a_run_shows_the_same_lesson_and_short_table_everywhere(
    folder: tuple[Path, dict[str, str]],
) -> None:
    out, printed = folder
    result = results.load(out / "results.json")
    display.register()
    media = {
        "report": _plain(html.unescape((out / "report.html").read_text())),
        "notebook": _plain(html.unescape(display.run_html(result))),
    }
    terminals = {
        "command": _plain(printed["run"]),
        "show": _plain(run_gillab("show", str(out / "results.json")).stdout),
    }
    short = columns.table(columns.short_cells(result), columns.SHORT)
    _same_everywhere(
        View("gillab run", lesson=tuple(lesson(result)), tables=(short,)), media, terminals
    )


@pytest.mark.slow
def test_a_comparison_shows_the_same_lesson_and_table_everywhere(
    folder: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    out, _ = folder
    run = results.load(out / "results.json")
    merged = CompareResult(("a", "b"), (), None, (CompareRun("a", False, False, run),))
    (tmp_path / "results.json").write_text(json.dumps(merged.to_json()))
    refresh_report(tmp_path, comparison=merged)
    display.register()
    media = {
        "report": _plain(html.unescape((tmp_path / "report.html").read_text())),
        "notebook": _plain(html.unescape(display.compare_html(merged))),
    }
    terminals = {"show": _plain(run_gillab("show", str(tmp_path)).stdout)}
    _same_everywhere(compare_report.view(merged), media, terminals)


def _advice(target: str, workers: int) -> Advice:
    def option(executor: str, family: Family, n: int, speedup: float) -> Option:
        ci = (speedup - 0.1, speedup + 0.1)
        return Option(
            "3.11.7", executor, n, family, "ok", speedup=speedup, ci95=ci, cores_busy=speedup
        )

    return Advice(
        target=target,
        interpreter="3.11.7",
        gil_enabled=True,
        serial_task_s=0.01,
        serial_cores_busy=1.0,
        serial_gil_held=1.0,
        options=(
            option("serial", Family.SERIAL, 1, 1.0),
            option("thread", Family.THREADS, workers, 0.95),
            replace(
                option("process", Family.PROCESSES, workers, 1.8),
                noisy=True,
                noise_reason="a burst",
            ),
        ),
        recommendations=(f"Use {workers} processes: they ran 1.80× as fast as one thread.",),
        critical_path=0.2,
        usable_cores=2,
    )


@pytest.mark.parametrize(
    ("target", "title"),
    [("mymod:work", "gillab advise"), (f"{course.TARGET} over range(25, 40)", "gillab course")],
)
def test_advice_and_the_course_show_the_same_lesson_and_tables_everywhere(
    target: str, title: str, tmp_path: Path
) -> None:
    advice = _advice(target, course.WORKERS)
    write_document("advise", advice.to_json(), tmp_path)
    refresh_report(tmp_path)
    display.register()
    view = advise_view(advice)
    assert view.title == title
    media = {
        "report": _plain(html.unescape((tmp_path / "report.html").read_text())),
        "notebook": _plain(html.unescape(display.view_html(advice))),
    }
    shown = run_gillab("show", str(tmp_path))
    assert shown.returncode == 0, shown.stderr
    _same_everywhere(view, media, {"show": _plain(shown.stdout)})
    assert "to distrust: 3.11.7 process 3" in _plain(shown.stdout)


@pytest.mark.slow
def test_show_prints_every_kind_in_a_folder_within_100_columns(
    folder: tuple[Path, dict[str, str]],
) -> None:
    out, printed = folder
    proc = run_gillab("show", str(out))
    assert proc.returncode == 0, proc.stderr
    for name in COMMANDS:
        assert f"== gillab {name}" in proc.stdout
    detail = run_gillab("show", str(out), "--detail")
    assert detail.returncode == 0, detail.stderr
    for text in (proc.stdout, detail.stdout, *printed.values()):
        wide = [line for line in text.splitlines() if len(line) > WIDTH]
        assert not wide, wide


def test_show_prints_a_run_stored_under_any_name() -> None:
    proc = run_gillab("show", str(GOLDEN / "diff-a.json"))
    assert proc.returncode == 0, proc.stderr
    assert "cython-nogil  thread    2        1.50 [1.45-1.55]" in proc.stdout


def test_show_refuses_a_folder_without_results_in_one_line(tmp_path: Path) -> None:
    proc = run_gillab("show", str(tmp_path))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "no result of gillab's here" in proc.stderr
    missing = run_gillab("show", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "no such folder or file" in missing.stderr


def test_a_table_too_wide_for_the_terminal_changes_shape_not_width() -> None:
    wide = Table(("name", "what"), (("a", "x" * 120), ("b", "y")))
    lines = terminal.table_lines(wide)
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[0] == "name a"


def test_a_doubt_is_marked_in_every_medium_and_its_reason_is_one_flag_away() -> None:
    view = View(
        "gillab test",
        lesson=("It scaled.",),
        tables=(Table(("threads", "speedup"), (("1", "1.00"), ("2", "1.90")), (False, True)),),
        doubts=(Doubt("2 threads", "other processes took 0.8 cores during it"),),
    )
    short = terminal.lines(view)
    assert short[0] == "It scaled."
    assert any(line.endswith("1.90 *") for line in short)
    assert any("to distrust: 2 threads" in line for line in short)
    assert not any("0.8 cores" in line for line in short)
    assert any("0.8 cores" in line for line in terminal.lines(view, detail=True))
    body = page.body(view)
    assert "<tr class='flag'>" in body
    assert "0.8 cores" in body


def test_a_listing_is_wrapped_under_its_own_indent() -> None:
    lines = terminal.listing_lines("    " + "word " * 40)
    assert max(len(line) for line in lines) <= WIDTH
    assert all(line.startswith("    ") for line in lines)


GOLDEN = Path(__file__).parent / "golden"
QUICK = [
    ["info"],
    ["catalogue", "--list"],
    ["diff", str(GOLDEN / "diff-a.json"), str(GOLDEN / "diff-b.json")],
    ["diff", str(GOLDEN / "diff-a.json"), str(GOLDEN / "diff-b.json"), "--detail"],
    ["--help"],
    *(
        [name, "--help"]
        for name in ("info", "run", "show", "race", "dis", "annotate", "io", "convoy", "states")
    ),
    *([name, "--help"] for name in ("check", "catalogue", "advise", "course", "compare", "diff")),
]
"""Commands that print without measuring (the measured ones are in the folder above)."""


@pytest.mark.parametrize("argv", QUICK, ids=" ".join)
def test_every_quick_command_fits_100_columns(argv: list[str]) -> None:
    proc = run_gillab(*argv)
    assert proc.returncode == 0, proc.stderr
    wide = [line for line in proc.stdout.splitlines() if len(line) > WIDTH]
    assert not wide, wide
