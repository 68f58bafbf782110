"""`gillab run`: the matrix through the one harness, with a progress bar, a table and the pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gillab.harness import options
from gillab.harness.runner import run_matrix


class _Progress:
    """A rich progress bar on a terminal, plain lines on stderr elsewhere."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
            )
            self.bar.start()

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.bar is None:
            if done < total:
                print(f"[{done + 1}/{total}] {label}", file=sys.stderr, flush=True)
            return
        if self.task is None:
            self.task = self.bar.add_task(label, total=total)
        self.bar.update(self.task, completed=done, description=label)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def write_outputs(out: Path, data: dict[str, Any] | None = None) -> list[str]:
    """Draw the pictures, the trace and the report from results.json (or its loaded data); return the files."""
    from gillab.harness import results
    from gillab.outputs import plots, report, trace

    if data is None:
        data = results.load(out / "results.json")
    written = ["results.json"]
    if plots.speedup_png(data, out / "speedup.png"):
        written.append("speedup.png")
    if plots.timeline_png(data, out / "timeline.png"):
        written.append("timeline.png")
    trace.write_trace(data, out / "trace.json")
    report.write_report(out)
    return [*written, "trace.json", "report.html"]


def cmd_run(args: argparse.Namespace) -> int:
    """Run the matrix and write results.json, speedup.png, timeline.png, trace.json and report.html."""
    from gillab.cli import UsageError
    from gillab.harness import results
    from gillab.outputs import table

    try:
        config = options.config_from_args(args)
        out = options.check_out_dir(args.out)
    except options.OptionError as exc:
        raise UsageError(str(exc)) from None
    progress = _Progress()
    try:
        run_matrix(config, out, progress)
    except KeyboardInterrupt:
        progress.close()
        data = results.load(out / "results.json")
        write_outputs(out, data)
        n = len(data["cells"])
        print(f"gillab run: interrupted; {n} finished cells kept in {out / 'results.json'}", file=sys.stderr)
        return 130
    progress.close()
    data = results.load(out / "results.json")
    files = write_outputs(out, data)
    table.render(data["cells"], table.footnotes(data))
    print(f"wrote {', '.join(files)} in {out}")
    failed = [c for c in data["cells"] if c["status"] == "failed"]
    return 1 if failed else 0


def add_run_parser(sub: Any) -> None:
    """Register `gillab run`."""
    p = sub.add_parser("run", help="run the matrix: workload × impl × executor × workers")
    options.add_run_options(p)
    p.set_defaults(func=cmd_run)
