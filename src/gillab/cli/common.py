"""Options several commands share, each defined once: --out, --json and --switch-interval.

(Functions that add them, rather than argparse parent parsers, so that each command's --help lists them
where they belong, after its own options.)
"""

from __future__ import annotations

import argparse

from gillab.cli import types
from gillab.harness.options import DEFAULT_OUT


def add_out(p: argparse.ArgumentParser, default: str | None = DEFAULT_OUT, help_text: str | None = None) -> None:
    """--out DIR: the output folder (default DIR, or none)."""
    p.add_argument("--out", default=default, help=help_text or f"output folder (default {default})")


def add_json(p: argparse.ArgumentParser, help_text: str = "also write the lab's JSON to this path") -> None:
    """--json PATH: a copy of the command's JSON."""
    p.add_argument("--json", help=help_text)


def add_switch_interval(p: argparse.ArgumentParser, help_text: str = "sys.setswitchinterval() in seconds") -> None:
    """--switch-interval S: the interpreter's switch interval while measuring."""
    p.add_argument("--switch-interval", type=types.positive_float, help=help_text)
