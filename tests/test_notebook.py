"""In a notebook: the IPython extension's magics, the results' HTML, and examples/course.ipynb top to bottom.

The magics run in IPython's own InteractiveShell, as a kernel runs them; the notebook runs in a real kernel
through nbclient. Nothing is timed.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("IPython", reason="the notebook extra: pip install -e '.[notebook]'")

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from gillab.checker.api import CheckResult
from gillab.harness.results import RunResult

NOTEBOOK = Path(__file__).parent.parent / "examples" / "course.ipynb"


@pytest.fixture(scope="module")
def ip() -> Any:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "gillab")
    return shell


def html_of(ip: Any, value: object) -> str:
    """What a notebook shows for a value: IPython's own formatters, text/html."""
    data, _ = ip.display_formatter.format(value)
    return str(data.get("text/html", ""))


def test_gil_check_shows_html_and_returns_the_check(ip: Any) -> None:
    ip.run_cell("from gillab import _kernels_nogil")
    with capture_output():
        got = ip.run_cell("%gil_check _kernels_nogil.fib(28)")
    assert isinstance(got.result, CheckResult)
    page = html_of(ip, got.result)
    assert "gillab._kernels_nogil.fib" in page
    assert "<table>" in page


def test_a_disturbed_scaling_level_carries_its_flag_and_reason(ip: Any) -> None:
    from dataclasses import replace

    from gillab.checker.measure import Phase

    ip.run_cell("from gillab import _kernels_nogil")
    with capture_output():
        got = ip.run_cell("%gil_check _kernels_nogil.fib(24)").result
    assert "<tr class='flag'>" not in html_of(ip, got) or got.noisy
    loud = Phase(1.5, 0.0, 0.1, disturbed=True, measured_again=True)
    m = replace(got.measurement, interference={**got.measurement.interference, "2 threads": loud})
    page = html_of(ip, replace(got, measurement=m))
    assert "<tr class='flag'><td style='text-align:left'>2</td>" in page  # the level's row, flagged
    assert "2 threads: other processes took 1.5 cores during it, even when measured again" in page


def test_gil_check_runs_a_function_defined_in_the_notebook(ip: Any) -> None:
    ip.run_cell("def spin(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s")
    with capture_output():
        got = ip.run_cell("%gil_check spin(50_000)")
    assert isinstance(got.result, CheckResult)
    assert (
        got.result.isolated is False
    )  # a notebook's function cannot be imported by a child: checked here


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%gil_check f(", "not a Python expression"),
        ("%gil_check 1 + 2", "give one call"),
        ("%gil_check no_such_name(3)", "NameError"),
        ("%%gil_run --workers x\npass", "%%gil_run"),
        ("%gil_advise len", "give one call"),
    ],
)
def test_a_bad_expression_is_one_line_never_a_traceback(ip: Any, line: str, message: str) -> None:
    with capture_output() as cap:
        got = ip.run_cell(line)
    assert got.result is None
    assert got.error_in_exec is None
    assert message in cap.stderr
    assert len(cap.stderr.strip().splitlines()) == 1, cap.stderr
    assert "Traceback" not in cap.stdout + cap.stderr


def test_gil_run_runs_the_cell_on_each_executor_and_shows_the_timeline(ip: Any) -> None:
    with capture_output() as cap:
        got = ip.run_cell(
            "%%gil_run --executor thread,process --workers 2 --repeat 1\nfrom gillab.workloads.pure import fib\nfib(18)"
        )
    assert isinstance(got.result, RunResult)
    assert {(c.executor, c.status) for c in got.result.cells} == {
        ("serial", "ok"),
        ("thread", "ok"),
        ("process", "ok"),
    }
    assert cap.outputs  # the progress line, updated in place
    page = html_of(ip, got.result)
    assert page.count("data:image/png;base64") >= 2  # speedup.png and timeline.png, inline


def test_lab_results_show_their_report_section(ip: Any) -> None:
    from gillab.labs import disasm

    page = html_of(ip, disasm.run("counter"))
    assert "RESUME" in page or "LOAD_GLOBAL" in page


def test_interrupting_gil_run_leaves_no_worker(ip: Any) -> None:
    psutil = pytest.importorskip("psutil")
    main = threading.main_thread().ident
    assert main is not None
    before = {t.ident for t in threading.enumerate()}
    helpers = {
        p.pid for p in psutil.Process().children(recursive=True)
    }  # forkserver, resource tracker: kept
    timer = threading.Timer(4.0, signal.pthread_kill, (main, signal.SIGINT))
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        with capture_output() as cap:
            got = ip.run_cell(
                "%%gil_run --executor thread,process --workers 2 --repeat 40\n"
                "from gillab.workloads.pure import fib\nfib(20)"
            )
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, old)
    assert "interrupted" in cap.stderr, cap.stderr
    assert isinstance(got.result, RunResult)
    assert got.result.interrupted
    assert not [t for t in threading.enumerate() if t.ident not in before]
    kids = psutil.Process().children(recursive=True)
    helpers |= {
        p.pid
        for p in kids
        if any(h in " ".join(p.cmdline()) for h in ("forkserver", "resource_tracker"))
    }
    alive = [p for p in kids if p.pid not in helpers and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]


def test_the_notebook_in_the_repository_carries_no_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


@pytest.mark.slow
def test_the_course_notebook_runs_top_to_bottom(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # a cell that raises fails the run (CellExecutionError)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", out
            text = "".join(out.get("text", "")) if out.get("name") == "stderr" else ""
            assert "gillab: " not in text, text  # a magic's one-line failure
