"""The bench/ suite: the harness's matrix under pytest-benchmark.

GILLAB_BENCH_QUICK=1 runs a small matrix (about 11 s on 2 cores); unset, the full one (about 3 minutes).
Pools are created and warmed in fixtures, never inside the timed calls.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import pytest

from gillab import _native, environment
from gillab.codec import encode
from gillab.errors import GillabError
from gillab.harness import ceiling
from gillab.harness.calibrate import pick_size
from gillab.harness.ceiling import Reference
from gillab.harness.noise import with_speedup
from gillab.harness.options import default_workers
from gillab.harness.results import Cell
from gillab.harness.rounds import measure_cell
from gillab.harness.session import CellSession
from gillab.workloads import get

QUICK = os.environ.get("GILLAB_BENCH_QUICK", "") not in ("", "0")


@dataclass(frozen=True)
class Matrix:
    """What the suite benchmarks: (workload, executor) groups × impls × worker counts."""

    groups: tuple[tuple[str, str], ...]
    impls: dict[str, tuple[str, ...]]
    workers: tuple[int, ...]
    target_s: float


MATRIX = (
    Matrix(
        groups=(("fib", "thread"), ("fib", "process")),
        impls={"fib": ("python", "cython", "cython-gil")},
        workers=(1, 2),
        target_s=0.05,
    )
    if QUICK
    else Matrix(
        groups=(
            ("fib", "thread"),
            ("fib", "process"),
            ("fib", "asyncio"),
            ("sumsq", "thread"),
            ("counter", "thread"),
        ),
        impls={
            "fib": ("python", "cython", "cython-gil"),
            "sumsq": ("python", "numpy", "cython", "cython-gil"),
            "counter": ("python-lock", "cython-gil", "cython-atomic"),
        },
        workers=default_workers(),
        target_s=0.06,
    )
)
TASKS = max(MATRIX.workers)
ROUNDS = 5
"""Timed rounds per benchmark; the serial baseline is measured in as many, and round i pairs with round i."""
SUMMARY: dict[str, dict[str, tuple[int, float]]] = {}
"""group -> impl -> (workers, efficiency) at the highest worker count benchmarked."""
OVERHEAD: dict[str, float] = {}
"""'raw' and 'harness' -> median seconds for the same near-empty tasks (bench/test_overhead.py)."""
SAMPLER: dict[str, tuple[float, float, float]] = {}
"""The GIL-state sampler's cases -> (median wall, CPU share, rate reached) (bench/test_overhead.py)."""
DASK: dict[str, float] = {}
"""fib-dask: 'per_task_ms' and 'efficiency' (bench/test_dask.py)."""


@dataclass(frozen=True)
class Case:
    """One benchmark: a workload run by an executor, in one impl, on some workers."""

    workload: str
    executor: str
    impl: str
    workers: int

    @property
    def group(self) -> str:
        """The pytest-benchmark group: workload and executor."""
        return f"{self.workload}-{self.executor}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that asks for `case`, with ids a person can read (fib-thread-cython-w2)."""
    if "case" not in metafunc.fixturenames:
        return
    cases = [
        Case(wl, ex, impl, w)
        for wl, ex in MATRIX.groups
        for impl in MATRIX.impls[wl]
        for w in MATRIX.workers
    ]
    metafunc.parametrize("case", cases, ids=[f"{c.group}-{c.impl}-w{c.workers}" for c in cases])


CYTHON = "cython"
"""The benchmark name of the Cython kernels in whichever build is installed: cython-nogil where it is built,
else cython-gil. Its name is the same in every build, so that `pytest-benchmark compare` sets a save made
with GILLAB_BUILD=gil beside one made with GILLAB_BUILD=nogil, row by row; extra_info names the variant."""


def variant(name: str) -> str:
    """Return the impl a benchmark name runs; pytest.skip where it would repeat another row of this build."""
    if name == CYTHON:
        return "cython-nogil" if _native.is_built("cython-nogil") else "cython-gil"
    if name == "cython-gil" and variant(CYTHON) == "cython-gil":
        pytest.skip("this build has only cython-gil: the 'cython' row runs it")
    return name


