"""The single-thread cost of each free-threaded build against a GIL build, interleaved as cells are.

Each round runs every interpreter once, in an order shuffled by a seeded RNG, each in a child of its own
(gillab.harness.pythons.serial) timing every impl's task alone on one thread. A free-threaded build's cost is, per
round, its median wall over its GIL build's median wall in the same round; the figure is the median of those
ratios with a 95% bootstrap interval. A slow drift of the machine falls on both sides of every ratio alike.

Each free-threaded build is set against its own GIL build (the same minor version) where that was compared,
else against the newest GIL build compared, and the result says which.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gillab import stats
from gillab.childproc import run_spec

COST_ROUNDS = 9
"""Rounds of the single-thread cost, by default."""
REPS = 5
"""Calls each child times per impl and round (their median is the round's figure)."""
SAME_MINOR = "its own GIL build (the same minor version)"


def minor(version: str) -> tuple[int, int]:
    """(3, 14) of '3.14.7'."""
    major, minor_, *_ = version.split(".")
    return int(major), int(minor_)


@dataclass(frozen=True)
class Build:
    """One interpreter (and PYTHON_GIL setting) that the cost rounds run."""

    label: str
    """Its cells' interpreter label, e.g. '3.14.7t PYTHON_GIL=1'."""
    python: Path
    """The venv's python that runs it."""
    version: str
    free_threaded: bool
    env: dict[str, str]


@dataclass(frozen=True)
class SerialRounds:
    """One build's single-thread wall for one impl, round by round (the median of REPS calls each)."""

    label: str
    impl: str
    walls_s: tuple[float, ...]


@dataclass(frozen=True)
class SingleThreadCost:
    """A free-threaded build's single-thread wall over a GIL build's, for one impl at one size."""

    impl: str
    free_threaded: str
    gil_build: str
    paired_by: str
    """How the GIL build was chosen: SAME_MINOR, or the newest GIL build compared."""
    ratio: float
    """Median over rounds of (free-threaded wall / GIL-build wall) in the same round."""
    ci95: tuple[float, float]
    rounds: int
    free_threaded_s: float
    gil_build_s: float


def pair(ft: Build, gil_builds: Sequence[Build]) -> tuple[Build, str] | None:
    """The GIL build a free-threaded build is set against, and how it was chosen."""
    same = [b for b in gil_builds if minor(b.version) == minor(ft.version)]
    if same:
        return same[0], SAME_MINOR
    if not gil_builds:
        return None
    newest = max(
        gil_builds, key=lambda b: tuple(int(x) for x in b.version.split(".")[:3] if x.isdigit())
    )
    return (
        newest,
        f"the newest GIL build compared (no {'.'.join(map(str, minor(ft.version)))} GIL build was)",
    )


def run_rounds(
    builds: Sequence[Build],
    workload: str,
    sizes: dict[str, int],
    rounds: int = COST_ROUNDS,
    seed: int = 2026,
    progress: Callable[[str], None] = lambda m: None,
) -> tuple[list[SerialRounds], list[str]]:
    """Run the interleaved rounds; return each build's walls per impl, and the errors met (one line each)."""
    walls: dict[tuple[str, str], list[float]] = {}
    errors: dict[str, str] = {}
    spec = {"workload": workload, "impls": list(sizes), "sizes": sizes, "reps": REPS}
    for r in range(rounds):
        order = list(builds)
        random.Random(f"{seed}/cost/{r}").shuffle(order)
        progress(f"single-thread cost: round {r + 1} of {rounds}")
        for b in order:
            if b.label in errors:
                continue
            done = run_spec(
                "gillab.harness.pythons.serial",
                spec,
                f"{b.label}: single-thread cost",
                python=str(b.python),
                timeout_s=300,
                env=b.env,
            )
            if done.interrupted:
                raise KeyboardInterrupt
            why = done.failure(f"{b.label}: single-thread cost", 300)
            if why:
                errors[b.label] = why
                continue
            for line in done.lines:
                if "walls_s" in line:
                    walls.setdefault((b.label, line["impl"]), []).append(
                        stats.median(line["walls_s"])
                    )
                elif "error" in line:
                    errors.setdefault(
                        f"{b.label} {line['impl']}", f"{b.label}: {line['impl']}: {line['error']}"
                    )
    out = [SerialRounds(label, impl, tuple(w)) for (label, impl), w in walls.items()]
    return out, list(errors.values())


def costs(builds: Sequence[Build], rounds: Sequence[SerialRounds]) -> list[SingleThreadCost]:
    """Each free-threaded build's cost against its paired GIL build, per impl, from the same rounds."""
    by = {(s.label, s.impl): s.walls_s for s in rounds}
    gil_builds = [b for b in builds if not b.free_threaded]
    out = []
    for ft in (b for b in builds if b.free_threaded):
        paired = pair(ft, gil_builds)
        if paired is None:
            continue
        base, how = paired
        for impl in dict.fromkeys(s.impl for s in rounds):
            a, g = by.get((ft.label, impl)), by.get((base.label, impl))
            if not a or not g:
                continue
            n = min(len(a), len(g))  # a round that failed on one side drops out of both
            ratios = [x / y for x, y in zip(a[:n], g[:n], strict=True) if y > 0]
            if not ratios:
                continue
            ci = stats.bootstrap_ci(ratios)
            out.append(
                SingleThreadCost(
                    impl,
                    ft.label,
                    base.label,
                    how,
                    stats.median(ratios),
                    ci,
                    len(ratios),
                    stats.median(a),
                    stats.median(g),
                )
            )
    return out
