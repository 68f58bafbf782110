"""report.html: one self-contained page, images embedded, each figure explained in a sentence.

The page is a list of :class:`Section` values. This module builds the sections of a run from its
:class:`~gillab.harness.results.RunResult`; labs, check and compare build their own and hand them in.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab.files import write_atomic
from gillab.harness.gilstate import BUDGET
from gillab.harness.measure import SPEED_DRIFT
from gillab.harness.results import Cell, RunResult
from gillab.stats import median

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


def cell_rows(cells: Sequence[Cell], label: Callable[[Cell], str] | None = None) -> str:
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
        "GIL held",
        "GIL switches/s",
        "threads running",
        "start-up ms",
        "flag",
        "status",
    )
    out = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for c in cells:
        gw = c.gil_wait if gil_wait_shown(c) is not None else None
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
            _fmt(gw.median_ms if gw else None, ".3f"),
            _fmt(gw.p95_ms if gw else None, ".3f"),
            _fmt(gw.fraction if gw else None, ".2f"),
            _fmt(c.gil.held_fraction if c.gil else None, ".0%"),
            _fmt(c.gil.switches_per_s if c.gil else None, ".0f"),
            _fmt(c.threads_running_mean, ".2f"),
            _fmt(c.startup_s and c.startup_s * 1e3, ".0f"),
            flag,
            html.escape(c.status + (f": {c.reason}" if c.reason else "")),
        )
        out.append("<tr>" + "".join(f"<td>{v}</td>" for v in vals) + "</tr>")
    return "<table>" + "".join(out) + "</table>"


def run_warnings(result: RunResult) -> list[str]:
    """Return what the whole run says of its own figures: the machine's speed drift, unmeasured interference."""
    out = []
    probe = result.speed_probe
    if probe is not None and probe.drift is not None and probe.drift > SPEED_DRIFT:
        out.append(
            f"The machine's own speed drifted by {probe.drift:.0%} during the run (a fixed native spin, timed "
            "before every round): every figure here may be off by as much."
        )
    if result.interference_note:
        out.append(result.interference_note)
    return out


def gil_sampler_note(cells: Sequence[Cell]) -> str:
    """Return one sentence on the GIL-state sampler over the cells it watched: rate asked, rate reached, cost."""
    seen = [c.gil for c in cells if c.gil is not None and c.gil.available and c.gil.interval_s]
    if not seen:
        return ""
    rates = sorted(1 / g.interval_s for g in seen if g.interval_s)
    costs = sorted(g.overhead for g in seen if g.overhead is not None)
    asked = next((g.requested_interval_s for g in seen if g.requested_interval_s), None)
    reached = f"{rates[0] / 1e3:.1f}" + (f"-{rates[-1] / 1e3:.1f}" if rates[-1] - rates[0] >= 50 else "")
    text = "The GIL-state sampler " + (f"was asked for {1 / asked / 1e3:g} kHz and " if asked else "")
    text += f"sampled at {reached} kHz"
    if costs:
        text += f", costing {median(costs):.1%} of one core (median over {len(costs)} cells)"
    slowed = [g for g in seen if g.rate_note]
    if slowed:
        per = [g.sample_cost_s for g in slowed if g.sample_cost_s]
        text += ": fewer than asked" + (f", as each sample costs {median(per) * 1e6:.1f} µs of CPU here" if per else "")
        text += f" and the sampler keeps within {BUDGET:.0%} of a core"
    return text + "."


def distrust(result: RunResult) -> str:
    """Return the "figures to distrust" box: each noisy cell and its reason, the run's warnings, or "none"."""
    items = [f"{c.impl} / {c.executor} at {c.workers} workers: {c.noise_reason}" for c in result.cells if c.noisy]
    items += run_warnings(result)
    body = "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>" if items else "<p>none</p>"
    return f"<div class='distrust'><h2>Figures to distrust</h2>{body}</div>"


OWN_GIL_EXECUTORS = frozenset({"process", "interpreter"})
"""Executors whose workers do not share the parent's GIL: the parent's probe says nothing of them."""
ONE_GIL_PER_WORKER = OWN_GIL_EXECUTORS | {"dask-processes"}
"""Executors whose every worker has a GIL of its own (dask's workers carry a probe of their own)."""
SCALES = 0.8
"""Efficiency at or above which a cell is said to use the cores it had."""
TAKES_TURNS = 1.2
"""Speedup at or below which workers are said to have taken turns."""


