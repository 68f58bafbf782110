"""Interference: how much of the machine other processes (and the hypervisor) took during a measurement.

Read from the deltas of /proc/stat over the measured window, for the CPUs this process may run on:

- busy time of those CPUs (user, nice, system, irq, softirq; guest is inside user), minus this run's own CPU
  time (the parent and its worker processes, measured apart in ns), is what *other processes* used;
- steal is time the hypervisor gave our virtual CPUs to someone else.

Both are divided by the window's wall time, so they read as cores. /proc/stat counts in clock ticks
(usually 10 ms), so a figure is only good to about one tick per CPU over the window: that is recorded as
``resolution_cores`` and taken off before a repeat is called disturbed. Where /proc/stat is not read (macOS,
Windows, $GILLAB_PLATFORM=portable), psutil's per-CPU times stand in (the OS's own: host_processor_info on
macOS, the system's processor times on Windows), good to PSUTIL_RESOLUTION_S; with neither, nothing is
invented: every figure is None, and the run says so once.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab import environment

PROC_STAT = Path("/proc/stat")
DISTURBED_CORES = 0.25
"""A repeat during which other processes plus steal took at least this many cores (beyond the tick
resolution) is disturbed: it is dropped and measured again once the machine is quiet."""
QUIET_WINDOW_S = 0.2
"""How long the machine is watched, with gillab idle, to call it quiet."""


def _tick_s() -> float:
    try:
        return 1.0 / os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - every Linux has it
        return 0.01


TICK_S = _tick_s()


PSUTIL_RESOLUTION_S = 1 / 64
"""How finely psutil's per-CPU times can be trusted: Windows updates them at its timer's 15.6 ms."""


def _proc_stat() -> bool:
    return not environment.linux_readers_off() and PROC_STAT.is_file()


def _psutil() -> Any:
    try:
        import psutil
    except ImportError:  # pragma: no cover - a dependency
        return None
    return psutil


def available() -> bool:
    """Return whether other processes' CPU is read here: /proc/stat, else psutil's per-CPU times."""
    return _proc_stat() or _psutil() is not None


def unavailable() -> str:
    """What the run says once where other processes' CPU is not read, and why."""
    return "interference not measured (neither /proc/stat nor psutil): figures from other processes unknown"


@dataclass(frozen=True)
class Snapshot:
    """The busy and steal seconds of this process's CPUs, when they were read, and how finely."""

    t: float
    busy_s: float
    steal_s: float
    cpus: int
    resolution_s: float = TICK_S
    """One CPU's figure is good to this many seconds (a clock tick of /proc/stat)."""


def snapshot() -> Snapshot | None:
    """Read /proc/stat for the CPUs this process may run on (psutil's per-CPU times where it is not read);
    None where neither can be read."""
    if not _proc_stat():
        return _from_psutil()
    try:
        text = PROC_STAT.read_text()
    except OSError:
        return None
    t = time.monotonic()
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    busy = steal = cpus = 0
    for line in text.splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *fields = line.split()
        if allowed is not None and int(name[3:]) not in allowed:
            continue
        v = [int(x) for x in fields] + [0] * 8
        # user nice system idle iowait irq softirq steal (guest and guest_nice are inside user and nice)
        busy += v[0] + v[1] + v[2] + v[5] + v[6]
        steal += v[7]
        cpus += 1
    return Snapshot(t, busy * TICK_S, steal * TICK_S, cpus)


def _from_psutil() -> Snapshot | None:
    """The same figures from psutil (every field the OS gives: user, nice, system, irq, softirq, steal)."""
    psutil = _psutil()
    if psutil is None:
        return None
    try:
        per_cpu = psutil.cpu_times(percpu=True)
    except (OSError, RuntimeError):
        return None
    t = time.monotonic()
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    mine = [c for i, c in enumerate(per_cpu) if allowed is None or i in allowed]
    fields = ("user", "nice", "system", "irq", "softirq", "interrupt", "dpc")
    busy = sum(getattr(c, f, 0.0) for c in mine for f in fields)
    steal = sum(getattr(c, "steal", 0.0) for c in mine)
    return Snapshot(t, busy, steal, len(mine), max(TICK_S, PSUTIL_RESOLUTION_S))


@dataclass(frozen=True)
class Interference:
    """What others took during one window, in cores (None where it could not be measured)."""

    others_cores: float | None
    steal_cores: float | None
    resolution_cores: float | None = None
    """The tick resolution of the figures over this window: one tick per CPU."""

    @property
    def disturbing(self) -> float:
        """Others plus steal beyond the resolution, in cores (0 when unknown)."""
        if self.others_cores is None or self.steal_cores is None:
            return 0.0
        return max(0.0, self.others_cores + self.steal_cores - (self.resolution_cores or 0.0))

    @property
    def disturbed(self) -> bool:
        """Whether this window was disturbed (DISTURBED_CORES)."""
        return self.disturbing >= DISTURBED_CORES


NONE = Interference(None, None, None)


def between(
    a: Snapshot | None, b: Snapshot | None, own_cpu_s: float, wall_s: float | None = None
) -> Interference:
    """Return the interference between two snapshots, given this run's own CPU seconds in that window."""
    if a is None or b is None:
        return NONE
    wall = wall_s if wall_s is not None else b.t - a.t
    if wall <= 0:
        return NONE
    busy_s = b.busy_s - a.busy_s
    steal_s = b.steal_s - a.steal_s
    return Interference(
        others_cores=max(0.0, busy_s - own_cpu_s) / wall,
        steal_cores=max(0.0, steal_s) / wall,
        resolution_cores=a.cpus * a.resolution_s / wall,
    )


def quiet_now(window_s: float = QUIET_WINDOW_S) -> Interference:
    """Watch the machine for window_s while this process sleeps; return what others took."""
    cpu0 = time.process_time()
    a = snapshot()
    time.sleep(window_s)
    b = snapshot()
    return between(a, b, time.process_time() - cpu0)


def wait_for_quiet(max_wait_s: float) -> tuple[bool, float]:
    """Wait, up to max_wait_s, for a quiet window; return (quiet, seconds waited)."""
    t0 = time.monotonic()
    while True:
        if not quiet_now().disturbed:
            return True, time.monotonic() - t0
        if time.monotonic() - t0 >= max_wait_s:
            return False, time.monotonic() - t0
