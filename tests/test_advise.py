"""`gillab advise` and the target workload: the user's own callable through the same harness.

The four callables below have a best option known from their nature; the advice is checked against it, never
a timing. The rules of the recommendation are checked on made-up figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gillab import environment
from gillab.advice.model import Option, expected_speedup
from gillab.advice.recommend import choose, sentence
from gillab.errors import TargetError
from gillab.harness.results import Cell
from gillab.harness.rounds import measure_cell
from gillab.workloads import get, target

Cli = Callable[..., subprocess.CompletedProcess[str]]
HERE = Path(__file__).parent / "advise_targets.py"


def opt(
    family: str, speedup: float, ci: tuple[float, float], workers: int = 2, **kw: object
) -> Option:
    executor = {"threads": "thread", "processes": "process", "interpreters": "interpreter"}.get(
        family, family
    )
    return Option("3.11.7", executor, workers, family, "ok", speedup=speedup, ci95=ci, **kw)  # type: ignore[arg-type]


GIL = {"3.11.7": True}


def test_options_that_tie_go_to_the_cheapest() -> None:
    threads, procs = opt("threads", 1.80, (1.70, 1.90)), opt("processes", 1.85, (1.78, 1.93))
    chosen, ties = choose([procs, threads], serial_held=0.05, gil_on=GIL)
    assert chosen == threads
    assert ties == [procs]


def test_the_fastest_wins_where_the_intervals_part() -> None:
    threads, procs = opt("threads", 1.20, (1.10, 1.30)), opt("processes", 1.85, (1.78, 1.93))
    assert choose([threads, procs], serial_held=0.05, gil_on=GIL)[0] == procs


def test_threads_that_take_turns_on_the_gil_are_not_advised() -> None:
    threads, procs = opt("threads", 1.70, (1.45, 1.90)), opt("processes", 1.80, (1.50, 1.95))
    assert choose([threads, procs], serial_held=1.0, gil_on=GIL)[0] == procs
    assert (
        choose([threads, procs], serial_held=1.0, gil_on={"3.11.7": False})[0] == threads
    )  # no GIL here


def test_a_pool_that_ties_with_one_thread_loses_to_it_as_the_cheapest() -> None:
    """advise once said "At 2 workers use processes: 0.85× [0.76-1.22]": one thread is an option too."""
    procs, threads = opt("processes", 0.85, (0.76, 1.22)), opt("threads", 0.95, (0.78, 0.99))
    chosen, ties = choose([procs, threads], serial_held=0.05, gil_on=GIL)
    assert chosen.family == "serial"
    assert ties == [procs]  # threads' interval stays below one thread's: no tie
    said = sentence(2, [procs, threads], "3.11.7", 0.05, 1.0, GIL, [])
    assert said.startswith(
        "At 2 workers run it on one thread: processes 0.85× [0.76-1.22] ties with it"
    )
    assert said == sentence(
        2, [threads, procs], "3.11.7", 0.05, 1.0, GIL, []
    )  # the same advice, whatever the order


def test_a_pool_clear_of_one_thread_is_advised() -> None:
    procs = opt("processes", 1.62, (1.41, 1.74))
    assert choose([procs], serial_held=1.0, gil_on=GIL)[0] == procs


def test_a_wide_interval_never_turns_into_a_verdict_the_figures_that_do_not_move_decide() -> None:
    """advise once chose one thread for a callable whose threads kept 1.72 cores busy with the GIL held 2%:
    threads read 1.51× [0.97-2.62], an interval the machine's movement made, and so "tied" with one thread."""
    threads = opt(
        "threads",
        1.51,
        (0.97, 2.62),
        cores_busy=1.72,
        busy_share=0.86,
        gil_held=0.02,
        expected=1.70,
        expected_ci95=(1.64, 1.76),
    )
    procs = opt("processes", 1.30, (0.90, 1.90), cores_busy=1.80, busy_share=0.9)
    chosen, _ = choose([threads, procs], serial_held=0.03, gil_on=GIL)
    assert chosen == threads
    said = sentence(2, [threads, procs], "3.11.7", 0.03, 0.99, GIL, [])
    assert said.startswith("At 2 workers use threads: 1.70× [1.64-1.76] expected.")
    assert "The machine moved while it measured (1.51× [0.97-2.62])" in said
    assert "1.72 cores busy against 0.99 alone, the GIL held 2%" in said


def test_threads_that_run_in_parallel_never_tie_with_one_thread() -> None:
    """Even with no expected figure, and a measured interval that reaches 1.0."""
    threads = opt("threads", 1.3, (0.95, 1.7), busy_share=0.86, gil_held=0.02)
    assert choose([threads], serial_held=0.03, gil_on=GIL)[0] == threads
    held = replace(threads, gil_held=0.5)  # the GIL held half the time: not a sign of parallel work
    assert choose([held], serial_held=0.03, gil_on=GIL)[0].family == "serial"


