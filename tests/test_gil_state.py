"""Who holds the GIL, read from the interpreter itself: the three families of behaviour it must show.

Counted from the interpreter's own GIL state, not timed: which thread holds the GIL, and how many times
CPython says it changed hands.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time

import pytest

from gillab import _native, environment
from gillab.harness import gilstate, interference
from gillab.harness.gilstate import GilSampler, GilState
from gillab.harness.rounds import measure_cell
from gillab.workloads import resolve

SAMPLED = pytest.mark.skipif(
    bool(gilstate.unavailable()) or not environment.gil_enabled(),
    reason=gilstate.unavailable() or "no GIL to hold on this interpreter",
)


def two_threads(impl: str, n: int, seconds: float = 0.5) -> GilState:
    """Run fib(n) in a loop on two threads for `seconds`, sampling the GIL meanwhile; return what was seen."""
    fib = resolve("fib", impl)
    ids: list[tuple[str, int, int, int]] = []
    ready = threading.Barrier(3)
    stop = threading.Event()

    def work(role: str) -> None:
        tstate, clock = _native.gilstate().thread_identity()
        ids.append((role, threading.get_native_id(), tstate, clock))
        ready.wait()
        while not stop.is_set():
            fib(n)

    threads = [threading.Thread(target=work, args=(f"worker {i}",)) for i in range(2)]
    for t in threads:
        t.start()
    ready.wait()
    ids.sort()
    sampler = GilSampler(ids)
    t0 = time.monotonic_ns()
    sampler.start()
    time.sleep(seconds)
    t1 = time.monotonic_ns()
    stop.set()
    for t in threads:
        t.join()
    return sampler.stop({tid: [(t0, t1)] for _, tid, _, _ in ids}, t0, t1)


@SAMPLED
@pytest.mark.usefixtures("switch_interval")
def test_two_python_threads_take_turns_at_every_switch_interval() -> None:
    rates = {}
    disturbed = False
    for interval in (0.005, 0.001):
        sys.setswitchinterval(interval)
        cpu0, before = time.process_time(), interference.snapshot()
        seen = two_threads("python", 20)
        others = interference.between(before, interference.snapshot(), time.process_time() - cpu0)
        unknown = (
            others.others_cores is None
        )  # no /proc/stat read here: a loaded machine cannot be told
        disturbed = disturbed or others.disturbed or unknown
        assert seen.available, seen.note
        holds = [t.holds for t in seen.per_thread]
        assert seen.switches_per_s is not None
        rates[interval] = seen.switches_per_s
        if (
            others.disturbed or unknown
        ):  # a handed-over GIL stays free until the OS runs the thread it was handed to
            assert sum(holds) >= 0.5, holds
            assert all(0.15 <= h <= 0.85 for h in holds), holds
            continue
        # The GIL is held by one of them but for its hand-offs: each leaves it free while the OS wakes the
        # thread it was handed to (9-80 µs each at 5 ms on this 2-core VM, 57-170 µs at 1 ms).
        assert sum(holds) >= 0.5, holds
        assert (1 - sum(holds)) / seen.switches_per_s <= 250e-6, (holds, seen.switches_per_s)
        assert all(0.3 <= h <= 0.7 for h in holds), holds
    if disturbed:
        # Another process took a core: a thread asked to hand over the GIL must then also wait for the OS to
        # run its successor, so switches come when the OS allows, not every interval (as the lab itself would
        # flag). The GIL still changes hands, many times a second.
        assert min(rates.values()) >= 0.1 / 0.005, rates
        return
    for interval, rate in rates.items():
        assert 0.6 / interval <= rate <= 1.4 / interval, (interval, rate)
    assert 3 <= rates[0.001] / rates[0.005] <= 7  # about 5× the switches at a fifth of the interval


@SAMPLED
def test_two_nogil_threads_never_hold_and_run_without_it() -> None:
    cpu0, before = time.process_time(), interference.snapshot()
    seen = two_threads("cython-nogil", 30)
    others = interference.between(before, interference.snapshot(), time.process_time() - cpu0)
    for t in seen.per_thread:
        assert t.holds <= 0.05, t
        assert t.runs_without_gil >= 0.1, t  # it ran at all
        assert t.runs_without_gil >= 0.9 * (t.runs_without_gil + t.holds), (
            t
        )  # and ran without the GIL
        if (
            not others.disturbed and others.others_cores is not None
        ):  # known quiet (/proc/stat read)
            # On a quiet machine it runs most of the time. When other processes take the cores, a running
            # thread waits for one a share of the time: that is the OS, not the GIL (the lab flags it).
            assert t.runs_without_gil >= 0.5, t


@SAMPLED
def test_four_cython_gil_tasks_on_four_threads_hold_the_gil_one_after_another() -> None:
    cell = measure_cell("fib", "cython-gil", "thread", 4, 4, 35, 1)
    assert cell.ok, cell.reason
    assert cell.gil is not None
    assert cell.gil.available, cell.gil.note
    # Slivers of at most 1 ms at a task's ends are allowed, or two samples where the sampler's budget made it
    # sample more slowly than that (a slow VM): a segment's ends are known to one sample.
    sliver = max(0.001, 2 * (cell.gil.interval_s or 0.0))
    blocks: list[tuple[int, float, float]] = []
    for task in cell.timeline:  # per task: under load one worker thread may run two of them in turn
        holds = sorted(
            (max(g.start_s, task.start_s), min(g.end_s, task.end_s))
            for g in cell.gil.segments
            if g.lane == task.lane
            and g.state == "holds"
            and g.end_s > task.start_s
            and g.start_s < task.end_s
        )
        merged: list[list[float]] = []
        for s, e in holds:  # join holds split by a sliver
            if merged and s - merged[-1][1] <= sliver:
                merged[-1][1] = e
            else:
                merged.append([s, e])
        long_ = [b for b in merged if b[1] - b[0] > sliver]
        if (
            not long_
        ):  # the sampler thread got no core while this task ran (a loaded machine): nothing seen
            continue
        assert len(long_) == 1, (task, merged)  # each task holds the GIL in one contiguous segment
        blocks.append((task.lane, long_[0][0], long_[0][1]))
    assert len(blocks) >= 2
    blocks.sort(key=lambda b: b[1])
    for (_, _, end), (_, start, _) in itertools.pairwise(blocks):
        assert start >= end - sliver  # no two tasks hold it at once: they ran one after another
    # And the task spans themselves say so: each ends where its kernel returned, not when its thread next got
    # the GIL (then all four would end together). A start may come early by one forced switch at most.
    tasks = sorted(cell.timeline, key=lambda t: t.end_s)
    assert len({round(t.end_s, 4) for t in tasks}) == len(tasks)
    for a, b in itertools.pairwise(tasks):
        assert b.start_s >= a.end_s - sys.getswitchinterval() - 0.001, (a, b)


@SAMPLED
def test_the_sampler_keeps_to_its_cpu_budget_and_says_so() -> None:
    """With a budget below what any wake-up costs, the sampler slows to its slowest rate and says why;
    without one it keeps the rate asked for."""
    lanes = [gilstate.this_thread("main")]
    for budget, slowed in ((1e-6, True), (0.0, False)):
        sampler = GilSampler(lanes, interval_s=0.0002, budget=budget)
        t0 = time.monotonic_ns()
        sampler.start()
        time.sleep(0.1)
        t1 = time.monotonic_ns()
        seen = sampler.stop({lanes[0][1]: [(t0, t1)]}, t0, t1)
        assert seen.available, seen.note
        assert seen.requested_interval_s == 0.0002
        assert bool(seen.rate_note) is slowed, seen.rate_note
        if slowed:
            assert "keeps within" in seen.rate_note
            assert seen.interval_s is not None
            assert seen.interval_s > 0.0002


def test_an_unknown_interpreter_gets_the_reason_and_every_other_figure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    why = "GIL state sampling is not available on 3.99: this gillab knows the GIL's layout on 3.11-3.13 only"
    monkeypatch.setattr(gilstate, "unavailable", lambda: why)
    cell = measure_cell("fib", "cython-nogil", "thread", 2, 2, 25, 1)
    assert cell.ok, cell.reason
    assert cell.gil is not None
    assert not cell.gil.available
    assert cell.gil.note == why or cell.gil.note.startswith("no GIL to hold")
    assert cell.median_wall_s is not None
    assert cell.gil_wait is not None
    assert len(cell.timeline) == 2


@pytest.mark.skipif(
    environment.gil_enabled(), reason="a free-threaded interpreter running without its GIL only"
)
def test_without_a_gil_there_is_no_gil_to_hold() -> None:
    cell = measure_cell("fib", "python", "thread", 2, 2, 20, 1)
    assert cell.ok, cell.reason
    assert cell.gil is not None
    assert cell.gil.note.startswith("no GIL to hold")


@pytest.mark.skipif(not environment.free_threaded_build(), reason="free-threaded builds only")
def test_with_python_gil_1_a_free_threaded_build_samples_as_usual() -> None:
    env = dict(os.environ, PYTHON_GIL="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            __file__,
            "-k",
            "two_python_threads or four_cython_gil",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "2 passed" in proc.stdout
