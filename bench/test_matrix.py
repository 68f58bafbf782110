"""Benchmarks of the matrix: one group per workload and executor, parametrised by impl and workers."""

from __future__ import annotations

from typing import Any

from gillab.harness.session import CellSession


def test_matrix(benchmark: Any, case: Any, session: CellSession, figures: Any, timed: Any) -> None:
    benchmark.group = case.group
    rounds = timed(session)
    # Each timed call releases every task and checks every result against the python impl (CellError if wrong).
    benchmark.pedantic(session.run_once, **rounds.kwargs())
    benchmark.extra_info.update(figures(rounds))
    assert benchmark.extra_info["rounds"] == rounds.kwargs()["rounds"]
