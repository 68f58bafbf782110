"""``gillab.check()``: does a callable release the GIL, and will threads help? The API under ``gillab check``
and the pytest fixture ``gil``.

A check runs the same measurements as the command (see :mod:`gillab.checker.measure`), by default in a
child process so that a crash in foreign code cannot take the caller down, and returns a frozen
:class:`CheckResult`.
"""

from __future__ import annotations

import enum
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gillab.checker.run import CheckFailed, TargetError, decide, run_check, verdict

DEFAULT_THREADS = (1, 2)
DEFAULT_DURATION_S = 0.5
"""Seconds per measured phase: a check takes about 3 s with the defaults."""
DEFAULT_TIMEOUT_S = 60.0

__all__ = ["CheckFailed", "CheckResult", "Releases", "TargetError", "ThreadLevel", "check", "check_target"]


class Releases(enum.Enum):
    """What a callable does with the GIL while it runs."""

    RELEASES = "releases"
    PARTLY = "partly"
    HOLDS = "holds"
    NO_GIL = "no GIL"
    """A free-threaded interpreter running without a GIL: there is none to hold."""


@dataclass(frozen=True)
class ThreadLevel:
    """Calls per second with `threads` threads calling at once, against one thread."""

    threads: int
    calls_per_s: float
    speedup: float | None
    efficiency: float | None
    cpu_utilization: float
    gil_wait_median_ms: float


@dataclass(frozen=True)
class CheckResult:
    """What one check measured, and the verdict built from it."""

    target: str
    verdict: str
    releases: Releases
    decided_by: str
    """The figure that decided: "GIL state", "step count", "progress fraction", "GIL wait" or "the interpreter"."""
    gil_free_fraction: float
    """Other threads' progress beside the callable, against their progress beside a GIL-free reference."""
    held_fraction: float | None
    """Share of its time inside calls that the calling thread held the GIL (the interpreter's own state)."""
    steps_during_calls: int | None
    """Another thread's steps while the callable ran, with no forced switches: 0 means it held the GIL."""
    scaling: tuple[ThreadLevel, ...]
    disturbed: tuple[str, ...]
    """The phases in which other processes took a core, even when measured again."""
    isolated: bool
    gil_import: Mapping[str, Any] = field(default_factory=dict)
    """On a free-threaded build: whether importing the target's module turned the GIL back on."""
    note: str = ""
    figures: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Every figure the check measured, as in check.json."""

    @property
    def noisy(self) -> bool:
        """True where other processes disturbed a phase: the verdict says so."""
        return bool(self.disturbed)

    def speedup(self, threads: int) -> float | None:
        """Return the speedup measured at that thread count, or None."""
        return next((lv.speedup for lv in self.scaling if lv.threads == threads), None)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form: every figure, the verdict and its kind."""
        return dict(self.figures) | {
            "target": self.target,
            "verdict": self.verdict,
            "releases": self.releases.value,
            "decided_by": self.decided_by,
            "isolated": self.isolated,
            "note": self.note,
        }

    @classmethod
    def from_figures(cls, data: dict[str, Any], isolated: bool, note: str = "") -> CheckResult:
        """Build the result from a check's figures (run_check's or measure's dict)."""
        d = decide(data)
        during = data.get("progress_during_calls") or {}
        return cls(
            target=data["target"],
            verdict=data.get("verdict") or verdict(data),
            releases=Releases(d.releases),
            decided_by=d.decided_by,
            gil_free_fraction=data["gil_free_fraction"],
            held_fraction=(data.get("gil_held") or {}).get("fraction"),
            steps_during_calls=during.get("steps"),
            scaling=tuple(
                ThreadLevel(
                    lv["threads"],
                    lv["calls_per_s"],
                    lv["speedup"],
                    lv["efficiency"],
                    lv["cpu_utilization"],
                    lv["gil_wait"]["median_ms"],
                )
                for lv in data["scaling"]
            ),
            disturbed=tuple(data.get("disturbed") or ()),
            isolated=isolated,
            gil_import=data.get("gil_import") or {},
            note=note,
            figures=data,
        )


def reference(func: Callable[..., Any]) -> str | None:
    """Return 'module:qualname' where importing it gives back this very object, else None."""
    import importlib

    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if obj is func else None


def name_of(func: Callable[..., Any]) -> str:
    """A readable name for a callable: module.qualname where it has them."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if qualname:
        return f"{module}.{qualname}" if module and module != "builtins" else qualname
    return repr(func)


def check(
    func: Callable[..., Any],
    *args: Any,
    threads: Sequence[int] = DEFAULT_THREADS,
    duration_s: float = DEFAULT_DURATION_S,
    isolate: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    **kwargs: Any,
) -> CheckResult:
    """Measure whether func(*args, **kwargs) releases the GIL, and how it scales with threads.

    isolate=True (the default) runs the check in a child process, as `gillab check` does: a crash or a hang
    in func is reported (CheckFailed), never suffered. func must then be importable by reference (a module's
    function or a class's method) or picklable, and so must its arguments; TargetError says so otherwise.
    isolate=False runs it in this process: anything can be checked, but a crash in func takes the caller
    with it. A func whose own keyword arguments are named threads, duration_s, isolate or timeout_s can be
    passed through functools.partial.
    """
    levels = [int(t) for t in threads]
    if not levels or min(levels) < 1:
        raise ValueError("threads must be one or more counts above 0")
    if not duration_s > 0:
        raise ValueError("duration_s must be above 0")
    name = name_of(func)
    if not isolate:
        from gillab.checker.measure import measure

        data = measure(func, args, kwargs, levels, duration_s)
        data["target"] = name
        data["verdict"] = verdict(data)
        return CheckResult.from_figures(data, isolated=False, note="in-process: a crash in it would take the caller")
    ref = reference(func)
    try:
        payload = pickle.dumps((None if ref else func, args, kwargs))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise TargetError(
            f"{name} or its arguments cannot be sent to a child process ({exc}); pass a module-level function "
            "and picklable arguments, or isolate=False to check it in this process (a crash would then take the "
            "caller with it)"
        ) from None
    data = run_check(ref, None, None, levels, duration_s, timeout_s, payload=payload, label=name)
    return CheckResult.from_figures(data, isolated=True)


def check_target(
    target: str,
    setup: str | None = None,
    args: list[Any] | None = None,
    threads: Sequence[int] = DEFAULT_THREADS,
    duration_s: float = DEFAULT_DURATION_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    python: str | None = None,
) -> CheckResult:
    """Check a callable named 'module:attr' or 'file.py:attr' in a child process (optionally under another
    interpreter), its inputs given by setup code or JSON-ready args: what `gillab check` runs."""
    data = run_check(target, setup, args, list(threads), duration_s, timeout_s, python=python)
    return CheckResult.from_figures(data, isolated=True)
