"""What a run's figures say, in words: the sentences the terminal table and the report both show, each
written once (their columns are gillab.outputs.columns).

Every sentence is built from the measured figures alone; an executor's facts (its own GIL per worker, an
engine) come from its class in gillab.harness.executors, never from its name. The lesson leads with
parallelism (how many cores the workers kept busy: what the GIL decides) and sets the speedup against the
machine's own ceiling in the same rounds (what the machine decided).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gillab.harness.calibrate import ENGINE_SHARE
from gillab.harness.diagnosis import causes
from gillab.harness.gilstate import BUDGET
from gillab.harness.instruments import SPEED_DRIFT
from gillab.harness.noise import CI_NOISY
from gillab.harness.options import DEFAULTS
from gillab.harness.results import TOO_UNSTEADY, Cell, RunResult
from gillab.outputs.choices import engine_advice, engine_cost
from gillab.outputs.columns import fmt, gil_wait_shown
from gillab.present.view import and_list, interval
from gillab.stats import median

USES_CORES = 0.8
"""Efficiency at or above which a cell is said to use the cores it had."""
TAKES_TURNS = 1.2
"""Cores busy (or, where CPU was not measured, speedup) at or below which workers are said to have taken
turns."""


def run_warnings(result: RunResult) -> list[str]:
    """Return what the whole run says of its own figures: the machine's speed drift, unmeasured interference."""
    out = []
    probe = result.speed_probe
    if probe is not None and probe.drift is not None and probe.drift > SPEED_DRIFT:
        ms = sorted(probe.spin_ms)
        out.append(
            f"The machine's own solo speed moved by {probe.drift:.0%} over the run: a fixed native kernel took "
            f"{ms[0]:.1f}-{ms[-1]:.1f} ms on one thread from round to round. Speedups move with it; each is set "
            "against the machine's ceiling measured beside the same repeats."
        )
    if result.interference_note:
        out.append(result.interference_note)
    unchecked = sorted({c.unchecked for c in result.cells if c.unchecked})
    out += [
        f"The tasks' results were not checked: {why}; every cell still ran and was measured."
        for why in unchecked
    ]
    return out


def ceiling_note(result: RunResult) -> str:
    """One sentence on the machine's own ceiling over the run, and what the reference cost."""
    block = result.ceiling
    if block is None or not block.by_workers:
        return ""
    parts = [
        f"{c.workers} workers {c.ratio:.2f} {interval(*c.ci95)} (ideal {c.ideal})"
        for c in block.by_workers
        if c.workers > 1
    ]
    share = block.cost_s / block.run_s if block.run_s > 0 else 0.0
    return (
        "This machine's own ceiling, a native kernel that holds no GIL run on one thread and on N at once right after "
        f"every repeat: {', '.join(parts) or 'not measured beyond one worker'}; the reference took "
        f"{block.cost_s:.1f} s, {share:.0%} of the run."
    )


def gil_sampler_note(cells: Sequence[Cell]) -> str:
    """Return one sentence on the GIL-state sampler over the cells it watched: rate asked, rate reached, cost."""
    seen = [c.gil for c in cells if c.gil is not None and c.gil.available and c.gil.interval_s]
    if not seen:
        return ""
    rates = sorted(1 / g.interval_s for g in seen if g.interval_s)
    costs = sorted(g.overhead for g in seen if g.overhead is not None)
    asked = next((g.requested_interval_s for g in seen if g.requested_interval_s), None)
    reached = f"{rates[0] / 1e3:.1f}" + (
        f"-{rates[-1] / 1e3:.1f}" if rates[-1] - rates[0] >= 50 else ""
    )
    text = "The GIL-state sampler " + (
        f"was asked for {1 / asked / 1e3:g} kHz and " if asked else ""
    )
    text += f"sampled at {reached} kHz"
    if costs:
        text += f", costing {median(costs):.1%} of one core (median over {len(costs)} cells)"
    slowed = [g for g in seen if g.rate_note]
    if slowed:
        per = [g.sample_cost_s for g in slowed if g.sample_cost_s]
        text += ": fewer than asked" + (
            f", as each sample costs {median(per) * 1e6:.1f} µs of CPU here" if per else ""
        )
        text += f" and the sampler keeps within {BUDGET:.0%} of a core"
    return text + "."


