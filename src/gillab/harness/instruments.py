"""The instruments around a repeat: CPU time, GIL wait (the probe), thread states (the /proc sampler) and
the machine's own speed (the spin). The GIL-state sampler is gillab.harness.gilstate."""

from __future__ import annotations

import gc
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gillab import _native, environment, stats

PROC = Path("/proc")


def has_proc() -> bool:
    """Return whether per-thread states are read from /proc here (gillab.environment.linux_readers_off)."""
    return not environment.linux_readers_off()


def _process_cpu_s(pid: int) -> float:
    """Return one process's CPU time: the sum of its threads' schedstat (ns), else utime + stime (ticks);
    psutil's where /proc is not read (macOS, Windows, $GILLAB_PLATFORM=portable)."""
    if environment.linux_readers_off():
        import psutil

        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.Error, OSError):
            return 0.0
        return float(t.user + t.system)
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
        return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:  # kernels without schedstat: clock ticks, coarser but true
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _children_cpu_s(pids: list[int]) -> float:
    """Return the CPU time of the given processes (all their threads)."""
    return sum(_process_cpu_s(pid) for pid in pids)


def cpu_seconds(child_pids: list[int]) -> float:
    """Return this process's CPU time plus that of the given child processes, in seconds."""
    return time.process_time() + _children_cpu_s(child_pids)


@dataclass(frozen=True)
class GilWait:
    """What the probe saw: how long a thread waits for the GIL after waking."""

    median_ms: float
    p95_ms: float
    fraction: float
    """Share of the probe's time spent waiting for the GIL."""
    samples: int
    wake_late_median_ms: float
    """Median lateness of waking from sleep, before asking for the GIL: the OS's share of the delay."""
    overhead: float
    """The probe's own CPU time ÷ its running time: its cost, as a share of one core."""
    cpu_s: float = 0.0
    """The probe's own CPU time, to subtract from the work's."""


class Probe:
    """Run the native GIL-wait probe in a thread of its own for the span of a measurement."""

    def __init__(self, interval_s: float = 0.001) -> None:
        self.interval_s = interval_s
        self._probe = _native.instruments().GilProbe(interval_s)
        self._thread = threading.Thread(target=self._probe.run, name="gillab-probe", daemon=True)

    def start(self) -> int:
        """Start probing; return the probe thread's native id."""
        self._thread.start()
        while self._thread.native_id is None:  # pragma: no cover - set before start() returns
            time.sleep(0)
        return self._thread.native_id

    def stop(self, since_ns: int, until_ns: int) -> GilWait:
        """Stop probing and summarise the samples that woke within [since_ns, until_ns) (CLOCK_MONOTONIC)."""
        self._probe.stop()
        self._thread.join()
        picked = self._probe.samples(since_ns, until_ns)
        waits = sorted(w for _, w, _ in picked)
        late = [lt for _, _, lt in picked]
        window = (until_ns - since_ns) / 1e9
        life = self._probe.elapsed_ns / 1e9
        overhead = (self._probe.cpu_ns / 1e9) / life if life > 0 else 0.0
        if not waits:
            return GilWait(0.0, 0.0, 0.0, 0, 0.0, 0.0)
        return GilWait(
            median_ms=stats.median(waits) * 1e3,
            p95_ms=stats.percentile(waits, 0.95) * 1e3,
            fraction=min(1.0, sum(waits) / window) if window > 0 else 0.0,
            samples=len(waits),
            wake_late_median_ms=stats.median(late) * 1e3,
            overhead=overhead,
            cpu_s=overhead * window,
        )


@dataclass(frozen=True)
class ThreadShare:
    """How one thread spent the samples: shares running (R), sleeping (S), in disk wait (D) or other."""

    role: str
    pid: int
    tid: int
    running: float
    sleeping: float
    disk: float
    other: float


@dataclass(frozen=True)
class ThreadStates:
    """What the sampler saw over a run."""

    available: bool
    reason: str
    samples: int
    threads_running_mean: float | None
    threads: tuple[ThreadShare, ...]
    cpu_s: float = 0.0
    """The sampler's own CPU time, to subtract from the work's."""


class Sampler:
    """Sample the states of the threads of this process and its worker processes, from native code."""

    def __init__(
        self, pids: list[int], interval_s: float = 0.002, skip: tuple[int, ...] = ()
    ) -> None:
        """skip: native thread ids to leave out of every count (gillab's own instrument threads)."""
        self.available = has_proc()
        self._sampler = (
            _native.instruments().ThreadSampler(pids, interval_s, skip=skip)
            if self.available
            else None
        )

    def start(self) -> None:
        """Start sampling."""
        if self._sampler is not None:
            self._sampler.start()

    def stop(self, roles: dict[int, str]) -> ThreadStates:
        """Stop sampling; name each thread by `roles` (tid -> role), others 'other'."""
        s = self._sampler
        if s is None:
            why = environment.linux_readers_off()
            return ThreadStates(False, f"thread states not sampled ({why})", 0, None, ())
        s.stop()
        n = s.samples
        shares = []
        for pid, tid, r, sl, d, o in s.threads():
            seen = r + sl + d + o
            if seen:
                role = roles.get(tid, "main" if tid == os.getpid() else "other")
                shares.append(ThreadShare(role, pid, tid, r / seen, sl / seen, d / seen, o / seen))
        mean = s.running_sum / n if n else None
        most = _native.instruments().MAX_TIDS
        reason = (
            f"{s.overflow} thread sightings beyond the sampler's {most} threads were not counted"
            if s.overflow
            else ""
        )
        return ThreadStates(True, reason, n, mean, tuple(shares), s.cpu_s)


class GcWatch:
    """The time this interpreter's cycle collector ran, and how many collections, while a repeat ran (from
    gc.callbacks: "start" and "stop" around each collection, in the thread that collects). On a free-threaded
    build a collection stops every other thread of the interpreter (it stops the world): its time is time the
    other workers could not run."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._t0: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        elif self._t0 is not None:
            self.seconds += time.perf_counter() - self._t0
            self.collections += 1
            self._t0 = None

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


SPEED_DRIFT = 0.10
"""The machine's solo speed moved when its slowest solo run of the reference took this much longer than its
fastest (gillab.harness.ceiling): a drift over it is named wherever a figure moved."""
