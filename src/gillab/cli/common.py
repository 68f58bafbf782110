"""What several commands share, each defined once: --out (and its folder), --json, --switch-interval, and
the progress bar.

(Functions that add them, rather than argparse parent parsers, so that each command's --help lists them
where they belong, after its own options.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gillab.cli import types
from gillab.harness.options import DEFAULT_OUT, check_out_dir


def add_out(
    p: argparse.ArgumentParser, default: str | None = DEFAULT_OUT, help_text: str | None = None
) -> None:
    """--out DIR: the output folder (default DIR, or none)."""
    p.add_argument("--out", default=default, help=help_text or f"output folder (default {default})")


def add_json(
    p: argparse.ArgumentParser, help_text: str = "also write the lab's JSON to this path"
) -> None:
    """--json PATH: a copy of the command's JSON."""
    p.add_argument("--json", help=help_text)


def add_switch_interval(
    p: argparse.ArgumentParser, help_text: str = "sys.setswitchinterval() in seconds"
) -> None:
    """--switch-interval S: the interpreter's switch interval while measuring."""
    p.add_argument("--switch-interval", type=types.positive_float, help=help_text)


def add_detail(
    p: argparse.ArgumentParser,
    help_text: str = "print every cell with every figure (15 columns), what each means, and every reason, "
    "under the lesson",
) -> None:
    """--detail: under the lesson, every figure (a run: every cell with every column, and what each means) and
    every reason."""
    p.add_argument(
        "--detail",
        action="store_true",
        help=help_text,
    )


def out_dir(path: str | Path) -> Path:
    """Create the output folder and prove it writable; OptionError (one line, exit 2) otherwise."""
    return check_out_dir(path)


class Progress:
    """A rich progress bar on stderr where it is a terminal; nothing elsewhere (a log or a pipe keeps only the
    output)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None
        if sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self.bar.start()

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(label, total=total)
        self.bar.update(self.task, completed=done, description=label)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
