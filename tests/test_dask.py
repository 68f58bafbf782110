"""The dask executors: the same cells and figures on dask.distributed, clusters closed on every exit path.

A speedup is only asserted where the GIL decides it whatever the load (python threads cannot beat one
thread); the processes' efficiency is asserted on a quiet machine only, and everywhere that processes beat
threads, or that the lab flagged the cell and said why.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gillab import environment
from gillab.errors import EngineError
from gillab.harness.calibrate import engine_target_s
from gillab.harness.executors import dask as engines
from gillab.harness.results import Cell, RunConfig
from gillab.harness.runner import run_matrix
from gillab.harness.session import CellSession
from gillab.outputs.findings import sizing_note

Cli = Callable[..., subprocess.CompletedProcess[str]]

NEEDS_DASK = pytest.mark.skipif(
    engines.unavailable() is not None, reason=engines.unavailable() or ""
)
GIL_ON = environment.gil_enabled()


@pytest.mark.slow
@NEEDS_DASK
@pytest.mark.skipif(not GIL_ON, reason="the lesson of a GIL")
def test_python_fib_takes_turns_on_dask_threads_and_scales_on_dask_processes(
    tmp_path: Path, busiest_quiet_round: Callable[[Cell], float]
) -> None:
    config = RunConfig(
        workload="fib",
        impls=("python",),
        executors=("dask-threads", "dask-processes"),
        workers=(2,),
        sizes={"python": 30},
        repeat=3,
        min_repeat=3,
        max_wait_s=0.2,
    )
    result = run_matrix(config, tmp_path)
    cells = {c.executor: c for c in result.cells}
    threads, procs = cells["dask-threads"], cells["dask-processes"]
    assert threads.ok, threads.reason  # ok: every task's result matched the python impl
    assert procs.ok, procs.reason
    assert threads.speedup is not None
    assert procs.speedup is not None
    assert threads.parallelism is not None
    assert (
        threads.parallelism <= 1.1
    )  # one GIL: the threads took turns, whatever the load (CPU, not speed)
    assert threads.gil is not None
    assert threads.gil.available, threads.gil.note  # read inside the worker
    assert threads.task_overhead_s is not None
    assert threads.task_overhead_s > 0
    assert result.engine is not None
    assert result.engine.scheduler == "local"
    cores = environment.usable_cores()
    if cores >= 2:
        if not (procs.interference and procs.interference.disturbed):
            # CPU, not speed: the host can slow one vCPU unseen (the speedup's efficiency then moved 0.6-0.8 on
            # the 2-core VM), but one GIL per worker process lets both work at once (1.65-1.79 there).
            assert busiest_quiet_round(procs) >= 1.4, procs
        assert procs.noisy or procs.speedup > threads.speedup, (
            procs
        )  # one GIL per process beats one GIL
    assert (
        json.loads((tmp_path / "results.json").read_text())["engine"]["engine"]
        == "dask.distributed"
    )


@pytest.mark.slow
@NEEDS_DASK
def test_a_worker_killed_mid_cell_fails_the_cell_in_one_line() -> None:
    session = CellSession("fib", "python", "dask-processes", 2, 2, 34)  # tasks of about a second
    session.start()
    try:
        victim = session.ex.worker_pids()[0]
        threading.Timer(0.4, os.kill, (victim, signal.SIGKILL)).start()
        with pytest.raises(RuntimeError, match="died mid-cell") as info:
            session.run_once()
        cell = session.failed(info.value)
    finally:
        session.close(kill=True)
    assert cell.status == "failed"
    assert "died mid-cell" in cell.reason
    assert "\n" not in cell.reason
    assert not [
        t for t in threading.enumerate() if t.name == "gillab-probe"
    ]  # the repeat's probe stopped too


@pytest.mark.slow
@NEEDS_DASK
def test_ctrl_c_during_a_dask_cell_leaves_no_dask_process(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    # A job started in the background by a non-interactive shell inherits SIGINT ignored, and Python then
    # installs no Ctrl-C handler in the child: give it the default disposition.
    old_sigint = signal.getsignal(signal.SIGINT)
    if old_sigint == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gillab",
            "run",
            "--executor",
            "dask-processes",
            "--workers",
            "2",
            "--impl",
            "python",
            "--size",
            "30",
            "--repeat",
            "9",
            "--max-wait",
            "0.2",
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    signal.signal(signal.SIGINT, old_sigint)
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            kids = psutil.Process(proc.pid).children(recursive=True)
            seen |= {k.pid for k in kids if "dask" in " ".join(k.cmdline())}
            if len(seen) >= 3:  # the scheduler and both workers are up
                break
            time.sleep(0.2)
        assert len(seen) >= 3, "the cluster never came up"
        time.sleep(1.0)  # into the cell's rounds
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in seen):
        time.sleep(0.2)
    alive = [
        p
        for p in seen
        if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
    ]
    assert not alive, f"dask processes left behind: {alive}"


@pytest.mark.slow
@NEEDS_DASK
def test_an_existing_cluster_runs_the_same_cells_and_is_left_running(
    tmp_path: Path, cli: Cli
) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        address = cluster.scheduler_address
        proc = cli(
            "run",
            "--executor",
            "dask-processes",
            "--workers",
            "2",
            "--impl",
            "python",
            "--size",
            "22",
            "--repeat",
            "2",
            "--max-wait",
            "0.2",
            "--scheduler",
            address,
            "--out",
            str(tmp_path),
        )
        assert proc.returncode == 0, proc.stderr
        data = json.loads((tmp_path / "results.json").read_text())
        dask_cells = [c for c in data["cells"] if c["executor"] == "dask-processes"]
        assert [c["status"] for c in dask_cells] == ["ok"]
        assert data["engine"]["scheduler"] == address
        assert {w["python"] for w in data["environment"]["dask_workers"]} == {
            sys.version.split()[0]
        }
        assert client.submit(sum, [1, 2]).result() == 3  # gillab left the cluster running


@NEEDS_DASK
def test_a_cluster_without_gillabs_native_modules_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    distributed = pytest.importorskip("distributed")
    from gillab import _native

    def missing() -> None:
        raise _native.NotBuiltError("the native instruments are not built in this install")

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        monkeypatch.setattr(_native, "instruments", missing)  # the in-process worker lacks them
        with pytest.raises(EngineError, match=r"lack gillab's native modules .*pip install -e \."):
            engines.cluster_facts(cluster.scheduler_address)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--executor", "dask-threads", "--scheduler", "tcp://127.0.0.1:9"],
            "tcp://127.0.0.1:9",
            marks=pytest.mark.slow,  # the connection times out after 5 s
        ),
        (
            ["--executor", "thread", "--scheduler", "tcp://127.0.0.1:9"],
            "--scheduler is for the dask executors",
        ),
    ],
)
def test_a_bad_scheduler_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    proc = cli("run", *args, "--out", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_without_the_extra_the_dask_cells_are_skipped_with_the_install_command(
    tmp_path: Path, cli: Cli
) -> None:
    hide = tmp_path / "hide"
    (hide / "distributed").mkdir(parents=True)
    (hide / "distributed" / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(hide), os.environ.get("PYTHONPATH")])),
    )
    out = tmp_path / "out"
    proc = cli(
        "run",
        "--executor",
        "thread,dask-threads",
        "--workers",
        "1",
        "--impl",
        "python",
        "--size",
        "18",
        "--repeat",
        "1",
        "--max-wait",
        "0.2",
        "--out",
        str(out),
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    cells = json.loads((out / "results.json").read_text())["cells"]
    dask = [c for c in cells if c["executor"] == "dask-threads"]
    assert [c["status"] for c in dask] == ["skipped"]
    assert "pip install -e '.[dask]'" in dask[0]["reason"]
    assert all(c["status"] == "ok" for c in cells if c["executor"] != "dask-threads")


@pytest.mark.slow
@NEEDS_DASK
def test_tasks_too_short_for_dask_name_its_cost_per_task_not_noise(tmp_path: Path) -> None:
    """Tasks of a fraction of a millisecond on 2 dask threads: dask's own cost per task (timed on empty tasks) is
    most of each; where the cell falls short, that cost is named, with its figure, even where the cell was
    also flagged: it explains the figure."""
    from dataclasses import replace

    from gillab.outputs import findings
    from gillab.outputs.choices import ENGINE_SHARE, engine_cost

    config = RunConfig(
        workload="fib",
        impls=("cython-nogil",),
        executors=("dask-threads",),
        workers=(2,),
        sizes={"cython-nogil": 18},
        repeat=3,
        min_repeat=3,
        max_wait_s=0.2,
    )
    cell = next(c for c in run_matrix(config, tmp_path).cells if c.executor == "dask-threads")
    assert cell.ok, cell.reason
    cost = engine_cost(cell)
    assert cost is not None
    assert cost[2] >= ENGINE_SHARE, (
        cost
    )  # an empty task costs dask more than a tenth of these tasks
    said = findings._likely(replace(cell, noisy=True, noise_reason="a burst"), True)
    assert said.startswith("dask spent")
    assert f"{cost[2]:.0%} of a" in said
    assert "not to be trusted" not in said


@pytest.mark.slow
@NEEDS_DASK
def test_tasks_are_sized_for_the_engines_own_cost_unless_the_size_is_fixed() -> None:
    base = RunConfig(
        workload="fib",
        impls=("cython-nogil",),
        executors=("dask-threads",),
        workers=(2,),
        tasks=4,
        repeat=2,
        min_repeat=2,
        max_wait_s=0.0,
        settle_s=0.0,
    )
    sized = run_matrix(base, None)
    assert sized.engine is not None
    cost = sized.engine.sized_for_s
    assert cost is not None and cost > 0  # noqa: PT018 - measured on a cluster started for it
    assert sized.config.target_s == engine_target_s(base.target_s, cost)
    said = sizing_note(sized)
    assert f"{cost * 1e3:.1f} ms" in said
    fixed = run_matrix(replace(base, sizes={"cython-nogil": 25}), None)
    assert fixed.engine is not None
    assert (
        fixed.engine.sized_for_s is None
    )  # the user's size stands: nothing is measured to size it
    assert fixed.config.target_s == base.target_s
    assert sizing_note(fixed) == ""
