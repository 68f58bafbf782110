"""Subinterpreters with a GIL each: the interpreter executor, its kernels, and who holds which GIL.

Where the executor cannot run (3.11, or 3.12/3.13 without the backport) its cells are skipped with the
reason, and nothing else changes. Where it can, the checks are counted, not timed: each worker interpreter
holds its own GIL (held is held, whether or not the OS gives the thread a core), threads share one, and what
cannot load in a subinterpreter says why. CPU figures (parallelism) are asserted on a quiet machine only.
"""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab import environment
from gillab.harness import executors, gilstate
from gillab.harness.executors.interpreter import NO_SHARED_OBJECTS, load_error, pool_class
from gillab.harness.results import Cell
from gillab.harness.rounds import measure_cell

Cli = Callable[..., subprocess.CompletedProcess[str]]
AVAILABLE = executors.unavailable("interpreter") is None
NEEDS = pytest.mark.skipif(not AVAILABLE, reason=executors.unavailable("interpreter") or "")
SAMPLED = pytest.mark.skipif(
    bool(gilstate.unavailable()) or not environment.gil_enabled(),
    reason=gilstate.unavailable() or "no GIL to hold on this interpreter",
)


def in_task(t: gilstate.ThreadGil) -> float:
    return 1.0 - t.idle


@pytest.mark.skipif(AVAILABLE, reason="the interpreter executor runs here")
def test_where_it_cannot_run_its_cells_are_skipped_with_the_reason() -> None:
    why = executors.unavailable("interpreter")
    assert why
    assert "\n" not in why
    if sys.version_info < (3, 12):
        assert "3.12" in why
    else:
        assert "interpreters" in why  # the extra that brings the backport
    cell = measure_cell("fib", "python", "interpreter", 2, 2, 15, 1)
    assert cell.status == "skipped"
    assert cell.reason == why


def test_an_import_error_from_a_worker_is_reduced_to_what_could_not_load() -> None:
    wrapped = ImportError(
        "\n\nIMPORTANT: PLEASE READ THIS FOR ADVICE ON HOW TO SOLVE THIS ISSUE!\n\nImporting the numpy C-extensions "
        "failed.\n\nOriginal error was: module numpy._core._multiarray_umath does not support loading in "
        "subinterpreters\n"
    )
    assert (
        load_error(wrapped)
        == "module numpy._core._multiarray_umath does not support loading in subinterpreters"
    )
    assert load_error(ImportError("no module named x")) == "no module named x"


def test_the_executor_names_where_its_pool_comes_from() -> None:
    found, where = pool_class()
    assert (found is not None) == AVAILABLE
    assert where


@NEEDS
def test_counter_cells_are_skipped_because_interpreters_share_no_objects() -> None:
    for impl in ("python", "cython-atomic"):
        cell = measure_cell("counter", impl, "interpreter", 2, 2, 1000, 1)
        assert cell.status == "skipped", cell
        assert cell.reason == NO_SHARED_OBJECTS


@NEEDS
@pytest.mark.parametrize("impl", ["python", "numpy", "cython-nogil"])
def test_sumsq_cannot_load_in_a_subinterpreter_and_says_numpy_is_why(impl: str) -> None:
    cell = measure_cell("sumsq", impl, "interpreter", 2, 2, 1000, 1)
    assert cell.status == "skipped", cell
    assert cell.reason.startswith("cannot load in a subinterpreter: ")
    assert "numpy" in cell.reason
    assert "\n" not in cell.reason


@NEEDS
@pytest.mark.parametrize("impl", ["python", "cython-gil"])
def test_gil_holding_fib_runs_on_every_interpreter_at_once(
    impl: str, quiet: Callable[[Cell], bool], busiest_quiet_round: Callable[[Cell], float]
) -> None:
    size = (
        27 if impl == "python" else 34
    )  # tasks of 15-20 ms: at 4 ms, one round's wall was mostly start and end
    cell = measure_cell("fib", impl, "interpreter", 2, 4, size, 3)
    assert cell.ok, cell.reason
    assert cell.startup_s is not None
    assert cell.startup_s > 0
    assert cell.per_call is not None
    assert cell.per_call.sent_bytes > 0
    assert cell.per_call.returned_bytes > 0
    assert (
        cell.cpu_utilization is not None
    )  # CPU ÷ wall over the repeats: the cores the workers kept busy
    if environment.usable_cores() >= 2 and quiet(cell):
        assert busiest_quiet_round(cell) >= 1.4, cell