def test_processes_for_a_callable_that_holds_the_gil_are_chosen_from_their_cores_busy() -> None:
    """advise once chose one thread where processes kept 1.79 cores busy and read 1.23× [0.92-1.54]."""
    threads = opt("threads", 0.98, (0.95, 1.01), busy_share=0.49, gil_held=0.99)
    procs = opt(
        "processes",
        1.23,
        (0.92, 1.54),
        cores_busy=1.79,
        busy_share=0.9,
        expected=1.72,
        expected_ci95=(1.62, 1.80),
    )
    assert choose([threads, procs], serial_held=0.99, gil_on=GIL)[0] == procs


def test_a_narrow_measure_below_what_cores_busy_give_is_a_finding() -> None:
    procs = opt("processes", 1.02, (0.99, 1.05), expected=1.75, expected_ci95=(1.66, 1.82))
    said = sentence(2, [procs], "3.11.7", 0.99, 0.99, GIL, [])
    assert (
        "Processes measured 1.02× [0.99-1.05], below the 1.75× [1.66-1.82] its cores busy give"
        in said
    )


def test_a_pool_that_lost_in_nearly_every_round_is_not_rescued_by_its_cores_busy() -> None:
    """Processes of a callable that only takes the length of 2 MiB kept 1.73 cores busy sending it, and read
    0.80× [0.68-0.87]: the cores were busy, but not with the work."""
    procs = opt("processes", 0.80, (0.68, 0.87), expected=1.28, expected_ci95=(1.19, 1.36))
    assert choose([procs], serial_held=1.0, gil_on=GIL)[0].family == "serial"
    said = sentence(2, [procs], "3.11.7", 1.0, 0.99, GIL, [])
    assert "below the 1.28× [1.19-1.36] its cores busy give" in said


def test_the_expected_speedup_comes_from_cores_busy_and_the_ceiling() -> None:
    serial = Cell("t", "x", "serial", 1, 8, 1, "ok", parallelism=1.0, parallelism_ci95=(1.0, 1.0))
    cell = Cell("t", "x", "process", 2, 8, 1, "ok", parallelism=1.8, parallelism_ci95=(1.7, 1.9))
    assert expected_speedup(cell, serial, 2, None, None) == pytest.approx((1.8, 1.7, 1.9))
    # the machine's own reference ran each core at 0.8 of its speed alone, and 4% of a task is its transfer
    assert expected_speedup(cell, serial, 2, 0.04, 0.8) == pytest.approx((1.3824, 1.3056, 1.4592))
    assert expected_speedup(cell, serial, 1, None, None) == pytest.approx(
        (1.0, 1.0, 1.0)
    )  # one core
    assert (
        expected_speedup(cell, replace(serial, parallelism=0.1), 2, None, None) is None
    )  # it waits
    assert expected_speedup(cell, serial, 2, 0.14, None) is None  # its cores are busy unpickling


def test_nothing_above_one_thread_means_run_it_serially() -> None:
    got = sentence(
        2,
        [opt("threads", 0.6, (0.5, 0.7)), opt("processes", 0.4, (0.3, 0.5))],
        "3.11.7",
        0.0,
        1.0,
        GIL,
        [],
    )
    assert got.startswith("At 2 workers run it on one thread: nothing beat serial here")


def test_a_target_is_rebuilt_from_its_name_alone(tmp_path: Path) -> None:
    name = target.prepare(f"{HERE}:loop", None, [1000], None)
    assert name.startswith(target.PREFIX)
    w = get(name)
    assert (
        w.spec.target == f"{HERE.resolve()}:loop"
    )  # every worker finds the file where this process did
    assert w.label == "advise_targets.py:loop"  # a reader sees the file by its name
    assert (
        get(target.prepare(f"{HERE}:loop", None, [1000], None, title="cell: loop(1000)")).label
        == "cell: loop(1000)"
    )
    assert w.fixed_tasks is None
    per_input = get(target.prepare(f"{HERE}:loop", None, None, "range(3, 9)"))
    assert per_input.fixed_tasks == 6
    assert per_input.payloads(1, 6) == [((n,), {}) for n in range(3, 9)]


@pytest.mark.parametrize(
    ("args", "inputs", "message"),
    [
        (["x"], None, "raises on its first call: TypeError"),
        (None, "42", "is not an iterable expression"),
        (None, "[]", "is empty"),
        (None, "1/0", "ZeroDivisionError"),
    ],
)
def test_bad_targets_and_inputs_are_one_line(
    args: list[object] | None, inputs: str | None, message: str
) -> None:
    with pytest.raises(TargetError, match=message):
        target.prepare(f"{HERE}:loop", None, args, inputs)


