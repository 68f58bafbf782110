"""`gillab run` and the harness: every executor, every figure, bad input and faults."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab.harness import executors, results, session
from gillab.harness.results import RunConfig
from gillab.harness.rounds import measure_cell
from gillab.harness.runner import run_matrix
from gillab.kinds import write_run
from gillab.workloads import kernel

Cli = Callable[..., subprocess.CompletedProcess[str]]

CELL_FIELDS = {
    "workload",
    "impl",
    "executor",
    "workers",
    "tasks",
    "size",
    "wall_s",
    "cpu_s",
    "median_wall_s",
    "speedup",
    "efficiency",
    "cpu_utilization",
    "startup_s",
    "gil_wait",
    "threads_running_mean",
    "status",
    "reason",
}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("run")
    config = RunConfig(
        workload="fib",
        impls=("python", "cython-gil", "cython-nogil"),
        executors=("thread", "process", "asyncio", "interpreter"),
        workers=(1, 2),
        tasks=2,
        sizes={"python": 18, "cython-gil": 25, "cython-nogil": 25},
        repeat=2,
        max_wait_s=0.2,  # a loaded machine must not make this fixture wait for quiet: tests of waiting do
    )
    result = run_matrix(config, out)
    files = write_run(result, out)
    data = json.loads((out / "results.json").read_text())
    assert (
        results.load(out / "results.json") == result
    )  # what was written reads back as the same object
    return {"out": out, "files": files, "data": data}


@pytest.mark.slow
def test_every_executor_runs_every_impl(small_run: dict[str, object]) -> None:
    data = small_run["data"]
    assert isinstance(data, dict)
    cells = data["cells"]
    ran = {(c["impl"], c["executor"], c["workers"]) for c in cells if c["status"] == "ok"}
    for impl in ("python", "cython-gil", "cython-nogil"):
        assert (impl, "serial", 1) in ran
        for ex in ("thread", "process", "asyncio"):
            assert {(impl, ex, 1), (impl, ex, 2)} <= ran
    for c in cells:
        assert set(c) >= CELL_FIELDS
        if c["status"] == "ok":
            # two rounds of its own, and those added while it was unsteady (tests/test_settle.py)
            assert len(c["wall_s"]) == len(c["cpu_s"]) == c["rounds"]
            if c["executor"] == "serial":  # beside each two cells of every round
                assert c["rounds"] >= 2 + c["rounds_added"]
            else:
                assert c["rounds"] == 2 + c["rounds_added"]
            assert c["speedup"] is not None
            assert c["parallelism"] is not None
            if executors.get(
                c["executor"]
            ).shares_gil:  # the probe waits for this process's GIL: theirs
                assert set(c["gil_wait"]) >= {"median_ms", "p95_ms", "fraction"}
            else:
                assert c["gil_wait"] is None
            assert len(c["timeline"]) == c["tasks"]


@pytest.mark.slow
def test_interpreter_executor_is_skipped_with_reason_before_314(
    small_run: dict[str, object],
) -> None:
    data = small_run["data"]
    assert isinstance(data, dict)
    cells = [c for c in data["cells"] if c["executor"] == "interpreter"]
    assert cells
    if sys.version_info < (3, 14):
        assert all(c["status"] == "skipped" and "3.14" in c["reason"] for c in cells)


@pytest.mark.slow
def test_results_file_and_pictures(small_run: dict[str, object]) -> None:
    out = small_run["out"]
    assert isinstance(out, Path)
    assert small_run["files"] == [
        "results.json",
        "speedup.png",
        "timeline.png",
        "trace.json",
        "report.html",
    ]
    data = json.loads((out / "results.json").read_text())
    assert data["schema_version"] == results.SCHEMA_VERSION
    assert data["interrupted"] is False
    assert data["environment"]["native"]["cython-nogil"]["built"] is True
    assert data["load_before"] is not None
    assert data["load_after"] is not None
    for png in ("speedup.png", "timeline.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trace = json.loads((out / "trace.json").read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] != "gil"]
    assert len(spans) == sum(len(c["timeline"]) for c in data["cells"])
    states = {e["name"] for e in trace["traceEvents"] if e["ph"] == "X" and e["cat"] == "gil"}
    # a repeat of a few ms on a loaded machine may end before the GIL sampler's second sample: the trace draws
    # the segments wherever the sampler recorded them
    if any(c["gil"] and c["gil"].get("segments") for c in data["cells"]):
        assert states
        assert states <= {"holds", "runs", "waits", "idle"}
        assert any(e["ph"] == "C" and e["name"] == "GIL switches" for e in trace["traceEvents"])
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page
    assert "What this machine showed" in page


@pytest.mark.slow
def test_efficiency_is_speedup_over_usable_parallelism(small_run: dict[str, object]) -> None:
    data = small_run["data"]
    assert isinstance(data, dict)
    cores = data["environment"]["usable_cores"]
    for c in data["cells"]:
        if c["status"] == "ok":
            ideal = min(c["workers"], c["tasks"], cores)
            assert c["efficiency"] == pytest.approx(c["speedup"] / ideal)


def test_wrong_result_fails_the_cell_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "expected", lambda workload, size: -1)
    cell = measure_cell("fib", "cython-nogil", "thread", 2, 2, 20, 1)
    assert cell.status == "failed"
    assert "wrong result" in cell.reason


def test_counter_cells_report_lost_updates() -> None:
    exact = measure_cell("counter", "cython-atomic", "thread", 2, 2, 100_000, 2)
    assert exact.status == "ok"
    assert exact.lost_updates == (0, 0)
    racy = measure_cell("counter", "cython-nogil", "thread", 2, 2, 100_000, 2)
    assert racy.status == "ok"
    assert racy.lost_updates is not None
    assert len(racy.lost_updates) == 2
    counter = kernel("counter", "cython-nogil").value
    assert counter is not None
    assert (
        racy.lost_updates[-1] == 2 * 100_000 - counter()
    )  # what the last repeat left in the shared counter
    per_process = measure_cell("counter", "python", "process", 2, 2, 1000, 1)
    assert per_process.status == "ok"


def test_dead_process_worker_fails_its_cell_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    process = executors.get("process")
    start = process.start

    def start_then_kill(self: executors.Executor, *args: object) -> None:
        start(self, *args)  # type: ignore[arg-type]
        victim = self.worker_pids()[0]
        threading.Timer(0.05, os.kill, (victim, signal.SIGKILL)).start()

    monkeypatch.setattr(process, "start", start_then_kill)
    cell = measure_cell("fib", "python", "process", 2, 4, 27, 3)
    assert cell.status == "failed"
    assert "worker process died" in cell.reason
    assert not [
        t for t in threading.enumerate() if t.name == "gillab-probe"
    ]  # the failed repeat's probe stopped
    monkeypatch.undo()
    assert measure_cell("fib", "python", "process", 2, 2, 15, 1).status == "ok"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workload", "nope"], "choose from fib, counter, sumsq"),
        (["--impl", "python,rust"], "choose from python, cython-gil, cython-nogil"),
        (["--executor", "gpu"], "choose from serial, thread, process, asyncio, interpreter"),
        (["--workers", "0"], "above 0"),
        (["--workers=-2,1"], "above 0"),
        (["--workers", "two"], "whole numbers"),
        (["--tasks", "0"], "above 0"),
        (["--repeat", "0"], "above 0"),
        (["--size", "93"], "0 <= n <= 92"),
        (["--switch-interval", "0"], "above 0"),
        (["--gil-rate", "50"], "0 (off) or from 100 to 100000"),
        (["--gil-rate", "fast"], "0 (off) or from 100 to 100000"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    proc = cli("run", *args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o" / "results.json").exists()


def test_unwritable_out_dir_fails_before_any_work(tmp_path: Path, cli: Cli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    t0 = time.monotonic()
    proc = cli("run", "--out", str(blocker / "sub"))
    assert proc.returncode == 2
    assert "cannot write to output folder" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - t0 < 30  # refused at once, not after a matrix


def _descendants(pid: int) -> set[int]:
    """Return every live process whose parent chain reaches pid (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs /proc to find child processes"
)
@pytest.mark.parametrize(
    ("sig", "status"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["INT", "TERM", "HUP"],
)
def test_ctrl_c_keeps_finished_cells_and_leaves_no_child(
    tmp_path: Path, sig: signal.Signals, status: int
) -> None:
    out = tmp_path / "o"
    # A job started in the background by a non-interactive shell (a CI step, `cmd &`) inherits SIGINT
    # ignored, and Python then installs no Ctrl-C handler in the child: give it the default disposition.
    old_sigint = signal.getsignal(signal.SIGINT)
    if old_sigint == signal.SIG_IGN:
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
            "process",
            "--workers",
            "1,2",
            "--size",
            "25",
            "--repeat",
            "50",
            "--min-repeat",
            "50",
            "--max-wait",
            "0.2",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    signal.signal(signal.SIGINT, old_sigint)
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen |= _descendants(proc.pid)
            if (
                (out / "results.json").exists()
                and json.loads((out / "results.json").read_text())["cells"]
                and seen
            ):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        seen |= _descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted" in err
        assert "Traceback" not in err
        data = json.loads((out / "results.json").read_text())
        assert data["interrupted"] is True
        assert len(data["cells"]) >= 1
        assert all(c["status"] == "ok" for c in data["cells"])
    finally:  # a failed assertion or a time-out above must not leave gillab running
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    alive = seen
    deadline = (
        time.monotonic() + 15
    )  # the forkserver and resource tracker exit when their pipes close
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {p for p in alive if _running(p)}
    assert not alive, f"child processes left running: {alive}"


@pytest.mark.slow
def test_the_output_leads_with_the_lesson_in_100_columns(tmp_path: Path, cli: Cli) -> None:
    proc = cli(
        "run",
        "--impl",
        "python,cython-nogil",
        "--executor",
        "thread",
        "--workers",
        "1,2",
        "--size",
        "python=20,cython-nogil=20",
        "--repeat",
        "1",
        "--max-wait",
        "0.2",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "cores busy" in lines[0]  # the lesson first: what the GIL decides
    header = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["impl", "executor", "workers"]
    )
    assert header > 0
    assert len(re.split(r"\s{2,}", lines[header].strip())) <= 8
    assert any(line.startswith("Wrote results.json") for line in lines[-2:])
    assert max(len(line) for line in lines) <= 100
    assert "\x1b[" not in proc.stdout
    assert proc.stderr == ""  # progress only on a terminal
    detail = cli("show", str(tmp_path), "--detail")
    assert detail.returncode == 0, detail.stderr
    assert "core speed" in detail.stdout  # every column
    assert "speedup = median over rounds" in detail.stdout  # and what each means