def doubt_line(c: Cell) -> str:
    """A cell to distrust in one line: which, and the first clause of each of its reasons (in full in the
    report's table of every other figure, --detail and results.json).

    >>> c = Cell("fib", "python", "thread", 2, 8, 25, "ok", noisy=True,
    ...          noise_reason="other processes used 1.2 of 2 cores during 3 of 3 repeats, and no quiet moment came; "
    ...          "its speedup interval is ±0.20, over 10% of 1.05: the machine's own solo speed moved by 40%")
    >>> doubt_line(c).split(": ")[1]
    'other processes used 1.2 of 2 cores during 3 of 3 repeats; its speedup interval is ±0.20'
    """
    parts = [
        part.split(": ")[0].split(", ")[0] + (f": {TOO_UNSTEADY}" if TOO_UNSTEADY in part else "")
        for part in c.noise_reason.split("; ")
        if not part.startswith("likely")
    ]
    return f"{c.impl} / {c.executor} at {c.workers} workers: {'; '.join(dict.fromkeys(p for p in parts if p))}"


def busy(c: Cell) -> float | None:
    """How many cores the cell's workers kept busy: its parallelism (else its CPU utilisation)."""
    return c.parallelism if c.parallelism is not None else c.cpu_utilization


def interpret(c: Cell, gil_on: bool) -> str:
    """Return what one parallel cell showed, as a sentence built from its figures alone.

    What the GIL predicts: processes (and interpreters) each have their own GIL, native code that releases
    it and an interpreter without one run at once; threads of GIL-holding code take turns. The sentence leads
    with the cores the workers kept busy (the GIL's doing), then how fast those cores ran and the speedup that
    made, against the machine's own ceiling (the machine's doing). When the figures say otherwise than the GIL
    predicts, it says so and gives the likely reason the figures themselves show.
    """
    assert c.speedup is not None
    if c.diagnosis is not None:  # no GIL shared between the workers: what held them back, measured
        return f"{causes.sentence(c)} {_speed(c)}"
    cores = busy(c)
    why, parallel = _prediction(c, gil_on)
    head = f"{c.impl} on {c.workers} {c.workers_word} kept {fmt(cores, '.2f')} cores busy"
    flagged = f" Flagged as noisy: {c.noise_reason}." if c.noisy else ""
    if parallel and cores is not None and cores >= USES_CORES * min(c.workers, c.tasks, _cores(c)):
        return f"{head}: {why}. {_speed(c)}{flagged}"
    if not parallel and (
        (cores is not None and cores <= TAKES_TURNS) or (cores is None and c.speedup <= TAKES_TURNS)
    ):
        return f"{head}: the workers took turns, {why}. {_speed(c)}{flagged}"
    expected = "to use every core" if parallel else "one core busy, no speedup"
    return (
        f"{head}. {_speed(c)} That is not what the GIL predicts ({expected}, since {why}); likely, "
        f"{_likely(c, parallel)}."
    )


def _cores(c: Cell) -> int:
    return max(1, round(c.available_cores)) if c.available_cores else c.workers


def _speed(c: Cell) -> str:
    """How fast the busy cores ran, the speedup that made, and the machine's own ceiling beside it (a figure that
    cannot be true of the code is not given: the machine was too unsteady to tell)."""
    assert c.speedup is not None
    ci = f" {interval(*c.speedup_ci95)}" if c.speedup_ci95 else ""
    figure = (
        f"as for the speedup, {TOO_UNSTEADY}"
        if "speedup" in c.unsteady
        else f"the speedup is {c.speedup:.2f}×{ci} (efficiency {fmt(c.efficiency, '.2f')})"
    )
    if c.core_speed is not None:
        text = f"The cores ran at {c.core_speed:.2f} of their solo speed meanwhile, so {figure}"
    else:
        text = _first_upper(figure)
    wait = gil_wait_shown(c)
    text += f", with a median GIL wait of {wait:.3f} ms" if wait is not None else ""
    if c.ceiling is not None and c.efficiency_vs_ceiling is not None:
        text += f"; this machine's ceiling for it was {c.ceiling:.2f} beside the same repeats"
        if "efficiency_vs_ceiling" in c.unsteady:
            text += f", and against it {TOO_UNSTEADY}"
        elif c.against_ceiling:
            text += ", and it got all of it: as fast as this machine allowed"
        else:
            text += f", and it got {c.efficiency_vs_ceiling:.2f} of it"
    return text + "."


