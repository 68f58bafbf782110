"""advise.png and the advise section of report.html, from advise.json's figures."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from gillab.advice.model import Advice, Option
from gillab.outputs.documents import Kind, ul

COLOURS = {"serial": "grey", "threads": "tab:blue", "processes": "tab:orange", "interpreters": "tab:green"}


def _name(o: Option, here: str) -> str:
    return o.label if o.interpreter == here else f"{o.label}\n{o.interpreter}"


def advise_png(advice: Advice, path: Path) -> bool:
    """Left: each option's speedup at each worker count with its interval (hatched: to distrust). Right: what
    one task costs on each option at the most workers: its compute, its transfer, and the start-up per task."""
    from gillab.outputs.plots import plt

    opts = [o for o in advice.options if o.ok and o.family != "serial"]
    if not opts:
        return False
    here = advice.interpreter
    top = max(o.workers for o in opts)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    names = list(dict.fromkeys(_name(o, here) for o in opts))
    counts = sorted({o.workers for o in opts})
    width = 0.8 / max(1, len(counts))
    noisy: list[str] = []
    for j, w in enumerate(counts):
        for i, n in enumerate(names):
            o = next((x for x in opts if _name(x, here) == n and x.workers == w), None)
            if o is None or o.speedup is None:
                continue
            lo, hi = o.ci95 or (o.speedup, o.speedup)
            shade = 0.35 + 0.6 * (j + 1) / len(counts)
            bar = left.bar(i + j * width, o.speedup, width, yerr=[[o.speedup - lo], [hi - o.speedup]], capsize=3,
                           color=COLOURS.get(o.family, "tab:purple"), alpha=shade)  # fmt: skip
            if o.noisy:
                bar[0].set_hatch("//")
                noisy.append(f"{len(noisy) + 1}. {n.replace(chr(10), ' ')} w{w}: {o.noise_reason.split(': ')[0]}")
                left.annotate(str(len(noisy)), (i + j * width, hi), fontsize=6, ha="center", va="bottom")
    left.axhline(1.0, color="grey", lw=0.8, ls=":")
    left.set_xticks([i + width * (len(counts) - 1) / 2 for i in range(len(names))])
    left.set_xticklabels(names, fontsize=7)
    left.set_ylabel("speedup over one thread (95% interval)", fontsize=8)
    left.set_title(f"{advice.target}: at {', '.join(map(str, counts))} workers (lighter: fewer)", fontsize=8)
    at_top = [o for o in opts if o.workers == top]
    labels = [_name(o, here) for o in at_top]
    compute = [(advice.serial_task_s or 0.0) * 1e3 for _ in at_top]
    transfer = [(o.pickle_s or 0.0) * 1e3 for o in at_top]
    tasks = max(1, round(top))
    startup = [(o.startup_s or 0.0) * 1e3 / tasks for o in at_top]
    right.barh(labels, compute, color="tab:gray", label="compute (the serial task)")
    right.barh(labels, transfer, left=compute, color="tab:red", label="pickling its call and result")
    right.barh(labels, startup, left=[a + b for a, b in zip(compute, transfer, strict=True)], color="tab:olive",
               label=f"start-up ÷ {tasks} workers")  # fmt: skip
    right.set_xlabel("ms per task", fontsize=8)
    right.tick_params(labelsize=7)
    right.legend(fontsize=6.5, loc="lower right")
    right.set_title(f"what one task costs at {top} workers", fontsize=8)
    fig.tight_layout()
    if noisy:
        fig.subplots_adjust(bottom=0.2 + 0.035 * len(noisy))
        fig.text(0.01, 0.01, "Hatched: figures to distrust: " + " | ".join(noisy), fontsize=6, wrap=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def rows(advice: Advice) -> list[tuple[str, ...]]:
    """The table: every option with its cost broken down."""

    def ms(x: float | None) -> str:
        return "-" if x is None else f"{x * 1e3:.2f}" if x < 0.1 else f"{x * 1e3:.0f}"

    out: list[tuple[str, ...]] = []
    for o in advice.options:
        ci = f" [{o.ci95[0]:.2f}-{o.ci95[1]:.2f}]" if o.ci95 else ""
        out.append((
            o.interpreter, o.executor, str(o.workers),
            f"{o.speedup:.2f}{ci}" if o.speedup is not None else "-",
            f"{o.cores_busy:.2f}" if o.cores_busy is not None else "-",
            ms(o.startup_s), str((o.sent_bytes or 0) + (o.returned_bytes or 0)) if o.sent_bytes else "-",
            ms(o.pickle_s), f"{o.transfer_share:.0%}" if o.transfer_share is not None else "-",
            f"{o.gil_held:.0%}" if o.gil_held is not None else "-",
            ("NOISY" if o.noisy else "") if o.ok else f"{o.status}: {o.reason}",
        ))  # fmt: skip
    return out


COLUMNS = ("python", "executor", "workers", "speedup [95%]", "cores busy", "start ms", "bytes/task",
           "pickle ms", "transfer", "GIL held", "flag")  # fmt: skip


def section(doc: dict[str, Any]) -> str:
    """advise.json's part of report.html."""
    advice = Advice.from_json(doc)
    head = "".join(f"<p><b>{html.escape(r)}</b></p>" for r in advice.recommendations)
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS) + "</tr>"
    for r in rows(advice):
        table += "<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in r) + "</tr>"
    table += "</table>"
    facts = [
        f"one serial task took {advice.serial_task_s * 1e3:.1f} ms" if advice.serial_task_s else "",
        f"the serial run held the GIL {advice.serial_gil_held:.0%} of its time"
        if advice.serial_gil_held is not None
        else "",
        f"and kept {advice.serial_cores_busy:.2f} cores busy" if advice.serial_cores_busy is not None else "",
    ]
    body = (
        f"<p><code>{html.escape(advice.target)}</code> under {html.escape(advice.interpreter)}: "
        + ", ".join(f for f in facts if f)
        + ".</p>"
    )
    notes = ul(list(advice.notes)) if advice.notes else ""
    return body + head + table + notes


KINDS = (Kind("advise", section),)
"""advise's document, for the report."""
