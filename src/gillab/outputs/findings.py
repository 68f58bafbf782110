"""What a run's figures say, in words and in columns: the sentences and the table columns that the terminal
table and the report both show, each written once.

Every sentence is built from the measured figures alone; an executor's facts (its own GIL per worker, an
engine) come from its class in gillab.harness.executors, never from its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gillab import stats
from gillab.harness import executors
from gillab.harness.gilstate import BUDGET
from gillab.harness.instruments import SPEED_DRIFT
from gillab.harness.results import Cell, RunResult
from gillab.stats import median

USES_CORES = 0.8
"""Efficiency at or above which a cell is said to use the cores it had."""
TAKES_TURNS = 1.2
"""Speedup at or below which workers are said to have taken turns."""


def fmt(x: float | int | None, spec: str) -> str:
    """A figure as text, "-" where there is none.

    >>> fmt(None, ".2f"), fmt(1.234, ".2f"), fmt(0.5, ".0%")
    ('-', '1.23', '50%')
    """
    return "-" if x is None else format(x, spec)


def ms(x: float | None) -> float | None:
    """Seconds as milliseconds (None, and 0, stay as they are)."""
    return x * 1e3 if x else x


def load_text(load: Sequence[float] | None) -> str:
    """A load average as the run reports it, e.g. '[0.5, 0.4, 0.3]'."""
    return str(list(load)) if load is not None else "None"


def gil_wait_shown(c: Cell) -> float | None:
    """The GIL wait worth showing for a cell: None where its workers have a GIL this process's probe never
    waits for (and no probe of their own)."""
    ex = executors.lookup(c.executor)
    if c.gil_wait is None or not (ex.shares_gil or ex.runs_elsewhere):
        return None
    return c.gil_wait.median_ms


def speedup_text(c: Cell) -> str:
    """The speedup with the half-width of its 95% interval, e.g. '1.84 ±0.04'."""
    if c.speedup is None:
        return "-"
    if c.speedup_ci95 is None:
        return f"{c.speedup:.2f}"
    return f"{c.speedup:.2f} ±{stats.half_width(c.speedup_ci95):.2f}"


def speedup_interval(c: Cell) -> str:
    """The speedup with its 95% interval, e.g. '1.84 [1.80, 1.88]'."""
    text = fmt(c.speedup, ".2f")
    if c.speedup is not None and c.speedup_ci95 is not None:
        text += f" [{c.speedup_ci95[0]:.2f}, {c.speedup_ci95[1]:.2f}]"
    return text


def status_text(c: Cell) -> str:
    """ok, or the status and its reason, with the updates a counter lost."""
    text = c.status if c.ok else f"{c.status}: {c.reason}"
    if c.lost_updates:
        text += f" (lost {min(c.lost_updates)}..{max(c.lost_updates)} updates)"
    return text


def wall_text(c: Cell) -> str:
    """The median wall with its IQR, in ms: '812 (14)'."""
    if c.median_wall_s is None:
        return "-"
    return f"{c.median_wall_s * 1e3:.0f} ({(c.iqr_s or 0) * 1e3:.0f})"


@dataclass(frozen=True)
class Column:
    """One column of a table of cells: its header and how a cell's figure reads in it."""

    name: str
    value: Callable[[Cell], str]
    html: bool = False
    """The value is HTML already (the report shows it as is; every other value is escaped)."""


def _gil_held(c: Cell) -> str:
    return fmt(c.gil.held_fraction if c.gil else None, ".0%")


def _switches(c: Cell) -> str:
    return fmt(c.gil.switches_per_s if c.gil else None, ".0f")


def _wait(attr: str, spec: str) -> Callable[[Cell], str]:
    def value(c: Cell) -> str:
        return fmt(getattr(c.gil_wait, attr) if gil_wait_shown(c) is not None else None, spec)

    return value


