"""`gillab diff A B`: two runs' speedups side by side, cell by cell, with their intervals (as pyperf's
compare_to does for timings). Cells pair by workload, impl, executor and workers."""

from __future__ import annotations

from dataclasses import dataclass

from gillab.harness.results import TOO_UNSTEADY, Cell, RunResult
from gillab.outputs.columns import UNSTEADY

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
        """'no significant change' where the 95% intervals overlap, else which run is faster."""
        if self.a.speedup is None or self.b.speedup is None:
            return "not comparable: " + (self.a.reason or self.b.reason or "no speedup")
        if "speedup" in self.a.unsteady or "speedup" in self.b.unsteady:
            return f"not comparable: for {'A' if 'speedup' in self.a.unsteady else 'B'}, {TOO_UNSTEADY}"
        ca = self.a.speedup_ci95 or (self.a.speedup, self.a.speedup)
        cb = self.b.speedup_ci95 or (self.b.speedup, self.b.speedup)
        if ca[0] <= cb[1] and cb[0] <= ca[1]:
            text = "no significant change (the intervals overlap)"
        else:
            text = "B scales better" if self.b.speedup > self.a.speedup else "B scales worse"
        flags = [
            f"{name} noisy: {c.noise_reason}"
            for name, c in (("A", self.a), ("B", self.b))
            if c.noisy
        ]
        return text + ("; " + "; ".join(flags) if flags else "")


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
    return f"{c.speedup:.2f} [{c.speedup_ci95[0]:.2f}-{c.speedup_ci95[1]:.2f}]"


def lines(a: RunResult, b: RunResult) -> list[str]:
    """Return the diff as text lines: one per paired cell, then the unpaired ones."""
    both, only_a, only_b = pair(a, b)
    out = [f"{'cell':<36} {'A speedup [95%]':<20} {'B speedup [95%]':<20} {'B/A':>6}  verdict"]
    for ch in both:
        name = " ".join(str(x) for x in ch.key)
        ratio = f"{ch.ratio:.2f}" if ch.ratio is not None else "-"
        out.append(f"{name:<36} {_speedup(ch.a):<20} {_speedup(ch.b):<20} {ratio:>6}  {ch.verdict}")
    out += [f"only in A: {' '.join(str(x) for x in k)}" for k in only_a]
    out += [f"only in B: {' '.join(str(x) for x in k)}" for k in only_b]
    return out
