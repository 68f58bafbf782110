#!/usr/bin/env python3
"""Rerun the outputs the README and docs/ quote, and rewrite their blocks with the date and the machine.

A quoted output lives between two markers, the command in the first:

    <!-- refresh: gillab check gillab.workloads.patterns:shared_dict --args 1000 --where -->
    `gillab check ...` on 2026-12-04, on 2 cores (x86_64, CPython 3.11.7), in 7.4 s:

    ```
    ...what it printed...
    ```
    <!-- /refresh -->

A sentence quoted in prose (the course's steps) sits between quote markers on lines of their own, the command
in the first, and after a `|` how many of its lesson's sentences to quote (all by default), and from which
(the first that contains the text after `from`):

    <!-- quote: gillab dis counter | 2 from In add_rcw -->
    "In add_rcw a switch point lies ... with the GIL, no update is lost."
    <!-- /quote -->

The lesson is what the command printed before its first blank line; the quote is rewrapped at the marker's
indent, with the command's time where it took 10 s or more. A page with quotes says once, between
`<!-- quoted -->` and `<!-- /quoted -->`, when and where they were printed.

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
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"<!-- refresh: (?P<cmd>.+?) -->\n(?P<body>.*?)<!-- /refresh -->", re.S)
QUOTE = re.compile(
    r"^(?P<indent>[ \t]*)<!-- quote: (?P<spec>.+?) -->\n(?P<body>.*?)^[ \t]*<!-- /quote -->",
    re.S | re.M,
)
STAMP = re.compile(r"<!-- quoted -->\n(?P<body>.*?)<!-- /quoted -->", re.S)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")
WIDTH = 115
"""The pages' prose is wrapped at this many columns."""
TIMED_S = 10.0
"""A quote says how long its command took where it took this long or more."""


def files(root: Path = ROOT) -> list[Path]:
    """The README and every page of docs/."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def blocks(text: str) -> list[str]:
    """The commands of a page's blocks, in order."""
    return [m.group("cmd") for m in BLOCK.finditer(text)]


def quote_spec(spec: str) -> tuple[str, int | None, str]:
    """A quote marker's command, how many sentences (None: all), and the text the first one contains ("")."""
    cmd, _, rest = spec.partition(" | ")
    count, _, start = rest.partition(" from ")
    return cmd.strip(), int(count) if count.strip() else None, start.strip()


def quotes(text: str) -> list[str]:
    """The commands of a page's quotes, in order."""
    return [quote_spec(m.group("spec"))[0] for m in QUOTE.finditer(text)]


def sentences(output: str) -> list[str]:
    r"""A command's lesson, sentence by sentence: what it printed before its first blank line, a line that is
    not indented (a wrapped line's rest is) starting a sentence, which ends with a full stop where it has none.

    >>> sentences("3 threads: 0.92x over one\n3 processes: 1.62x, on\n  2 cores. Bound 2.0.\n\nimpl ...")
    ['3 threads: 0.92x over one.', '3 processes: 1.62x, on 2 cores.', 'Bound 2.0.']
    """
    units: list[str] = []
    for line in output.strip().split("\n\n")[0].splitlines():
        if line[:1].isspace() and units:
            units[-1] += " " + line.strip()
        else:
            units.append(line.strip())
    said = []
    for unit in units:
        text = " ".join(unit.split())
        said += [x for x in SENTENCE.split(text if text[-1:] in ".!?" else text + ".") if x]
    return said


def quoted(spec: str, output: str, wall: float, indent: str) -> str:
    """A quote's new text: its sentences, quoted and wrapped at the marker's indent."""
    _, count, start = quote_spec(spec)
    said = sentences(output)
    first = next((i for i, x in enumerate(said) if start in x), None) if start else 0
    if first is None:
        raise SystemExit(f"refresh-docs: no sentence of `{spec}` contains {start!r} any more")
    chosen = said[first : None if count is None else first + count]
    took = f" ({wall:.0f} s)" if wall >= TIMED_S else ""
    text = f'"{" ".join(chosen)}"{took}'
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent) + "\n"


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


CORES_PNG = ROOT / "docs" / "cores-busy.png"
"""The README's picture of how many cores the workers kept busy, drawn from the `gillab run` block's run."""


def machine() -> str:
    """This machine in a few words."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores ({platform.machine()}, CPython {platform.python_version()})"


def run(cmd: str) -> tuple[str, float]:
    """Run a block's command; what it printed, and its wall in seconds."""
    words = argv(cmd)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:  # what a command writes stays out of the checkout
        proc = subprocess.run(words, capture_output=True, text=True, check=False, cwd=folder)
        wall = time.perf_counter() - t0
        if (
            cmd == "gillab run" and proc.returncode == 0
        ):  # the README's picture is drawn from this run
            show = [*words[:-1], "show", "gillab-results", "--cores-png", str(CORES_PNG)]
            subprocess.run(show, capture_output=True, check=True, cwd=folder)
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

    text = BLOCK.sub(one, text)
    ran: dict[str, tuple[str, float]] = {}

    def quote(m: re.Match[str]) -> str:
        spec, indent = m.group("spec"), m.group("indent")
        cmd = quote_spec(spec)[0]
        if only and only not in cmd:
            return m.group(0)
        if cmd not in ran:
            say(f"running: {cmd}")
            ran[cmd] = runner(cmd)
        body = quoted(spec, *ran[cmd], indent)
        return f"{indent}<!-- quote: {spec} -->\n{body}{indent}<!-- /quote -->"

    text = QUOTE.sub(quote, text)
    if ran:
        stamp = textwrap.fill(
            f"The sentences quoted here were printed on {today}, on {machine()}, and rewritten by "
            "`scripts/refresh-docs.py`.",
            WIDTH,
        )
        stamp += "\n"
        text = STAMP.sub(lambda _: f"<!-- quoted -->\n{stamp}<!-- /quoted -->", text)
    return text


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
            for cmd in [*blocks(text), *quotes(text)]:
                print(f"{page.relative_to(ROOT)}: {cmd}")
            continue
        new = refresh(text, args.only)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"rewrote {page.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
