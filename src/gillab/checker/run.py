"""The parent side of `gillab check`: run the child, survive its crash or hang, and read back its figures.

The child (gillab.checker.child) runs under this interpreter or another (`--python`); its figures come back
as JSON lines (gillab.childproc.run_spec) and are read into objects here, at the edge.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gillab.checker.child_spec import ChildSpec
from gillab.checker.interpreters import InterpreterScaling
from gillab.checker.measure import Measurement
from gillab.checker.safety import CRASHED, CRASHED_ALONE, HUNG, Safety, new_counts, read_counts
from gillab.checker.sweep import Sweep, SweepRow
from gillab.childproc import EXIT_BAD_INPUT, EXIT_RAISED, SpecRun, run_spec, signal_name
from gillab.codec import decode
from gillab.errors import CheckFailed, TargetError

CHILD = "gillab.checker.child"


@dataclass(frozen=True)
class Readiness:
    """On a free-threaded build: whether importing the target's module turned the GIL back on."""

    free_threaded_build: bool = False
    gil_before: bool = True
    gil_after: bool = True
    reenabled: bool = False
    warning: str = ""
    """CPython's RuntimeWarning, where it gave one."""


@dataclass(frozen=True)
class ChildFigures:
    """What the child sent back: a measurement or a sweep, and the readiness of the target's module."""

    measurement: Measurement | None
    sweep: Sweep | None
    readiness: Readiness | None
    interpreters: InterpreterScaling | None = None
    """With --executor interpreter: whether it loads in a subinterpreter, and how it scaled there."""
    safety: Safety | None = None
    """The safety trial's verdict, where it ran (gillab.checker.safety)."""


def run_check(
    target: str | None,
    setup: str | None,
    args: list[Any] | None,
    threads: list[int],
    duration_s: float,
    timeout_s: float,
    payload: bytes | None = None,
    python: str | None = None,
    label: str | None = None,
    sizes: list[int] | None = None,
    on_interpreters: bool = False,
    safety_s: float | None = None,
) -> ChildFigures:
    """Measure the target in a child process and return its figures.

    target names the callable ('module:attr' or 'file.py:attr'); or payload holds it, pickled with its
    arguments as (func, args, kwargs). python: the interpreter the child runs under (default: this one).
    on_interpreters: on subinterpreters instead of threads (the target by name only). safety_s: the safety
    trial's length (None: no trial); a crash or a hang once more than one thread calls it is its verdict, and
    the figures of one calling thread are kept. TargetError where it cannot be loaded, CheckFailed where it
    crashed alone, hung or raised.
    """
    name = label or target or "the callable"
    spec = ChildSpec(
        job="check",
        target=target,
        setup=setup,
        args=args,
        threads=tuple(threads),
        duration_s=duration_s,
        sizes=tuple(sizes) if sizes is not None else None,
        on_interpreters=on_interpreters,
    )
    files = {"pickle_path": payload} if payload is not None else {}
    trial = _TrialWatch(safety_s, timeout_s)
    with trial:
        ran = run_spec(
            CHILD,
            spec.to_json() | trial.spec(),
            f"the check of {name}",
            python=python,
            timeout_s=timeout_s,
            files=files,
            on_line=trial.on_line,
            env=child_env(python),
        )
    if ran.interrupted:
        raise KeyboardInterrupt
    serial = next((x for x in ran.lines if "serial" in x), None)
    if serial is not None and (
        ran.timed_out or (ran.returncode is not None and ran.returncode < 0)
    ):
        return _kept(serial, trial.ended(ran, timeout_s))
    measured = read_child_figures(_finished(ran, name, timeout_s))
    got = next((decode(Safety, x["safety"]) for x in ran.lines if "safety" in x), None)
    if got is not None and not got.safe and not got.gil and measured.measurement is not None:
        got = replace(got, with_gil=_with_gil(spec, files, python, safety_s, timeout_s, name))
    return replace(measured, safety=got)


def _finished(ran: SpecRun, name: str, timeout_s: float) -> dict[str, Any]:
    """The child's last line, where it finished its check; TargetError or CheckFailed, in words, where not."""
    if ran.timed_out:
        raise CheckFailed(
            f"{name} did not finish within --timeout {timeout_s:g} s: it hangs, or needs a longer timeout; the "
            "child process was killed"
        )
    if ran.returncode is not None and ran.returncode < 0:
        raise CheckFailed(
            f"{name} crashed the child process ({signal_name(ran.returncode)}) when called alone; gillab survived"
        )
    doc = ran.lines[-1] if ran.lines else {}
    if ran.returncode == EXIT_BAD_INPUT:
        raise TargetError(doc.get("error", "cannot load the target"))
    if ran.returncode == EXIT_RAISED:
        raise CheckFailed(f"{name} raised {doc.get('error', 'an exception')}")
    if ran.returncode != 0 or not doc:
        raise CheckFailed(
            ran.failure(f"the check of {name}", timeout_s) or f"the check of {name} wrote nothing"
        )
    return doc


def child_env(python: str | None) -> dict[str, str] | None:
    """The child's environment: under this very interpreter, this process's import path too (a callable
    imported from a folder it added, a test's say, imports there as well); under another, its own."""
    if python is not None:
        return None
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))


