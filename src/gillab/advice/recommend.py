"""The recommendation, one sentence per worker count, built from the options' figures and their intervals."""

from __future__ import annotations

from collections.abc import Sequence

from gillab.advice.model import HOLDS, PREFERENCE, WAITS, Option, SlowerOn
from gillab.harness.diagnosis import causes
from gillab.harness.executors import Family
from gillab.harness.noise import CI_NOISY
from gillab.harness.results import TOO_UNSTEADY
from gillab.present.view import interval


def _x(o: Option) -> str:
    """Its measured speedup with its interval, or that the machine was too unsteady to tell."""
    if o.speedup is None:
        return TOO_UNSTEADY
    ci = f" {interval(*o.ci95)}" if o.ci95 else ""
    return f"{o.speedup:.2f}×{ci}"


def _fig(o: Option) -> str:
    """The speedup its choice rests on: measured where narrow, else the expected one, said so."""
    if _on_expected(o):
        return f"{_expected(o)} expected"
    return _x(o)


def _name(o: Option, here: str) -> str:
    return o.label if o.interpreter == here else f"{o.label} on {o.interpreter}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"


def _bytes(n: int) -> str:
    return (
        f"{n / 2**20:.1f} MiB"
        if n >= 2**20
        else f"{n / 1024:.1f} KiB"
        if n >= 1024
        else f"{n} bytes"
    )


WIDE = CI_NOISY
"""A measured speedup whose interval reaches further than this share of it either side moved with the machine:
the choice rests on the expected speedup instead (the figures that do not move)."""
PARALLEL = 0.8
"""Threads that keep at least this share of the cores they could use busy ..."""
RELEASED = 0.10
"""... with the GIL held at most this share of the time run in parallel: they are never a tie with one thread
(on 2 cores, 1.6 cores busy)."""


def measured_wide(o: Option) -> bool:
    """Whether its measured speedup moved with the machine: too unsteady to tell, or an interval wider than
    ±WIDE."""
    if o.speedup is None or not o.ci95:
        return True
    return (o.ci95[1] - o.ci95[0]) / 2 > WIDE * o.speedup


def lost(o: Option) -> bool:
    """Whether its measured interval lies wholly below one thread: the pool lost in nearly every round, which
    no movement of the machine explains (its cores were busy with something other than the work: sending
    the tasks, a lock of its own)."""
    return o.ci95 is not None and o.ci95[1] < 1.0


def estimate(o: Option) -> tuple[float, float, float] | None:
    """(speedup, low, high) the choice rests on: the measured speedup where its interval is narrow, or where
    it lies wholly below one thread (lost); else the expected one (the figures that do not move); else the
    measured one as it is; None where there is none."""
    if o.family == "serial" and o.speedup is not None:
        return o.speedup, *(o.ci95 or (o.speedup, o.speedup))
    if not measured_wide(o):
        assert o.speedup is not None
        assert o.ci95 is not None
        return o.speedup, *o.ci95
    if o.expected is not None and o.expected_ci95 is not None and not lost(o):
        return o.expected, *o.expected_ci95
    if o.speedup is not None:
        return o.speedup, *(o.ci95 or (o.speedup, o.speedup))
    return None


def _mid(o: Option) -> float:
    got = estimate(o)
    return got[0] if got else 0.0


def _lo(o: Option) -> float:
    got = estimate(o)
    return got[1] if got else 0.0


def _hi(o: Option) -> float:
    got = estimate(o)
    return got[2] if got else 0.0


def runs_in_parallel(o: Option, gil_on: dict[str, bool]) -> bool:
    """Threads whose figures that do not move say they run in parallel: PARALLEL of their cores busy, the GIL
    held RELEASED or less (or no GIL), and their results matched (status ok)."""
    held_ok = (
        o.gil_held is not None and o.gil_held <= RELEASED
        if gil_on.get(o.interpreter, True)
        else True
    )
    return (
        o.family == "threads"
        and o.status == "ok"
        and o.busy_share is not None
        and o.busy_share >= PARALLEL
        and held_ok
    )


def holds_gil(o: Option, serial_held: float | None, gil_on: dict[str, bool]) -> bool:
    """Whether threads of this option take turns: a GIL build's threads, for a callable that holds the GIL."""
    return (
        o.family == "threads" and gil_on.get(o.interpreter, True) and (serial_held or 0.0) >= HOLDS
    )


