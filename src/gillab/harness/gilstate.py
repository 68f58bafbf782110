"""Who holds the GIL: the interpreter's own GIL state, sampled from C, turned into four states per worker.

A native pthread that never takes the GIL (cext/_gilstate.h) reads, at a fixed rate, whether the GIL is
locked, which PyThreadState last took it and CPython's switch counter, and whether each registered worker's
CPU clock advanced. Workers in subinterpreters with a GIL of their own are watched from here too: the sampler
reads each one's own GIL (each is the only thread of its interpreter). With the task spans the harness
already has, every sample of every worker is one of:

- **holds** the GIL (it is locked, and this worker took it last), its interpreter's own for an interpreter;
- **runs** without the GIL (its CPU clock advanced, and it is not the holder);
- **waits** (inside a task, neither running nor holding: for the GIL, or for a core);
- **idle** (no task).
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from gillab import _native, environment
from gillab.errors import GillabError

DEFAULT_RATE_HZ = 10_000.0
"""The rate asked for; the budget decides what the machine can afford."""
DEFAULT_INTERVAL_S = 1 / DEFAULT_RATE_HZ
BUDGET = 0.03
"""The sampler's CPU may use at most this share of one core. A wake-up costs about 1-2 µs of CPU on bare
metal, so 10 kHz fits; on the 2-core VM gillab was built on it costs 9-14 µs, and the governor settles near
2-3 kHz. The cost and the rate reached are recorded in every cell."""
SLOWEST_INTERVAL_S = 0.002
"""The governor never samples more slowly than 500 Hz, whatever it costs (the cost is then reported)."""
STATES = ("holds", "runs", "waits", "idle")
SERIES_POINTS = 400


@dataclass(frozen=True)
class ThreadGil:
    """One worker's share of the samples in each state."""

    role: str
    holds: float
    runs_without_gil: float
    waits: float
    idle: float


@dataclass(frozen=True)
class InterpreterGil:
    """One interpreter's own GIL over a repeat (a cell whose workers each have an interpreter of their own)."""

    interpreter_id: int
    held_fraction: float
    """Share of the time this GIL was locked."""
    switches_per_s: float | None


@dataclass(frozen=True)
class GilSegment:
    """A stretch of time one worker spent in one state (seconds from the release)."""

    lane: int
    state: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class GilState:
    """What the GIL-state sampler saw over one repeat."""

    available: bool
    note: str
    """"" when sampled; else why not (unknown version, process workers, no GIL to hold)."""
    interval_s: float | None = None
    """The mean interval between samples over the window (the governor's choice, and late wake-ups)."""
    samples: int = 0
    held_fraction: float | None = None
    """Share of the samples in which the GIL was locked (where each worker has a GIL of its own: the mean over
    their GILs, each in per_interpreter)."""
    switches_per_s: float | None = None
    """CPython's own switch counter, per second of the repeat (summed over the GILs watched)."""
    per_thread: tuple[ThreadGil, ...] = ()
    overhead: float | None = None
    """The sampler thread's CPU time ÷ its running time: its cost, as a share of one core."""
    requested_interval_s: float | None = None
    rate_note: str = ""
    """"" when the sampler kept the rate asked for; else why it sampled more slowly."""
    sample_cost_s: float | None = None
    """The sampler's CPU time per sample, as its governor last measured it."""
    segments: tuple[GilSegment, ...] = ()
    switch_series: tuple[tuple[float, int], ...] = ()
    """(seconds from the release, switches since the first sample), thinned to at most SERIES_POINTS."""
    per_interpreter: tuple[InterpreterGil, ...] = ()
    """Each worker interpreter's own GIL, where the workers are subinterpreters (empty otherwise)."""


def unavailable() -> str:
    """Return why the GIL state cannot be sampled here, or ""."""
    try:
        why: str = _native.gilstate().gil_state_unavailable()
    except GillabError as exc:
        return str(exc)
    return why


def switch_count() -> int | None:
    """Return CPython's own count of GIL switches so far, or None where it cannot be read or there is no GIL."""
    if unavailable():
        return None
    n: int | None = _native.gilstate().gil_switches()
    return n


class Lane(NamedTuple):
    """One watched worker."""

    role: str
    tid: int
    """Its native thread id."""
    tstate: int
    """Its PyThreadState address; 0 for the only thread of a subinterpreter (it holds whenever its GIL is)."""
    clock: int
    """Its CPU clock id."""
    interpreter: int = 0
    """The id of the interpreter it runs in (0: the main one): whose GIL it takes."""


def this_thread(role: str) -> Lane:
    """Return the calling thread's lane for a GilSampler (a thread of the main interpreter)."""
    tstate, clock = _native.gilstate().thread_identity()
    return Lane(role, threading.get_native_id(), tstate, clock)


