"""What a check's figures say of the GIL: the one spelling of "does it release it" (:class:`Releases`), the
rules and thresholds that decide it, and the sentence that states it.

The interpreter's own GIL state decides first, where it can be read (the calling thread's share of time
holding the GIL while another thread waits: HELD_STATE and FREE_STATE). Then the exact count: when another
thread made no step during any single call (switch interval raised, so only the callable's own release
could let it in), the callable holds the GIL, whatever the progress-based fraction says; that fraction can
be bent by other processes, the count and the GIL state cannot. Then the fraction (FREE, HELD) and the GIL
wait (HOLDS_WAIT). Each verdict names the figure that decided it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gillab.harness.diagnosis import causes
from gillab.harness.results import EFFICIENCY_IMPOSSIBLE, TOO_UNSTEADY

if TYPE_CHECKING:
    from gillab.checker.measure import Measurement

FREE = 0.8
"""GIL-free fraction at or above which a callable 'releases the GIL'."""
HELD = 0.3
"""GIL-free fraction below which a callable 'holds the GIL'."""
HOLDS_WAIT = 0.5
"""A GIL-wait median (one calling thread) of at least this share of the switch interval means the callable
holds the GIL while it runs; other threads then progress only between its calls."""
HELD_STATE = 0.9
"""Share of time the calling thread holds the GIL (read from the interpreter) at or above which it 'holds'."""
FREE_STATE = 0.2
"""Share at or below which the callable 'releases the GIL'; between the two, it releases it part of the time."""
THREADS_HELP = 0.8
"""Efficiency at the largest thread count (within the cores) at or above which threads 'speed it up'."""


class Releases(enum.StrEnum):
    """What a callable does with the GIL while it runs."""

    RELEASES = "releases"
    PARTLY = "partly"
    HOLDS = "holds"
    NO_GIL = "no GIL"
    """A free-threaded interpreter running without a GIL: there is none to hold."""


@dataclass(frozen=True)
class Decision:
    """What the figures say of the GIL: the kind, the figure that decided it, and the sentence's head."""

    releases: Releases
    decided_by: str
    """"GIL state", "step count", "progress fraction", "GIL wait" or "the interpreter"."""
    head: str


def decide(m: Measurement) -> Decision:  # noqa: PLR0911 - one return per rule, in order
    """Return the decision, rule by rule in the order the module docstring gives."""
    f = m.gil_free_fraction
    held = m.gil_held.fraction
    if not m.gil_enabled:
        return Decision(
            Releases.NO_GIL,
            "the interpreter",
            "runs without a GIL to release: this free-threaded interpreter has none, so threads never wait for it",
        )
    if held is not None:
        return _by_state(held)
    during = m.progress_during_calls
    if during.held_throughout:
        return Decision(
            Releases.HOLDS,
            "step count",
            f"holds the GIL while it runs: another thread made 0 steps during {during.calls} calls "
            f"({during.window_s * 1e3:.0f} ms in all), and got {f:.0%} of its progress only between calls",
        )
    if f >= FREE:
        return Decision(
            Releases.RELEASES,
            "progress fraction",
            f"releases the GIL for about {f:.0%} of its run time (decided by the progress-based fraction)",
        )
    first = m.scaling[0] if m.scaling else None
    if first is not None and first.gil_wait.median_ms >= HOLDS_WAIT * m.switch_interval_ms:
        return Decision(
            Releases.HOLDS,
            "GIL wait",
            f"holds the GIL while it runs: other threads got {f:.0%} of their progress, only between its calls "
            f"(a waiting thread waited {first.gil_wait.median_ms:.1f} ms for the GIL at the median)",
        )
    if f >= HELD:
        return Decision(
            Releases.PARTLY,
            "progress fraction",
            f"releases the GIL part of the time: other threads got {f:.0%} of their progress",
        )
    return Decision(
        Releases.HOLDS,
        "progress fraction",
        f"holds the GIL: other threads got {f:.0%} of their progress",
    )


def _by_state(held: float) -> Decision:
    """The decision of the interpreter's own GIL state: the calling thread's held share inside its calls."""
    if held >= HELD_STATE:
        return Decision(
            Releases.HOLDS,
            "GIL state",
            f"holds the GIL while it runs: the interpreter's own GIL state shows the calling thread holding it "
            f"{held:.0%} of the time while another thread waited (decided by the GIL state)",
        )
    if held <= FREE_STATE:
        return Decision(
            Releases.RELEASES,
            "GIL state",
            f"releases the GIL: the calling thread held it only {held:.0%} of the time while another thread "
            "waited (decided by the GIL state)",
        )
    return Decision(
        Releases.PARTLY,
        "GIL state",
        f"releases the GIL part of the time: the calling thread held it {held:.0%} of the time while "
        "another thread waited (decided by the GIL state)",
    )


def scales(m: Measurement) -> bool:
    """Whether threads speed it up: efficiency of THREADS_HELP or more at the largest thread count."""
    levels = [lv for lv in m.scaling if lv.threads > 1 and lv.efficiency is not None]
    best = max(levels, key=lambda lv: lv.threads, default=None)
    return best is not None and best.efficiency is not None and best.efficiency >= THREADS_HELP


def verdict(m: Measurement) -> str:
    """Return one sentence built from the measured figures: the decision, the disturbance, the scaling."""
    f = m.gil_free_fraction
    levels = [lv for lv in m.scaling if lv.speedup is not None]
    best = max((lv for lv in levels if lv.threads > 1), key=lambda lv: lv.threads, default=None)
    head = decide(m).head
    if m.disturbed:
        worst = max(m.interference[p].others_cores or 0.0 for p in m.disturbed)
        again = (
            ", even when measured again"
            if any(m.interference[p].measured_again for p in m.disturbed)
            else ""
        )
        head += (
            f" (figures disturbed: other processes took up to {worst:.1f} cores during the "
            f"{', '.join(m.disturbed)} phase{'s' if len(m.disturbed) > 1 else ''}{again})"
        )
    if best is None or best.speedup is None or best.efficiency is None:
        return head
    scale = (
        f"{best.threads} threads do {best.speedup:.1f}× the work of one"
        if best.efficiency <= EFFICIENCY_IMPOSSIBLE
        else f"{best.threads} threads do more work than one (how much, {TOO_UNSTEADY})"
    )
    if best.efficiency >= THREADS_HELP:
        return f"{head}; {scale}"
    d = m.diagnosis
    if d is not None and d.cause in causes.NAMED:  # no GIL: what held the threads back, measured
        return f"{head}, yet scales poorly: {scale}; {causes.check_sentence(d, best.threads)}"
    if d is not None:
        return f"{head}; {scale}, short of the machine's own ceiling by no more than its own noise"
    if f >= FREE:
        return (
            f"{head}, yet scales poorly: {scale} (efficiency {best.efficiency:.2f}); something other than "
            "the GIL limits it, such as memory bandwidth or a lock of its own"
        )
    return f"{head}; {scale}: threads will not speed it up"