def one_thread(w: int, here: str) -> Option:
    """One thread, as an option at every worker count: the serial baseline, 1.0× with no doubt [1, 1]."""
    return Option(here, "serial", w, Family.SERIAL, "ok", speedup=1.0, ci95=(1.0, 1.0))


def choose(
    options: Sequence[Option], serial_held: float | None, gil_on: dict[str, bool], here: str = ""
) -> tuple[Option, list[Option]]:
    """The option to use at one worker count, and those that tie with it within their intervals.

    Each option stands on its estimate: its measured speedup where the interval is narrow, else the speedup
    its figures that do not move give (cores busy, the ceiling, the transfer). One thread is an option at every
    worker count, 1.0× [1, 1]. The fastest by its estimate sets the bar; every option whose interval reaches
    its lower bound ties with it, and the cheapest of them (PREFERENCE: one thread first) is chosen, except
    threads that take turns on the GIL, which are never chosen. Threads that run in parallel by the figures
    that do not move (runs_in_parallel) never tie with one thread. So a wide measured interval never turns
    into a verdict, and the same figures give the same advice run after run."""
    w = options[0].workers if options else 1
    one = one_thread(w, here or (options[0].interpreter if options else ""))
    usable = [o for o in options if o.status == "ok" and estimate(o) is not None]
    ok = [o for o in usable if not holds_gil(o, serial_held, gil_on)] or usable
    ok = [o for o in ok if o.family != "serial"] + [one]
    best = max(ok, key=_mid)
    ties = [o for o in ok if _hi(o) >= _lo(best)]
    if any(runs_in_parallel(o, gil_on) and o in ties for o in ok):
        ties = [o for o in ties if o is not one]
    ties.sort(key=lambda o: (PREFERENCE.get(o.family, 9), -_mid(o)))
    return ties[0], ties[1:]


def _expected(o: Option) -> str:
    if o.expected is None or o.expected_ci95 is None:
        return ""
    return f"{o.expected:.2f}× {interval(*o.expected_ci95)}"


def _on_expected(o: Option) -> bool:
    """Whether its choice rests on its expected speedup rather than the measured one."""
    return o.family != "serial" and measured_wide(o) and bool(_expected(o)) and not lost(o)


def _rests(chosen: Option, serial_busy: float | None) -> str:
    """Where the choice rests on the expected speedup: the measured one, and the figures it rests on instead."""
    if not _on_expected(chosen):
        return ""
    measured = _x(chosen) if chosen.speedup is not None else TOO_UNSTEADY
    held = f", the GIL held {chosen.gil_held:.0%}" if chosen.gil_held is not None else ""
    alone = f" against {serial_busy:.2f} alone" if serial_busy is not None else ""
    return (
        f"The machine moved while it measured ({measured}): chosen from what the GIL decides, "
        f"{chosen.cores_busy or 0:.2f} cores busy{alone}{held}, which give {_expected(chosen)}."
    )


def _contradicted(at_w: Sequence[Option], here: str) -> list[str]:
    """Each option whose measured speedup lies below what its figures that do not move give, where the choice
    rests on the measured one (narrow, or lost): a finding."""
    out = []
    for o in at_w:
        if o.family == "serial" or _on_expected(o) or o.expected_ci95 is None or not o.ci95:
            continue
        if o.ci95[1] < o.expected_ci95[0]:
            out.append(
                f"{_name(o, here).capitalize()} measured {_x(o)}, below the {_expected(o)} its cores busy "
                "give: something beyond the GIL holds it back (a lock of its own, memory bandwidth, a "
                "pool's cost)."
            )
    return out


def _why_not_threads(threads: Option | None, serial_held: float | None, here: str) -> str:
    if threads is None or not threads.ok:
        return ""
    if serial_held is not None and serial_held >= HOLDS:
        return f"Threads give {_x(threads)} because your function holds the GIL {serial_held:.0%} of its time."
    return f"Threads give {_x(threads)}."


