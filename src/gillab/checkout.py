"""Where the source checkout that gillab was installed from lies (annotate reads it; compare installs it)."""

from __future__ import annotations

from pathlib import Path


def source_dir() -> Path:
    """Return the cext/ folder of this checkout, or raise FileNotFoundError saying what is needed."""
    here = Path(__file__).resolve().parent  # the gillab package
    for base in (here.parent.parent, here.parent):
        if (base / "cext" / "_kernels.pyx").is_file():
            return base / "cext"
    raise FileNotFoundError(
        "the Cython sources (cext/_kernels.pyx) are not beside this install: "
        "run this from a source checkout installed with pip install -e ."
    )


def source_root() -> Path:
    """Return the root of the checkout (the folder that holds pyproject.toml and cext/)."""
    return source_dir().parent