def _prediction(c: Cell, gil_on: bool) -> tuple[str, bool]:
    """Why the GIL predicts what it does for this cell, and whether it predicts that the workers run at once."""
    ex = c.kind
    if ex.gil_per_worker:
        return ex.parallel_because or "each worker has a GIL of its own", True
    if not gil_on:
        return "this interpreter runs without a GIL", True
    if c.releases_gil:
        return "its native code lets go of the GIL while it computes", True
    return "only the thread that holds the GIL runs", False


def _likely(c: Cell, parallel: bool) -> str:
    """The likely reason, from the cell's own figures, that it did not do what the GIL predicts: an engine's own
    cost per task first, where it is a tenth of a task or more (a figure it explains is not noise)."""
    cost = engine_cost(c)
    if parallel and cost is not None and cost[2] >= ENGINE_SHARE:
        return (
            f"{c.kind.engine} spent {cost[0] * 1e3:.1f} ms a task on its own work (scheduling and sending it, "
            f"timed on empty tasks): {cost[2]:.0%} of a {cost[1] * 1e3:.0f} ms task"
        )
    if c.noisy:
        return f"the figure is not to be trusted: {c.noise_reason}"
    cores = busy(c)
    if parallel and cores is not None and cores < USES_CORES * min(c.workers, c.tasks):
        running = (
            f" with {c.threads_running_mean:.1f} threads ready to run"
            if c.threads_running_mean
            else ""
        )
        return (
            f"only {cores:.2f} cores were busy{running}: the CPU was short (other processes, or a "
            "throttled VM), or the workers waited on something"
        )
    if parallel:
        return "something other than the GIL limits it: memory bandwidth, start-up cost, or too few tasks"
    return "the tasks let go of the GIL somewhere (I/O, a C call), or the threads ran in turns too short to show"


def findings(result: RunResult) -> list[str]:
    """Return sentences built from the measured figures: what this machine showed, at the most workers."""
    cells = _parallel_cells(result)
    gil_on = result.environment.gil_enabled
    lines: list[str] = []
    for ex in dict.fromkeys(c.executor for c in cells):
        top = max(c.workers for c in cells if c.executor == ex)
        lines.extend(interpret(c, gil_on) for c in cells if c.executor == ex and c.workers == top)
    return lines + engine_advice(cells)


def _parallel_cells(result: RunResult) -> list[Cell]:
    return [c for c in result.cells if c.ok and not c.kind.baseline and c.speedup]


def summary(result: RunResult) -> list[str]:
    """The lesson (:func:`lesson`), then what the machine gave perfectly parallel code: the report's summary."""
    machine = _machine_line(result)
    return lesson(result) + ([machine] if machine else [])