def _others(chosen: Option, at_w: Sequence[Option], here: str) -> list[str]:
    out = []
    interp = next(
        (o for o in at_w if o.family == "interpreters" and o.interpreter == here and o.ok), None
    )
    procs = next(
        (o for o in at_w if o.family == "processes" and o.interpreter == here and o.ok), None
    )
    if (
        interp is not None
        and interp is not chosen
        and procs is not None
        and interp.startup_s
        and procs.startup_s
    ):
        out.append(
            f"Interpreters give {_x(interp)} and start in {_ms(interp.startup_s)} against {_ms(procs.startup_s)}."
        )
    if (
        procs is not None
        and procs.transfer_share is not None
        and procs.transfer_share > 0.5
        and procs is not chosen
    ):
        sent = _bytes((procs.sent_bytes or 0) + (procs.returned_bytes or 0))
        out.append(
            f"Processes give {_x(procs)}: they spend {procs.transfer_share:.0%} of each task pickling its call "
            f"and result ({sent}, {_ms(procs.pickle_s or 0.0)} a task)."
        )
    return out


def _tie(chosen: Option, ties: Sequence[Option], here: str) -> str:
    if not ties:
        return ""
    shown = sorted(ties, key=lambda o: -_mid(o))[:3]
    names = ", ".join(f"{_name(o, here)} {_fig(o)}" for o in shown)
    if len(ties) > len(shown):
        names += f" and {len(ties) - len(shown)} more"
    what = []
    if chosen.family in ("threads", "serial"):
        what.append("it shares memory and starts at once")
    elif chosen.startup_s is not None:
        what.append(f"it starts in {_ms(chosen.startup_s)}")
    copied = [o for o in ties if o.sent_bytes]
    if copied and not chosen.sent_bytes:
        o = copied[0]
        what.append(
            f"{o.label} copy {_bytes((o.sent_bytes or 0) + (o.returned_bytes or 0))} a task"
        )
    return (
        f"It ties within the intervals with {names}; chosen as the cheapest: "
        + ", and ".join(what)
        + "."
    )


def _one_thread(w: int, at_w: Sequence[Option], ties: Sequence[Option], here: str) -> str:
    """The advice to stay on one thread: nothing beat it, or what tied with it, which it beats as the cheapest."""
    if ties:
        shown = sorted(ties, key=lambda o: -_mid(o))[:3]
        names = ", ".join(f"{_name(o, here)} {_fig(o)}" for o in shown)
        return (
            f"At {w} workers run it on one thread: {names} tie{'s' if len(ties) == 1 else ''} with it within the "
            "intervals, and one thread is the cheapest (no pool to start, nothing to copy), so it is chosen."
        )
    best = max(
        (o for o in at_w if estimate(o) is not None and o.family != "serial"),
        key=_mid,
        default=None,
    )
    return f"At {w} workers run it on one thread: nothing beat serial here" + (
        f" (the best, {_name(best, here)}, gave {_fig(best)})." if best else "."
    )


def sentence(
    w: int,
    at_w: Sequence[Option],
    here: str,
    serial_held: float | None,
    serial_busy: float | None,
    gil_on: dict[str, bool],
    slower: Sequence[SlowerOn],
) -> str:
    """The recommendation at w workers, from the options measured there."""
    chosen, ties = choose(at_w, serial_held, gil_on, here)
    threads = next((o for o in at_w if o.family == "threads" and o.interpreter == here), None)
    parts: list[str] = []
    if chosen.family == "serial":
        parts.append(_one_thread(w, at_w, ties, here))
    else:
        parts.append(f"At {w} workers use {_name(chosen, here)}: {_fig(chosen)}.")
        parts.append(_rests(chosen, serial_busy))
        parts.append(_tie(chosen, ties, here))
    parts += _contradicted(at_w, here)
    if serial_busy is not None and serial_busy < WAITS:
        parts.append(
            f"Your function waits rather than computes (one call kept {serial_busy:.2f} cores busy): threads "
            "overlap its waits, GIL or not."
        )
    elif chosen.family != "threads" or chosen.interpreter != here:
        parts.append(_why_not_threads(threads, serial_held, here))
    parts += _others(chosen, at_w, here) if chosen.family != "serial" else []
    for o in at_w:
        if o.interpreter != here and o.family == "threads" and o.ok:
            cost = next((s for s in slower if s.interpreter == o.interpreter), None)
            tail = (
                f", and runs one thread at {1 / cost.ratio:.2f}× the speed of {cost.against}"
                if cost is not None and cost.ratio > 0
                else ""
            )
            parts.append(f"{o.interpreter} gives {_x(o)} on threads{tail}.")
            why = causes.advice(o.diagnosis)
            if why and o is not chosen:
                parts.append(f"On {o.interpreter}, {why}.")
    return " ".join(p for p in parts if p)