IMPL = Column("impl", lambda c: c.impl)
EXECUTOR = Column("executor", lambda c: c.executor)
WORKERS = Column("workers", lambda c: str(c.workers))
SIZE = Column("size", lambda c: str(c.size))
EFFICIENCY = Column("efficiency", lambda c: fmt(c.efficiency, ".2f"))
CPU = Column("cpu util", lambda c: fmt(c.cpu_utilization, ".2f"))
RUNNING = Column("running", lambda c: fmt(c.threads_running_mean, ".2f"))
STARTUP = Column("start ms", lambda c: fmt(ms(c.startup_s), ".0f"))

TABLE = (
    IMPL,
    EXECUTOR,
    WORKERS,
    SIZE,
    Column("wall ms (IQR)", wall_text),
    Column("speedup ±95%", speedup_text),
    Column("eff", EFFICIENCY.value),
    CPU,
    Column("GIL wait ms", _wait("median_ms", ".3f")),
    Column("GIL held", _gil_held),
    Column("switch/s", _switches),
    RUNNING,
    STARTUP,
    Column("flag", lambda c: "NOISY" if c.noisy else ""),
    Column("status", status_text),
)
"""The terminal table's columns."""


def _noisy_html(c: Cell) -> str:
    import html

    return f'<span class="flag">noisy: {html.escape(c.noise_reason)}</span>' if c.noisy else ""


REPORT = (
    IMPL,
    EXECUTOR,
    WORKERS,
    SIZE,
    Column("median wall ms", lambda c: fmt(ms(c.median_wall_s), ".1f")),
    Column("IQR ms", lambda c: fmt(ms(c.iqr_s), ".1f")),
    Column("CV", lambda c: fmt(c.cv, ".1%")),
    Column("rounds", lambda c: str(c.rounds)),
    Column("speedup [95% interval]", speedup_interval),
    EFFICIENCY,
    Column("others' cores", lambda c: fmt(c.interference.others_cores if c.interference else None, ".2f")),
    Column("dropped", lambda c: str(c.repeats_dropped)),
    CPU,
    Column("GIL wait median ms", _wait("median_ms", ".3f")),
    Column("GIL wait p95 ms", _wait("p95_ms", ".3f")),
    Column("GIL wait fraction", _wait("fraction", ".2f")),
    Column("GIL held", _gil_held),
    Column("GIL switches/s", _switches),
    Column("threads running", RUNNING.value),
    Column("start-up ms", STARTUP.value),
    Column("flag", _noisy_html, html=True),
    Column("status", lambda c: c.status + (f": {c.reason}" if c.reason else "")),
)
"""The report's table of every cell."""


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


def noisy_cells(result: RunResult) -> list[str]:
    """Each noisy cell and its reason, as the report's box lists them."""
    return [f"{c.impl} / {c.executor} at {c.workers} workers: {c.noise_reason}" for c in result.cells if c.noisy]


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
        f"{fmt(c.efficiency, '.2f')}, with {fmt(c.cpu_utilization, '.2f')} cores busy"
        + (f" and a median GIL wait of {wait:.3f} ms" if wait is not None else "")
        + "."
    )
    why, parallel = _prediction(c, gil_on)
    eff = c.efficiency or 0.0
    flagged = f" Flagged as noisy: {c.noise_reason}." if c.noisy else ""
    if parallel and eff >= USES_CORES:
        return f"{text} It used the cores it had: {why}.{flagged}"
    if not parallel and c.speedup <= TAKES_TURNS:
        return f"{text} The workers took turns: {why}.{flagged}"
    expected = "to use every core" if parallel else "no speedup"
    return f"{text} That is not what the GIL predicts ({expected}, since {why}); likely, {_likely(c, parallel)}."


def _prediction(c: Cell, gil_on: bool) -> tuple[str, bool]:
    """Why the GIL predicts what it does for this cell, and whether it predicts that the workers run at once."""
    ex = executors.lookup(c.executor)
    if ex.gil_per_worker:
        return ex.parallel_because or "each worker has a GIL of its own", True
    if not gil_on:
        return "this interpreter runs without a GIL", True
    if c.releases_gil:
        return "its native code lets go of the GIL while it computes", True
    return "only the thread that holds the GIL runs", False