def gil_wait_shown(c: Cell) -> float | None:
    """The GIL wait worth showing for a cell: None for executors whose workers have a GIL of their own."""
    if c.executor in OWN_GIL_EXECUTORS or c.gil_wait is None:
        return None
    return c.gil_wait.median_ms


def interpret(c: Cell, gil_on: bool) -> str:
    """Return what one parallel cell showed, as a sentence built from its figures alone.

    What the GIL predicts: processes (and interpreters) each have their own GIL, native code that releases
    it and an interpreter without one run at once; threads of GIL-holding code take turns. When the figures
    say otherwise, the sentence says so and gives the likely reason the figures themselves show.
    """
    assert c.speedup is not None
    ci = f" (95% interval {c.speedup_ci95[0]:.2f}-{c.speedup_ci95[1]:.2f})" if c.speedup_ci95 else ""
    wait = gil_wait_shown(c)
    text = (
        f"{c.impl} with {c.workers} {c.executor} workers ran {c.speedup:.2f}× as fast as serial{ci}, efficiency "
        f"{_fmt(c.efficiency, '.2f')}, with {_fmt(c.cpu_utilization, '.2f')} cores busy"
        + (f" and a median GIL wait of {wait:.3f} ms" if wait is not None else "")
        + "."
    )
    if c.executor in ONE_GIL_PER_WORKER:
        why, parallel = "each worker process has a GIL of its own", True
    elif not gil_on:
        why, parallel = "this interpreter runs without a GIL", True
    elif c.releases_gil:
        why, parallel = "its native code lets go of the GIL while it computes", True
    else:
        why, parallel = "only the thread that holds the GIL runs", False
    eff = c.efficiency or 0.0
    flagged = f" Flagged as noisy: {c.noise_reason}." if c.noisy else ""
    if parallel and eff >= SCALES:
        return f"{text} It used the cores it had: {why}.{flagged}"
    if not parallel and c.speedup <= TAKES_TURNS:
        return f"{text} The workers took turns: {why}.{flagged}"
    expected = "to use every core" if parallel else "no speedup"
    if c.noisy:
        likely = f"the figure is not to be trusted: {c.noise_reason}"
    elif parallel and c.cpu_utilization is not None and c.cpu_utilization < SCALES * min(c.workers, c.tasks):
        running = f" with {c.threads_running_mean:.1f} threads ready to run" if c.threads_running_mean else ""
        likely = (
            f"only {c.cpu_utilization:.2f} cores were busy{running}: the CPU was short (other processes, or a "
            "throttled VM), or the workers waited on something"
        )
    elif parallel:
        likely = "something other than the GIL limits it: memory bandwidth, start-up cost, or too few tasks"
    else:
        likely = "the tasks let go of the GIL somewhere (I/O, a C call), or the threads ran in turns too short to show"
    return f"{text} That is not what the GIL predicts ({expected}, since {why}); likely, {likely}."


def findings(result: RunResult) -> list[str]:
    """Return sentences built from the measured figures: what this machine showed, at the most workers."""
    cells = [c for c in result.cells if c.ok and c.executor != "serial" and c.speedup]
    gil_on = bool(result.environment.get("gil_enabled", True))
    lines: list[str] = []
    for ex in dict.fromkeys(c.executor for c in cells):
        top = max(c.workers for c in cells if c.executor == ex)
        lines.extend(interpret(c, gil_on) for c in cells if c.executor == ex and c.workers == top)
    return lines + dask_advice(cells)


