"""`gillab run`: the matrix through the one harness, with a progress bar, a table and the pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gillab.checker.where.cells import profile_cells
from gillab.checker.where.cells import view as where_view
from gillab.cli import types
from gillab.cli.common import Progress, add_detail, out_dir
from gillab.cli.run_options import add_run_options, config_from
from gillab.errors import UsageError
from gillab.harness import executors, options
from gillab.harness.results import RunConfig, RunResult
from gillab.harness.runner import Interrupted, run_matrix
from gillab.kinds import RUN_FILES, write_run
from gillab.outputs import terminal
from gillab.outputs.documents import write_document
from gillab.present import terminal as present


def _claim(out: Path, force: bool, dry: bool = False) -> None:
    """Refuse to overwrite another run's results unless --force; with it (and not dry), remove that run's files."""
    if not (out / "results.json").exists():
        return
    if not force:
        raise UsageError(
            f"{out} already holds the results of an earlier run (results.json); "
            "choose another --out, or add --force to replace them"
        )
    if dry:
        return
    for name in RUN_FILES:  # --force removes an earlier run's files before starting
        (out / name).unlink(missing_ok=True)


def check_scheduler(config: RunConfig) -> None:
    """Refuse, before any work, a --scheduler the engine's cells cannot use (one line, exit 2)."""
    if config.scheduler is None:
        return
    chosen = [kind for kind in config.kinds.values() if kind.engine]
    if not chosen:
        on_engine = ", ".join(executors.having("engine"))
        raise UsageError(f"--scheduler is for the dask executors ({on_engine})")
    first = {
        kind.engine: kind for kind in reversed(chosen)
    }  # one executor per engine checks its cluster
    for kind in first.values():
        kind.check_scheduler(config.scheduler)  # EngineError: one line, exit 2


def _where(result: RunResult, out: Path, detail: bool) -> tuple[list[str], list[str]]:
    """Where Python workers that share no GIL were held back (contention, the collector): each such impl's line
    profile, written to where.json; (the lines it prints before the run's files line, the files it wrote)."""
    tty = sys.stderr.isatty()
    profiles = profile_cells(result, say=lambda m: print(m, file=sys.stderr) if tty else None)
    if profiles is None:
        return [], []
    write_document("where", profiles.to_json(), out)
    return present.lines(where_view(profiles), "", detail), ["where.json"]


def cmd_run(args: argparse.Namespace) -> int:
    """Run the matrix and write results.json, speedup.png, timeline.png, trace.json and report.html."""
    config = config_from(args)
    check_scheduler(config)
    out = out_dir(args.out)
    _claim(out, args.force, dry=True)
    config = options.within_budget(config, args.max_time)
    _claim(out, args.force)
    (out / "where.json").unlink(missing_ok=True)  # an earlier run's line profile is not this one's
    progress = Progress()
    try:
        result = run_matrix(config, out, progress)
    except Interrupted as stop:
        progress.close()
        write_run(stop.result, out)
        n = len(stop.result.cells)
        print(
            f"gillab run: interrupted; {n} finished cells kept in {out / 'results.json'}",
            file=sys.stderr,
        )
        return 130
    progress.close()
    more, wrote = _where(result, out, args.detail)  # before the report, which shows it too
    files = write_run(result, out)
    terminal.render(result, [*files, *wrote], out, detail=args.detail, more=more)
    if not any(c.ok for c in result.cells):
        reasons = (
            "; ".join(dict.fromkeys(c.reason for c in result.cells if c.reason))
            or "no cell was planned"
        )
        print(f"gillab run: no cell was measured: {reasons}", file=sys.stderr)
        return 1
    return 1 if any(c.status == "failed" for c in result.cells) else 0


def add_parsers(sub: Any) -> None:
    """Register `gillab run`."""
    p = sub.add_parser("run", help="run the matrix: workload × impl × executor × workers")
    add_run_options(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the results of an earlier run in --out (refused without it)",
    )
    add_detail(p)
    p.add_argument(
        "--max-time",
        type=types.positive_float,
        default=options.MAX_TIME_S,
        help="refuse, before any work, a run estimated to take longer than this many seconds "
        f"(default {options.MAX_TIME_S:g})",
    )
    p.set_defaults(func=cmd_run)
