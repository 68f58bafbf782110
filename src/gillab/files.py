"""Files written for the user: atomically (a reader never sees half a file) and with the umask's modes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file and a rename, with the mode a plain open() would give."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(
            fd, 0o666 & ~_umask()
        )  # mkstemp makes 0600; the user's umask decides, as for the PNGs
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(doc: Any, path: str | Path) -> Path:
    """Write a JSON document atomically (indent 1, a newline at the end); return its path."""
    p = Path(path)
    write_atomic(p, json.dumps(doc, indent=1, default=str) + "\n")
    return p
