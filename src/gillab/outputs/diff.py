"""`gillab diff A B`: two runs' speedups side by side, cell by cell, with their intervals (as pyperf's
compare_to does for timings). Cells pair by workload, impl, executor and workers."""

from __future__ import annotations

from dataclasses import dataclass

from gillab.harness.results import TOO_UNSTEADY, Cell, RunResult
from gillab.outputs.columns import UNSTEADY
from gillab.present.view import Doubt, Table, View, interval

Key = tuple[str, str, str, int]


def key(c: Cell) -> Key:
    """The cell's place in a matrix: workload, impl, executor, workers."""
    return (c.workload, c.impl, c.executor, c.workers)


@dataclass(frozen=True)
class Change:
    """One cell in both runs."""

    key: Key
    a: Cell
    b: Cell

    @property
    def ratio(self) -> float | None:
        """B's speedup ÷ A's (None where either cannot be true of the code)."""
        if (
            not self.a.speedup
            or self.b.speedup is None
            or "speedup" in (*self.a.unsteady, *self.b.unsteady)
        ):
            return None
        return self.b.speedup / self.a.speedup

    @property
    def verdict(self) -> str:
        """'no significant change' where the 95% intervals overlap, else which run scales better; "not
        comparable" where either has no speedup that is a figure of the code."""
        if self.a.speedup is None or self.b.speedup is None:
            return "not comparable"
        if "speedup" in self.a.unsteady or "speedup" in self.b.unsteady:
            return "not comparable"
        ca = self.a.speedup_ci95 or (self.a.speedup, self.a.speedup)
        cb = self.b.speedup_ci95 or (self.b.speedup, self.b.speedup)
        if ca[0] <= cb[1] and cb[0] <= ca[1]:
            return "no significant change"
        return "B scales better" if self.b.speedup > self.a.speedup else "B scales worse"

    @property
    def why_not(self) -> str:
        """Why the pair is not comparable ("" where it is)."""
        if self.a.speedup is None or self.b.speedup is None:
            return self.a.reason or self.b.reason or "no speedup"
        if "speedup" in self.a.unsteady or "speedup" in self.b.unsteady:
            return f"for {'A' if 'speedup' in self.a.unsteady else 'B'}, {TOO_UNSTEADY}"
        return ""

    @property
    def noise(self) -> str:
        """Each run's noise in this cell, in words ("" where neither is noisy)."""
        said = [
            f"{n} noisy: {c.noise_reason}" for n, c in (("A", self.a), ("B", self.b)) if c.noisy
        ]
        return "; ".join(said)


def pair(a: RunResult, b: RunResult) -> tuple[list[Change], list[Key], list[Key]]:
    """Return the cells in both runs (in A's order), and the keys found only in A, and only in B."""
    in_b = {key(c): c for c in b.cells}
    in_a = {key(c): c for c in a.cells}
    both = [Change(k, c, in_b[k]) for k, c in in_a.items() if k in in_b]
    return both, [k for k in in_a if k not in in_b], [k for k in in_b if k not in in_a]


def _speedup(c: Cell) -> str:
    if c.speedup is None:
        return f"- ({c.status})"
    if "speedup" in c.unsteady:
        return UNSTEADY
    if c.speedup_ci95 is None:
        return f"{c.speedup:.2f}"
    return f"{c.speedup:.2f} {interval(*c.speedup_ci95)}"


COLUMNS = ("cell", "A speedup [95%]", "B speedup [95%]", "B/A", "verdict")


def view(a: RunResult, b: RunResult) -> View:
    """The diff: how many cells changed beyond their intervals, then one row per paired cell (a doubt
    marked, its reason under --detail), then the cells in one run only."""
    both, only_a, only_b = pair(a, b)
    rows = []
    for ch in both:
        ratio = f"{ch.ratio:.2f}" if ch.ratio is not None else "-"
        rows.append((_name(ch.key), _speedup(ch.a), _speedup(ch.b), ratio, ch.verdict))
    said = {
        v: sum(1 for ch in both if ch.verdict == v)
        for v in dict.fromkeys(ch.verdict for ch in both)
    }
    lesson = (
        f"Of {len(both)} cells in both runs: "
        + ", ".join(f"{n} {v}" for v, n in said.items())
        + "."
    )
    noisy = [ch for ch in both if ch.noise and not ch.why_not]
    return View(
        "gillab diff",
        lesson=(lesson,),
        tables=(Table(COLUMNS, tuple(rows), tuple(ch in noisy for ch in both), align="lllrl"),),
        notes=(
            *(f"{_name(ch.key)}: not comparable: {ch.why_not}" for ch in both if ch.why_not),
            *(f"only in A: {_name(k)}" for k in only_a),
            *(f"only in B: {_name(k)}" for k in only_b),
        ),
        doubts=tuple(Doubt(_name(ch.key), ch.noise) for ch in noisy),
    )


def _name(k: Key) -> str:
    return " ".join(str(x) for x in k)
