"""``gillab.check()``: does a callable release the GIL, and will threads help? The API under ``gillab check``
and the pytest fixture ``gil``.

A check runs the same measurements as the command (see :mod:`gillab.checker.measure`), by default in a
child process so that a crash in foreign code cannot take the caller down, and returns a frozen
:class:`CheckResult`; a size sweep returns a :class:`SweepResult`.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gillab.callables import name_of, reference
from gillab.checker.child_spec import ChildSpec
from gillab.checker.interpreters import InterpreterScaling
from gillab.checker.measure import Measurement
from gillab.checker.run import Readiness, read_child_figures, run_check, run_trial
from gillab.checker.safety import DEFAULT_SAFETY_S, Safety
from gillab.checker.scaling import Level
from gillab.checker.sweep import Sweep
from gillab.checker.verdict import Releases, decide, verdict
from gillab.checker.where import profile_if
from gillab.checker.where.profile import Where
from gillab.codec import Displayable, Record, decode, encode, encode_fields
from gillab.errors import CheckFailed, TargetError

DEFAULT_THREADS = (1, 2)
DEFAULT_DURATION_S = 0.5
"""Seconds per measured phase: a check takes about 3 s with the defaults."""
DEFAULT_TIMEOUT_S = 60.0

ThreadLevel = Level
"""Calls per second with `threads` threads calling at once, against one thread."""

__all__ = [
    "CheckFailed",
    "CheckResult",
    "Releases",
    "Safety",
    "SweepResult",
    "TargetError",
    "ThreadLevel",
    "check",
    "check_target",
    "sweep_target",
    "thread_safe",
]


@dataclass(frozen=True)
class CheckResult(Displayable):
    """What one check measured, and the verdict built from it."""

    target: str
    measurement: Measurement = field(repr=False)
    """Every figure the check measured, as check.json holds them."""
    isolated: bool
    gil_import: Readiness | None = None
    """On a free-threaded build: whether importing the target's module turned the GIL back on."""
    note: str = ""
    safety: Safety | None = None
    """The safety trial's verdict (None where it did not run): is it safe to call from threads at once?"""
    where: Where | None = None
    """The line profile (None where none was asked for): which lines keep its threads from scaling."""

    @property
    def thread_safe(self) -> bool | None:
        """Whether the safety trial found it safe as far as tried (None where no trial ran)."""
        return None if self.safety is None else self.safety.safe

    @property
    def verdict(self) -> str:
        """The verdict in one sentence, built from the figures."""
        return verdict(self.measurement)

    @property
    def releases(self) -> Releases:
        """What the callable does with the GIL."""
        return decide(self.measurement).releases

    @property
    def decided_by(self) -> str:
        """The figure that decided: "GIL state", "step count", "progress fraction", "GIL wait" or "the interpreter"."""
        return decide(self.measurement).decided_by

    @property
    def gil_free_fraction(self) -> float:
        """Other threads' progress beside the callable, against their progress beside a GIL-free reference."""
        return self.measurement.gil_free_fraction

    @property
    def held_fraction(self) -> float | None:
        """Share of its time inside calls that the calling thread held the GIL (the interpreter's own state)."""
        return self.measurement.gil_held.fraction

    @property
    def steps_during_calls(self) -> int:
        """Another thread's steps while the callable ran, with no forced switches: 0 means it held the GIL."""
        return self.measurement.progress_during_calls.steps

    @property
    def scaling(self) -> tuple[Level, ...]:
        """Calls per second at each thread count, with speedup and efficiency."""
        return self.measurement.scaling

    @property
    def disturbed(self) -> tuple[str, ...]:
        """The phases in which other processes took a core, even when measured again."""
        return self.measurement.disturbed

    @property
    def noisy(self) -> bool:
        """True where other processes disturbed a phase: the verdict says so."""
        return bool(self.disturbed)

    def speedup(self, threads: int) -> float | None:
        """Return the speedup measured at that thread count, or None."""
        return next((lv.speedup for lv in self.scaling if lv.threads == threads), None)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: every figure, the verdict and its kind."""
        d = decide(self.measurement)
        return (
            encode_fields(self.measurement)
            | {
                "gil_import": encode(self.gil_import) if self.gil_import is not None else {},
                "target": self.target,
                "verdict": self.verdict,
                "releases": d.releases.value,
                "decided_by": d.decided_by,
                "isolated": self.isolated,
                "note": self.note,
            }
            | _safety_json(self.safety)
            | ({"where": encode(self.where)} if self.where is not None else {})
        )

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CheckResult:
        """Read a check's JSON (check.json) back."""
        derived = {
            "gil_import",
            "target",
            "verdict",
            "releases",
            "decided_by",
            "isolated",
            "note",
            "safety",
            "safety_verdict",
            "where",
        }
        figures = {
            k: v
            for k, v in doc.items()
            if k not in derived | {"schema_version", "lab", "environment"}
        }
        return cls(
            doc["target"],
            decode(Measurement, figures, "check"),
            doc.get("isolated", True),
            decode(Readiness, doc["gil_import"]) if doc.get("gil_import") else None,
            doc.get("note", ""),
            decode(Safety, doc["safety"]) if doc.get("safety") else None,
            decode(Where, doc["where"]) if doc.get("where") else None,
        )


