"""advise.png, and the view of advise.json (a course's too) that every medium renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gillab import environment
from gillab.advice import course
from gillab.advice.model import Advice, Option
from gillab.outputs.columns import fmt
from gillab.outputs.documents import Kind
from gillab.present.view import Doubt, Table, View, interval

COLOURS = {
    "serial": "grey",
    "threads": "tab:blue",
    "processes": "tab:orange",
    "interpreters": "tab:green",
}


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
            bar = left.bar(
                i + j * width,
                o.speedup,
                width,
                yerr=[[o.speedup - lo], [hi - o.speedup]],
                capsize=3,
                color=COLOURS.get(o.family, "tab:purple"),
                alpha=shade,
            )
            if o.noisy:
                bar[0].set_hatch("//")
                noisy.append(
                    f"{len(noisy) + 1}. {n.replace(chr(10), ' ')} w{w}: {o.noise_reason.split(': ')[0]}"
                )
                left.annotate(
                    str(len(noisy)), (i + j * width, hi), fontsize=6, ha="center", va="bottom"
                )
    left.axhline(1.0, color="grey", lw=0.8, ls=":")
    left.set_xticks([i + width * (len(counts) - 1) / 2 for i in range(len(names))])
    left.set_xticklabels(names, fontsize=7)
    left.set_ylabel("speedup over one thread (95% interval)", fontsize=8)
    left.set_title(
        f"{advice.target}: at {', '.join(map(str, counts))} workers (lighter: fewer)", fontsize=8
    )
    _costs(right, advice, [o for o in opts if o.workers == top], top)
    fig.tight_layout()
    if noisy:
        fig.subplots_adjust(bottom=0.2 + 0.035 * len(noisy))
        fig.text(
            0.01, 0.01, "Hatched: figures to distrust: " + " | ".join(noisy), fontsize=6, wrap=True
        )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _costs(right: Any, advice: Advice, at_top: list[Option], top: int) -> None:
    """What one task costs on each option at the most workers: compute, transfer, start-up per task."""
    here = advice.interpreter
    labels = [_name(o, here) for o in at_top]
    compute = [(advice.serial_task_s or 0.0) * 1e3 for _ in at_top]
    transfer = [(o.pickle_s or 0.0) * 1e3 for o in at_top]
    tasks = max(1, top)
    startup = [(o.startup_s or 0.0) * 1e3 / tasks for o in at_top]
    right.barh(labels, compute, color="tab:gray", label="compute (the serial task)")
    right.barh(
        labels, transfer, left=compute, color="tab:red", label="pickling its call and result"
    )
    right.barh(
        labels,
        startup,
        left=[a + b for a, b in zip(compute, transfer, strict=True)],
        color="tab:olive",
        label=f"start-up ÷ {tasks} workers",
    )
    right.set_xlabel("ms per task", fontsize=8)
    right.tick_params(labelsize=7)
    right.legend(fontsize=6.5, loc="lower right")
    right.set_title(f"what one task costs at {top} workers", fontsize=8)


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:.2f}" if x < 0.1 else f"{x * 1e3:.0f}"


def _speed_row(o: Option, named: bool) -> tuple[str, ...]:
    ci = f" {interval(*o.ci95)}" if o.ci95 else ""
    return (
        *((o.interpreter,) if named else ()),
        o.executor,
        str(o.workers),
        f"{o.speedup:.2f}{ci}" if o.speedup is not None else "-",
        fmt(o.cores_busy, ".2f"),
        fmt(o.gil_held, ".0%"),
        "" if o.ok else o.status,
    )


def _cost_row(o: Option, named: bool) -> tuple[str, ...]:
    return (
        *((o.interpreter,) if named else ()),
        o.executor,
        str(o.workers),
        _ms(o.startup_s),
        str((o.sent_bytes or 0) + (o.returned_bytes or 0)) if o.sent_bytes else "-",
        _ms(o.pickle_s),
        fmt(o.transfer_share, ".0%"),
    )


SPEED = ("executor", "workers", "speedup [95%]", "cores busy", "GIL held", "status")
COST = ("executor", "workers", "start ms", "bytes/task", "pickle ms", "transfer")


def tables(advice: Advice) -> tuple[Table, Table]:
    """Every option twice: how fast it ran (and how busy its cores were), and what it cost (start-up, the
    bytes and the pickling of each call and result, their share of a task); the interpreter is a column
    where there is more than one."""
    named = len({o.interpreter for o in advice.options}) > 1
    head = ("python",) if named else ()
    flagged = tuple(o.noisy for o in advice.options)
    speed = Table((*head, *SPEED), tuple(_speed_row(o, named) for o in advice.options), flagged)
    cost = Table((*head, *COST), tuple(_cost_row(o, named) for o in advice.options))
    return speed, cost


def facts(advice: Advice) -> str:
    """The serial run in one sentence: the task's time, the GIL held, the cores busy."""
    said = [
        f"one serial task took {advice.serial_task_s * 1e3:.1f} ms" if advice.serial_task_s else "",
        f"the serial run held the GIL {advice.serial_gil_held:.0%} of its time"
        if advice.serial_gil_held is not None
        else "",
        f"and kept {advice.serial_cores_busy:.2f} cores busy"
        if advice.serial_cores_busy is not None
        else "",
    ]
    return f"{advice.target} under {advice.interpreter}: " + ", ".join(f for f in said if f) + "."


def view(advice: Advice) -> View:
    """The recommendation first (for the course, its figures and the critical path's bound, then the
    recommendation), the options' speed and cost, the notes, and the doubts."""
    recs = tuple(advice.recommendations)
    if course.is_course(advice):
        cores = advice.usable_cores or environment.usable_cores()
        lesson, notes = tuple(course.lines(advice, cores)), (*advice.notes, *recs)
    else:
        lesson, notes = recs, tuple(advice.notes)
    doubts = tuple(
        Doubt(f"{o.interpreter} {o.executor} {o.workers}", o.noise_reason or o.reason)
        for o in advice.options
        if o.noisy or not o.ok
    )
    return View(
        "gillab course" if course.is_course(advice) else "gillab advise",
        lesson=lesson,
        tables=tables(advice),
        notes=notes,
        doubts=doubts,
        details=(facts(advice),),
        pictures=("advise.png",),
    )


KINDS = (Kind("advise", Advice.from_json, view, (Advice,)),)
"""advise's document (course's too), for report.html, `gillab show` and the notebook."""
