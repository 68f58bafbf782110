"""Figures with their doubt: interleaved rounds, bootstrap intervals, interference, re-measurement, flags.

Behaviour, not timing: a competing process is started on purpose, and the lab must see it, name it, and
keep it out of the figures (or flag them).
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gillab import stats
from gillab.environment import info
from gillab.harness import interference
from gillab.harness.noise import flag_noise, spread, wants_rounds
from gillab.harness.results import Cell, RunConfig, RunResult
from gillab.harness.rounds import Waits, round_order
from gillab.harness.runner import run_matrix
from gillab.outputs.findings import interpret, wait_note

pytestmark = pytest.mark.skipif(
    not interference.available(), reason="interference is read from /proc/stat"
)

BURN = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"


def competitor(seconds: float) -> subprocess.Popen[bytes]:
    """A CPU-bound child process on one core that exits by itself after `seconds` (at most 15)."""
    return subprocess.Popen([sys.executable, "-c", BURN.format(s=min(seconds, 15.0))])


@pytest.fixture
def burning() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def small(**kw: object) -> RunConfig:
    base: dict[str, object] = {
        "workload": "fib",
        "impls": ("cython-nogil",),
        "executors": ("thread",),
        "workers": (2,),
        "tasks": 4,
        "sizes": {
            "cython-nogil": 35
        },  # tens of ms a task: windows far longer than /proc/stat's ticks
        "repeat": 3,
        "min_repeat": 3,
        "settle_s": 0.0,  # the run's own rounds only (tests/test_settle.py adds rounds)
    }
    return RunConfig(**(base | kw))  # type: ignore[arg-type]


def test_a_competitor_through_the_whole_run_is_measured_and_flagged(
    burning: list[subprocess.Popen[bytes]],
) -> None:
    burning.append(competitor(15))
    # Windows of 200-300 ms, where /proc/stat's ticks are under 0.1 of a core. A competitor's fair share is
    # 2/3 of a core beside two busy threads: 8 tasks of fib(36) took 85 ms, ticks of 0.22-0.24 of a core, and
    # CI read it as 0.30 (4 tasks of fib(35): 55 ms, and 0.46).
    result = run_matrix(small(max_wait_s=0.3, tasks=8, sizes={"cython-nogil": 38}), None)
    burning[0].kill()
    parallel = [c for c in result.cells if c.executor != "serial"]
    assert parallel
    for c in parallel:
        assert c.ok, c.reason
        assert c.interference is not None
        assert c.interference.others_cores is not None
        assert c.interference.others_cores >= 0.35, (
            c.interference
        )  # 0.52-0.99 a repeat, medians 0.6-0.9
        assert c.noisy
        assert "other processes used" in c.noise_reason
        assert c.available_cores is not None
        assert c.available_cores < 2 - 0.35


def _quiet_machine() -> bool:
    return any(not interference.quiet_now(0.3).disturbed for _ in range(10))


@pytest.mark.slow
def test_a_passing_competitor_is_dropped_and_measured_again(
    burning: list[subprocess.Popen[bytes]],
) -> None:
    if not _quiet_machine():
        pytest.skip(
            "this machine is never quiet (another process competes): a passing competitor cannot be told"
        )

    def progress(label: str, done: int, total: int) -> None:
        if label.endswith("round 2") and not burning:
            burning.append(competitor(1.0))  # one round's worth of competition, then quiet again

    result = run_matrix(small(max_wait_s=10.0), None, progress)
    assert burning, "the competitor was never started"
    cells = [c for c in result.cells if c.ok]
    assert sum(c.repeats_dropped for c in cells) >= 1
    for c in cells:
        kept = [r for r in c.repeats if not r.dropped]
        assert len(kept) == c.rounds
        assert not any(r.disturbed or r.interference.disturbed for r in kept), c.repeats
        dropped = [r for r in c.repeats if r.dropped]
        assert all(r.interference.disturbed for r in dropped)
        assert sorted(c.wall_s) == sorted(
            r.wall_s for r in kept
        )  # the figures come from quiet repeats only


@pytest.mark.slow
def test_rounds_interleave_in_the_seeded_order(tmp_path: Path) -> None:
    cfg = small(
        impls=("python", "cython-nogil"),
        executors=("thread", "process"),
        workers=(1, 2),
        tasks=2,
        sizes={"python": 18, "cython-nogil": 25},
        repeat=3,
        seed=7,
        max_wait_s=0.5,
    )
    result = run_matrix(cfg, tmp_path)
    for group, impl in enumerate(cfg.impls):
        cells = [c for c in result.cells if c.impl == impl]
        keys = [(c.impl, c.executor, c.workers) for c in cells]
        rounds = {r.round for c in cells for r in c.repeats}
        assert rounds == {0, 1, 2}
        for rnd in rounds:
            # kept repeats only: a disturbed one is measured again at once, in the same place of the order
            ran = sorted(
                (r.seq, (c.impl, c.executor, c.workers))
                for c in cells
                for r in c.repeats
                if r.round == rnd and not r.dropped
            )
            order = [key for _, key in ran]
            base = (impl, "serial", 1)
            cells_ = [k for k in order if k != base]
            assert sorted(cells_) == sorted(
                k for k in keys if k != base
            )  # each cell once per round
            assert cells_ == [k for k in round_order(cfg.seed, group, rnd, keys) if k != base]
            for i, key in enumerate(order):  # each next to a serial repeat, before or after it
                if key != base:
                    assert base in order[max(0, i - 1) : i] + order[i + 1 : i + 2]
            assert order.count(base) == (len(cells_) + 1) // 2  # one for each two cells
    saved = RunResult.from_json(__import__("json").loads((tmp_path / "results.json").read_text()))
    assert saved.interleave is not None
    assert saved.interleave.seed == 7
    assert saved.speed_probe is not None
    assert len(saved.speed_probe.spin_ms) >= 3


def test_the_shuffle_differs_between_rounds_and_repeats_with_the_seed() -> None:
    keys = [("fib", "thread", w) for w in range(1, 8)]
    orders = [round_order(1, 0, r, keys) for r in range(5)]
    assert len({tuple(o) for o in orders}) > 1
    assert orders == [round_order(1, 0, r, keys) for r in range(5)]


def test_bootstrap_interval_holds_the_median_and_narrows_with_more_rounds() -> None:
    rng = random.Random(11)
    ratios = [rng.gauss(1.9, 0.08) for _ in range(40)]
    widths = []
    for n in (3, 12, 40):
        lo, hi = stats.bootstrap_ci(ratios[:n])
        assert lo <= stats.median(ratios[:n]) <= hi
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2]
    assert stats.bootstrap_ci(ratios[:9]) == stats.bootstrap_ci(ratios[:9])  # a fixed seed


def test_interference_comes_from_psutil_without_proc_stat_and_is_none_without_either(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(interference, "PROC_STAT", tmp_path / "no-such-file")
    got = interference.snapshot()  # macOS's and Windows's path: psutil's per-CPU times
    assert got is not None
    assert got.resolution_s >= interference.PSUTIL_RESOLUTION_S
    assert got.cpus >= 1
    assert got.busy_s > 0
    monkeypatch.setattr(interference, "_psutil", lambda: None)
    assert interference.snapshot() is None
    assert not interference.available()
    seen = interference.between(None, None, 0.1)
    assert seen.others_cores is None
    assert not seen.disturbed


def _cell(**kw: object) -> Cell:
    base: dict[str, object] = {
        "workload": "fib",
        "impl": "cython-nogil",
        "executor": "thread",
        "workers": 2,
        "tasks": 2,
        "size": 30,
        "status": "ok",
        "speedup": 1.05,
        "efficiency": 0.52,
        "cpu_utilization": 0.96,
        "threads_running_mean": 2.0,
        "releases_gil": True,
    }
    return Cell(**(base | kw))  # type: ignore[arg-type]


def test_report_sentences_come_from_the_figures() -> None:
    short = interpret(_cell(), gil_on=True)
    assert "not what the GIL predicts" in short
    assert "only 0.96 cores were busy with 2.0 threads ready to run" in short
    scaled = interpret(_cell(speedup=1.9, efficiency=0.95, cpu_utilization=1.9), gil_on=True)
    assert "kept 1.90 cores busy: its native code lets go of the GIL" in scaled
    turns = interpret(
        _cell(
            impl="python", releases_gil=None, speedup=1.14, efficiency=0.57, cpu_utilization=0.97
        ),
        gil_on=True,
    )
    assert "kept 0.97 cores busy: the workers took turns" in turns
    assert "1.14×" in turns
    surprise = interpret(
        _cell(impl="python", releases_gil=None, speedup=1.6, efficiency=0.8, cpu_utilization=1.6),
        gil_on=True,
    )
    assert "not what the GIL predicts (one core busy" in surprise
    free = interpret(
        _cell(impl="python", releases_gil=None, speedup=1.9, efficiency=0.95), gil_on=False
    )
    assert "without a GIL" in free
    noisy = interpret(
        _cell(noisy=True, noise_reason="other processes used 1.0 of 2 cores"), gil_on=True
    )
    assert "not to be trusted: other processes used 1.0 of 2 cores" in noisy
    process = interpret(
        _cell(executor="process", speedup=1.9, efficiency=0.95, cpu_utilization=1.9), gil_on=True
    )
    assert "GIL wait" not in process  # the parent's GIL says nothing of process workers
    assert "each worker process has a GIL of its own" in process


def test_the_sentence_sets_the_speedup_against_the_machines_ceiling() -> None:
    """Where the cores ran slower together than alone, the sentence says so, and names the ceiling."""
    c = _cell(
        speedup=1.33,
        efficiency=0.67,
        parallelism=1.96,
        core_speed=0.68,
        ceiling=1.35,
        efficiency_vs_ceiling=0.99,
        efficiency_vs_ceiling_ci95=(0.95, 1.03),
        speedup_ci95=(1.2, 1.5),
    )
    text = interpret(flag_noise(c, 2), gil_on=True)
    assert "kept 1.96 cores busy" in text
    assert "ran at 0.68 of their solo speed" in text
    assert "ceiling for it was 1.35" in text
    assert "as fast as this machine allowed" in text


def test_a_cell_the_machine_moved_is_flagged_with_the_machine_named() -> None:
    """A wide speedup whose efficiency against the ceiling held still: the machine moved it, and the flag says so.
    One whose efficiency against the ceiling holds 1.0 within 0.90-1.10 was as fast as this machine allowed, and
    says so; its speedup, ±27%, is marked all the same (issue 35: a figure that moved is never unmarked)."""
    moved = _cell(
        speedup=1.5,
        speedup_ci95=(1.1, 1.9),
        ceiling=1.5,
        ceiling_ci95=(1.1, 1.9),
        efficiency_vs_ceiling=0.8,
        efficiency_vs_ceiling_ci95=(0.78, 0.82),
    )
    got = flag_noise(moved, 2)
    assert got.noisy
    assert "moved with the machine" in got.noise_reason
    allowed = flag_noise(
        replace(moved, efficiency_vs_ceiling=1.0, efficiency_vs_ceiling_ci95=(0.9, 1.1)), 2
    )
    assert allowed.noisy
    assert "moved with the machine" in allowed.noise_reason
    assert allowed.against_ceiling.startswith("as fast as this machine allowed")
    vague = flag_noise(
        replace(moved, efficiency_vs_ceiling=0.86, efficiency_vs_ceiling_ci95=(0.58, 1.22)), 2
    )
    assert vague.noisy
    assert vague.against_ceiling == ""  # an interval that holds 1.0 and 0.6 alike tells nothing
    steady_walls = flag_noise(
        replace(
            moved,
            speedup_ci95=(1.45, 1.55),
            cv=0.12,
            efficiency_vs_ceiling=1.0,
            efficiency_vs_ceiling_ci95=(0.97, 1.03),
        ),
        2,
    )
    assert (
        not steady_walls.noisy
    )  # its walls varied with the machine, its speedup held: as fast as allowed
    steady = flag_noise(
        replace(
            moved,
            ceiling_ci95=(1.48, 1.52),
            efficiency_vs_ceiling_ci95=(0.5, 1.6),
            efficiency_vs_ceiling=0.7,
        ),
        2,
    )
    assert "the cell itself moved" in steady.noise_reason


def test_only_a_cell_whose_spread_more_rounds_can_narrow_wants_them() -> None:
    steady = _cell(speedup=1.8, speedup_ci95=(1.75, 1.85))
    assert not wants_rounds(steady)  # ±3%: settled
    wide = _cell(speedup=1.8, speedup_ci95=(1.4, 2.0))
    assert wants_rounds(wide)
    assert wants_rounds(replace(steady, unsteady=("efficiency_vs_ceiling",)))
    assert not wants_rounds(
        replace(wide, executor="serial", workers=1)
    )  # the baseline is paired, not asked
    assert not wants_rounds(replace(wide, status="failed"))
    # a kept disturbed repeat flags a cell, but its interval is narrow: rounds would not unflag it
    assert not wants_rounds(
        replace(steady, noisy=True, noise_reason="other processes used 1.0 of 2 cores")
    )
    nearer = replace(steady, speedup_ci95=(1.6, 2.0))
    assert spread(nearer) < spread(wide) < spread(replace(steady, unsteady=("speedup",)))
    assert spread(steady) < 1.0 < spread(nearer)


def test_the_run_waits_for_quiet_moments_within_one_budget_and_not_once_none_came(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[float] = []

    def never_quiet(max_wait_s: float) -> tuple[bool, float]:
        calls.append(max_wait_s)
        return False, max_wait_s

    monkeypatch.setattr(interference, "wait_for_quiet", never_quiet)
    waits = Waits(3.0)
    assert not waits.wait()
    assert not waits.wait()  # no quiet moment came: no second wait
    assert calls == [3.0]
    assert waits.gave_up
    assert waits.spent_s == 3.0
    said = wait_note(replace(RunResult(info(), RunConfig(), None), waited_s=3.0, wait_gave_up=True))
    assert (
        said
        == " It waited 3.0 s for quiet moments; none came: the rest was measured beside what ran."
    )

    quiet = iter([(True, 0.5), (True, 2.0), (True, 0.1)])
    monkeypatch.setattr(interference, "wait_for_quiet", lambda s: next(quiet))
    waits = Waits(2.4)
    assert waits.wait()
    assert waits.wait()
    assert not waits.wait()  # 2.5 s spent of 2.4: none left
    assert not waits.gave_up


def test_a_cells_round_is_set_against_the_serial_repeat_next_to_it() -> None:
    from gillab.harness.noise import rounds_of
    from gillab.harness.records import RepeatRecord

    def rep(round_: int, seq: int, wall: float, dropped: bool = False) -> RepeatRecord:
        return RepeatRecord(round_, seq, wall, wall, interference.NONE, dropped=dropped)

    # round 0: serial at seqs 0, 3 and 6 (the machine slowed down after the first); the cell at seq 4.
    serial = _cell(
        executor="serial",
        workers=1,
        repeats=(rep(0, 0, 1.0), rep(0, 3, 2.0), rep(0, 6, 2.2), rep(1, 7, 1.0, dropped=True)),
    )
    cell = _cell(repeats=(rep(0, 4, 1.0), rep(1, 8, 0.5)))
    fig = rounds_of(cell, serial)
    assert fig.speedup == {
        0: 2.0
    }  # its neighbour at seq 3, not the round's first or last serial repeat
    assert rounds_of(serial, serial).speedup == {0: 1.0}  # the baseline is paired with itself
