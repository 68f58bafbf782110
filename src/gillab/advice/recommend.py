"""The recommendation, one sentence per worker count, built from the options' figures and their intervals."""

from __future__ import annotations

from collections.abc import Sequence

from gillab.advice.model import HOLDS, PREFERENCE, WAITS, Option, SlowerOn
from gillab.harness.diagnosis import causes
from gillab.harness.executors import Family
from gillab.present.view import interval


def _x(o: Option) -> str:
    ci = f" {interval(*o.ci95)}" if o.ci95 else ""
    return f"{o.speedup:.2f}×{ci}"


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


def _lo(o: Option) -> float:
    return o.ci95[0] if o.ci95 else o.speedup or 0.0


def _hi(o: Option) -> float:
    return o.ci95[1] if o.ci95 else o.speedup or 0.0


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

    One thread is an option at every worker count, 1.0× [1, 1]. The fastest by median speedup sets the bar;
    every option whose interval reaches its lower bound ties with it, and the cheapest of them (PREFERENCE: one
    thread first) is chosen, except threads that take turns on the GIL. So a pool is advised only where its
    interval lies above 1.0: one slower than one thread, or tied with it, never is, and the same figures give
    the same advice run after run."""
    w = options[0].workers if options else 1
    one = one_thread(w, here or (options[0].interpreter if options else ""))
    ok = [o for o in options if o.ok and not holds_gil(o, serial_held, gil_on)] or [
        o for o in options if o.ok
    ]
    ok = [o for o in ok if o.family != "serial"] + [one]
    best = max(ok, key=lambda o: o.speedup or 0.0)
    ties = [o for o in ok if _hi(o) >= _lo(best)]
    ties.sort(key=lambda o: (PREFERENCE.get(o.family, 9), -(o.speedup or 0.0)))
    return ties[0], ties[1:]


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
    shown = sorted(ties, key=lambda o: -(o.speedup or 0.0))[:3]
    names = ", ".join(f"{_name(o, here)} {_x(o)}" for o in shown)
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
        shown = sorted(ties, key=lambda o: -(o.speedup or 0.0))[:3]
        names = ", ".join(f"{_name(o, here)} {_x(o)}" for o in shown)
        return (
            f"At {w} workers run it on one thread: {names} tie{'s' if len(ties) == 1 else ''} with it within the "
            "intervals, and one thread is the cheapest (no pool to start, nothing to copy), so it is chosen."
        )
    best = max(
        (o for o in at_w if o.ok and o.family != "serial"),
        key=lambda o: o.speedup or 0.0,
        default=None,
    )
    return f"At {w} workers run it on one thread: nothing beat serial here" + (
        f" (the best, {_name(best, here)}, gave {_x(best)})." if best else "."
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
        parts.append(f"At {w} workers use {_name(chosen, here)}: {_x(chosen)}.")
        tie = _tie(chosen, ties, here)
        if tie:
            parts.append(tie)
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
