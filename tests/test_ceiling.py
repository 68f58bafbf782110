"""Telling the machine from the code: the ceiling beside every repeat, parallelism and core speed, a GIL probe
that adds no switches, and thread counts that leave gillab's own threads out.

Behaviour, not timing: the figures asserted are CPU ratios (how many cores were busy), counts, and the
consistency of figures taken from the same repeats.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab import environment
from gillab.harness import ceiling, gilstate
from gillab.harness.results import Cell, RunConfig, RunResult
from gillab.harness.runner import run_matrix

pytestmark = pytest.mark.slow

GIL_SAMPLED = not gilstate.unavailable() and environment.gil_enabled()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, dict[str, object]]:
    out = tmp_path_factory.mktemp("ceiling")
    config = RunConfig(
        workload="fib",
        impls=("python", "cython-nogil"),
        executors=("thread", "process"),
        workers=(1, 2),
        tasks=8,
        sizes={"python": 24, "cython-nogil": 33},
        repeat=3,
        min_repeat=3,
        max_wait_s=0.2,
        settle_s=0.0,  # every cell in the same three rounds (tests/test_settle.py adds rounds)
    )
    result = run_matrix(config, out)
    return result, json.loads((out / "results.json").read_text())


def cell(result: RunResult, impl: str, executor: str, workers: int) -> Cell:
    return next(
        c for c in result.cells if (c.impl, c.executor, c.workers) == (impl, executor, workers)
    )


def test_python_threads_keep_one_core_busy_and_nogil_threads_two(
    run: tuple[RunResult, dict[str, object]],
    quiet: Callable[[Cell], bool],
    busiest_quiet_round: Callable[[Cell], float],
) -> None:
    result, _ = run
    if not environment.gil_enabled():
        pytest.skip("the lesson of a GIL")
    python = cell(result, "python", "thread", 2)
    assert python.ok, python.reason
    assert python.parallelism is not None
    assert python.parallelism <= 1.1  # one thread at a time runs Python code, whatever the load
    nogil = cell(result, "cython-nogil", "thread", 2)
    assert nogil.parallelism is not None
    if environment.usable_cores() >= 2 and quiet(nogil):
        assert busiest_quiet_round(nogil) >= 1.4, nogil
        assert nogil.parallelism > python.parallelism
    # Beside a competitor neither figure says anything: the kernel's scheduler gives the test's process group
    # one core's share (under one competitor, nogil threads 0.895 and python threads 0.902, in one run).


def test_the_ceiling_is_measured_beside_every_repeat_and_kept_with_its_interval(
    run: tuple[RunResult, dict[str, object]],
) -> None:
    result, doc = run
    assert result.ceiling is not None
    samples = result.ceiling.samples
    for c in result.cells:
        assert c.ok, c.reason
        gi = result.config.impls.index(c.impl)
        rounds = {r.round for r in c.repeats if not r.dropped}
        assert len(rounds) == 3
        if c.executor == "serial":
            assert rounds <= {r for g, r in ceiling.solo(samples) if g == gi}
            continue
        assert (
            set(ceiling.ratios(samples, gi, c.executor, c.workers)) == rounds
        )  # every round of every cell
        assert c.ceiling is not None
        assert c.ceiling_ci95 is not None
        assert c.efficiency_vs_ceiling is not None
    block = doc["ceiling"]
    assert isinstance(block, dict)
    by = {b["workers"]: b for b in block["by_workers"]}
    assert set(by) == {1, 2}
    assert all(
        len(b["ci95"]) == 2 and b["ci95"][0] <= b["ratio"] <= b["ci95"][1] for b in by.values()
    )
    assert 0 < block["cost_s"] < block["run_s"]


def test_speedup_is_parallelism_times_core_speed_in_every_round(
    run: tuple[RunResult, dict[str, object]],
) -> None:
    """speedup = parallelism × core speed × the serial cell's own parallelism, round by round: the figures come
    from the same repeats and must agree (within 5%, the rounding of CPU clocks)."""
    result, _ = run
    for impl in result.config.impls:
        serial = {r.round: r for r in cell(result, impl, "serial", 1).repeats if not r.dropped}
        for c in result.cells:
            if c.impl != impl or c.executor == "serial":
                continue
            for r in (r for r in c.repeats if not r.dropped):
                base = serial[r.round]
                speedup = base.wall_s / r.wall_s
                parallelism, core_speed = r.cpu_s / r.wall_s, base.cpu_s / r.cpu_s
                serial_busy = base.cpu_s / base.wall_s
                assert speedup == pytest.approx(parallelism * core_speed / serial_busy, rel=0.05)
                if (
                    serial_busy >= 0.95
                ):  # the serial cell had its core: the identity needs no correction
                    assert speedup == pytest.approx(parallelism * core_speed, rel=0.06)
        for c in (c for c in result.cells if c.impl == impl and c.executor != "serial"):
            assert c.parallelism_ci95 is not None
            assert c.core_speed_ci95 is not None
            assert c.parallelism_ci95[0] <= (c.parallelism or 0) <= c.parallelism_ci95[1]


@pytest.mark.skipif(
    not GIL_SAMPLED, reason=gilstate.unavailable() or "no GIL to hold on this interpreter"
)
def test_the_gil_probe_adds_no_switches_where_the_sampler_reads_the_gil(
    run: tuple[RunResult, dict[str, object]],
) -> None:
    result, _ = run
    serial = cell(result, "python", "serial", 1)
    assert serial.gil is not None
    assert serial.gil.available, serial.gil.note
    assert serial.gil.switches_per_s is not None
    assert serial.gil.switches_per_s <= 1.2 / sys.getswitchinterval()
    probed = [
        r for r in serial.repeats if r.probed
    ]  # a disturbed repeat measured again is probed again
    assert {r.round for r in probed} == {
        0
    }  # the probe ran in round 0 only: the GIL wait's cross-check
    assert serial.gil_wait is not None
    process = cell(result, "python", "process", 2)
    assert (
        process.gil_wait is None
    )  # its workers' GILs are not this process's: no probe waits for them
    assert not any(r.probed for r in process.repeats)


def test_a_serial_python_cell_counts_one_thread_running(
    run: tuple[RunResult, dict[str, object]], quiet: Callable[[Cell], bool]
) -> None:
    """No instrument thread (the probe, the GIL-state sampler) is counted as running: one Python thread runs."""
    result, _ = run
    serial = cell(result, "python", "serial", 1)
    assert serial.threads_running_mean is not None
    if quiet(serial):
        assert serial.threads_running_mean <= 1.1, serial.thread_states
    roles = {t.role for t in serial.thread_states}
    assert "gil-probe" not in roles


def test_a_run_without_rounds_of_its_own_still_reads_back(tmp_path: Path) -> None:
    """Results of schema 3 and 4 (no ceiling, no parallelism) still read, and their figures stay unknown."""
    doc = json.loads((Path(__file__).parent / "golden" / "diff-a.json").read_text())
    old = RunResult.from_json(doc)
    assert old.ceiling is None
    assert all(c.parallelism is None and c.efficiency_vs_ceiling is None for c in old.cells)


def test_the_reference_wall_covers_every_thread_s_own_unit() -> None:
    """The wall of a unit on N threads runs from the first thread's start to the last one's end, whatever the
    releasing thread did meanwhile: it covers each thread's own unit (timed inside it), and is never below zero.
    A wall read from the releasing thread's clock once fell below zero on 3.14t, and lost a round's ceiling."""
    spans: list[tuple[int, int]] = []
    ref = ceiling.Reference()

    def unit() -> None:
        t0 = time.monotonic_ns()
        ref.unit()
        spans.append((t0, time.monotonic_ns()))

    for workers in (1, 2, 3):
        spans.clear()
        wall, cpu = ceiling.together(unit, workers)
        assert len(spans) == workers
        assert wall * 1e9 >= max(end - start for start, end in spans)
        assert cpu > 0
