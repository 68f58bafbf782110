"""What a comparison says, in sentences built from its figures: the single-thread cost of each free-threaded
build, what changed from one free-threaded build to the next, and interpreters beside threads on each build."""

from __future__ import annotations

from gillab.harness.diagnosis import causes
from gillab.harness.pythons.cost import SingleThreadCost, minor
from gillab.harness.pythons.run import CompareResult
from gillab.harness.results import TOO_UNSTEADY, Cell
from gillab.outputs import findings
from gillab.present.view import interval


def cost_line(c: SingleThreadCost) -> str:
    """One free-threaded build's single-thread cost, with its interval and how its GIL build was chosen."""
    return (
        f"{c.impl} on one thread: {c.free_threaded} took {c.ratio:.2f}× {interval(*c.ci95)} as long "
        f"as {c.gil_build}, {c.paired_by} ({c.free_threaded_s * 1e3:.1f} against {c.gil_build_s * 1e3:.1f} ms a "
        f"task, median of {c.rounds} interleaved rounds)"
    )


def _top(cells: list[Cell], impl: str, kind: str) -> Cell | None:
    """The impl's measured cell of that family of executors (gillab.harness.executors.family) at most workers."""
    mine = [c for c in cells if c.ok and c.impl == impl and c.family == kind]
    return max(mine, key=lambda c: c.workers) if mine else None


def _speedup(c: Cell | None) -> str:
    if c is None or c.speedup is None:
        return "-"
    if "speedup" in c.unsteady:
        return f"(its speedup: {TOO_UNSTEADY})"
    ci = f" {interval(*c.speedup_ci95)}" if c.speedup_ci95 else ""
    return f"{c.speedup:.2f}×{ci}"


def changes(merged: CompareResult) -> list[str]:
    """What changed between free-threaded builds of different minor versions (3.13t to 3.14t), from the figures:
    their single-thread cost and how their Python threads scaled."""
    plain = [c for c in merged.single_thread if "PYTHON_GIL" not in c.free_threaded]
    builds = sorted(
        {c.free_threaded for c in plain}, key=lambda label: minor(label.rstrip("t").split()[0])
    )
    if len(builds) < 2:
        return []
    old, new = builds[0], builds[-1]
    out = []
    for impl in dict.fromkeys(c.impl for c in plain):
        a = next((c for c in plain if c.impl == impl and c.free_threaded == old), None)
        b = next((c for c in plain if c.impl == impl and c.free_threaded == new), None)
        if a is None or b is None:
            continue
        run_cells = {r.label: list(r.result.cells) for r in merged.runs}
        ta, tb = (
            _top(run_cells.get(old, []), impl, "threads"),
            _top(run_cells.get(new, []), impl, "threads"),
        )
        threads = (
            f"; on {tb.workers} threads it ran {_speedup(ta)} as fast as serial on {old} and {_speedup(tb)} on {new}"
            if ta is not None and tb is not None and ta.workers == tb.workers
            else ""
        )
        out.append(
            f"From {old} to {new}, {impl}'s single-thread cost of free threading went from {a.ratio:.2f}× "
            f"{interval(*a.ci95)} (against {a.gil_build}) to {b.ratio:.2f}× "
            f"{interval(*b.ci95)} (against {b.gil_build}){threads}."
        )
    return out


def beside_threads(merged: CompareResult) -> list[str]:
    """Per build, interpreters beside threads at the most workers: the cores each kept busy, or why the build
    has no interpreter cells."""
    out = []
    for r in merged.runs:
        cells = list(r.result.cells)
        skipped = next((c for c in cells if c.family == "interpreters" and not c.ok), None)
        parts = []
        for impl in dict.fromkeys(c.impl for c in cells):
            i, t = _top(cells, impl, "interpreters"), _top(cells, impl, "threads")
            if i is None or t is None or i.parallelism is None or t.parallelism is None:
                continue
            parts.append(
                f"{impl} kept {i.parallelism:.2f} cores busy on {i.workers} interpreters and {t.parallelism:.2f} "
                f"on {t.workers} threads"
            )
        if parts:
            out.append(f"{r.label}: " + "; ".join(parts) + ".")
        elif skipped is not None and not any(c.family == "interpreters" and c.ok for c in cells):
            out.append(f"{r.label}: no interpreter cells ({skipped.reason}).")
    return out


def held_back(merged: CompareResult) -> list[str]:
    """Per interpreter, what held back threads that no GIL held back (gillab.harness.diagnosis), where it names
    a cause: without the GIL, what still serialises them."""
    out = []
    for r in merged.runs:
        out += [f"{r.label}: {line}" for line in causes.lesson(list(r.result.cells))]
    return out


def lessons(merged: CompareResult) -> list[str]:
    """Per interpreter, its run's lesson (gillab.outputs.findings.lesson): what took turns, what ran at once,
    and what held back threads that no GIL held back."""
    return [f"{r.label}: {line}" for r in merged.runs for line in findings.lesson(r.result)]


def lines(merged: CompareResult) -> list[str]:
    """Everything the comparison says, in the order the report and the terminal give it."""
    got = [cost_line(c) for c in merged.single_thread]
    return lessons(merged) + got + changes(merged) + beside_threads(merged)
