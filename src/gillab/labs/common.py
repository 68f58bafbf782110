"""What every lab shares: its JSON file, its report section, and its output folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.harness.results import write_atomic

LAB_SCHEMA_VERSION = 1


def lab_document(lab: str, data: dict[str, Any]) -> dict[str, Any]:
    """Wrap a lab's figures with the schema version and the environment they were measured in."""
    return {"schema_version": LAB_SCHEMA_VERSION, "lab": lab, "environment": environment.info(), **data}


def write_json(doc: dict[str, Any], path: str | Path) -> Path:
    """Write a lab's JSON atomically."""
    p = Path(path)
    write_atomic(p, json.dumps(doc, indent=1, default=str) + "\n")
    return p


def percentile(xs: list[float], q: float) -> float:
    """Return the q-th quantile (0..1) by nearest rank (0.0 for no data)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]
