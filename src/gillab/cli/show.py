"""`gillab show`: print what is stored in an output folder again, lesson first: a run, a comparison, and
every lab, check and advice found there."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gillab import kinds
from gillab.cli.common import add_detail
from gillab.errors import ResultsError, UsageError
from gillab.harness import options, results


def cmd_show(args: argparse.Namespace) -> int:
    """Print every result stored in a folder (or the one in a JSON file) as its command printed it (with
    --detail, every figure; with --cores-png, draw a run's cores-busy panel alone, as the README shows it)."""
    path = Path(args.results)
    if not path.exists():
        raise ResultsError(f"{path}: no such folder or file")
    for line in kinds.show(path, args.detail):
        print(line)
    if args.cores_png:
        from gillab.outputs.plots import cores_busy_png

        result = results.load(path / "results.json" if path.is_dir() else path)
        if not cores_busy_png(result, Path(args.cores_png)):
            raise UsageError(f"{path}: no cell with more than the serial baseline to draw")
        print(f"Wrote {args.cores_png}")
    return 0


def add_parsers(sub: Any) -> None:
    """Register `gillab show`."""
    p = sub.add_parser(
        "show",
        help="print the results stored in a folder again, lesson first (--detail: every figure)",
    )
    p.add_argument(
        "results",
        nargs="?",
        default=options.DEFAULT_OUT,
        help=f"a results folder, or one result's JSON in it (default {options.DEFAULT_OUT})",
    )
    add_detail(p)
    p.add_argument(
        "--cores-png",
        metavar="PATH",
        help="also draw a run's cores-busy panel alone into PATH (a PNG)",
    )
    p.set_defaults(func=cmd_show)