@cache
def task_size(workload: str, impl: str) -> int:
    """Return the size that makes one task take about the target time here (NotBuiltError if not built)."""
    return pick_size(get(workload), impl, MATRIX.target_s)[0]


@cache
def serial_cell(workload: str, impl: str, size: int, tasks: int = TASKS) -> Cell:
    """Return the harness's serial cell for the same impl, size and tasks, in ROUNDS rounds (untimed by
    pytest-benchmark): the baseline every benchmark's speedup is taken against, round by round."""
    cell = measure_cell(workload, impl, "serial", 1, tasks, size, repeat=ROUNDS)
    if cell.median_wall_s is None:
        raise RuntimeError(f"serial baseline failed: {cell.reason}")
    return cell


class Rounds:
    """ROUNDS timed repeats of one session, each numbered as a round (so that the harness pairs it with the
    serial cell's round of the same number) and each followed by the machine's own reference (its ceiling for
    this cell in that round, as `gillab run` times it right after every repeat)."""

    def __init__(self, session: CellSession) -> None:
        self.session = session
        self.reference = Reference()
        self.numbers = itertools.count()

    def kwargs(self) -> dict[str, Any]:
        """pytest-benchmark's pedantic arguments."""
        return {"setup": self._setup, "teardown": self._teardown, "rounds": ROUNDS, "iterations": 1}

    def _setup(self) -> tuple[tuple[()], dict[str, Any]]:
        return (), {"release_delay_s": 0.0, "round_": next(self.numbers)}

    def _teardown(self, release_delay_s: float, round_: int) -> None:
        ex = self.session.ex
        self.reference.measure(0, round_, "serial", 1, alone=True)
        self.reference.measure(0, round_, ex.name, ex.workers, alone=False)

    def cell(self) -> Cell:
        """The session's cell with its speedup, parallelism and efficiency against the ceiling: the harness's
        own code (noise.with_speedup), against the serial cell round by round."""
        s, ex = self.session, self.session.ex
        serial = serial_cell(s.workload, s.impl, s.size, s.tasks)
        ratios = ceiling.ratios(self.reference.samples, 0, ex.name, ex.workers)
        return with_speedup(s.summary(), serial, environment.usable_cores(), None, ratios)


@pytest.fixture
def timed() -> Callable[[CellSession], Rounds]:
    """Rounds(session): the timed repeats of a started session, and its figures once they ran."""
    return Rounds


@cache
def environment_info() -> dict[str, Any]:
    """Return the environment fields every benchmark records."""
    info = encode(environment.info())
    return {
        k: info[k]
        for k in (
            "python_version",
            "free_threaded_build",
            "gil_enabled",
            "usable_cores",
            "cython_version",
        )
    }


@pytest.fixture
def session(case: Case) -> Iterator[CellSession]:
    """A started CellSession for the case (pool created and warmed here, untimed); skipped if not built."""
    impl = variant(case.impl)
    try:
        size = task_size(case.workload, impl)
        cs = CellSession(case.workload, impl, case.executor, case.workers, TASKS, size)
    except GillabError as exc:  # not built, or cannot load here
        pytest.skip(str(exc))
    cs.start()
    yield cs
    cs.close()


@pytest.fixture
def dask_log() -> dict[str, float]:
    """Where the fib-dask benchmarks leave their figures for the summary."""
    return DASK


@pytest.fixture
def sized() -> Callable[[str, str], int]:
    """task_size: the size that makes one task of an impl take about the target time here."""
    return task_size


@pytest.fixture
def overhead_log() -> dict[str, float]:
    """Where the overhead benchmarks leave their medians for the summary."""
    return OVERHEAD


@pytest.fixture
def sampler_log() -> dict[str, tuple[float, float, float]]:
    """Where the GIL-state sampler's benchmarks leave (median wall, CPU share, rate reached) for the summary."""
    return SAMPLER


