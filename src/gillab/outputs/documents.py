"""The JSON documents labs and checks leave in an output folder (<name>.json), and their report sections.

Each document wraps its figures with the schema version and the environment they were measured in. Each kind
of document says how its figures are read back into a result and how that result's View is built (the lab's,
the check's), so that a lab's words live with the lab; report.html, `gillab show` and the notebook render that
View. A document that cannot be read is named in its section, never a reason for the report to fail.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.codec import encode
from gillab.errors import ResultsError
from gillab.files import write_json
from gillab.harness.results import read_json
from gillab.outputs.report import Section
from gillab.present import page
from gillab.present.view import View

__all__ = ["Kind", "lab_document", "sections", "write_document"]

LAB_SCHEMA_VERSION = 2
"""The version of every lab's and check's document. History:
- 1: first version.
- 2: a line profile's (check's and advise's `where`) `gil_held` is read alone, where no other thread can make
  its thread wait (it was read on N threads, where a Python line's wait for the GIL counted as letting it go),
  and each line has `gil_wait`, the share of its time on N threads its thread waited for the GIL there.
  advise's options have `busy_share` (cores busy over the cores it could use), and `expected` and
  `expected_ci95` (the speedup its figures that do not move give: what the choice rests on where the measured
  interval is wider than ±10%). Documents of version 1 are still read (the new fields take their defaults)."""
WRAPPER = ("schema_version", "lab", "environment")
"""The keys every document has around its figures."""


def lab_document(lab: str, data: dict[str, Any]) -> dict[str, Any]:
    """Wrap a lab's figures with the schema version and the environment they were measured in."""
    return {
        "schema_version": LAB_SCHEMA_VERSION,
        "lab": lab,
        "environment": encode(environment.info()),
        **data,
    }


def figures(doc: dict[str, Any]) -> dict[str, Any]:
    """A document's figures, without its wrapper."""
    return {k: v for k, v in doc.items() if k not in WRAPPER}


def write_document(lab: str, data: dict[str, Any], out: Path, also: str | None = None) -> None:
    """Write out/<lab>.json (and a copy at `also`)."""
    doc = lab_document(lab, data)
    write_json(doc, out / f"{lab}.json")
    if also:
        write_json(doc, also)


@dataclass(frozen=True)
class Kind:
    """A kind of document: its name (the file's stem and the section's), how its figures are read back into
    a result, and how that result's View is built."""

    name: str
    load: Callable[[dict[str, Any]], Any]
    """The figures (the document without its wrapper) -> the result."""
    view: Callable[[Any], View]
    """The result -> its View."""
    types: tuple[type, ...] = ()
    """The result classes it views (a notebook shows each through its kind)."""

    def read(self, out: Path) -> View | None:
        """The View of out/<name>.json, or None where there is none; ResultsError where it cannot be read."""
        path = out / f"{self.name}.json"
        if not path.exists():
            return None
        try:
            return self.view(self.load(figures(read_json(path))))
        except (ResultsError, KeyError, TypeError, ValueError) as exc:
            raise ResultsError(f"{path.name} could not be read: {exc}") from None


def sections(out: Path, kinds: Sequence[Kind]) -> list[Section]:
    """Return a section for every kind whose document lies in out, with its pictures."""
    found = []
    for kind in kinds:
        try:
            view = kind.read(out)
        except ResultsError as exc:
            found.append(
                Section(f"gillab {kind.name}", f"<p class='flag'>{html.escape(str(exc))}</p>")
            )
            continue
        if view is not None:
            found.append(Section(f"gillab {kind.name}", page.body(view, out)))
    return found
