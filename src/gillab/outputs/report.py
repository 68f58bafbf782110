"""report.html: one self-contained page, images embedded, each figure explained in a sentence.

The page is a list of :class:`Section` values. This module builds the sections of a run from its
:class:`~gillab.harness.results.RunResult`; labs, check and compare build their own and hand them in.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab.files import write_atomic
from gillab.harness.measure import SPEED_DRIFT
from gillab.harness.results import Cell, RunResult

CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}.note{color:#555}.flag{color:#b00}
img{max-width:100%;border:1px solid #ddd}code{background:#f4f4f4;padding:0 3px}
.distrust{border:2px solid #b00;padding:0 1em;margin:1em 0}pre{overflow-x:auto}"""


@dataclass(frozen=True)
class Section:
    """One part of the page: an optional heading and its HTML body (already escaped)."""

    title: str
    html: str


def img_tag(path: Path) -> str:
    """Return an <img> with the PNG embedded, or "" when there is none."""
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _fmt(x: Any, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def cell_rows(cells: Sequence[Cell], label: Any = None) -> str:
    """Return every cell as an HTML table; label(cell) replaces the impl column when given."""
    head = (
        "impl",
        "executor",
        "workers",
        "size",
        "median wall ms",
        "IQR ms",
        "CV",
        "rounds",
        "speedup [95% interval]",
        "efficiency",
        "others' cores",
        "dropped",
        "cpu util",
        "GIL wait median ms",
        "GIL wait p95 ms",
        "GIL wait fraction",
        "threads running",
        "start-up ms",
        "flag",
        "status",
    )
    out = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for c in cells:
        gw = c.gil_wait
        cv = _fmt(c.cv, ".1%")
        speedup = _fmt(c.speedup, ".2f")
        if c.speedup is not None and c.speedup_ci95 is not None:
            speedup += f" [{c.speedup_ci95[0]:.2f}, {c.speedup_ci95[1]:.2f}]"
        others = c.interference.others_cores if c.interference else None
        flag = f'<span class="flag">noisy: {html.escape(c.noise_reason)}</span>' if c.noisy else ""
        vals = (
            html.escape(label(c) if label else c.impl),
            c.executor,
            c.workers,
            c.size,
            _fmt(c.median_wall_s and c.median_wall_s * 1e3, ".1f"),
            _fmt(c.iqr_s and c.iqr_s * 1e3, ".1f"),
            cv,
            c.rounds,
            speedup,
            _fmt(c.efficiency, ".2f"),
            _fmt(others, ".2f"),
            c.repeats_dropped,
            _fmt(c.cpu_utilization, ".2f"),
            _fmt(gw and gw.median_ms, ".3f"),
            _fmt(gw and gw.p95_ms, ".3f"),
            _fmt(gw and gw.fraction, ".2f"),
            _fmt(c.threads_running_mean, ".2f"),
            _fmt(c.startup_s and c.startup_s * 1e3, ".0f"),
            flag,
            html.escape(c.status + (f": {c.reason}" if c.reason else "")),
        )
        out.append("<tr>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>")
    return "<table>" + "".join(out) + "</table>"


def distrust(result: RunResult) -> str:
    """Return the "figures to distrust" box: each noisy cell and its reason, the machine's drift, or "none"."""
    items = [f"{c.impl} / {c.executor} at {c.workers} workers: {c.noise_reason}" for c in result.cells if c.noisy]
    probe = result.speed_probe
    if probe is not None and probe.drift is not None and probe.drift > SPEED_DRIFT:
        items.append(
            f"the machine's own speed drifted by {probe.drift:.0%} during the run (a fixed native spin timed "
            "before every round): every figure may be off by as much"
        )
    if result.interference_note:
        items.append(result.interference_note)
    body = "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>" if items else "<p>none</p>"
    return f"<div class='distrust'><h2>Figures to distrust</h2>{body}</div>"


def findings(result: RunResult) -> list[str]:
    """Return sentences built from the measured figures: what this machine showed."""
    cells = [c for c in result.cells if c.ok and c.executor != "serial" and c.speedup]
    lines = []
    for ex in dict.fromkeys(c.executor for c in cells):
        top = max(c.workers for c in cells if c.executor == ex)
        for c in (c for c in cells if c.executor == ex and c.workers == top):
            wait = c.gil_wait.median_ms if c.gil_wait else 0.0
            lines.append(
                f"{c.impl} with {top} {ex} workers ran {c.speedup:.2f}× as fast as serial "
                f"(efficiency {_fmt(c.efficiency, '.2f')}), kept {_fmt(c.cpu_utilization, '.2f')} cores busy, "
                f"and a thread waiting for the GIL waited {wait:.3f} ms at the median."
            )
    return lines


EXPLAIN = {
    "speedup": "Each point is a speedup: the median over rounds of the serial wall ÷ this cell's wall in the same "
    "round; its bar is the 95% bootstrap interval over those per-round ratios: were the run repeated, the "
    "median would most likely fall inside it. A hollow marker is a figure to distrust (see the box above). "
    "Each line is one impl run by one executor. A line that follows the grey ideal uses every core; a flat "
    "line at 1 means the workers took turns. Python threads stay flat because only the thread holding the GIL runs "
    "bytecode; processes each have their own GIL; native code that releases the GIL runs on every core at once.",
    "timeline": "Each bar is one task, drawn on the lane of the worker that ran it, from the moment the workers were "
    "released together. When the GIL serialises threads, their bars overlap in time but each takes as long as all "
    "of them together; when the GIL is released, bars run side by side and end early.",
    "gil": "GIL wait comes from a probe thread that sleeps 1 ms, wakes, and times how long it then waits to hold the "
    "GIL again (the OS's part of the delay is measured apart). For process pools it is the parent's GIL, which "
    "the workers do not share.",
    "states": "Thread states come from sampling /proc from a native thread that never takes the GIL. R means running "
    "or ready to run; a Python thread waiting for the GIL sleeps (S).",
}


def environment_html(env: dict[str, Any]) -> str:
    """Return one paragraph naming the interpreter and the machine."""
    return (
        f"<p>{html.escape(env['python_implementation'])} {html.escape(env['python_version'])}, "
        f"free-threaded build: {env['free_threaded_build']}, GIL on: {env['gil_enabled']}, "
        f"switch interval {env['switch_interval_s'] * 1e3:g} ms, {env['usable_cores']} usable cores "
        f"of {env['cpu_count']}, Cython {html.escape(str(env['cython_version']))}.</p>"
    )


def run_sections(result: RunResult, out: Path) -> list[Section]:
    """Return the sections of a run: context, findings, every cell, and the pictures found in out."""
    cfg = result.config
    parts = [
        environment_html(result.environment),
        f"<p class='note'>Workload <code>{html.escape(cfg.workload)}</code>, {cfg.n_tasks} tasks per cell, "
        f"{cfg.repeat} repeats; sizes {html.escape(str(cfg.sizes))}; load average before "
        f"{result.load_before}, after {result.load_after}.</p>",
    ]
    if result.interrupted:
        parts.append("<p class='flag'>This run was interrupted: only finished cells are shown.</p>")
    if result.load_competing:
        parts.append(
            "<p class='flag'>Other work was competing for the CPU when the run started (load average "
            f"{result.load_before}): figures may be depressed.</p>"
        )
    sections = [Section("", distrust(result) + "".join(parts))]
    found = findings(result)
    if found:
        sections.append(
            Section("What this machine showed", "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in found) + "</ul>")
        )
    sections.append(
        Section("Every cell", cell_rows(result.cells) + f"<p class='note'>{EXPLAIN['gil']} {EXPLAIN['states']}</p>")
    )
    for name, key in (("speedup.png", "speedup"), ("timeline.png", "timeline")):
        img = img_tag(out / name)
        if img:
            sections.append(Section(key.title(), f"<p>{EXPLAIN[key]}</p>{img}"))
    sections.append(
        Section("", "<p class='note'>trace.json holds the same timeline for Perfetto or chrome://tracing.</p>")
    )
    return sections


def write_page(out: Path, sections: Sequence[Section], title: str = "gillab report") -> None:
    """Write out/report.html from the sections, in order."""
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for s in sections:
        parts.append((f"<h2>{html.escape(s.title)}</h2>" if s.title else "") + s.html)
    write_atomic(out / "report.html", "\n".join(parts) + "\n")
