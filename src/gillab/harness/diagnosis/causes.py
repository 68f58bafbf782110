"""Without the GIL, what still serialises threads: the sentences that name a diagnosis's cause (measured in
gillab.harness.diagnosis, beside them), per cell with every figure's interval, grouped for the lesson, and
the fix each cause suggests."""

from __future__ import annotations

from collections.abc import Sequence

from gillab.harness.results import Cell, Diagnosis
from gillab.present.view import and_list, interval

TITLE = "Without the GIL: what still serialises threads"
WITHOUT_GIL = (
    "Without a GIL, threads run Python code on every core at once, and still may not go faster. Where they share "
    "an object, each core runs at a fraction of its speed: they contend over its lock and its cache lines. Where "
    "they make cyclic garbage, the collector stops every thread while one collects: they wait. gillab splits what "
    "each such cell fell short of the machine's own ceiling into those parts, and names the largest."
)
"""The lesson's paragraph, for the reports."""
NAMED = ("contention", "collector", "waiting", "gil")
"""The causes a sentence names (a diagnosis of "noise" names none)."""

WHY = {
    "contention": "they contend over shared objects (one dict or list written by every thread, a lock taken per "
    "update, one object's reference count)",
    "collector": "the cycle collector stopped the world",
    "waiting": "they waited for each other (a lock, a queue, I/O)",
}


FIX = {
    "contention": "give each thread its own copy of what they share (a dict, a list, an object) and merge the "
    "partial results once at the end",
    "collector": "make fewer reference cycles (break them, or use weak references), so that the collector runs "
    "less often",
    "waiting": "hold locks for less time, or give each thread work of its own",
    "gil": "use a version of that extension that declares free-threading support",
}
"""The fix each cause suggests, as advise names it."""


def diagnosed(c: Cell) -> Diagnosis | None:
    """The cell's diagnosis, where it names a cause."""
    d = c.diagnosis
    return d if d is not None and d.cause in NAMED else None


def _ci(x: float | None, ci: tuple[float, float] | None, spec: str = ".2f") -> str:
    if x is None:
        return "-"
    return f"{x:{spec}}" + (f" {interval(*ci, spec)}" if ci else "")


def _span(xs: Sequence[float | None], spec: str = ".2f") -> str:
    found = sorted(x for x in xs if x is not None)
    if not found:
        return "-"
    lo, hi = f"{found[0]:{spec}}", f"{found[-1]:{spec}}"
    return lo if lo == hi else f"{lo}-{hi}"


def sentence(c: Cell) -> str:
    """One cell's diagnosis in a sentence, each figure with its 95% interval."""
    d = c.diagnosis
    if d is None:
        return ""
    who = f"{c.impl} on {c.workers} {c.workers_word}"
    if d.cause == "gil":
        return f"{who} took turns: the GIL is back on ({d.gil_on})."
    busy = f"{d.cores_busy:.2f}" if d.cores_busy is not None else "-"
    if d.cause == "contention":
        return (
            f"{who} kept {busy} cores busy but each ran at {_ci(d.core_speed, None)} of its solo speed, where the "
            f"machine's own reference ran at {_ci(d.machine_core_speed, d.machine_core_speed_ci95)} on as many "
            f"threads (a loss of {_ci(d.contention, d.contention_ci95, '.0%')}): {WHY['contention']}."
        )
    collector = (
        f"the collector ran {_ci(d.collector_share, d.collector_share_ci95, '.0%')} of the wall, "
        f"{d.collections or 0:.0f} collections a repeat"
        if d.collector_share is not None
        else d.note
    )
    if d.cause in ("collector", "waiting"):
        return (
            f"{who} kept only {busy} of {d.ideal:.3g} cores busy: they waited "
            f"{_ci(d.waiting, d.waiting_ci95, '.0%')} of the time ({collector}): {WHY[d.cause]}."
        )
    return (
        f"{who} kept {busy} cores busy, and what it fell short of the machine's ceiling is within the machine's own "
        f"noise (waiting {_ci(d.waiting, d.waiting_ci95, '.0%')}, contention "
        f"{_ci(d.contention, d.contention_ci95, '.0%')}): no cause is named."
    )


def advice(d: Diagnosis | None) -> str:
    """What held threads back without the GIL, and the fix it suggests, for advise's sentence ("" where no
    cause is named)."""
    if d is None or d.cause not in NAMED:
        return ""
    return f"{check_sentence(d)}; to fix it, {FIX[d.cause]}"


def check_sentence(d: Diagnosis, threads: int | None = None) -> str:
    """A diagnosis in words, with its figures (a check's at its most threads)."""
    busy = f"{d.cores_busy:.2f}" if d.cores_busy is not None else "-"
    its = f"its {threads} threads" if threads else "its threads"
    if d.cause == "gil":
        return f"the GIL is back on ({d.gil_on})"
    if d.cause == "contention":
        return (
            f"{its} kept {busy} cores busy but each ran at {_ci(d.core_speed, None)} of its solo "
            f"speed, where the machine's own reference ran at {_ci(d.machine_core_speed, None)}: "
            f"{WHY['contention']}"
        )
    collector = (
        f"; the collector ran {d.collector_share:.0%} of the time, {d.collections or 0:.0f} collections"
        if d.collector_share
        else ""
    )
    return (
        f"{its} kept only {busy} of {d.ideal:.3g} cores busy, waiting {_ci(d.waiting, None, '.0%')} of "
        f"the time{collector}: {WHY[d.cause]}"
    )


def lesson(cells: Sequence[Cell]) -> list[str]:
    """The lesson of the cells whose diagnosis names a cause, one sentence per cause and kind of worker."""
    groups: dict[tuple[str, str], list[Cell]] = {}
    for c in cells:
        d = diagnosed(c)
        if d is not None:
            groups.setdefault((d.cause, c.executor), []).append(c)
    out = []
    for (cause, _), mine in groups.items():
        impls = and_list(list(dict.fromkeys(c.impl for c in mine)))
        ds = [c.diagnosis for c in mine if c.diagnosis is not None]
        busy = _span([d.cores_busy for d in ds])
        word = mine[0].workers_word
        if cause == "gil":
            out.append(
                f"{impls[:1].upper()}{impls[1:]} {word} took turns: the GIL is back on ({ds[0].gil_on})."
            )
        elif cause == "contention":
            out.append(
                f"Without a GIL, {impls} {word} kept {busy} cores busy but each ran at "
                f"{_span([d.core_speed for d in ds])} of its solo speed (the machine's own: "
                f"{_span([d.machine_core_speed for d in ds])}): {WHY['contention']}."
            )
        else:
            share = _span([d.collector_share for d in ds], ".0%")
            counts = _span([d.collections for d in ds], ".0f")
            tail = (
                f", {counts} collections a repeat, {share} of the wall"
                if cause == "collector"
                else ""
            )
            out.append(
                f"Without a GIL, {impls} {word} kept only {busy} cores busy: they waited "
                f"{_span([d.waiting for d in ds], '.0%')} of the time{tail}: {WHY[cause]}."
            )
    return out