def dask_advice(cells: Sequence[Cell]) -> list[str]:
    """Say, per impl, which dask shape to use, from the dask cells' speedups at the most workers, and what
    dask itself costs per task against the task's length."""
    out = []
    for impl in dict.fromkeys(c.impl for c in cells):
        mine = [c for c in cells if c.impl == impl and c.executor in ("dask-threads", "dask-processes")]
        if not mine:
            continue
        top = max(c.workers for c in mine)
        t = next((c for c in mine if c.executor == "dask-threads" and c.workers == top), None)
        p = next((c for c in mine if c.executor == "dask-processes" and c.workers == top), None)
        if t is not None and p is not None and t.speedup and p.speedup and top > 1:
            t_hi = t.speedup_ci95[1] if t.speedup_ci95 else t.speedup
            p_lo = p.speedup_ci95[0] if p.speedup_ci95 else p.speedup
            t_lo = t.speedup_ci95[0] if t.speedup_ci95 else t.speedup
            p_hi = p.speedup_ci95[1] if p.speedup_ci95 else p.speedup
            wait = t.gil_wait.median_ms if t.gil_wait else None
            figures = (
                f"{top} worker processes ran {p.speedup:.2f}× as fast as serial, one worker with {top} threads "
                f"{t.speedup:.2f}×" + (f" (its threads' GIL wait: {wait:.1f} ms at the median)" if wait else "")
            )
            if p_lo > t_hi:
                out.append(f"For {impl} on dask, use nthreads=1 and {top} processes per machine: {figures}.")
            elif t_lo > p_hi:
                out.append(f"For {impl} on dask, use one process with nthreads={top}: {figures}.")
            else:
                out.append(
                    f"For {impl} on dask, threads do as well as processes here ({figures}, intervals overlapping): "
                    f"one process with nthreads={top} shares memory and starts faster."
                )
        over = [c for c in mine if c.task_overhead_s and c.timeline]
        if over:
            c = max(over, key=lambda x: x.workers)
            task = sorted(s.end_s - s.start_s for s in c.timeline)[len(c.timeline) // 2]
            cost = c.task_overhead_s or 0.0
            share = cost / task if task > 0 else 0.0
            out.append(
                f"dask adds {cost * 1e3:.1f} ms per task here (empty tasks, {c.executor}); a task of "
                f"{impl} took {task * 1e3:.0f} ms, so dask's own cost is {share:.0%} of it"
                + ("; tasks this short are too small for the engine." if share > 0.1 else ".")
            )
    return out


EXPLAIN = {
    "speedup": "Each point is a speedup: the median over rounds of the serial wall ÷ this cell's wall in the same "
    "round; its bar is the 95% bootstrap interval over those per-round ratios: were the run repeated, the "
    "median would most likely fall inside it. A hollow marker is a figure to distrust (see the box above). "
    "Each line is one impl run by one executor. A line that follows the grey ideal used every core; a flat "
    "line at 1 means the workers took turns. What this run showed, line by line, is said under 'What this machine "
    "showed', from its own figures.",
    "timeline": "Each lane is one worker, from the moment the workers were released together; the black outlines "
    "are its tasks. Where the interpreter's GIL state was sampled (workers in this process), each moment is coloured "
    "by what the worker was doing then.</p><p><b>Red: it holds the GIL</b> - the interpreter's own record says this "
    "thread took the GIL last and it is still locked; only this thread runs Python code.</p><p><b>Green: it runs "
    "without the GIL</b> - its CPU clock moved while another thread (or none) held the GIL: native code that let "
    "go of the lock, running on a core of its own.</p><p><b>Yellow: it waits</b> - inside a task, neither holding the "
    "GIL nor running: waiting for the GIL, or for a core the OS gave to someone else.</p><p><b>Grey: idle</b> - "
    "no task (a thread that cannot even start its task without the GIL shows idle until it gets it).</p><p>Python "
    "threads trade "
    "red and yellow every switch interval (the zoomed panel shows the hand-offs); GIL-holding native tasks hold "
    "it one after another; native code that releases it is green side by side. Process workers have GILs of "
    "their own and keep plain bars.",
    "gil": "GIL wait comes from a probe thread that sleeps 1 ms, wakes, and times how long it then waits to hold the "
    "GIL again (the OS's part of the delay is measured apart). It is shown as - for process and interpreter "
    "pools: the probe waits for the parent's GIL, which their workers do not share.",
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
        Section(
            "Every cell",
            cell_rows(result.cells)
            + f"<p class='note'>{EXPLAIN['gil']} {EXPLAIN['states']} {html.escape(gil_sampler_note(result.cells))}</p>",
        )
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
