"""Benchmarks of the matrix: one group per workload and executor, parametrised by impl and workers."""

from __future__ import annotations

from typing import Any

from gillab.harness.session import CellSession


def test_matrix(benchmark: Any, case: Any, session: CellSession, figures: Any, timed_rounds: dict[str, Any]) -> None:
    benchmark.group = case.group
    # Each timed call releases every task and checks every result against the python impl (CellError if wrong).
    benchmark.pedantic(session.run_once, **timed_rounds)
    benchmark.extra_info.update(figures())
    assert benchmark.extra_info["rounds"] == timed_rounds["rounds"]
