"""Each lab's section of report.html, built from the JSON it left in the output folder, handed to the
report as :class:`~gillab.outputs.report.Section` values."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from gillab.harness.results import ResultsError, read_json
from gillab.labs import annotate, convoy, race
from gillab.outputs.report import Section, img_tag

LABS = ("race", "dis", "annotate", "io", "convoy", "states", "check", "catalogue")


def _ul(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"


def _race(d: dict[str, Any]) -> str:
    return "<p>N threads add to one shared counter; every update lost is expected minus observed.</p>" + _ul(
        race.facts(d, d.get("dis_windows"))
    )


def _dis(d: dict[str, Any]) -> str:
    from gillab.labs.disasm import render

    return (
        "<p>The running thread can only be asked to drop the GIL at the marked instructions (&gt;&gt;).</p>"
        f"<pre style='overflow-x:auto'>{html.escape(render(d))}</pre>"
    )


def _annotate(d: dict[str, Any]) -> str:
    parts = []
    for variant, v in d["variants"].items():
        parts.append(f"{annotate.sentence(variant, len(d['nogil_lines']), v)}; annotation in {Path(v['html']).name}")
    return "<p>Cython's annotation colours lines by how much they touch Python objects.</p>" + _ul(parts)


def _io(d: dict[str, Any]) -> str:
    rows = [
        f"{r['client']} at {r['concurrency']} in flight: {r['throughput_rps']:.0f} req/s, p50 "
        f"{r['latency_p50_ms']:.2f} ms, p95 {r['latency_p95_ms']:.2f} ms, CPU {r['cpu_utilization']:.2f}"
        for r in d["rows"]
    ]
    return (
        "<p>Waiting is not computing: threads and asyncio both overlap the waits, despite the GIL, "
        "while the CPU stays mostly idle. Concurrency without parallelism.</p>" + _ul(rows)
    )


def _convoy(d: dict[str, Any]) -> str:
    return (
        "<p>An I/O thread must take the GIL back after every blocking call; beside Python CPU threads "
        "it waits for one of them to be forced off.</p>" + _ul(convoy.facts(d))
    )


def _states(d: dict[str, Any]) -> str:
    letters = [f"{k}: {v}" for k, v in d["letters"].items()]
    return (
        f"<p>The child's main thread went through {' → '.join(d['sequence'])}. Blocking on the pipe and "
        "waiting for the lock are both S, so the dotted marks show which wait is which.</p>" + _ul(letters)
    )


def _check(d: dict[str, Any]) -> str:
    head = f"<p><code>{html.escape(d['target'])}</code>: {html.escape(d.get('verdict', ''))}</p>"
    if "sizes" in d:  # a size sweep
        return head + _ul(
            [
                f"n = {r['size']}: {r['releases']} ({r['per_call_s'] * 1e6:.1f} µs a call; {r['method']}: "
                f"{r['switches'] if r['switches'] is not None else r['waiter_steps']} in {r['calls']} calls)"
                for r in d["sizes"]
            ]
        )
    return head


def _catalogue(d: dict[str, Any]) -> str:
    def cell(x: Any, spec: str) -> str:
        return "-" if x is None else format(x, spec)

    rows = "".join(
        f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(r['expected'])}</td>"
        f"<td>{html.escape(str(r['measured']))}</td><td>{cell(r.get('fraction'), '.2f')}</td>"
        f"<td>{cell(r.get('speedup_2'), '.2f')}</td>"
        f"<td{' class=flag' if r.get('agrees') is False else ''}>"
        f"{ {True: 'yes', False: 'NO', None: '-'}[r.get('agrees')] }</td>"
        f"<td style='text-align:left'>{html.escape(r['source'])}</td></tr>"
        for r in d["entries"]
    )
    return (
        "<p>Which stdlib and numpy calls release the GIL, measured on this interpreter with the method of "
        "<code>gillab check</code>, beside what their source says. A disagreement is shown, never hidden.</p>"
        f"<p><b>{html.escape(d['summary'])}</b></p>"
        + (f"<p class='flag'>{html.escape(d['error'])}</p>" if d.get("error") else "")
        + "<table><tr><th>callable</th><th>expected</th><th>measured</th><th>GIL-free fraction</th>"
        "<th>2-thread speedup</th><th>agrees</th><th>source</th></tr>" + rows + "</table>"
    )


RENDER = {
    "race": _race,
    "dis": _dis,
    "annotate": _annotate,
    "io": _io,
    "convoy": _convoy,
    "states": _states,
    "check": _check,
    "catalogue": _catalogue,
}


def lab_sections(out: Path) -> list[Section]:
    """Return a section for every lab whose JSON lies in out, with its picture when there is one.

    A lab file that cannot be read is named in its section rather than stopping the report.
    """
    found = []
    for lab in LABS:
        path = out / f"{lab}.json"
        if not path.exists():
            continue
        try:
            body = RENDER[lab](read_json(path)) + img_tag(out / f"{lab}.png")
        except (ResultsError, KeyError, TypeError) as exc:
            body = f"<p class='flag'>{html.escape(path.name)} could not be read: {html.escape(str(exc))}</p>"
        found.append(Section(f"gillab {lab}", body))
    return found
