"""The line profile in words and in a table, built once: check's view (gillab.checker.view) takes them, and so
every medium shows the same sentence and the same lines.

The sentence is the lesson: which line, what it costs on N threads against alone, the object it touches that
the threads share, and the fix. On a GIL build, which line holds the GIL and which lets it go, each read
alone, where no other thread makes it wait; and, apart, how long each thread waits for the GIL on N threads.
"""

from __future__ import annotations

import linecache
import os

from gillab.checker.where.profile import COLLECTOR, Where, WhereLine
from gillab.present.view import BarRow, Bars, Doubt, Table, interval

COLUMNS = ("line", "code", "alone", "N threads", "cost ×", "GIL held", "GIL wait", "touches")
SOURCE_CHARS = 26
LISTING_CHARS = 64
"""A listed line's characters, beyond which it is cut (its bars must stay on the page)."""
SPAN = 60
"""A file's sampled lines are listed with every line between them where they span at most this many."""
WIDE = 0.25
"""A line's slowdown is marked when its interval reaches further than this share of it either side."""

_FIX = {
    "lock": (
        "which every thread takes",
        "Take it less often: work on a local, and take it once to merge.",
    ),
    "instance": (
        "which every thread calls",
        "Give each thread its own, and merge once at the end.",
    ),
    "attribute": (
        "which every thread writes",
        "Give each thread its own, and merge once at the end.",
    ),
    "closure": (
        "which every thread shares",
        "Give each thread its own, and merge once at the end.",
    ),
}
_CONTAINER = ("which every thread writes", "Give each thread its own, and merge once at the end.")


def _code(source: str, limit: int = 60) -> str:
    return source if len(source) <= limit else source[: limit - 1] + "…"


def _place(ln: WhereLine) -> str:
    return f"line {ln.line} of {os.path.basename(ln.file)}, `{_code(ln.source)}`"


def _object(where: Where, ln: WhereLine) -> str:
    """The object clause and the fix, for a contended line."""
    if ln.shared is None:
        if where.gc_threads >= COLLECTOR:
            return (
                f"no object it touches is shared by name, but the cycle collector ran {where.gc_threads:.0%} of "
                f"the time on {where.threads} threads ({where.gc_alone:.0%} alone), and it stops every thread "
                "while it runs: this line makes garbage only that collector can free (a cycle). Break the "
                "cycle, or make fewer."
            )
        return "no object it touches is shared by name: look at what it calls."
    who, fix = _FIX.get(ln.kind, _CONTAINER)
    verb = ln.verb or "touches"
    if ln.kind == "attribute" and ln.caller:
        caller = next((c for c in where.lines if f"{c.file}:{c.line}" == ln.caller), None)
        if caller is not None and caller.kind == "instance":
            return (
                f"it {verb} `self.{ln.name}` of {caller.shared}: line {caller.line} calls it on that one "
                f"object from every thread. {fix}"
            )
    return f"it {verb} {ln.shared}, {who}. {fix}"


def lesson(where: Where) -> tuple[str, ...]:
    """The profile's sentences: the place and the object first."""
    if where.sampler is None:
        return (f"Where: not profiled: {where.note}.",)
    if not where.lines:
        return (
            "Where: no line of Python code of its own ran while it was called (it is C code): its time is all "
            "in the call.",
        )
    if where.gil:
        return (_gil_sentence(where),)
    cycle = next((ln for ln in where.lines if ln.kind == "cycle"), None)
    if cycle is not None and where.gc_threads >= COLLECTOR:
        return (
            f"Where: {_place(cycle)}: it makes `{cycle.name}` refer to itself, garbage only the cycle collector "
            f"can free, and the collector ran {where.gc_threads:.0%} of the time on {where.threads} threads "
            f"({where.gc_alone:.0%} alone), stopping every thread while it ran. Break the cycle (a weak "
            "reference, or clear it when done), or make fewer.",
        )
    contended = where.contended
    if not contended and where.busy:
        out = [
            f"Where: the machine itself ran {where.threads} threads {where.machine:.2f}× slower than one (other "
            f"work on its cores, or too few of them), and no line of its own slowed down beyond that: "
            "contention could hide in it here; profile again on a quieter machine."
        ]
    elif not contended:
        machine = f" ({where.machine:.2f}×)" if where.machine is not None else ""
        out = [
            f"Where: no line of its own slows down on {where.threads} threads beyond the machine itself"
            f"{machine}: nothing its threads share holds them back."
        ]
    if not contended:
        if where.gc_threads >= COLLECTOR:
            out.append(
                f"The cycle collector ran {where.gc_threads:.0%} of the time on {where.threads} threads "
                f"({where.gc_alone:.0%} alone), stopping every thread while it ran."
            )
        return tuple(out)
    first = contended[0]
    assert first.slowdown is not None
    assert first.slowdown_ci95 is not None
    out = [
        f"Where: {_place(first)}: {first.threads:.0%} of the time on {where.threads} threads against "
        f"{first.alone:.0%} alone, {first.slowdown:.1f}× the cost per call "
        f"{interval(*first.slowdown_ci95, '.1f')}: {_object(where, first)}"
    ]
    more = [f"line {ln.line} ({ln.slowdown:.1f}×)" for ln in contended[1:3] if ln.slowdown]
    if more:
        out.append(f"Also slower on {where.threads} threads: {', '.join(more)}.")
    if where.busy:
        out.append(
            f"The machine itself was busy ({where.machine:.2f}× slower on {where.threads} threads): part of "
            "this may be its doing (a thread that loses its core while it holds a lock makes the others wait); "
            "profile again on a quieter machine to be sure."
        )
    return tuple(out)


