"""The JSON documents labs and checks leave in an output folder (<name>.json), and their report sections.

Each document wraps its figures with the schema version and the environment they were measured in. The
report reads every known document back through the kind's own render function (the lab's, the check's),
so that a lab's words live with the lab; a document that cannot be read is named in its section, never a
reason for the report to fail.
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
from gillab.outputs.report import Section, img_tag, ul

__all__ = ["Kind", "lab_document", "sections", "ul", "write_document"]

LAB_SCHEMA_VERSION = 1
WRAPPER = ("schema_version", "lab", "environment")
"""The keys every document has around its figures."""


def lab_document(lab: str, data: dict[str, Any]) -> dict[str, Any]:
    """Wrap a lab's figures with the schema version and the environment they were measured in."""
    return {"schema_version": LAB_SCHEMA_VERSION, "lab": lab, "environment": encode(environment.info()), **data}


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
    """A kind of document: its name (the file's stem and the section's) and how its section is rendered."""

    name: str
    render: Callable[[dict[str, Any]], str]
    """The figures (the document without its wrapper) -> the section's HTML."""


def sections(out: Path, kinds: Sequence[Kind]) -> list[Section]:
    """Return a section for every kind whose document lies in out, with its picture when there is one."""
    found = []
    for kind in kinds:
        path = out / f"{kind.name}.json"
        if not path.exists():
            continue
        try:
            body = kind.render(figures(read_json(path))) + img_tag(out / f"{kind.name}.png")
        except (ResultsError, KeyError, TypeError, ValueError) as exc:
            body = f"<p class='flag'>{html.escape(path.name)} could not be read: {html.escape(str(exc))}</p>"
        found.append(Section(f"gillab {kind.name}", body))
    return found
