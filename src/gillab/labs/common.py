"""What every lab shares: its JSON document, with the schema version and the environment it ran in."""

from __future__ import annotations

from typing import Any

from gillab import environment

LAB_SCHEMA_VERSION = 1


def lab_document(lab: str, data: dict[str, Any]) -> dict[str, Any]:
    """Wrap a lab's figures with the schema version and the environment they were measured in."""
    return {"schema_version": LAB_SCHEMA_VERSION, "lab": lab, "environment": environment.info(), **data}
