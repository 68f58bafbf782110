"""Run `gillab run` under each interpreter, in a venv of its own, and gather what they measured.

Compare's results.json has a schema of its own (COMPARE_SCHEMA_VERSION, ``"kind": "compare"``): each run
keeps its whole RunResult, with whether its interpreter is a free-threaded build as that interpreter
reports it (``sysconfig.get_config_var("Py_GIL_DISABLED")``).

Schema history:
- 1: first version of its own: config, runs (python, gil_forced, free_threaded, result), errors, slowdowns.
- 2: the single-thread cost measured in interleaved rounds of its own (gillab.harness.pythons.cost), with intervals:
  `single_thread` (each free-threaded build against its paired GIL build, per impl, and how they were
  paired) and `serial_rounds` (every build's wall per impl and round), in place of `slowdowns` (one ratio of
  two medians taken in separate runs); config gains `cost_rounds`. Files of schema 1 are still read (their
  single-thread figures are left out: they were not interleaved).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gillab.childproc import run_child
from gillab.codec import Displayable, decode, encode
from gillab.errors import ChildFailed, InterpreterError, ResultsError
from gillab.files import write_atomic
from gillab.harness import results
from gillab.harness.pythons.cost import (
    COST_ROUNDS,
    Build,
    SerialRounds,
    SingleThreadCost,
    costs,
    run_rounds,
)
from gillab.harness.results import Cell, RunResult
from gillab.interpreters import Interpreter, describe, venv_for

COMPARE_SCHEMA_VERSION = 2
READS = (1, 2)


@dataclass(frozen=True)
class Condition:
    """One interpreter, possibly with PYTHON_GIL forced on."""

    python: str
    free_threaded: bool
    gil_forced: bool = False

    def env(self) -> dict[str, str]:
        """Return the environment the run gets."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
        if self.gil_forced:
            env["PYTHON_GIL"] = "1"
        return env

    def label(self, info: Interpreter) -> str:
        """The label its cells carry (gillab.environment.interpreter_label, as the child will say it)."""
        base = info.version + ("t" if self.free_threaded else "")
        return f"{base} PYTHON_GIL=1" if self.gil_forced else base


def run_one(vpy: Path, cond: Condition, run_args: list[str], out: Path, log: Path) -> RunResult:
    """Run the matrix under one condition; return its result."""
    with log.open("a") as fh:
        try:
            proc = run_child(
                [vpy, "-m", "gillab", "run", *run_args, "--out", out, "--force"],
                f"{cond.python}: gillab run",
                env=cond.env(),
                log=fh,
                check=False,
            )
        except ChildFailed as exc:
            raise InterpreterError(str(exc)) from None
    try:
        return results.load(out / "results.json")
    except ResultsError as exc:
        raise InterpreterError(
            f"{cond.python}: gillab run failed (exit {proc.returncode}; see {log}): {exc}"
        ) from None


@dataclass(frozen=True)
class CompareRun:
    """The matrix under one interpreter (and PYTHON_GIL setting)."""

    python: str
    gil_forced: bool
    free_threaded: bool
    result: RunResult

    @property
    def label(self) -> str:
        """The interpreter label its cells carry, e.g. '3.13.5t PYTHON_GIL=1'."""
        return self.result.environment.interpreter

    def switches(self) -> str:
        """Say how often the GIL changed hands, per impl, in the cells on threads at the most workers."""
        threads = [
            c for c in self.result.cells if c.ok and c.kind.shares_gil and not c.kind.baseline
        ]
        if not threads:
            return ""
        top = max(c.workers for c in threads)
        seen = [c for c in threads if c.workers == top and c.gil is not None]
        several = len({c.executor for c in seen}) > 1
        rates = [
            f"{c.impl}{f' on {c.executor}' if several else ''} {c.gil.switches_per_s:.0f}"
            for c in seen
            if c.gil and c.gil.switches_per_s is not None
        ]
        if rates:
            return f"GIL switches per second on {top} threads: " + ", ".join(rates)
        notes = {c.gil.note for c in seen if c.gil and c.gil.note}
        return "GIL switches: " + "; ".join(sorted(notes)) if notes else ""


