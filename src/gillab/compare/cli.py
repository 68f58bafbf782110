"""`gillab compare`: the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gillab.harness import options

RUN_FLAGS = {
    "workload": "--workload",
    "impl": "--impl",
    "executor": "--executor",
    "workers": "--workers",
    "tasks": "--tasks",
    "repeat": "--repeat",
    "switch_interval": "--switch-interval",
}


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the matrix under each --python and merge: results.json, compare.png, report.html."""
    from gillab.cli import UsageError
    from gillab.compare.run import compare, compare_png, compare_report

    if not args.python:
        raise UsageError("name at least one interpreter with --python PATH")
    try:
        options.config_from_args(args)
        out = options.check_out_dir(args.out)
    except options.OptionError as exc:
        raise UsageError(str(exc)) from None
    run_args: list[str] = []
    for attr, flag in RUN_FLAGS.items():
        value = getattr(args, attr)
        if value is not None:
            run_args += [flag, str(value)]
    merged = compare(args.python, run_args, args.size, out, progress=lambda m: print(m, file=sys.stderr))
    compare_png(merged, out / "compare.png")
    compare_report(merged, out)
    for s in merged["slowdowns"]:
        print(f"{s['impl']} serial: {s['free_threaded']} took {s['slowdown']:.2f}× as long as {s['gil_build']}")
    top = max((c["workers"] for c in merged["cells"]), default=0)
    for c in merged["cells"]:
        if c["workers"] == top and c["executor"] != "serial" and c["status"] == "ok":
            print(
                f"{c['interpreter']:<22} {c['impl']:<13} {c['executor']:<8} w{top}: speedup {c['speedup']:.2f}, "
                f"efficiency {c['efficiency']:.2f}"
            )
    for e in merged["errors"]:
        print(f"gillab compare: {e}", file=sys.stderr)
    print(f"wrote results.json, compare.png and report.html in {out}")
    return 1 if merged["errors"] else 0


def add_compare_parser(sub: Any) -> None:
    """Register `gillab compare`."""
    p = sub.add_parser("compare", help="the same matrix under several Pythons (free-threaded ones too)")
    p.add_argument("--python", action="append", default=[], help="an interpreter to run under (repeatable)")
    options.add_run_options(p)
    p.set_defaults(func=cmd_compare, out=str(Path("gillab-compare")))
