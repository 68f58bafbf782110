"""The sentences that help choose an executor: which shape to give an engine (threads sharing a worker's GIL,
or a process per worker) and what it costs per task, and the four answers to the GIL side by side."""

from __future__ import annotations

from collections.abc import Sequence

from gillab.harness.calibrate import ENGINE_SHARE
from gillab.harness.results import Cell, RunResult


def engine_advice(cells: Sequence[Cell]) -> list[str]:
    """Say, per impl and engine, which shape to use (threads sharing a worker's GIL, or a process per worker),
    from the engine's cells at the most workers, and what the engine itself costs per task against the task."""
    out = []
    for impl in dict.fromkeys(c.impl for c in cells):
        on = [c for c in cells if c.impl == impl and c.kind.engine]
        for engine in dict.fromkeys(c.kind.engine for c in on):
            mine = [c for c in on if c.kind.engine == engine]
            out += _shape_advice(impl, str(engine), mine) + _overhead_advice(impl, mine)
    return out


def _shape_advice(impl: str, engine: str, mine: list[Cell]) -> list[str]:
    top = max(c.workers for c in mine)
    at_top = [c for c in mine if c.workers == top]
    t = next((c for c in at_top if not c.kind.gil_per_worker), None)
    p = next((c for c in at_top if c.kind.gil_per_worker), None)
    if t is None or p is None or not t.speedup or not p.speedup or top <= 1:
        return []
    t_lo, t_hi = t.speedup_ci95 or (t.speedup, t.speedup)
    p_lo, p_hi = p.speedup_ci95 or (p.speedup, p.speedup)
    wait = t.gil_wait.median_ms if t.gil_wait else None
    figures = (
        f"{top} worker processes ran {p.speedup:.2f}× as fast as serial, one worker with {top} threads "
        f"{t.speedup:.2f}×"
        + (f" (its threads' GIL wait: {wait:.1f} ms at the median)" if wait else "")
    )
    if p_lo > t_hi:
        return [
            f"For {impl} on {engine}, use nthreads=1 and {top} processes per machine: {figures}."
        ]
    if t_lo > p_hi:
        return [f"For {impl} on {engine}, use one process with nthreads={top}: {figures}."]
    return [
        f"For {impl} on {engine}, threads do as well as processes here ({figures}, intervals overlapping): "
        f"one process with nthreads={top} shares memory and starts faster."
    ]


def engine_cost(c: Cell) -> tuple[float, float, float] | None:
    """An engine cell's own cost per task (its empty tasks), its median task's time, and the one's share of the
    other; None for a cell with no such figure."""
    if not c.task_overhead_s or not c.timeline:
        return None
    task = sorted(s.end_s - s.start_s for s in c.timeline)[len(c.timeline) // 2]
    return c.task_overhead_s, task, (c.task_overhead_s / task if task > 0 else 0.0)


def _overhead_advice(impl: str, mine: list[Cell]) -> list[str]:
    over = [c for c in mine if engine_cost(c) is not None]
    if not over:
        return []
    c = max(over, key=lambda x: x.workers)
    cost, task, share = engine_cost(c) or (0.0, 0.0, 0.0)
    engine = c.kind.engine
    return [
        f"{engine} adds {cost * 1e3:.1f} ms per task here (empty tasks, {c.executor}); a task of "
        f"{impl} took {task * 1e3:.0f} ms, so {engine}'s own cost is {share:.0%} of it"
        + ("; tasks this short are too small for the engine." if share > ENGINE_SHARE else ".")
    ]


def four_answers(result: RunResult) -> str:
    """One paragraph, from the figures of GIL-holding code at the most workers: how threads, processes,
    interpreters and the free-threaded build differ here (GILs, memory shared or copied, start-up, cores busy)."""
    held = [c for c in result.cells if c.ok and not c.releases_gil and not c.kind.baseline]
    if not held:
        return ""
    impl = held[0].impl
    mine = [c for c in result.cells if c.impl == impl]

    def top(kind: str) -> Cell | None:
        found = [c for c in mine if c.family == kind]
        ok = [c for c in found if c.ok]
        return max(ok, key=lambda c: c.workers) if ok else (found[0] if found else None)

    def said(c: Cell | None, what: str) -> str:
        if c is None:
            return ""
        if not c.ok:
            return f"{what}: not measured here ({c.reason})"
        took = c.startup_s
        start = (
            ""
            if took is None
            else f", start in {took * 1e3:.0f} ms"
            if took < 0.1
            else f", start in {took:.2f} s"
        )
        busy_ = f", and kept {c.parallelism:.2f} cores busy" if c.parallelism is not None else ""
        sent = (
            f" ({c.per_call.sent_bytes} bytes pickled per task and {c.per_call.returned_bytes} back, "
            f"{c.per_call.pickle_s * 1e6:.0f} µs)"
            if c.per_call
            else ""
        )
        return f"{what}{sent}{start}{busy_}"

    threads, procs, interps = top("threads"), top("processes"), top("interpreters")
    parts = [
        said(threads, "threads share one GIL and all memory"),
        said(procs, "processes have a GIL each and copy what they are sent"),
        said(interps, "interpreters have a GIL each inside this one process and share no objects"),
    ]
    env = result.environment
    if not env.gil_enabled:
        ft = "the free-threaded build has no GIL at all and shares memory as threads do: this interpreter is one"
    else:
        ft = (
            "the free-threaded build has no GIL at all and shares memory as threads do: this interpreter "
            + ("is one with its GIL on (PYTHON_GIL=1)" if env.free_threaded_build else "is not one")
            + "; gillab compare runs 3.14t beside it"
        )
    top_w = max((c.workers for c in (threads, procs, interps) if c is not None and c.ok), default=0)
    holds = "which holds the GIL" if env.gil_enabled else "which would hold a GIL on a GIL build"
    head = f"Four answers to the GIL, here ({impl}, {holds}, at {top_w} workers): "
    return head + "; ".join(p for p in (*parts, ft) if p) + "."
