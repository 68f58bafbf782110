"""`gillab catalogue`: the GIL map of your Python. Which stdlib and numpy calls release the GIL, measured here.

The entries (gillab.checker.entries) name a callable, inputs sized so that one call takes about 1-50 ms on a
small machine, what it is expected to do with the GIL, and the source that proves it. Three entries are
size sweeps: a threshold below which the call keeps the GIL. Every entry is measured with the method of
`gillab check` on the interpreter that runs it; a measured verdict that disagrees with the expectation is
shown as a disagreement, never hidden: the catalogue is also the lab's self-test.

The whole catalogue runs in one child process (gillab.checker.child, through gillab.childproc.run_spec,
the protocol `gillab check` uses), which writes each entry's row as soon as it is measured: a crash or
Ctrl-C keeps the rows already made.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gillab.checker.child_spec import ChildSpec
from gillab.checker.entries import ENTRIES, Entry
from gillab.checker.sweep import SweepRow
from gillab.checker.verdict import Releases
from gillab.childproc import run_spec
from gillab.codec import Displayable, decode, encode_fields, omit_if_none

DURATION_S = 0.3
"""Seconds per measured phase of each entry: the whole catalogue then takes about 1.5 minutes on 2 cores."""


def select(pattern: str | None) -> list[Entry]:
    """Return the entries whose name or target matches the pattern (fnmatch, case-insensitive; a plain word
    matches anywhere)."""
    if not pattern:
        return list(ENTRIES)
    pat = pattern.lower() if any(c in pattern for c in "*?[") else f"*{pattern.lower()}*"
    return [
        e
        for e in ENTRIES
        if fnmatch.fnmatch(e.name.lower(), pat) or fnmatch.fnmatch(e.target.lower(), pat)
    ]


@dataclass(frozen=True)
class EntryResult:
    """What one entry measured: the verdict, the figure that decided it, and the figures beside it."""

    measured: str
    """The kind measured ("releases", "holds", "partly", "no GIL"), "releases from N up" for a sweep, or
    "error"."""
    verdict: str = ""
    decided_by: str = ""
    sweep: tuple[SweepRow, ...] | None = omit_if_none()
    fraction: float | None = None
    held_fraction: float | None = None
    speedup_2: float | None = None
    disturbed: tuple[str, ...] | None = omit_if_none()
    per_call_ms: float | None = omit_if_none()
    agrees: bool | None = None
    """Whether it agrees with what the source says; None where it cannot be judged (no GIL)."""
    error: str | None = omit_if_none()


@dataclass(frozen=True)
class Row:
    """One entry of the catalogue and what it measured here."""

    entry: Entry
    got: EntryResult

    def to_json(self) -> dict[str, Any]:
        """The row as catalogue.json holds it: the entry's fields, then what was measured."""
        return self.entry.to_json() | encode_fields(self.got)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Row:
        """Read a row back (its entry from this gillab's own list, by name)."""
        entry_keys = {"name", "target", "setup", "expected", "source", "trap", "sizes", "threshold"}
        entry = next((e for e in ENTRIES if e.name == doc["name"]), None)
        if entry is None:  # an entry of another version: kept as written
            expected = (
                doc["expected"] if doc["expected"] in {r.value for r in Releases} else "releases"
            )
            entry = decode(
                Entry, {k: v for k, v in doc.items() if k in entry_keys} | {"expected": expected}
            )
        return cls(
            entry, decode(EntryResult, {k: v for k, v in doc.items() if k not in entry_keys})
        )


def measure_entry(entry: Entry, duration_s: float = DURATION_S) -> Row:
    """Measure one entry in this process (the catalogue's child) and return its row; an entry that fails is
    its row's error, and the catalogue goes on."""
    from gillab.callables import load_target

    try:
        func = load_target(entry.target)
        got = _sweep(entry, func) if entry.sizes else _check(entry, func, duration_s)
    except Exception as exc:
        got = EntryResult("error", agrees=False, error=f"{type(exc).__name__}: {exc}")
    return Row(entry, got)