@dataclass
class Settled:
    """Where a sampler's governor settled, so that the next sampler of the same cell starts there: the cost of a
    sample is the machine's, and a new sampler need not learn it again over the first milliseconds of every
    repeat. Each cell keeps its own, so that no cell's rate depends on the cells measured before it."""

    by_interval: dict[float, tuple[float, float]] = field(default_factory=dict)
    """Asked-for interval -> (the interval the last sampler settled on, its CPU per sample)."""

    def start_for(self, asked_s: float) -> float:
        """The interval a sampler asked for asked_s starts at."""
        return self.by_interval.get(asked_s, (asked_s, 0.0))[0]

    def cost_for(self, asked_s: float) -> float:
        """The last CPU cost per sample learnt at that rate (0.0 before any)."""
        return self.by_interval.get(asked_s, (0.0, 0.0))[1]


class GilSampler:
    """Sample the GIL's state over one repeat of the workers of this process."""

    def __init__(
        self,
        lanes: Sequence[Lane],
        interval_s: float = DEFAULT_INTERVAL_S,
        budget: float = BUDGET,
        settled: Settled | None = None,
    ) -> None:
        """lanes: a Lane per worker (or its first four fields), in lane order.

        interval_s is the rate asked for; budget, the share of one core the sampler may use (0: no limit);
        settled, where an earlier sampler of the same cell settled (a fresh one when not given).
        """
        self.lanes = [Lane(*lane) for lane in lanes]
        self.interval_s = interval_s
        self.budget = budget
        self.settled = settled if settled is not None else Settled()
        self.note = unavailable()
        self._s = None
        if not self.note and self.lanes:
            self._s = _native.gilstate().GilStateSampler(
                [(lane.tstate, lane.clock, lane.interpreter) for lane in self.lanes],
                interval_s,
                budget=budget,
                max_interval_s=max(SLOWEST_INTERVAL_S, interval_s),
                start_interval_s=self.settled.start_for(interval_s) if budget else interval_s,
            )

    def start(self) -> None:
        """Start sampling (nothing, where it cannot)."""
        if self._s is not None:
            self._s.start()

    def thread_id(self, wait_s: float = 0.2) -> int | None:
        """The sampler thread's native id once it runs (None where there is no sampler, or it never ran)."""
        if self._s is None:
            return None
        deadline = time.monotonic() + wait_s
        while not self._s.tid and time.monotonic() < deadline:
            time.sleep(0.0005)
        return self._s.tid or None

    def stop(
        self, spans: Mapping[int, Sequence[tuple[int, int]]], since_ns: int, until_ns: int
    ) -> GilState:
        """Stop; classify each worker's samples in [since_ns, until_ns) against its task spans (tid -> spans)."""
        if self._s is None:
            return GilState(False, self.note or "no worker of this process to watch")
        self._s.stop()
        if not self._s.enabled:
            return GilState(False, NO_GIL)
        if self.budget:
            cost = self._s.wake_cost_s or self.settled.cost_for(self.interval_s)
            self.settled.by_interval[self.interval_s] = (self._s.interval_s, cost)
        rows = [r for r in self._s.samples() if since_ns <= r[0] < until_ns]
        overhead = self._s.cpu_s / self._s.elapsed_s if self._s.elapsed_s > 0 else None
        cost = GilState(
            True,
            "the repeat was too short for a sample",
            self.interval_s,
            len(rows),
            overhead=overhead,
            requested_interval_s=self.interval_s,
            rate_note=self._rate_note(overhead),
            sample_cost_s=self._cost(),
        )
        return cost if len(rows) < 2 else self._classify(rows, spans, since_ns, cost)

    def _classify(
        self,
        rows: list[tuple[int, int, int, tuple[int, ...], int]],
        spans: Mapping[int, Sequence[tuple[int, int]]],
        since_ns: int,
        cost: GilState,
    ) -> GilState:
        """Turn the samples into each worker's shares of time in each state, and its segments (the sampler's
        own figures taken from cost)."""
        # Each sample stands for the time until the next (the last, for the mean interval): the shares are
        # shares of time, whatever the governor or a late wake-up did to the spacing.
        window = (rows[-1][0] - rows[0][0]) / 1e9
        step = window / (len(rows) - 1)
        times = [r[0] for r in rows]
        weights = [(b - a) / 1e9 for a, b in itertools.pairwise(times)] + [step]
        total = sum(weights)
        shares = [dict.fromkeys(STATES, 0.0) for _ in self.lanes]
        assert self._s is not None
        gils = list(self._s.interpreters)
        held = [0.0] * len(gils)
        tracks = _Tracks(len(self.lanes), since_ns)
        inside = [_Spans(spans.get(lane.tid, ())) for lane in self.lanes]
        last_holds = 0
        for (t, locked, holds, _, running), w in zip(rows, weights, strict=True):
            for k in range(len(gils)):
                held[k] += w if locked >> k & 1 else 0.0
            for j, lane_spans in enumerate(inside):
                busy = t in lane_spans
                state = _state(busy, holds, running, j, last_holds)
                shares[j][state] += w
                tracks.see(j, state, t)
            last_holds = holds
        n = len(rows)
        per = tuple(
            ThreadGil(lane.role, *(c[s] / total for s in ("holds", "runs", "waits", "idle")))
            for lane, c in zip(self.lanes, shares, strict=True)
        )
        switches = [sum(r[3]) for r in rows]
        own = len(gils) > 1 or any(lane.interpreter for lane in self.lanes)
        return replace(
            cost,
            note="",
            interval_s=step,
            samples=n,
            held_fraction=sum(held) / len(gils) / total,
            switches_per_s=(switches[-1] - switches[0]) / window if window > 0 else None,
            per_thread=per,
            segments=tracks.close(rows[-1][0]),
            switch_series=tuple(
                ((r[0] - since_ns) / 1e9, sw - switches[0])
                for r, sw in list(zip(rows, switches, strict=True))[:: max(1, n // SERIES_POINTS)]
            ),
            per_interpreter=_per_interpreter(gils, held, total, rows, window) if own else (),
        )

    def _cost(self) -> float | None:
        assert self._s is not None
        cost = self.settled.cost_for(self.interval_s) if self.budget else self._s.wake_cost_s
        return cost or None

    def _rate_note(self, overhead: float | None) -> str:
        assert self._s is not None
        if not self._s.slowed:
            return ""
        cost = self._cost()
        return (
            f"sampled at {1 / self._s.interval_s / 1e3:.1f} kHz, not {1 / self.interval_s / 1e3:g} kHz: "
            + (f"each sample costs {cost * 1e6:.1f} µs of CPU here, and " if cost else "")
            + f"the sampler keeps within {self.budget:.0%} of a core"
            + (
                f" (it used {overhead:.1%})"
                if overhead is not None and overhead > self.budget
                else ""
            )
        )


def _per_interpreter(
    gils: list[int],
    held: list[float],
    total: float,
    rows: list[tuple[int, int, int, tuple[int, ...], int]],
    window: float,
) -> tuple[InterpreterGil, ...]:
    """Each watched interpreter's own GIL: its held share, and its switches per second."""
    return tuple(
        InterpreterGil(
            interp,
            held[k] / total,
            (rows[-1][3][k] - rows[0][3][k]) / window if window > 0 else None,
        )
        for k, interp in enumerate(gils)
    )


def _state(in_task: bool, holds: int, running: int, j: int, last_holds: int) -> str:
    """One worker's state in one sample (holds, running, last_holds: a bit per worker)."""
    if not in_task:
        return "idle"
    if holds >> j & 1:
        return "holds"
    if running >> j & 1 and not last_holds >> j & 1:
        return "runs"  # CPU time since the last sample; a worker that held the GIL then spent it holding it
    return "waits"


class _Tracks:
    """Each worker's run of one state, closed into a GilSegment when the state changes."""

    def __init__(self, lanes: int, since_ns: int) -> None:
        self.since_ns = since_ns
        self.open: list[tuple[str, int] | None] = [None] * lanes
        self.segments: list[GilSegment] = []

    def see(self, lane: int, state: str, t: int) -> None:
        cur = self.open[lane]
        if cur is None or cur[0] != state:
            if cur is not None:
                self._close(lane, cur, t)
            self.open[lane] = (state, t)

    def _close(self, lane: int, cur: tuple[str, int], t: int) -> None:
        self.segments.append(
            GilSegment(lane, cur[0], (cur[1] - self.since_ns) / 1e9, (t - self.since_ns) / 1e9)
        )

    def close(self, end: int) -> tuple[GilSegment, ...]:
        for lane, cur in enumerate(self.open):
            if cur is not None:
                self._close(lane, cur, end)
        return tuple(self.segments)


NO_GIL = "no GIL to hold: this free-threaded interpreter runs without one"
OFF = "the GIL-state sampler was turned off (a rate of 0)"


def not_sampled(own_gils: str, interval_s: float | None = DEFAULT_INTERVAL_S) -> GilState:
    """The GilState of a cell whose workers have GILs of their own (own_gils: why, in the executor's words), of
    an interpreter without one, or of a run that turned the sampler off (interval_s None)."""
    if not environment.gil_enabled():
        return GilState(False, NO_GIL)
    if interval_s is None:
        return GilState(False, OFF)
    return GilState(False, own_gils)


class _Spans:
    """One lane's task spans (start_ns, end_ns), for asking whether a moment fell inside one: a binary search,
    not a scan (a callable of 0.1 µs called for 0.3 s leaves millions of spans, and each sample asks)."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [a for a, _ in ordered]
        self.ends = [b for _, b in ordered]

    def __contains__(self, t: int) -> bool:
        i = bisect.bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]
