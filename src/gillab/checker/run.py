"""The parent side of `gillab check`: run the child, survive its crash or hang, and read back its figures.

The child (gillab.checker.child) runs under this interpreter or another (`--python`); its figures come back
as JSON lines (gillab.childproc.run_spec) and are read into objects here, at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gillab.checker.interpreters import InterpreterScaling
from gillab.checker.measure import Measurement
from gillab.checker.sweep import Sweep, SweepRow
from gillab.childproc import EXIT_BAD_INPUT, EXIT_RAISED, run_spec, signal_name
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
class Measured:
    """What the child sent back: a measurement or a sweep, and the readiness of the target's module."""

    measurement: Measurement | None
    sweep: Sweep | None
    readiness: Readiness | None
    interpreters: InterpreterScaling | None = None
    """With --executor interpreter: whether it loads in a subinterpreter, and how it scaled there."""


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
) -> Measured:
    """Measure the target in a child process and return its figures.

    target names the callable ('module:attr' or 'file.py:attr'); or payload holds it, pickled with its
    arguments as (func, args, kwargs). python: the interpreter the child runs under (default: this one).
    on_interpreters: on subinterpreters instead of threads (the target by name only).
    TargetError where it cannot be loaded, CheckFailed where it crashed, hung or raised.
    """
    name = label or target or "the callable"
    spec = {"job": "check", "target": target, "setup": setup, "args": args, "threads": threads,
            "duration_s": duration_s, "sizes": sizes, "on_interpreters": on_interpreters}  # fmt: skip
    files = {"pickle_path": payload} if payload is not None else {}
    ran = run_spec(CHILD, spec, f"the check of {name}", python=python, timeout_s=timeout_s, files=files)
    if ran.interrupted:
        raise KeyboardInterrupt
    if ran.timed_out:
        raise CheckFailed(
            f"{name} did not finish within --timeout {timeout_s:g} s: it hangs, or needs a longer timeout; the "
            "child process was killed"
        )
    if ran.returncode is not None and ran.returncode < 0:
        raise CheckFailed(f"{name} crashed the child process ({signal_name(ran.returncode)}); gillab survived")
    doc = ran.lines[-1] if ran.lines else {}
    if ran.returncode == EXIT_BAD_INPUT:
        raise TargetError(doc.get("error", "cannot load the target"))
    if ran.returncode == EXIT_RAISED:
        raise CheckFailed(f"{name} raised {doc.get('error', 'an exception')}")
    if ran.returncode != 0 or not doc:
        raise CheckFailed(ran.failure(f"the check of {name}", timeout_s) or f"the check of {name} wrote nothing")
    return read_measured(doc)


def read_measured(doc: dict[str, Any]) -> Measured:
    """The child's line, as objects."""
    readiness = decode(Readiness, doc["gil_import"]) if doc.get("gil_import") else None
    if "interpreters" in doc:
        return Measured(None, None, readiness, decode(InterpreterScaling, doc["interpreters"]))
    if "sweep" in doc:
        rows = tuple(decode(SweepRow, r) for r in doc["sweep"]["sizes"])
        return Measured(None, Sweep(rows, doc["sweep"]["gil_enabled"]), readiness)
    return Measured(decode(Measurement, doc["measurement"]), None, readiness)