def _safety_json(safety: Safety | None) -> dict[str, Any]:
    """The safety trial's figures and its verdict in words (nothing where no trial ran)."""
    return {} if safety is None else {"safety": encode(safety), "safety_verdict": safety.sentence}


@dataclass(frozen=True)
class SweepResult(Displayable):
    """A size sweep of one target: each size decided, and the size from which it lets go of the GIL."""

    target: str
    sweep: Sweep
    gil_import: Readiness | None = None

    @property
    def verdict(self) -> str:
        """The threshold in words."""
        return self.sweep.threshold

    def to_json(self) -> dict[str, Any]:
        """The sweep's JSON, as check.json holds it."""
        return self.sweep.to_json() | {
            "gil_import": encode(self.gil_import) if self.gil_import is not None else {},
            "target": self.target,
            "verdict": self.verdict,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SweepResult:
        """Read a sweep's JSON back."""
        m = read_child_figures({"sweep": doc, "gil_import": doc.get("gil_import")})
        assert m.sweep is not None
        return cls(doc["target"], m.sweep, m.readiness)


def check(
    func: Callable[..., Any],
    *args: Any,
    threads: Sequence[int] = DEFAULT_THREADS,
    duration_s: float = DEFAULT_DURATION_S,
    isolate: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    safety: bool = True,
    safety_s: float = DEFAULT_SAFETY_S,
    where: bool | None = False,
    **kwargs: Any,
) -> CheckResult:
    """Measure whether func(*args, **kwargs) releases the GIL, how it scales with threads, and whether it is safe
    to call from several threads at once (the safety trial; safety=False skips it). where=True adds the line
    profile (gillab.checker.where): which lines keep its threads from scaling, and what they share; None adds
    it where threads do not speed it up and a sampler can run (as `gillab check` and %gil_check do).

    isolate=True (the default) runs the check in a child process, as `gillab check` does: a crash or a hang
    in func alone is reported (CheckFailed), never suffered, and one only with threads is the safety trial's
    verdict, the figures of one calling thread kept. func must then be importable by reference (a module's
    function or a class's method) or picklable, and so must its arguments; TargetError says so otherwise.
    isolate=False runs it in this process: anything can be checked, but a crash in func takes the caller
    with it. A func whose own keyword arguments are named threads, duration_s, isolate, timeout_s, safety,
    safety_s or where can be passed through functools.partial.
    """
    levels = [int(t) for t in threads]
    if not levels or min(levels) < 1:
        raise ValueError("threads must be one or more counts above 0")
    if not duration_s > 0 or not safety_s > 0:
        raise ValueError("duration_s and safety_s must be above 0")
    name = name_of(func)
    if not isolate and where:
        raise ValueError(
            "where=True reads the callable's threads from outside: it needs isolate=True"
        )
    if not isolate:
        return _in_process(
            func, args, kwargs, levels, duration_s, safety_s if safety else None, name
        )
    return _isolated(
        func, args, kwargs, levels, duration_s, timeout_s, safety_s if safety else None, where, name
    )


def _isolated(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    levels: list[int],
    duration_s: float,
    timeout_s: float,
    safety_s: float | None,
    where: bool | None,
    name: str,
) -> CheckResult:
    """The check in a child process: the callable by reference where it has one, else pickled."""
    ref = reference(func)
    try:
        payload = pickle.dumps((None if ref else func, args, kwargs))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TargetError(
            f"{name} or its arguments cannot be sent to a child process ({exc}); pass a module-level function "
            "and picklable arguments, or isolate=False to check it in this process (a crash would then take the "
            "caller with it)"
        ) from None
    got = run_check(
        ref,
        None,
        None,
        levels,
        duration_s,
        timeout_s,
        payload=payload,
        label=name,
        safety_s=safety_s,
    )
    assert got.measurement is not None
    spec = ChildSpec(job="check", target=ref, threads=tuple(levels), duration_s=duration_s)
    profile = profile_if(spec, {"pickle_path": payload}, None, timeout_s, where, got, name)
    return CheckResult(
        name,
        got.measurement,
        isolated=True,
        gil_import=got.readiness,
        safety=got.safety,
        where=profile,
    )


def thread_safe(
    func: Callable[..., Any],
    *args: Any,
    safety_s: float = DEFAULT_SAFETY_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **kwargs: Any,
) -> Safety:
    """Call func(*args, **kwargs) alone, then from 2 and the usable cores' threads at once for safety_s, in a child
    process, and return the verdict (gillab.checker.safety): true where it is safe as far as tried, and in
    words otherwise (results differ, crashed only with threads, hung with threads, crashed alone).

    >>> import hashlib
    >>> bool(thread_safe(hashlib.sha256, b"x", safety_s=0.1))
    True
    """
    name = name_of(func)
    ref = reference(func)
    try:
        payload = pickle.dumps((None if ref else func, args, kwargs))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TargetError(
            f"{name} or its arguments cannot be sent to a child process ({exc})"
        ) from None
    spec = ChildSpec(job="safety", target=ref)
    got = run_trial(spec, {"pickle_path": payload}, None, safety_s, timeout_s, name)
    assert got is not None
    return got


def _in_process(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    levels: list[int],
    duration_s: float,
    safety_s: float | None,
    name: str,
) -> CheckResult:
    """isolate=False: the check, and its safety trial, in this process."""
    from gillab.checker.measure import measure
    from gillab.checker.safety import threads_trial

    found: list[Safety] = []

    def after_alone(so_far: Measurement) -> None:
        if safety_s is not None:
            calls = so_far.scaling[0].calls if so_far.scaling else 0
            found.append(threads_trial(func, args, kwargs, calls, safety_s, None, lambda _: None))

    m = measure(func, args, kwargs, levels, duration_s, after_alone)
    return CheckResult(
        name,
        m,
        isolated=False,
        note="in-process: a crash in it would take the caller",
        safety=found[0] if found else None,
    )


def check_target(
    target: str,
    setup: str | None = None,
    args: list[Any] | None = None,
    threads: Sequence[int] = DEFAULT_THREADS,
    duration_s: float = DEFAULT_DURATION_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
    safety_s: float | None = DEFAULT_SAFETY_S,
    where: bool | None = False,
) -> CheckResult:
    """Check a callable named 'module:attr' or 'file.py:attr' in a child process (optionally under another
    interpreter), its inputs given by setup code or JSON-ready args: what `gillab check` runs (safety_s None:
    no safety trial; where True: the line profile too; None: the line profile where threads do not speed it
    up and a sampler can read them, as the command does by default)."""
    got = run_check(
        target, setup, args, list(threads), duration_s, timeout_s, python=python, safety_s=safety_s
    )
    assert got.measurement is not None
    spec = ChildSpec("check", target, setup, args, tuple(threads), duration_s)
    return CheckResult(
        target,
        got.measurement,
        isolated=True,
        gil_import=got.readiness,
        safety=got.safety,
        where=profile_if(spec, {}, python, timeout_s, where, got, target),
    )


def sweep_target(
    target: str,
    setup: str,
    sizes: Sequence[int],
    args: list[Any] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
) -> SweepResult:
    """Decide, size by size, whether the named callable releases the GIL; setup puts each size at {n}."""
    got = run_check(
        target, setup, args, [1], DEFAULT_DURATION_S, timeout_s, python=python, sizes=list(sizes)
    )
    assert got.sweep is not None
    return SweepResult(target, got.sweep, got.readiness)


@dataclass(frozen=True)
class InterpreterCheck(Record):
    """`gillab check --executor interpreter`: the target, whether it loads in a subinterpreter, how it scaled."""

    target: str
    interpreters: InterpreterScaling


def interpreter_target(
    target: str,
    setup: str | None = None,
    args: list[Any] | None = None,
    workers: Sequence[int] = DEFAULT_THREADS,
    duration_s: float = DEFAULT_DURATION_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
) -> InterpreterCheck:
    """Does the named callable load in a subinterpreter, and how does it scale on `workers` of them?"""
    got = run_check(
        target,
        setup,
        args,
        list(workers),
        duration_s,
        timeout_s,
        python=python,
        on_interpreters=True,
    )
    assert got.interpreters is not None
    return InterpreterCheck(target, got.interpreters)
