"""`gillab compare`: the same matrix under several Pythons (free-threaded ones too)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gillab.cli.report import out_dir, refresh_report
from gillab.cli.run import add_run_options, config_from
from gillab.compare.report import compare_png
from gillab.compare.run import compare
from gillab.errors import UsageError
from gillab.harness import executors


def _flag(value: Any) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


RUN_FLAGS = {
    "workload": "--workload",
    "impl": "--impl",
    "executor": "--executor",
    "workers": "--workers",
    "tasks": "--tasks",
    "repeat": "--repeat",
    "min_repeat": "--min-repeat",
    "max_wait": "--max-wait",
    "switch_interval": "--switch-interval",
    "gil_rate": "--gil-rate",
}
"""The run options compare passes on to `gillab run` under each interpreter (--size is passed apart)."""


def cmd_compare(args: argparse.Namespace) -> int:
    """Run the matrix under each --python and gather: results.json, compare.png, report.html."""
    if not args.python:
        raise UsageError("name at least one interpreter with --python PATH")
    config_from(args)  # the same checks as gillab run, before any interpreter is prepared
    out = out_dir(args.out)
    run_args: list[str] = []
    for attr, flag in RUN_FLAGS.items():
        value = getattr(args, attr)
        if value is not None:
            run_args += [flag, _flag(value)]
    merged = compare(args.python, run_args, args.size, out, progress=lambda m: print(m, file=sys.stderr))
    compare_png(merged, out / "compare.png")
    refresh_report(out, comparison=merged)
    for r in merged.runs:
        if r.switches():
            print(f"{r.label}: {r.switches()}")
    for s in merged.slowdowns:
        print(f"{s.impl} serial: {s.free_threaded} took {s.slowdown:.2f}× as long as {s.gil_build}")
    top = max((c.workers for c in merged.cells), default=0)
    for c in merged.cells:
        if c.workers == top and not executors.lookup(c.executor).baseline and c.ok:
            ci = f" [95% {c.speedup_ci95[0]:.2f}-{c.speedup_ci95[1]:.2f}]" if c.speedup_ci95 else ""
            flag = f"  NOISY: {c.noise_reason}" if c.noisy else ""
            print(
                f"{c.interpreter:<22} {c.impl:<13} {c.executor:<8} w{top}: speedup {c.speedup:.2f}{ci}, "
                f"efficiency {c.efficiency:.2f}{flag}"
            )
    for e in merged.errors:
        print(f"gillab compare: {e}", file=sys.stderr)
    print(f"wrote results.json, compare.png and report.html in {out}")
    return 1 if merged.errors else 0


def add_parsers(sub: Any) -> None:
    """Register `gillab compare`."""
    p = sub.add_parser("compare", help="the same matrix under several Pythons (free-threaded ones too)")
    p.add_argument("--python", action="append", default=[], help="an interpreter to run under (repeatable)")
    add_run_options(p, out_default="gillab-compare")
    p.set_defaults(func=cmd_compare)