HOLDS = 0.5
"""A line holds the GIL where its thread held it at least this share of the time it ran alone; below, it lets
it go."""


def _holds(where: Where) -> WhereLine | None:
    """The line that holds the GIL, most of the threads' time first (the lines come ranked so)."""
    return next(
        (ln for ln in where.lines if ln.gil_held is not None and ln.gil_held >= HOLDS), None
    )


def _holds_clause(where: Where, ln: WhereLine) -> str:
    assert ln.gil_held is not None
    wait = (
        f"; on {where.threads} threads each waits for the GIL {ln.gil_wait:.0%} of its time here"
        if ln.gil_wait is not None
        else ""
    )
    return (
        f"{_place(ln)}, holds the GIL {ln.gil_held:.0%} of the time it runs, and is {ln.threads:.0%} of the "
        f"time on {where.threads} threads{wait}"
    )


def _gil_sentence(where: Where) -> str:
    """On a GIL build: the line that holds the GIL (and how long its threads wait for it on N threads), and
    the one that lets it go."""
    holds = _holds(where)
    lets = next((ln for ln in where.lines if ln.gil_held is not None and ln.gil_held < HOLDS), None)
    parts = []
    if holds is not None:
        parts.append(_holds_clause(where, holds))
    if lets is not None and lets.gil_held is not None:
        parts.append(f"{_place(lets)}, lets it go {1 - lets.gil_held:.0%} of the time it runs")
    if not parts:
        return (
            "Where: the GIL is on, and no one thread could be seen holding it (a free-threaded build with the "
            "GIL turned back on): its threads take turns."
        )
    return "Where: " + "; ".join(parts) + "."


def short_of(where: Where) -> str | None:
    """Where threads fall short, in one clause: on a GIL build the line that holds the GIL, never one that
    lets it go (a callable whose lines all let it go has none); without one, the lesson's first sentence (a
    line whose cost grows, or the collector). None where the profile names no such place."""
    if where.sampler is None or not where.lines:
        return None
    if where.gil:
        holds = _holds(where)
        return _holds_clause(where, holds) if holds is not None else None
    return lesson(where)[0].removeprefix("Where: ")


def table(where: Where) -> Table | None:
    """Each line listed: its share alone and on N threads, its cost per call on N threads against alone; on a
    GIL build the share of the time it runs that its thread holds the GIL, and the share of its time on N
    threads its thread waits for it; and what it touches."""
    if where.sampler is None or not where.lines:
        return None
    gil = where.gil and any(ln.gil_held is not None for ln in where.lines)
    rows, flagged = [], []
    for ln in where.lines:
        held = (_share(ln.gil_held), _share(ln.gil_wait)) if gil else ()
        rows.append(
            (
                str(ln.line),
                _code(ln.source, SOURCE_CHARS),
                f"{ln.alone:.0%}",
                f"{ln.threads:.0%}",
                _slowdown(ln),
                *held,
                _touches(ln),
            )
        )
        flagged.append(_wide(ln))
    shown = COLUMNS[4:] if gil else (COLUMNS[4], COLUMNS[-1])
    columns = (*COLUMNS[:3], f"{where.threads} threads", *shown)
    return Table(columns, tuple(rows), tuple(flagged), "llrrr" + "rr" * gil + "l")


def _share(x: float | None) -> str:
    return f"{x:.0%}" if x is not None else "-"


