"""`gillab diff A/results.json B/results.json`: what changed between two runs, with its doubt."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gillab.cli.common import add_detail
from gillab.errors import UsageError
from gillab.harness import results
from gillab.outputs.diff import pair, view
from gillab.present import terminal


def _load(path: str) -> results.RunResult:
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    return results.load(p)  # ResultsError: one line, exit 2


def cmd_diff(args: argparse.Namespace) -> int:
    """Pair the cells of two runs and say, for each speedup, whether it changed beyond its interval."""
    a, b = _load(args.a), _load(args.b)
    if not pair(a, b)[0]:
        raise UsageError(
            f"{args.a} and {args.b} have no cell in common (workload, impl, executor, workers)"
        )
    terminal.show(view(a, b), detail=args.detail, why="--detail")
    return 0


def add_parsers(sub: Any) -> None:
    """Register `gillab diff`."""
    p = sub.add_parser("diff", help="two runs' speedups side by side, with their intervals")
    p.add_argument("a", help="the first run: its results.json, or the folder that holds it")
    p.add_argument("b", help="the second run")
    add_detail(p, "print every reason a pair is not comparable or noisy, under the table")
    p.set_defaults(func=cmd_diff)