@NEEDS
@SAMPLED
def test_each_interpreter_holds_its_own_gil_while_threads_share_one() -> None:
    # fib(36): tasks long enough that a loaded machine still lets each worker's sampler read its GIL (at fib(34)
    # one run in eight beside a competitor ended with a single sample: "the repeat was too short")
    on_interpreters = measure_cell("fib", "cython-gil", "interpreter", 2, 2, 36, 1)
    assert on_interpreters.ok, on_interpreters.reason
    g = on_interpreters.gil
    assert g is not None
    assert g.available, g
    assert len(g.per_interpreter) == 2
    assert len({p.interpreter_id for p in g.per_interpreter}) == 2
    assert all(p.interpreter_id != 0 for p in g.per_interpreter)
    busy = [t for t in g.per_thread if in_task(t) > 0.2]
    assert len(busy) == 2, g.per_thread
    # held is held, whether the OS gave the thread a core or not: no load changes this
    for t in busy:
        assert t.holds / in_task(t) >= 0.8, t
    on_threads = measure_cell("fib", "cython-gil", "thread", 2, 2, 36, 1)
    assert on_threads.ok
    assert on_threads.gil is not None
    assert on_threads.gil.available
    assert on_threads.gil.per_interpreter == ()
    assert (
        sum(t.holds for t in on_threads.gil.per_thread) <= 1.02
    )  # one GIL: its holds add up to one at most


@NEEDS
def test_ctrl_c_in_an_interpreter_cell_leaves_no_worker_thread_or_interpreter() -> None:
    main = threading.main_thread().ident
    assert main is not None
    before = {t.ident for t in threading.enumerate()}
    timer = threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT))
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            measure_cell("fib", "python", "interpreter", 2, 4, 25, 200)
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, old)
    left = [t for t in threading.enumerate() if t.ident not in before]
    assert not left, left
    interpreters = importlib.import_module(
        "concurrent.interpreters" if sys.version_info >= (3, 14) else "_interpreters"
    )
    assert len(interpreters.list_all()) == 1  # the main interpreter alone


@NEEDS
@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_a_signal_during_an_interpreter_cell_keeps_the_finished_cells(
    tmp_path: Path, sig: signal.Signals, status: int
) -> None:
    out = tmp_path / "o"
    old = signal.getsignal(
        signal.SIGINT
    )  # a background job inherits SIGINT ignored: give the child the default
    if old == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gillab",
            "run",
            "--impl",
            "python",
            "--executor",
            "interpreter",
            "--workers",
            "1,2",
            "--size",
            "25",
            "--repeat",
            "500",
            "--min-repeat",
            "500",
            "--max-wait",
            "0.2",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    signal.signal(signal.SIGINT, old)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "results.json").exists() and json.loads((out / "results.json").read_text())[
                "cells"
            ]:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(sig)
        said, err = proc.communicate(timeout=60)
        assert proc.returncode == status, (
            err,
            said[-2000:],
        )  # did it run to its end before the signal?
        assert "Traceback" not in err
        data = json.loads((out / "results.json").read_text())
        assert data["interrupted"] is True
        assert data["cells"]
        assert all(c["status"] == "ok" for c in data["cells"])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_check_on_interpreters_where_it_cannot_run_is_one_line_and_exit_2(cli: Cli) -> None:
    if AVAILABLE:
        pytest.skip("the interpreter executor runs here")
    proc = cli("check", "gillab._kernels_gil:fib", "--args", "20", "--executor", "interpreter")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "3.12" in proc.stderr or "interpreters" in proc.stderr


@NEEDS
def test_check_on_interpreters_says_whether_the_module_loads_there(
    tmp_path: Path, cli: Cli
) -> None:
    target = tmp_path / "work.py"
    target.write_text("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n")
    proc = cli(
        "check",
        f"{target}:fib",
        "--args",
        "18",
        "--executor",
        "interpreter",
        "--duration",
        "0.2",
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "loads in a subinterpreter" in proc.stdout
    assert "2 interpreters:" in proc.stdout
    doc = json.loads((tmp_path / "o" / "check-interpreters.json").read_text())
    rows = doc["interpreters"]["rows"]
    assert [r["workers"] for r in rows] == [1, 2]
    assert all(r["ci95"][0] <= r["speedup"] <= r["ci95"][1] for r in rows)
    assert "on subinterpreters" in (tmp_path / "o" / "report.html").read_text()
    numpy = cli(
        "check",
        "numpy:sum",
        "--setup",
        "import numpy as np; a = np.ones(10)",
        "--executor",
        "interpreter",
    )
    assert numpy.returncode == 0, numpy.stderr
    assert "does not load in a subinterpreter: " in numpy.stdout
    assert "numpy" in numpy.stdout