@pytest.fixture
def figures(case: Case) -> Callable[[Rounds], dict[str, Any]]:
    """Return a function that derives and records the harness's figures for a finished benchmark."""

    def derive(rounds: Rounds) -> dict[str, Any]:
        # Speedup compares the harness's own walls (release to last result) for this cell and the serial one,
        # as `gillab run` does, round i with round i; pytest-benchmark's times also hold the instruments' start
        # and stop. The serial baseline is measured apart, not interleaved (gillab run interleaves them).
        cell, session = rounds.cell(), rounds.session
        assert cell.speedup is not None
        assert cell.efficiency is not None
        if case.workers == max(MATRIX.workers):
            SUMMARY.setdefault(case.group, {})[case.impl] = (case.workers, cell.efficiency)
        return {
            "workload": case.workload,
            "executor": case.executor,
            "impl": case.impl,
            "variant": session.impl,
            "workers": case.workers,
            "tasks": session.tasks,
            "size": session.size,
            "rounds": len(cell.wall_s),
            "speedup": cell.speedup,
            "speedup_ci95": list(cell.speedup_ci95 or ()),
            "efficiency": cell.efficiency,
            "efficiency_ci95": list(cell.efficiency_ci95 or ()),
            "parallelism": cell.parallelism,
            "parallelism_ci95": list(cell.parallelism_ci95 or ()),
            "core_speed": cell.core_speed,
            "ceiling": cell.ceiling,
            "ceiling_ci95": list(cell.ceiling_ci95 or ()),
            "efficiency_vs_ceiling": cell.efficiency_vs_ceiling,
            "efficiency_vs_ceiling_ci95": list(cell.efficiency_vs_ceiling_ci95 or ()),
            "against_ceiling": cell.against_ceiling,
            "reference_cost_s": rounds.reference.cost_s(),
            "reference_kernel": rounds.reference.kernel,
            "interference": asdict(cell.interference) if cell.interference else None,
            "repeats_disturbed": sum(1 for r in session.repeats if r.interference.disturbed),
            "noisy": cell.noisy,
            "noise_reason": cell.noise_reason,
            "cpu_utilization": cell.cpu_utilization,
            "gil_wait_median_ms": cell.gil_wait.median_ms if cell.gil_wait else None,
            "releases_gil": session.kernel.releases_gil,
            "lost_updates": cell.lost_updates,
            **environment_info(),
        }

    return derive


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print, per group, each impl's efficiency at the highest worker count: the lesson at a glance."""
    if not (SUMMARY or OVERHEAD or SAMPLER or DASK):
        return
    tr = terminalreporter
    cores = environment.usable_cores()
    tr.section(
        f"gillab: efficiency at the highest worker count, and the instruments' cost ({cores} usable cores)"
    )
    for group, impls in SUMMARY.items():
        cells = ", ".join(f"{impl} {eff:.2f}" for impl, (_, eff) in impls.items())
        w = next(iter(impls.values()))[0]
        tr.write_line(f"{group} (w{w}): {cells}")
    if {"raw", "harness", "tasks"} <= set(OVERHEAD):
        per_task = (OVERHEAD["harness"] - OVERHEAD["raw"]) / OVERHEAD["tasks"]
        tr.write_line(
            f"harness overhead: {per_task * 1e6:.1f} µs per task beyond a raw ThreadPoolExecutor.map"
        )
    if DASK:
        tr.write_line(
            "fib-dask: " + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in DASK.items())
        )
    off = SAMPLER.get("off")
    for label, (wall, share, hz) in SAMPLER.items():
        if label != "off" and off is not None:
            tr.write_line(
                f"GIL-state sampler {label}: {share:.1%} of a core at {hz / 1e3:.1f} kHz reached, "
                f"cell wall {wall / off[0] - 1:+.1%} against the sampler off (medians; budget 3%)"
            )
