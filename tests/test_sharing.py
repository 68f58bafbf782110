"""Without the GIL, what still serialises threads: the sharing workload, and the diagnosis that names contention,
waiting or the stop-the-world collector (asserted of which part is named and ranked first, never of a time)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from gillab import environment
from gillab.harness.diagnosis import COLLECTOR, CONTENTION, WAITING, cause_of
from gillab.harness.records import Cause
from gillab.harness.results import Cell, Diagnosis, RunConfig, RunResult
from gillab.harness.runner import run_matrix
from gillab.outputs.findings import lesson
from gillab.workloads import patterns, sharing

Cli = Callable[..., subprocess.CompletedProcess[str]]
NO_GIL = not environment.gil_enabled()


def test_every_pattern_does_its_steps_and_returns_them() -> None:
    for broken, fixed in sharing.PAIRS:
        for name in (broken, fixed):
            assert getattr(patterns, name.replace("-", "_"))(300) == 300, name
    assert sharing.WORKLOAD.impl_names == tuple(n for pair in sharing.PAIRS for n in pair)


def _d(**kw: float | str | None) -> Diagnosis:
    base: dict[str, object] = {
        "cause": "noise",
        "ideal": 2.0,
        "cores_busy": 1.9,
        "waiting": 0.05,
        "waiting_ci95": (0.02, 0.08),
        "contention": 0.05,
        "contention_ci95": (-0.1, 0.2),
        "collector_share": 0.0,
    }
    base.update(kw)
    return Diagnosis(**base)  # type: ignore[arg-type]


def test_the_largest_part_is_named_first() -> None:
    assert cause_of(
        _d(contention=0.68, contention_ci95=(0.5, 0.75), waiting=0.29, waiting_ci95=(0.2, 0.4))
    ) == ("contention")
    assert cause_of(_d(waiting=0.45, waiting_ci95=(0.4, 0.5), collector_share=0.8)) == "collector"
    assert (
        cause_of(_d(waiting=0.45, waiting_ci95=(0.4, 0.5), collector_share=COLLECTOR / 2))
        == "waiting"
    )
    # waiting is larger than contention, where each is a share of what the cell could have had
    assert (
        cause_of(
            _d(contention=0.3, contention_ci95=(0.2, 0.4), waiting=0.5, waiting_ci95=(0.4, 0.6))
        )
        == "waiting"
    )


def test_a_long_collector_is_ranked_beside_contention() -> None:
    # Its own work runs on the threads' cores: CI's cyclic garbage on 3.14t lost core speed while the
    # collector ran 88% of the wall.
    busy = {"waiting": 0.40, "waiting_ci95": (0.35, 0.45), "collector_share": 0.88}
    assert cause_of(_d(contention=0.5, contention_ci95=(0.3, 0.6), **busy)) == "collector"
    slower = _d(contention=0.4, contention_ci95=(0.3, 0.5), collector_share=0.5)
    assert cause_of(slower) == "collector"
    # A collector that ran a little names no cause, and leaves contention named where it passes.
    shared = {"contention": 0.6, "contention_ci95": (0.5, 0.7)}
    assert cause_of(_d(collector_share=0.1, **shared)) == "contention"
    assert cause_of(_d(collector_share=COLLECTOR / 2, **shared)) == "contention"
    assert cause_of(_d(collector_share=0.5, waiting=0.1, waiting_ci95=(0.05, 0.15))) == "noise"


def test_within_the_machines_noise_no_cause_is_named() -> None:
    assert cause_of(_d()) == "noise"
    assert (
        cause_of(_d(contention=0.4, contention_ci95=(-0.05, 0.7))) == "noise"
    )  # its interval holds 0
    assert cause_of(_d(contention=0.6, contention_ci95=(0.5, 0.7)), allowed=True) == "noise"


def test_the_gil_back_on_is_named_before_any_part() -> None:
    d = _d(contention=0.6, contention_ci95=(0.5, 0.7), gil_on="importing x turned the GIL back on")
    assert cause_of(d) == "gil"


@cache
def _sharing_run(out: Path) -> RunResult:
    config = RunConfig(
        workload="sharing",
        impls=("shared-dict", "own-dict", "lock-per-update", "cyclic-garbage"),
        executors=("thread",),
        workers=(2,),
        repeat=3,
        min_repeat=3,
        max_wait_s=2.0,
    )
    return run_matrix(config, out)


@pytest.fixture(scope="module")
def sharing_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return _sharing_run(tmp_path_factory.mktemp("sharing"))


def _cell(result: RunResult, impl: str) -> Cell:
    return next(c for c in result.cells if c.impl == impl and c.executor == "thread")


@pytest.mark.slow
@pytest.mark.skipif(not NO_GIL, reason="a free-threaded interpreter running without its GIL only")
def test_without_the_gil_contention_and_the_collector_are_named(
    sharing_run: RunResult, quiet: Callable[[Cell], bool]
) -> None:
    for impl in ("shared-dict", "lock-per-update"):
        c = _cell(sharing_run, impl)
        assert c.ok, c.reason
        assert c.diagnosis is not None
        d = c.diagnosis
        assert d.contention is not None and d.contention_ci95 is not None  # noqa: PT018
        # Never a wrong cause, and never "no contention" said with confidence: where the VM moved the
        # reference between rounds, the interval holds 0 and the lab says it cannot tell (noise).
        assert d.cause in (Cause.CONTENTION, Cause.NOISE), d
        # Threads contend only where they run at once: another process's load can leave them one core.
        if quiet(c):
            assert d.contention_ci95[1] > CONTENTION, d
            if d.contention_ci95[0] > 0:
                assert d.cause == Cause.CONTENTION, d
    garbage = _cell(sharing_run, "cyclic-garbage")
    assert garbage.diagnosis is not None
    assert (garbage.diagnosis.collections or 0) > 0
    assert (garbage.diagnosis.collector_share or 0) > 0
    assert garbage.diagnosis.collector_share_ci95 is not None
    if quiet(garbage):
        g = garbage.diagnosis
        assert g.cause in (Cause.COLLECTOR, Cause.WAITING, Cause.NOISE), g
        if g.waiting_ci95 is not None and g.waiting_ci95[0] > WAITING:
            assert g.cause in (Cause.COLLECTOR, Cause.WAITING), g
    said = " ".join(lesson(sharing_run))
    shared = _cell(sharing_run, "shared-dict").diagnosis
    if shared is not None and shared.cause == Cause.CONTENTION:
        assert "contend over shared objects" in said


@pytest.mark.slow
@pytest.mark.skipif(NO_GIL, reason="a GIL build (or a free-threaded one with its GIL on) only")
def test_with_the_gil_the_sharing_threads_take_turns_and_the_gil_is_named(
    sharing_run: RunResult, quiet: Callable[[Cell], bool]
) -> None:
    for c in sharing_run.cells:
        if c.executor == "thread":
            assert c.diagnosis is None  # the GIL explains them: nothing to diagnose
            if quiet(c):
                assert c.parallelism is not None
                assert c.parallelism <= 1.1, c
    said = " ".join(lesson(sharing_run))
    assert "only the thread that holds the GIL runs" in said
    assert "contend" not in said


@pytest.mark.slow
@pytest.mark.skipif(not NO_GIL, reason="a free-threaded interpreter running without its GIL only")
def test_check_names_contention_for_one_shared_dict(cli: Cli) -> None:
    proc = cli(
        "check", "gillab.workloads.patterns:shared_dict", "--args", "100000", "--duration", "0.4"
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "yet scales poorly" in proc.stdout or "contend" in proc.stdout or "short of" in proc.stdout
    )
    if "disturbed" not in proc.stdout:
        assert "contend over shared objects" in proc.stdout, proc.stdout


def test_a_sharing_workload_of_no_size_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    proc = cli(
        "run",
        "--workload",
        "sharing",
        "--impl",
        "shared-dict",
        "--size",
        "0",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
