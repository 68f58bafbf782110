"""Who holds the GIL: the interpreter's own GIL state, sampled from C, turned into four states per worker.

A native pthread that never takes the GIL (cext/_gilstate.h) reads, at a fixed rate, whether the GIL is
locked, which PyThreadState last took it and CPython's switch counter, and whether each registered worker's
CPU clock advanced. With the task spans the harness already has, every sample of every worker is one of:

- **holds** the GIL (it is locked, and this worker took it last);
- **runs** without the GIL (its CPU clock advanced, and it is not the holder);
- **waits** (inside a task, neither running nor holding: for the GIL, or for a core);
- **idle** (no task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gillab import _native, environment

DEFAULT_INTERVAL_S = 0.0002
"""5 kHz. On the 2-core VM gillab was built on, each wake-up of the sampler costs about 9 µs of CPU:
4-5% of a core at 5 kHz, 10% at 10 kHz (the cost is measured and recorded in every cell)."""
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
    samples: int = 0
    held_fraction: float | None = None
    """Share of the samples in which the GIL was locked."""
    switches_per_s: float | None = None
    """CPython's own switch counter, per second of the repeat."""
    per_thread: tuple[ThreadGil, ...] = ()
    overhead: float | None = None
    """The sampler thread's CPU time ÷ its running time: its cost, as a share of one core."""
    segments: tuple[GilSegment, ...] = ()
    switch_series: tuple[tuple[float, int], ...] = ()
    """(seconds from the release, switches since the first sample), thinned to at most SERIES_POINTS."""


def unavailable() -> str:
    """Return why the GIL state cannot be sampled here, or ""."""
    try:
        why: str = _native.instruments().gil_state_unavailable()
    except _native.NotBuiltError as exc:
        return str(exc)
    return why


class GilSampler:
    """Sample the GIL's state over one repeat of the workers of this process."""

    def __init__(self, lanes: Sequence[tuple[str, int, int, int]], interval_s: float = DEFAULT_INTERVAL_S) -> None:
        """lanes: (role, native thread id, PyThreadState address, CPU clock id) per worker, in lane order."""
        self.lanes = list(lanes)
        self.interval_s = interval_s
        self.note = unavailable()
        self._s = None
        if not self.note and self.lanes:
            self._s = _native.instruments().GilStateSampler([(ts, ck) for _, _, ts, ck in self.lanes], interval_s)

    def start(self) -> None:
        """Start sampling (nothing, where it cannot)."""
        if self._s is not None:
            self._s.start()

    def stop(self, spans: Mapping[int, Sequence[tuple[int, int]]], since_ns: int, until_ns: int) -> GilState:
        """Stop; classify each worker's samples in [since_ns, until_ns) against its task spans (tid -> spans)."""
        if self._s is None:
            return GilState(False, self.note or "no worker of this process to watch")
        self._s.stop()
        if not self._s.enabled:
            return GilState(False, "no GIL to hold: this free-threaded interpreter runs without one")
        rows = [r for r in self._s.samples() if since_ns <= r[0] < until_ns]
        overhead = self._s.cpu_s / self._s.elapsed_s if self._s.elapsed_s > 0 else None
        if len(rows) < 2:
            return GilState(
                True, "the repeat was too short for a sample", self.interval_s, len(rows), overhead=overhead
            )
        window = (rows[-1][0] - rows[0][0]) / 1e9
        counts = [dict.fromkeys(STATES, 0) for _ in self.lanes]
        segments: list[GilSegment] = []
        open_: list[tuple[str, int] | None] = [None] * len(self.lanes)
        for t, locked, holder, _, running in rows:
            for j, (_, tid, _, _) in enumerate(self.lanes):
                if not any(a <= t < b for a, b in spans.get(tid, ())):
                    state = "idle"
                elif locked and holder == j:
                    state = "holds"
                elif running >> j & 1:
                    state = "runs"
                else:
                    state = "waits"
                counts[j][state] += 1
                cur = open_[j]
                if cur is None or cur[0] != state:
                    if cur is not None:
                        segments.append(GilSegment(j, cur[0], (cur[1] - since_ns) / 1e9, (t - since_ns) / 1e9))
                    open_[j] = (state, t)
        end = rows[-1][0]
        for j, cur in enumerate(open_):
            if cur is not None:
                segments.append(GilSegment(j, cur[0], (cur[1] - since_ns) / 1e9, (end - since_ns) / 1e9))
        n = len(rows)
        per = tuple(
            ThreadGil(role, c["holds"] / n, c["runs"] / n, c["waits"] / n, c["idle"] / n)
            for (role, _, _, _), c in zip(self.lanes, counts, strict=True)
        )
        return GilState(
            available=True,
            note="",
            interval_s=self.interval_s,
            samples=n,
            held_fraction=sum(r[1] for r in rows) / n,
            switches_per_s=(rows[-1][3] - rows[0][3]) / window if window > 0 else None,
            per_thread=per,
            overhead=overhead,
            segments=tuple(segments),
            switch_series=tuple(
                ((r[0] - since_ns) / 1e9, r[3] - rows[0][3]) for r in rows[:: max(1, n // SERIES_POINTS)]
            ),
        )


def not_sampled(executor: str) -> GilState:
    """The GilState of a cell whose workers have GILs of their own, or of an interpreter without one."""
    if not environment.gil_enabled():
        return GilState(False, "no GIL to hold: this free-threaded interpreter runs without one")
    return GilState(False, f"{executor} workers each have a GIL of their own: this process's GIL says nothing of them")