@dataclass(frozen=True)
class CompareResult(Displayable):
    """The same matrix under several interpreters."""

    pythons: tuple[str, ...]
    run_args: tuple[str, ...]
    sizes: str | None
    runs: tuple[CompareRun, ...] = ()
    errors: tuple[str, ...] = ()
    single_thread: tuple[SingleThreadCost, ...] = ()
    """Each free-threaded build's single-thread cost against its paired GIL build, per impl."""
    serial_rounds: tuple[SerialRounds, ...] = ()
    cost_rounds: int = COST_ROUNDS
    schema_version: int = COMPARE_SCHEMA_VERSION

    @property
    def cells(self) -> tuple[Cell, ...]:
        """Every run's cells, each labelled with its interpreter."""
        return tuple(c for r in self.runs for c in r.result.cells)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (schema_version and kind first)."""
        return {
            "schema_version": self.schema_version,
            "kind": "compare",
            "config": {
                "pythons": list(self.pythons),
                "run": list(self.run_args),
                "sizes": self.sizes,
                "cost_rounds": self.cost_rounds,
            },
            "runs": [
                {
                    "python": r.python,
                    "gil_forced": r.gil_forced,
                    "free_threaded": r.free_threaded,
                    "result": r.result.to_json(),
                }
                for r in self.runs
            ],
            "errors": list(self.errors),
            "single_thread": [encode(c) for c in self.single_thread],
            "serial_rounds": [encode(r) for r in self.serial_rounds],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompareResult:
        """Rebuild a comparison from its JSON form; ResultsError for another kind or version."""
        if data.get("kind") != "compare" or data.get("schema_version") not in READS:
            raise ResultsError(
                f"not a gillab compare result of schema_version {COMPARE_SCHEMA_VERSION}"
            )
        cfg = data["config"]
        return cls(
            pythons=tuple(cfg["pythons"]),
            run_args=tuple(cfg["run"]),
            sizes=cfg["sizes"],
            runs=tuple(
                CompareRun(
                    r["python"],
                    r["gil_forced"],
                    r["free_threaded"],
                    RunResult.from_json(r["result"]),
                )
                for r in data["runs"]
            ),
            errors=tuple(data["errors"]),
            single_thread=tuple(
                decode(SingleThreadCost, c, "single_thread") for c in data.get("single_thread", ())
            ),
            serial_rounds=tuple(
                decode(SerialRounds, r, "serial_rounds") for r in data.get("serial_rounds", ())
            ),
            cost_rounds=int(cfg.get("cost_rounds", COST_ROUNDS)),
        )


def is_compare(doc: dict[str, Any]) -> bool:
    """Return whether a results.json document is a comparison."""
    return doc.get("kind") == "compare"


def compare(
    pythons: list[str],
    run_args: list[str],
    sizes_flag: str | None,
    out: Path,
    progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
    cost_rounds: int = COST_ROUNDS,
    notes: Sequence[str] = (),
) -> CompareResult:
    """Run the matrix under each interpreter (and each free-threaded one again with PYTHON_GIL=1), then the
    single-thread cost of each free-threaded build in interleaved rounds (cost_rounds 0: none).

    notes: what the caller already knows went missing (an interpreter not built), kept with the errors."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "compare.log"
    log.write_text("")
    errors: list[str] = list(notes)
    conditions, venvs = _prepare(pythons, log, errors, progress)
    runs: list[CompareRun] = []
    for i, (cond, _) in enumerate(conditions):
        args = list(run_args)
        if sizes_flag:
            args += ["--size", sizes_flag]
        progress(f"running under {cond.python}{' with PYTHON_GIL=1' if cond.gil_forced else ''}")
        try:
            result = run_one(venvs[cond.python], cond, args, out / f"run{i}", log)
        except InterpreterError as exc:
            errors.append(str(exc))
            progress(f"failed: {exc}")
            continue
        if sizes_flag is None:
            # the first run's calibrated sizes serve every later run: equal work everywhere
            sizes_flag = ",".join(f"{k}={v}" for k, v in result.config.sizes.items())
        runs.append(CompareRun(cond.python, cond.gil_forced, cond.free_threaded, result))
    merged = CompareResult(
        tuple(pythons),
        tuple(run_args),
        sizes_flag,
        tuple(runs),
        tuple(errors),
        cost_rounds=cost_rounds,
    )
    save(merged, out)  # the matrix is kept before the cost rounds start
    if runs and cost_rounds > 0:
        merged = _with_costs(merged, conditions, venvs, cost_rounds, progress)
        save(merged, out)
    return merged


def _prepare(
    pythons: list[str], log: Path, errors: list[str], progress: Callable[[str], None]
) -> tuple[list[tuple[Condition, Interpreter]], dict[str, Path]]:
    """A venv for each interpreter, and the conditions to run under (each free-threaded one twice: without
    its GIL and with PYTHON_GIL=1); an interpreter that cannot be prepared is named in errors."""
    conditions: list[tuple[Condition, Interpreter]] = []
    venvs: dict[str, Path] = {}
    for python in pythons:
        try:
            info = describe(python)
            progress(f"preparing {python} ({info.version}{'t' if info.free_threaded else ''})")
            venvs[python] = venv_for(python, info, log)
        except InterpreterError as exc:
            errors.append(str(exc))
            progress(f"skipped: {exc}")
            continue
        conditions.append((Condition(python, info.free_threaded), info))
        if info.free_threaded:
            conditions.append((Condition(python, info.free_threaded, gil_forced=True), info))
    return conditions, venvs


def _with_costs(
    merged: CompareResult,
    conditions: list[tuple[Condition, Interpreter]],
    venvs: dict[str, Path],
    rounds: int,
    progress: Callable[[str], None],
) -> CompareResult:
    builds = [
        Build(cond.label(info), venvs[cond.python], info.version, info.free_threaded, cond.env())
        for cond, info in conditions
    ]
    if not any(b.free_threaded for b in builds) or all(b.free_threaded for b in builds):
        return merged  # nothing to set a free-threaded build against
    first = merged.runs[0].result
    serial, errors = run_rounds(
        builds, first.config.workload, dict(first.config.sizes), rounds, progress=progress
    )
    return replace(
        merged,
        single_thread=tuple(costs(builds, serial)),
        serial_rounds=tuple(serial),
        errors=merged.errors + tuple(errors),
    )


def save(merged: CompareResult, out: Path) -> None:
    """Write the comparison's results.json atomically."""
    write_atomic(out / "results.json", json.dumps(merged.to_json(), indent=1) + "\n")