def _kept(serial: dict[str, Any], safety: Safety) -> ChildFigures:
    """What a child that crashed or hung once threads called it left: the figures of one calling thread."""
    return ChildFigures(
        decode(Measurement, serial["serial"]), None, _readiness(serial), safety=safety
    )


def _with_gil(
    spec: ChildSpec,
    files: dict[str, bytes],
    python: str | None,
    safety_s: float | None,
    timeout_s: float,
    name: str,
) -> Safety | None:
    """On a free-threaded build, where threads without the GIL were not safe: the same trial with the GIL on
    (PYTHON_GIL=1), in a child of its own: a callable that relied on the GIL for its locking is safe there."""
    return run_trial(
        spec,
        files,
        python,
        safety_s or 1.0,
        timeout_s,
        f"{name} with the GIL",
        dict(child_env(python) or os.environ, PYTHON_GIL="1"),
    )


def run_trial(
    spec: ChildSpec,
    files: dict[str, bytes],
    python: str | None,
    seconds: float,
    timeout_s: float,
    name: str,
    env: dict[str, str] | None = None,
) -> Safety | None:
    """The safety trial alone, in a child of its own (spec names the callable and its inputs, as a check's):
    its verdict, that of a crash or a hang included; None where it could not even start (the child says why in
    a line of its own, then: TargetError)."""
    trial = _TrialWatch(seconds, timeout_s)
    with trial:
        ran = run_spec(
            CHILD,
            spec.as_job("safety").to_json() | trial.spec(),
            f"the safety trial of {name}",
            python=python,
            timeout_s=timeout_s,
            files=files,
            on_line=trial.on_line,
            env=env or child_env(python),
        )
    if ran.interrupted:
        raise KeyboardInterrupt
    got = next((decode(Safety, x["safety"]) for x in ran.lines if "safety" in x), None)
    if got is not None:
        return got
    if trial.started:
        return trial.ended(ran, timeout_s)
    if ran.returncode is not None and ran.returncode < 0:
        return Safety(CRASHED_ALONE, signal=signal_name(ran.returncode))
    error = next((x["error"] for x in ran.lines if "error" in x), "")
    if ran.returncode == EXIT_BAD_INPUT:
        raise TargetError(error or "cannot load the target")
    raise CheckFailed(
        f"{name} raised {error}" if error else ran.failure(f"the safety trial of {name}", timeout_s)
    )


class _TrialWatch:
    """The parent's side of the safety trial: the counts file, the trial's own deadline, and its verdict where
    the child could not give it (it crashed, or hung)."""

    def __init__(self, seconds: float | None, timeout_s: float) -> None:
        self.seconds, self.timeout_s = seconds, timeout_s
        self.started: dict[str, Any] = {}
        self.counts: Path | None = None

    def __enter__(self) -> _TrialWatch:
        if self.seconds is not None:
            fd, name = tempfile.mkstemp(prefix="gillab-trial-")
            os.close(fd)
            self.counts = Path(name)
            new_counts(self.counts)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.counts is not None:
            self.counts.unlink(missing_ok=True)

    def spec(self) -> dict[str, Any]:
        if self.seconds is None:
            return {}
        return {"safety": {"seconds": self.seconds, "counts_path": str(self.counts)}}

    def on_line(self, line: dict[str, Any]) -> float | None:
        """The trial's start gives the child its deadline; its end gives back the check's own."""
        if "trial" in line:
            self.started = line["trial"]
            return float(line["trial"]["deadline_s"])
        return self.timeout_s if "safety" in line else None

    def ended(self, ran: SpecRun, timeout_s: float) -> Safety:
        """The verdict of a child that crashed or hung once threads called it."""
        calls = read_counts(self.counts) if self.counts is not None and self.counts.exists() else 0
        done = next((decode(Safety, x["safety"]) for x in ran.lines if "safety" in x), None)
        threads = tuple(self.started.get("threads", (2,)))
        alone = int(self.started.get("alone_calls", 0))
        gil = bool(self.started.get("gil", True)) if done is None else done.gil
        if done is not None:  # the trial found no fault; the scaling with more threads did
            calls, alone = done.calls, done.alone_calls
        if ran.timed_out:
            deadline = (
                float(self.started.get("deadline_s", timeout_s)) if done is None else timeout_s
            )
            return Safety(HUNG, threads, alone, calls, deadline_s=deadline, gil=gil)
        return Safety(
            CRASHED, threads, alone, calls, signal=signal_name(ran.returncode or 0), gil=gil
        )


def _readiness(doc: dict[str, Any]) -> Readiness | None:
    return decode(Readiness, doc["gil_import"]) if doc.get("gil_import") else None


def read_child_figures(doc: dict[str, Any]) -> ChildFigures:
    """The child's line, as objects."""
    readiness = _readiness(doc)
    if "interpreters" in doc:
        return ChildFigures(None, None, readiness, decode(InterpreterScaling, doc["interpreters"]))
    if "sweep" in doc:
        rows = tuple(decode(SweepRow, r) for r in doc["sweep"]["sizes"])
        return ChildFigures(None, Sweep(rows, doc["sweep"]["gil_enabled"]), readiness)
    return ChildFigures(decode(Measurement, doc["measurement"]), None, readiness)