def _sweep(entry: Entry, func: Callable[..., Any]) -> EntryResult:
    from gillab import environment
    from gillab.callables import call_inputs
    from gillab.checker.sweep import sweep

    got = sweep(func, lambda n: call_inputs(entry.setup.replace("{n}", str(n)), None), entry.sizes)
    start = got.releases_from
    if not environment.gil_enabled():
        measured, agrees = "no GIL", None
    else:
        measured = f"releases from {start} up" if start is not None else got.threshold
        agrees = start is not None and start == entry.threshold
    return EntryResult(
        measured, got.threshold, got.sizes[0].method if got.sizes else "", got.sizes, agrees=agrees
    )


def _check(entry: Entry, func: Callable[..., Any], duration_s: float) -> EntryResult:
    from gillab.callables import call_inputs
    from gillab.checker.measure import measure
    from gillab.checker.verdict import decide, verdict

    args, kwargs = call_inputs(entry.setup, None)
    m = measure(func, args, kwargs, [1, 2], duration_s)
    d = decide(m)
    first = m.scaling[0].calls_per_s
    return EntryResult(
        d.releases.value,
        verdict(m),
        d.decided_by,
        fraction=m.gil_free_fraction,
        held_fraction=m.gil_held.fraction,
        speedup_2=next((lv.speedup for lv in m.scaling if lv.threads == 2), None),
        disturbed=m.disturbed,
        per_call_ms=1e3 / first if first else None,
        agrees=None if d.releases is Releases.NO_GIL else d.releases is entry.expected,
    )


@dataclass(frozen=True)
class Catalogue(Displayable):
    """Every row measured, and why the run stopped early if it did."""

    rows: tuple[Row, ...]
    error: str = ""
    interrupted: bool = False

    @property
    def summary(self) -> str:
        """How many entries agreed with their sources, and which did not."""
        return summary(self.rows)

    def to_json(self) -> dict[str, Any]:
        """catalogue.json's figures."""
        return {
            "entries": [r.to_json() for r in self.rows],
            "summary": self.summary,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Catalogue:
        """Read catalogue.json back."""
        return cls(tuple(Row.from_json(r) for r in doc["entries"]), doc.get("error", ""))


def run_catalogue(
    entries: list[Entry],
    duration_s: float = DURATION_S,
    python: str | None = None,
    progress: Callable[[int, int, Row], None] | None = None,
    timeout_s: float = 900.0,
) -> Catalogue:
    """Measure the entries in one child process; return the rows, kept even when the child dies part-way.

    progress(done, total, row) is called as each row arrives. Ctrl-C stops the child and returns what was
    measured, with interrupted set.
    """
    rows: list[Row] = []

    def arrived(line: dict[str, Any]) -> None:
        rows.append(Row.from_json(line["row"]))
        if progress is not None:
            progress(len(rows), len(entries), rows[-1])

    spec = ChildSpec(job="catalogue", names=tuple(e.name for e in entries), duration_s=duration_s)
    ran = run_spec(
        "gillab.checker.child",
        spec.to_json(),
        "the catalogue",
        python=python,
        timeout_s=timeout_s,
        on_line=arrived,
    )
    error = ran.failure("the catalogue's child process", timeout_s)
    if error and len(rows) < len(entries):
        error += f": {len(rows)} of {len(entries)} entries were measured"
    return Catalogue(tuple(rows), error, ran.interrupted)


def summary(rows: tuple[Row, ...] | list[Row]) -> str:
    """Say how many entries agreed with their sources, and name those that did not."""
    judged = [r for r in rows if r.got.agrees is not None]
    bad = [r for r in judged if not r.got.agrees]
    text = f"{len(judged) - len(bad)} of {len(judged)} entries agree with what their source says"
    if bad:
        text += "; DISAGREE: " + "; ".join(
            f"{r.entry.name} (expected {r.entry.expected_text}, measured {r.got.measured})"
            for r in bad
        )
    skipped = len(rows) - len(judged)
    if skipped:
        text += f"; {skipped} not judged (no GIL on this interpreter)"
    return text