def test_a_callable_that_is_not_thread_safe_is_named_on_threads() -> None:
    name = target.prepare(f"{HERE}:unsafe", None, [1], None)
    cell = measure_cell(name, "unsafe", "thread", 2, 4, 1, 1)
    assert cell.status == "failed"
    assert cell.reason.startswith("results differ from serial for input ")
    assert cell.reason.endswith("not safe to run in threads?")


@pytest.mark.parametrize(
    ("func", "why"), [("nan", "not equal to itself"), ("hasher", "no __eq__ of its own")]
)
def test_results_that_cannot_be_compared_are_said_once_and_the_cells_run(
    func: str, why: str
) -> None:
    name = target.prepare(f"{HERE}:{func}", None, [1], None)
    cell = measure_cell(name, func, "thread", 2, 2, 1, 1)
    assert cell.ok, cell.reason
    assert cell.unchecked
    assert why in cell.unchecked


def test_inputs_that_cannot_be_pickled_skip_process_cells_with_the_reason() -> None:
    name = target.prepare(
        f"{HERE}:identity", "import threading; lock = threading.Lock()", None, None
    )
    cell = measure_cell(name, "identity", "process", 2, 2, 1, 1)
    assert cell.status == "skipped"
    assert "cannot be pickled" in cell.reason
    assert measure_cell(
        name, "identity", "thread", 2, 2, 1, 1
    ).ok  # threads share the lock: nothing to pickle


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["advise", "no_such_module_x:f"], "cannot import no_such_module_x"),
        (["advise", f"{HERE}:NOT_CALLABLE"], "not a callable"),
        (["advise", f"{HERE}:loop", "--args", '"x"'], "raises on its first call"),
        (["advise", f"{HERE}:loop", "--inputs", "7"], "not an iterable"),
        (["advise", f"{HERE}:loop", "--inputs", "()"], "is empty"),
        (
            ["advise", f"{HERE}:loop", "--args", "1000", "--python", "/no/such/python"],
            "/no/such/python",
        ),
        (["advise", f"{HERE}:nap", "--args", "0.05", "--max-time", "0.5"], "budget"),
        (
            ["run", "--target", f"{HERE}:loop", "--inputs", "range(3)", "--tasks", "5"],
            "disagrees with --inputs",
        ),
        (["run", "--inputs", "range(3)"], "go with --target"),
    ],
)
def test_advise_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    proc = cli(*argv, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def advised(tmp_path: Path, cli: Cli, *argv: str) -> dict[str, object]:
    proc = cli("advise", *argv, "--workers", "1,2", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc: dict[str, object] = json.loads((tmp_path / "o" / "advise.json").read_text())
    assert (tmp_path / "o" / "report.html").exists()
    return doc


def at_2(doc: dict[str, object]) -> str:
    recs = doc["recommendations"]
    assert isinstance(recs, list)
    return str(recs[0])


@pytest.mark.slow
def test_a_pure_python_loop_is_not_advised_threads_on_a_gil_build(tmp_path: Path, cli: Cli) -> None:
    doc = advised(tmp_path, cli, f"{HERE}:loop", "--args", "300000")
    if environment.gil_enabled():
        assert not at_2(doc).startswith("At 2 workers use threads"), at_2(doc)
        assert "holds the GIL" in at_2(doc)


@pytest.mark.slow
def test_sha256_of_8_mib_is_advised_threads_or_a_tie_never_processes_alone(
    tmp_path: Path, cli: Cli
) -> None:
    doc = advised(tmp_path, cli, f"{HERE}:sha256", "--setup", "data = bytes(8 << 20)")
    options = [o for o in doc["options"] if o["workers"] == 2]  # type: ignore[attr-defined,index]
    assert all(o["status"] == "ok" for o in options), options
    text = at_2(doc)
    assert text.startswith("At 2 workers use threads") or "ties" in text, text
    assert not text.startswith("At 2 workers use processes"), text


@pytest.mark.slow
def test_a_large_argument_makes_processes_pay_for_the_transfer(tmp_path: Path, cli: Cli) -> None:
    # Each task's own 20 MiB input, one call a task: len() takes nanoseconds, so pickling is all of a task
    # on any machine (with --setup and one input, the task repeats the call to ~15 ms and the share is a race).
    doc = advised(
        tmp_path, cli, f"{HERE}:size_of", "--inputs", "[bytes(20 << 20) for _ in range(8)]"
    )
    procs = [o for o in doc["options"] if o["family"] == "processes" and o["workers"] == 2]  # type: ignore[attr-defined,index]
    assert procs
    assert procs[0]["sent_bytes"] >= 20 << 20
    assert procs[0]["transfer_share"] > 0.9
    assert not at_2(doc).startswith("At 2 workers use processes"), at_2(doc)


@pytest.mark.slow
def test_a_function_that_sleeps_is_said_to_wait_and_threads_overlap_it(
    tmp_path: Path, cli: Cli
) -> None:
    doc = advised(tmp_path, cli, f"{HERE}:nap", "--args", "0.05")
    threads = [o for o in doc["options"] if o["family"] == "threads" and o["workers"] == 2]  # type: ignore[attr-defined,index]
    assert threads[0]["speedup"] >= 1.6
    assert "waits rather than computes" in at_2(doc)


@pytest.mark.slow
def test_the_course_runs_15_tasks_on_3_workers_and_names_the_critical_path(
    tmp_path: Path, cli: Cli
) -> None:
    proc = cli(
        "course", "fib", "--inputs", "range(12, 27)", "--repeat", "1", "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = json.loads((tmp_path / "o" / "results.json").read_text())
    cells = {(c["executor"], c["workers"]): c for c in run["cells"]}
    assert set(cells) == {("serial", 1), ("thread", 3), ("process", 3)}
    assert all(c["tasks"] == 15 for c in cells.values())
    spans = [s["end_s"] - s["start_s"] for s in cells[("serial", 1)]["timeline"]]
    doc = json.loads((tmp_path / "o" / "advise.json").read_text())
    assert doc["critical_path"] == pytest.approx(max(spans) / sum(spans))
    assert f"The largest task is {doc['critical_path']:.0%} of the serial work" in proc.stdout
    assert (tmp_path / "o" / "timeline.png").exists()


def test_the_api_names_a_function_by_reference_or_says_why_not() -> None:
    from gillab.advice.api import target_of
    from gillab.workloads import pure

    assert target_of(pure.fib) == "gillab.workloads.pure:fib"
    with pytest.raises(TargetError, match="top level of a module"):
        target_of(lambda n: n)


def test_advise_runs_from_python(tmp_path: Path) -> None:
    import gillab

    sys.path.insert(0, str(HERE.parent))
    try:
        import advise_targets  # type: ignore[import-not-found]

        got = gillab.advise(advise_targets.nap, 0.02, workers=(1, 2), out=tmp_path)
    finally:
        sys.path.remove(str(HERE.parent))
    assert isinstance(got, gillab.Advice)
    assert got.recommendations
    assert got.to_json()["target"] == "advise_targets:nap"


def test_the_break_even_size_is_said_from_the_intervals() -> None:
    from gillab.advice.model import Advice
    from gillab.advice.sizes import AtSize, break_even

    def at(size: int, threads: tuple[float, float], procs: tuple[float, float]) -> AtSize:
        opts = (opt("threads", sum(threads) / 2, threads), opt("processes", sum(procs) / 2, procs))
        return AtSize(size, Advice("t", "3.11.7", True, 0.01, 1.0, 1.0, opts, ()))

    small_wins = [
        at(1, (1.7, 1.9), (0.5, 0.6)),
        at(10, (1.7, 1.9), (1.2, 1.8)),
        at(100, (0.9, 1.0), (1.7, 1.9)),
    ]
    assert break_even(small_wins) == [
        "Processes pay for sending their inputs from size 100 up; up to 10 threads do as well or better."
    ]
    assert break_even([at(1, (0.9, 1.0), (1.7, 1.9)), at(9, (1.7, 1.9), (1.0, 1.1))])[0].startswith(
        "Processes beat threads up to size 1; from 9 up threads do as well or better"
    )


def test_sizes_need_a_setup_that_says_where_the_size_goes(tmp_path: Path, cli: Cli) -> None:
    proc = cli(
        "advise",
        f"{HERE}:size_of",
        "--setup",
        "data = bytes(10)",
        "--sizes",
        "1,2",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 2
    assert "{n}" in proc.stderr


def test_threads_that_kept_every_core_other_processes_left_them_busy_run_in_parallel() -> None:
    from gillab.advice.model import _could_use

    beside = Cell("fib", "cython-nogil", "thread", 2, 8, 30, status="ok", available_cores=1.3)
    assert _could_use(beside, 2) == pytest.approx(1.3)  # a CPU-bound process took the rest
    assert _could_use(replace(beside, available_cores=None), 2) == 2.0
    assert _could_use(replace(beside, available_cores=0.4), 2) == 1.0  # never fewer than one
    assert _could_use(replace(beside, workers=1, available_cores=2.0), 2) == 1.0
