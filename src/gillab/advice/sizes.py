"""Input-size break-even: from which size do processes or interpreters pay for sending their inputs?

`gillab advise T --setup "data = bytes({n})" --sizes 1024,65536,...` advises at each size (the --setup with
{n} replaced), and says, from the figures at the most workers, the smallest size from which processes (or
interpreters) beat threads beyond their intervals, and that threads are as good or better below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gillab.advice.model import Advice, Option


@dataclass(frozen=True)
class AtSize:
    """The advice at one input size."""

    size: int
    advice: Advice


def _top(advice: Advice, family: str) -> Option | None:
    here = [
        o
        for o in advice.options
        if o.ok and o.family == family and o.interpreter == advice.interpreter
    ]
    return max(here, key=lambda o: o.workers) if here else None


def _beats(a: Option | None, b: Option | None) -> bool:
    """a's interval lies wholly above b's."""
    if a is None or b is None or a.ci95 is None or b.ci95 is None:
        return False
    return a.ci95[0] > b.ci95[1]


def break_even(sizes: Sequence[AtSize]) -> list[str]:
    """One sentence per kind of worker that copies its inputs (processes, interpreters): at which sizes it beat
    threads beyond the intervals, and at which threads did as well or better; where the sizes split in two, the
    break-even between them."""
    out = []
    for family in ("processes", "interpreters"):
        measured = sorted(s.size for s in sizes if _top(s.advice, family) is not None)
        if not measured:
            continue
        wins = {s.size for s in sizes if _beats(_top(s.advice, family), _top(s.advice, "threads"))}
        rest = [n for n in measured if n not in wins]
        name = family.capitalize()
        if not wins:
            out.append(
                f"{name} beat threads at no size measured ({', '.join(map(str, measured))})."
            )
        elif not rest:
            out.append(
                f"{name} beat threads at every size measured ({', '.join(map(str, measured))})."
            )
        elif max(rest) < min(wins):
            out.append(
                f"{name} pay for sending their inputs from size {min(wins)} up; up to {max(rest)} threads do "
                "as well or better."
            )
        elif max(wins) < min(rest):
            out.append(
                f"{name} beat threads up to size {max(wins)}; from {min(rest)} up threads do as well or "
                "better (the callable lets go of the GIL there, or sending the input costs more)."
            )
        else:
            out.append(
                f"{name} beat threads at sizes {', '.join(map(str, sorted(wins)))}; threads do as well or "
                f"better at {', '.join(map(str, rest))}."
            )
    return out
