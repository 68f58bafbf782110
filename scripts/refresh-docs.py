#!/usr/bin/env python3
"""Rerun the outputs the README and docs/ quote, and rewrite their blocks with the date and the machine.

A quoted output lives between two markers, the command in the first:

    <!-- refresh: gillab check gillab.workloads.patterns:shared_dict --args 1000 --where -->
    `gillab check ...` on 2026-12-04, on 2 cores (x86_64, CPython 3.11.7), in 7.4 s:

    ```
    ...what it printed...
    ```
    <!-- /refresh -->

This script runs each command with this Python's gillab (``python -m gillab ...``; `~` and $VARS in it are
expanded, and a block whose --python does not exist here is left as it is, and named), and writes what it printed
back between the markers, under one line that says when, where, and how long it took. Run it before each release
of the docs, in the venv the README sets up:

    python scripts/refresh-docs.py                 # every block
    python scripts/refresh-docs.py --only where    # the blocks whose command matches
    python scripts/refresh-docs.py --list          # name the blocks; run nothing
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- refresh: (?P<cmd>.+?) -->\n(?P<body>.*?)<!-- /refresh -->", re.S)


def files(root: Path = ROOT) -> list[Path]:
    """The README and every page of docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def blocks(text: str) -> list[str]:
    """The commands of a page's blocks, in order."""
    return [m.group("cmd") for m in BLOCK.finditer(text)]


def argv(cmd: str) -> list[str]:
    """A block's command as this Python runs it: `gillab ARGS` -> python -m gillab ARGS, paths expanded."""
    words = [os.path.expandvars(os.path.expanduser(w)) for w in shlex.split(cmd)]
    if not words or words[0] != "gillab":
        raise SystemExit(f"refresh-docs: a block's command must start with gillab, got {cmd!r}")
    return [sys.executable, "-m", "gillab", *words[1:]]


def missing(words: list[str]) -> str:
    """The --python a command names that does not exist here, or ""."""
    for flag, value in itertools.pairwise(words):
        if flag == "--python" and not Path(value).exists():
            return value
    return ""


def machine() -> str:
    """This machine in a few words."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores ({platform.machine()}, CPython {platform.python_version()})"


def run(cmd: str) -> tuple[str, float]:
    """Run a block's command; what it printed, and its wall in seconds."""
    words = argv(cmd)
    t0 = time.perf_counter()
    proc = subprocess.run(words, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 3):  # 3: gillab check's "not safe in threads", a verdict
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"refresh-docs: {cmd} failed (exit {proc.returncode}): {last}")
    return proc.stdout.rstrip("\n"), wall


def body(cmd: str, output: str, wall: float, today: str) -> str:
    """A block's new text: when, where and how long, then the output, fenced."""
    return f"`{cmd}` on {today}, on {machine()}, in {wall:.0f} s:\n\n```\n{output}\n```\n"


def refresh(
    text: str,
    only: str = "",
    runner: Callable[[str], tuple[str, float]] = run,
    say: Callable[[str], None] = print,
) -> str:
    """The page with every matching block's output rerun and rewritten."""
    today = date.today().isoformat()

    def one(m: re.Match[str]) -> str:
        cmd = m.group("cmd")
        if only and only not in cmd:
            return m.group(0)
        absent = missing(argv(cmd))
        if absent:
            say(f"left as it was (no {absent} here): {cmd}")
            return m.group(0)
        say(f"running: {cmd}")
        output, wall = runner(cmd)
        return f"<!-- refresh: {cmd} -->\n{body(cmd, output, wall, today)}<!-- /refresh -->"

    return BLOCK.sub(one, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default="", help="only the blocks whose command contains this text"
    )
    parser.add_argument("--list", action="store_true", help="name every block; run nothing")
    args = parser.parse_args()
    for page in files():
        text = page.read_text(encoding="utf-8")
        if args.list:
            for cmd in blocks(text):
                print(f"{page.relative_to(ROOT)}: {cmd}")
            continue
        new = refresh(text, args.only)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"rewrote {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
