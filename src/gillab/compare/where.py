"""The line profiles a comparison's runs left: where Python workers that share no GIL contended under one of
the interpreters, each run profiled its contended impls (gillab.checker.where.cells) into its own folder; the
comparison gathers them into one where.json, each impl under the interpreter it ran under."""

from __future__ import annotations

from pathlib import Path

from gillab.checker.where.cells import WhereRun, gathered
from gillab.checker.where.cells import view as where_view
from gillab.outputs.documents import write_document
from gillab.present.view import View


def gather(out: Path) -> WhereRun | None:
    """Write out/where.json from the runs' own (out/run0, run1, ...), or remove an older one; the profiles."""
    (out / "where.json").unlink(missing_ok=True)
    profiles = gathered(sorted(p for p in out.glob("run*") if p.is_dir()))
    if profiles is not None:
        write_document("where", profiles.to_json(), out)
    return profiles


def view(profiles: WhereRun) -> View:
    """Their view: each impl's line, under each interpreter."""
    return where_view(profiles)
