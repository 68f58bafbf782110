"""A check's phases, each measured with what other processes took meanwhile, and measured again once where it
was disturbed, from one budget of waiting for a quiet machine that the whole check shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gillab.harness import interference


@dataclass(frozen=True)
class Phase:
    """What other processes took during one phase of a check, and whether it was measured again."""

    others_cores: float | None
    steal_cores: float | None
    resolution_cores: float | None
    disturbed: bool
    measured_again: bool


T = TypeVar("T")
QUIET_WAIT_S = 1.0
"""How long a check waits, in all its phases together, for a quiet machine to measure a disturbed phase again.
Each phase had 2 s of its own: beside a CPU-bound process that never stops, a check waited in every phase and
took 15.4-16.0 s on 2 cores; once the budget is spent, a disturbed phase is kept and flagged."""


def phase(name: str, run: Callable[[], T], record: dict[str, Phase], wait: list[float]) -> T:
    """Run one phase of the check, measuring what other processes took meanwhile; run a disturbed one again
    once, after waiting for a quiet machine from the check's budget (wait: the seconds left of it, updated),
    and record what was seen."""
    again = False
    while True:
        cpu0 = time.process_time()
        a = interference.snapshot()
        value = run()
        itf = interference.between(a, interference.snapshot(), time.process_time() - cpu0)
        if not itf.disturbed or again or wait[0] <= 0:
            break
        quiet, waited = interference.wait_for_quiet(wait[0])
        wait[0] -= waited
        if not quiet:
            break
        again = True
    record[name] = Phase(
        itf.others_cores, itf.steal_cores, itf.resolution_cores, itf.disturbed, again
    )
    return value