def lesson(result: RunResult) -> list[str]:
    """The sentences that say the lesson from the figures, one per kind of cell at more than one worker: how
    many cores each kept busy (what the GIL decides, the same on any machine) and why; then the cells that did
    not do what the GIL predicts, with the likely reason their own figures show."""
    gil_on = result.environment.gil_enabled
    every = [c for c in _parallel_cells(result) if c.workers > 1 and busy(c) is not None]
    cells = [
        c for c in every if causes.diagnosed(c) is None
    ]  # what held back the others is said below
    groups: dict[tuple[bool, str, str], list[Cell]] = {}
    for c in cells:
        why, parallel = _prediction(c, gil_on)
        groups.setdefault((parallel, why, c.executor), []).append(c)
    out = []
    order = (
        "threads",
        "engine",
        "interpreters",
        "processes",
    )  # turns first, then threads that run at once
    for (parallel, why, _), mine in sorted(
        groups.items(), key=lambda kv: (kv[0][0], order.index(kv[1][0].family))
    ):
        impls = and_list(list(dict.fromkeys(c.impl for c in mine)))
        counts = sorted({c.workers for c in mine})
        where = (
            "however many there were"
            if len(counts) > 1 and not parallel
            else f"at {and_list(counts)} workers"
        )
        word = mine[0].workers_word
        out.append(_first_upper(f"{impls} {word} kept {_span(mine)} cores busy {where}: {why}."))
    surprises = [c for c in cells if not _as_predicted(c, gil_on)]
    if surprises:
        worst = min(surprises, key=lambda c: busy(c) or 0.0)
        more = f" (and {len(surprises) - 1} more)" if len(surprises) > 1 else ""
        out.append(
            f"Not as the GIL predicts: {worst.impl} on {worst.workers} {worst.workers_word} kept "
            f"{fmt(busy(worst), '.2f')} cores busy{more}; likely, {_likely(worst, _prediction(worst, gil_on)[1])}."
        )
    return out + causes.lesson(every)


def _as_predicted(c: Cell, gil_on: bool) -> bool:
    """Whether a cell kept as many cores busy as the GIL predicts: every core it could use, or one."""
    cores = busy(c)
    if cores is None:
        return True
    if _prediction(c, gil_on)[1]:
        return cores >= USES_CORES * min(c.workers, c.tasks, _cores(c))
    return cores <= TAKES_TURNS


def _span(cells: Sequence[Cell]) -> str:
    """The cores busy of some cells: '0.98', or '0.97-1.00'."""
    xs = sorted(busy(c) or 0.0 for c in cells)
    lo, hi = f"{xs[0]:.2f}", f"{xs[-1]:.2f}"
    return lo if lo == hi else f"{lo}-{hi}"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def machine_note(result: RunResult) -> str:
    """The machine in one line: whether its speed moved and whether other processes took its cores, and what
    that does to the figures (speedups move with the machine; cores busy, which the GIL decides, does not)."""
    drift = result.speed_probe.drift if result.speed_probe is not None else None
    measured = [c for c in result.cells if c.ok]
    disturbed = [c for c in measured if any(r.disturbed for r in c.repeats)]
    parts = []
    if drift is not None and drift > SPEED_DRIFT:
        parts.append(f"this machine's speed moved {drift:.0%} during the run")
    if disturbed:
        parts.append(f"other processes took cores during {len(disturbed)} of {len(measured)} cells")
    words = _machine_words(parts, drift, bool(disturbed)) + settle_note(result) + wait_note(result)
    return words + unmeasured_note(result)


NOT_SAMPLED = "thread states not sampled"
"""How a cell's thread-states note begins where they could not be sampled (gillab.harness.instruments)."""


def unmeasured_note(result: RunResult) -> str:
    """' Not measured here: ...', once, where this platform could not read a figure (no /proc, or
    $GILLAB_PLATFORM=portable: docs/platforms.md); else ""."""
    states = sorted(
        n for n in {c.thread_states_note for c in result.cells} if n.startswith(NOT_SAMPLED)
    )
    notes = [result.interference_note] if result.interference_note else []
    what = [w for w, n in (("other processes' CPU", notes), ("thread states", states)) if n]
    if not what:
        return ""
    why = re.search(r"\(([^)]*)\)", (notes + states)[0])
    return f" Not measured here{f' ({why.group(1)})' if why else ''}: {' and '.join(what)}."


def wait_note(result: RunResult) -> str:
    """' It waited 3.0 s for quiet moments; none came: the rest was measured beside what ran.', where the run
    waited for one (gillab.harness.rounds.Waits); else ""."""
    if not result.waited_s and not result.wait_gave_up:
        return ""
    tail = "; none came: the rest was measured beside what ran" if result.wait_gave_up else ""
    return f" It waited {result.waited_s:.1f} s for quiet moments{tail}."