def bars(where: Where) -> tuple[Bars, ...]:
    """Each file's source, from its first sampled line to its last, with two bars per line (its share of the
    time alone and on N threads) and, on a GIL build, two more (the share of the time it runs that its thread
    holds the GIL, and the share of its time on N threads its thread waits for it);
    a line whose threads fight over something is flagged. Only the sampled lines where they spread wider."""
    if where.sampler is None or not where.lines:
        return ()
    gil = any(ln.gil_held is not None for ln in where.lines)
    series = ("alone", f"{where.threads} threads", *(("GIL held", "GIL wait") if gil else ()))
    out = []
    for file in dict.fromkeys(ln.file for ln in where.lines):
        mine = {ln.line: ln for ln in where.lines if ln.file == file}
        lo, hi = _def_line(file, min(mine)), max(mine)
        numbers = range(lo, hi + 1) if hi - lo < SPAN else sorted(mine)
        texts = {n: linecache.getline(file, n).rstrip().expandtabs() for n in numbers}
        texts = {n: t or (mine[n].source if n in mine else "") for n, t in texts.items()}
        indent = min((len(t) - len(t.lstrip()) for t in texts.values() if t.strip()), default=0)
        rows = []
        for n in numbers:
            ln, text = mine.get(n), _code(texts[n][indent:], LISTING_CHARS)
            if ln is None:
                rows.append(BarRow(str(n), text, (None,) * len(series)))
                continue
            held = (ln.gil_held, ln.gil_wait) if gil else ()
            rows.append(BarRow(str(n), text, (ln.alone, ln.threads, *held), ln.contended))
        out.append(Bars(os.path.basename(file), series, tuple(rows)))
    return tuple(out)


def _def_line(file: str, first: int) -> int:
    """The `def` line of the function a sampled line is in, where it is within SPAN lines above; else the
    line itself."""
    for n in range(first, max(0, first - SPAN), -1):
        if linecache.getline(file, n).lstrip().startswith(("def ", "async def ")):
            return n
    return first


def _slowdown(ln: WhereLine) -> str:
    if ln.slowdown is None:
        return "new"
    mark = " !" if ln.contended else ""
    return f"{ln.slowdown:.2f}{mark}"


def _touches(ln: WhereLine) -> str:
    if ln.shared is None:
        return ""
    return f"self.{ln.name}" if ln.kind == "attribute" else f"{ln.kind} {ln.name}"


def _wide(ln: WhereLine) -> bool:
    if ln.slowdown is None or ln.slowdown_ci95 is None:
        return ln.slowdown is None
    lo, hi = ln.slowdown_ci95
    return (hi - lo) / 2 > WIDE * ln.slowdown


def doubts(where: Where) -> tuple[Doubt, ...]:
    """The machine's own slowdown where it was busy, and each line whose slowdown's interval is wide: too few
    samples on it to say."""
    out = []
    if where.busy:
        out.append(
            Doubt(
                "the line profile",
                f"the machine itself ran a GIL-free native reference {where.machine:.2f}× slower on "
                f"{where.threads} threads than on one: a line's contention may hide inside that",
            )
        )
    for ln in where.lines:
        if not _wide(ln):
            continue
        if ln.slowdown is None or ln.slowdown_ci95 is None:
            why = "never seen alone: no cost to set its cost on threads against"
        else:
            why = (
                f"its slowdown's interval {interval(*ln.slowdown_ci95)} is wide: too few samples "
                "on it to say"
            )
        out.append(Doubt(f"line {ln.line}", why))
    return tuple(out)


def notes(where: Where) -> tuple[str, ...]:
    """How the profile was taken: the sampler, its rate and cost, and the machine's own slowdown."""
    if where.sampler is None:
        return ()
    machine = (
        f"; the machine itself ran a GIL-free native reference {where.machine:.2f}× slower on "
        f"{where.threads} threads than alone (a line's cost × is set against it)"
        if where.machine is not None
        else ""
    )
    return (
        f"Line profile: {where.sampler}, {where.samples} samples at {where.rate_hz:.0f} a second, "
        f"{where.cost_us:.0f} µs each, read from outside the child; {where.calls_alone} calls alone and "
        f"{where.calls_threads} on {where.threads} threads; {where.outside:.0%} of the threads' time was in "
        f"no line of its own{machine}.{kept(where)} cost × is a line's cost per call on {where.threads} "
        "threads over its cost alone; ! marks a line whose threads fight over something there."
        + (
            " GIL held is the share of the time a line runs that its thread holds the GIL, read alone (where "
            f"no other thread can make it wait); GIL wait, the share of its time on {where.threads} threads "
            "that its thread waits for the GIL there."
            if where.gil
            else ""
        ),
    )


def kept(where: Where) -> str:
    """The sampler's own cost, from the unsampled slices between the sampled ones; where it cannot pause
    (py-spy), the CPU its readers took."""
    if where.kept_alone is None or where.kept_threads is None:
        share = where.cost_us * where.rate_hz / 1e6
        return (
            f" Its readers took {share:.0%} of one core, start-up included (they cannot pause: no slice "
            "was left unsampled to time the calls against)."
            if share > 0
            else ""
        )
    return (
        f" Its calls per second while sampled, against the unsampled slices between: {where.kept_alone:.2f} "
        f"alone and {where.kept_threads:.2f} on {where.threads} threads (1.00: sampling cost it nothing)."
    )