def _likely(c: Cell, parallel: bool) -> str:
    """The likely reason, from the cell's own figures, that it did not do what the GIL predicts."""
    if c.noisy:
        return f"the figure is not to be trusted: {c.noise_reason}"
    if parallel and c.cpu_utilization is not None and c.cpu_utilization < USES_CORES * min(c.workers, c.tasks):
        running = f" with {c.threads_running_mean:.1f} threads ready to run" if c.threads_running_mean else ""
        return (
            f"only {c.cpu_utilization:.2f} cores were busy{running}: the CPU was short (other processes, or a "
            "throttled VM), or the workers waited on something"
        )
    if parallel:
        return "something other than the GIL limits it: memory bandwidth, start-up cost, or too few tasks"
    return "the tasks let go of the GIL somewhere (I/O, a C call), or the threads ran in turns too short to show"


def findings(result: RunResult) -> list[str]:
    """Return sentences built from the measured figures: what this machine showed, at the most workers."""
    cells = [c for c in result.cells if c.ok and not executors.lookup(c.executor).baseline and c.speedup]
    gil_on = result.environment.gil_enabled
    lines: list[str] = []
    for ex in dict.fromkeys(c.executor for c in cells):
        top = max(c.workers for c in cells if c.executor == ex)
        lines.extend(interpret(c, gil_on) for c in cells if c.executor == ex and c.workers == top)
    return lines + engine_advice(cells)


def engine_advice(cells: Sequence[Cell]) -> list[str]:
    """Say, per impl and engine, which shape to use (threads sharing a worker's GIL, or a process per worker),
    from the engine's cells at the most workers, and what the engine itself costs per task against the task."""
    out = []
    for impl in dict.fromkeys(c.impl for c in cells):
        on = [c for c in cells if c.impl == impl and executors.lookup(c.executor).engine]
        for engine in dict.fromkeys(executors.lookup(c.executor).engine for c in on):
            mine = [c for c in on if executors.lookup(c.executor).engine == engine]
            out += _shape_advice(impl, str(engine), mine) + _overhead_advice(impl, mine)
    return out


def _shape_advice(impl: str, engine: str, mine: list[Cell]) -> list[str]:
    top = max(c.workers for c in mine)
    at_top = [c for c in mine if c.workers == top]
    t = next((c for c in at_top if not executors.lookup(c.executor).gil_per_worker), None)
    p = next((c for c in at_top if executors.lookup(c.executor).gil_per_worker), None)
    if t is None or p is None or not t.speedup or not p.speedup or top <= 1:
        return []
    t_lo, t_hi = t.speedup_ci95 or (t.speedup, t.speedup)
    p_lo, p_hi = p.speedup_ci95 or (p.speedup, p.speedup)
    wait = t.gil_wait.median_ms if t.gil_wait else None
    figures = (
        f"{top} worker processes ran {p.speedup:.2f}× as fast as serial, one worker with {top} threads "
        f"{t.speedup:.2f}×" + (f" (its threads' GIL wait: {wait:.1f} ms at the median)" if wait else "")
    )
    if p_lo > t_hi:
        return [f"For {impl} on {engine}, use nthreads=1 and {top} processes per machine: {figures}."]
    if t_lo > p_hi:
        return [f"For {impl} on {engine}, use one process with nthreads={top}: {figures}."]
    return [
        f"For {impl} on {engine}, threads do as well as processes here ({figures}, intervals overlapping): "
        f"one process with nthreads={top} shares memory and starts faster."
    ]


def _overhead_advice(impl: str, mine: list[Cell]) -> list[str]:
    over = [c for c in mine if c.task_overhead_s and c.timeline]
    if not over:
        return []
    c = max(over, key=lambda x: x.workers)
    task = sorted(s.end_s - s.start_s for s in c.timeline)[len(c.timeline) // 2]
    cost = c.task_overhead_s or 0.0
    share = cost / task if task > 0 else 0.0
    engine = executors.lookup(c.executor).engine
    return [
        f"{engine} adds {cost * 1e3:.1f} ms per task here (empty tasks, {c.executor}); a task of "
        f"{impl} took {task * 1e3:.0f} ms, so {engine}'s own cost is {share:.0%} of it"
        + ("; tasks this short are too small for the engine." if share > 0.1 else ".")
    ]