def _machine_words(parts: list[str], drift: float | None, disturbed: bool) -> str:
    if not parts:
        held = f" (within {drift:.0%})" if drift is not None else ""
        return f"This machine held its speed{held} and no other process took its cores: every figure stands."
    if not disturbed:
        return _first_upper(
            f"{parts[0]}: speedups carry wide intervals; cores busy is not affected."
        )
    return _first_upper(
        f"{' and '.join(parts)}: speedups carry wide intervals, and cores busy may read low."
    )


def sizing_note(result: RunResult) -> str:
    """Where the tasks were sized for an engine's own cost per task: by how much, and why; else ""."""
    engine = result.engine
    if engine is None or engine.sized_for_s is None:
        return ""
    default = DEFAULTS.target_s
    target = result.config.target_s
    cost = f"{engine.sized_for_s * 1e3:.1f} ms, empty tasks"
    if target <= default:
        return (
            f"{engine.engine}'s own cost per task ({cost}) is under {ENGINE_SHARE:.0%} of a "
            f"{default * 1e3:.0f} ms task: the tasks kept their size."
        )
    return (
        f"Tasks were sized for {target * 1e3:.0f} ms, not {default * 1e3:.0f} ms, so that "
        f"{engine.engine}'s own cost per task ({cost}) stays under {ENGINE_SHARE:.0%} of one."
    )


def settle_note(result: RunResult) -> str:
    """' It added 2-4 rounds to 5 unsteady cells (6.1 s): 3 settled within ±10%.', where rounds were
    added after the run's own (gillab.harness.rounds); else ""."""
    added = [c for c in result.cells if c.rounds_added and not c.kind.baseline]
    if not added:
        return ""
    counts = sorted(c.rounds_added for c in added)
    each = str(counts[0]) if counts[0] == counts[-1] else f"{counts[0]}-{counts[-1]}"
    rounds = "round" if counts[-1] == 1 else "rounds"
    settled = sum(1 for c in added if not c.noisy)
    cells = f"{len(added)} unsteady cell{'s' if len(added) > 1 else ''}"
    spent = f"{result.settle_spent_s:.1f} s"
    return (
        f" It added {each} {rounds} to {cells} ({spent}): {settled} settled within ±{CI_NOISY:.0%}."
    )


def families(result: RunResult) -> list[str]:
    """One short sentence per kind of worker (threads, processes, interpreters, an engine's), at its most
    workers: each impl's cores busy and speedup, with its interval."""
    cells = _parallel_cells(result)
    out = []
    for fam in dict.fromkeys(c.family for c in cells):
        mine = [c for c in cells if c.family == fam]
        for ex in dict.fromkeys(c.executor for c in mine):
            top = max(c.workers for c in mine if c.executor == ex)
            at_top = [c for c in mine if c.executor == ex and c.workers == top]
            parts = [_brief(c) for c in at_top]
            word = _first_upper(at_top[0].workers_word)
            out.append(f"{word}, at {top} workers: {'; '.join(parts)}.")
    return out


def _brief(c: Cell) -> str:
    """'python 0.98 cores busy, 1.02× [0.95-1.08]': a cell's two figures, the speedup only where it can be
    true of the code."""
    text = f"{c.impl} {fmt(busy(c), '.2f')} cores busy"
    if "speedup" in c.unsteady:
        return f"{text}, its speedup {TOO_UNSTEADY}"
    ci = f" {interval(*c.speedup_ci95)}" if c.speedup_ci95 else ""
    return f"{text}, {c.speedup:.2f}×{ci}" if c.speedup is not None else text


def _machine_line(result: RunResult) -> str:
    block = result.ceiling
    n = min(result.environment.usable_cores, max(result.config.workers))
    c = block.of(n) if block is not None else None
    if c is None or n < 2:
        return ""
    gave = f"This machine gave perfectly parallel code {c.ratio:.2f}× {interval(*c.ci95)} on {n} workers"
    if c.ratio >= 0.9 * c.ideal:
        return f"{gave}, about all of an ideal machine's {c.ideal}."
    drift = result.speed_probe.drift if result.speed_probe else None
    moved = (
        f"; its solo speed moved by {drift:.0%} between rounds"
        if drift is not None and drift > SPEED_DRIFT
        else ""
    )
    return f"{gave}, where an ideal machine gives {c.ideal}{moved}: what is missing there is the machine's."
