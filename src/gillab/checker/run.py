"""The parent side of `gillab check`: run the child, survive its crash or hang, and state a verdict."""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab.childproc import ChildFailed, last_line, run_child, signal_name

FREE = 0.8
"""GIL-free fraction at or above which a callable 'releases the GIL'."""
HELD = 0.3
"""GIL-free fraction below which a callable 'holds the GIL'."""
HOLDS_WAIT = 0.5
"""A GIL-wait median (one calling thread) of at least this share of the switch interval means the callable
holds the GIL while it runs; other threads then progress only between its calls."""
HELD_STATE = 0.9
"""Share of time the calling thread holds the GIL (read from the interpreter) at or above which it 'holds'."""
FREE_STATE = 0.2
"""Share at or below which the callable 'releases the GIL'; between the two, it releases it part of the time."""
SCALES = 0.8
"""Efficiency at the largest thread count (within the cores) at or above which threads 'speed it up'."""


class CheckFailed(Exception):  # noqa: N818 - reads as what happened
    """The callable crashed, hung or raised; the message is one line."""


class TargetError(Exception):
    """The target is not importable, not there, or not callable; the message is one line."""


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
) -> dict[str, Any]:
    """Measure the target in a child process and return its figures with a verdict.

    target names the callable ('module:attr' or 'file.py:attr'); or payload holds it, pickled with its
    arguments as (func, args, kwargs). python: the interpreter the child runs under (default: this one).
    """
    name = label or target or "the callable"
    with tempfile.TemporaryDirectory(prefix="gillab-check-") as tmp:
        spec_path = Path(tmp) / "spec.json"
        result_path = Path(tmp) / "result.json"
        pickle_path = None
        if payload is not None:
            pickle_path = Path(tmp) / "call.pickle"
            pickle_path.write_bytes(payload)
        spec_path.write_text(
            json.dumps(
                {
                    "target": target,
                    "setup": setup,
                    "args": args,
                    "threads": threads,
                    "duration_s": duration_s,
                    "result_path": str(result_path),
                    "pickle_path": str(pickle_path) if pickle_path else None,
                    "sizes": sizes,
                }
            )
        )
        try:
            proc = run_child(
                [python or sys.executable, "-m", "gillab.checker", str(spec_path)],
                f"the check of {name}",
                timeout_s=timeout_s,
                capture=False,
                check=False,
            )
        except ChildFailed as exc:
            if exc.returncode is not None and exc.returncode < 0:
                raise CheckFailed(
                    f"{name} crashed the child process ({signal_name(exc.returncode)}); gillab survived"
                ) from None
            if exc.timed_out:
                raise CheckFailed(
                    f"{name} did not finish within --timeout {timeout_s:g} s: it hangs, or needs "
                    "a longer timeout; the child process was killed"
                ) from None
            raise CheckFailed(str(exc)) from None
        data = json.loads(result_path.read_text()) if result_path.exists() else {}
    if proc.returncode == 3:
        raise TargetError(data.get("error", "cannot load the target"))
    if proc.returncode == 4:
        raise CheckFailed(f"{name} raised {data.get('error', 'an exception')}")
    if proc.returncode != 0 or not data:
        raise CheckFailed(f"the check of {name} failed (exit {proc.returncode}): {last_line(proc.stderr)}")
    data["target"] = name
    if sizes:
        data["verdict"] = data["threshold"]
        return data
    data["verdict"] = verdict(data)
    return data


@dataclass(frozen=True)
class Decision:
    """What the figures say of the GIL: the kind, the figure that decided it, and the sentence's head."""

    releases: str
    """"releases", "partly", "holds" or "no GIL" (a free-threaded interpreter running without one)."""
    decided_by: str
    head: str


def decide(data: dict[str, Any]) -> Decision:  # noqa: PLR0911 - one return per rule, in order
    """Return the decision, rule by rule in the order the docstring of :func:`verdict` gives."""
    f = data["gil_free_fraction"]
    first = data["scaling"][0] if data["scaling"] else None
    held_in_calls = first is not None and first["gil_wait"]["median_ms"] >= HOLDS_WAIT * data["switch_interval_ms"]
    during = data.get("progress_during_calls")
    held = (data.get("gil_held") or {}).get("fraction")
    if data.get("gil_enabled") is False:
        return Decision(
            "no GIL",
            "the interpreter",
            "runs without a GIL to release: this free-threaded interpreter has none, so threads never wait for it",
        )
    if held is not None and held >= HELD_STATE:
        return Decision(
            "holds",
            "GIL state",
            f"holds the GIL while it runs: the interpreter's own GIL state shows the calling thread holding it "
            f"{held:.0%} of the time while another thread waited (decided by the GIL state)",
        )
    if held is not None and held <= FREE_STATE:
        return Decision(
            "releases",
            "GIL state",
            f"releases the GIL: the calling thread held it only {held:.0%} of the time while another thread "
            "waited (decided by the GIL state)",
        )
    if held is not None:
        return Decision(
            "partly",
            "GIL state",
            f"releases the GIL part of the time: the calling thread held it {held:.0%} of the time while "
            "another thread waited (decided by the GIL state)",
        )
    if during and during["held_throughout"]:
        return Decision(
            "holds",
            "step count",
            f"holds the GIL while it runs: another thread made 0 steps during {during['calls']} calls "
            f"({during['window_s'] * 1e3:.0f} ms in all), and got {f:.0%} of its progress only between calls",
        )
    if f >= FREE:
        return Decision(
            "releases",
            "progress fraction",
            f"releases the GIL for about {f:.0%} of its run time (decided by the progress-based fraction)",
        )
    if held_in_calls and first is not None:
        return Decision(
            "holds",
            "GIL wait",
            f"holds the GIL while it runs: other threads got {f:.0%} of their progress, only between its calls "
            f"(a waiting thread waited {first['gil_wait']['median_ms']:.1f} ms for the GIL at the median)",
        )
    if f >= HELD:
        return Decision(
            "partly",
            "progress fraction",
            f"releases the GIL part of the time: other threads got {f:.0%} of their progress",
        )
    return Decision("holds", "progress fraction", f"holds the GIL: other threads got {f:.0%} of their progress")


def verdict(data: dict[str, Any]) -> str:
    """Return one sentence built from the measured figures (thresholds FREE, HELD and SCALES).

    The interpreter's own GIL state decides first, where it can be read (the calling thread's share of time
    holding the GIL while another thread waits: HELD_STATE and FREE_STATE). Then the exact count: when
    another thread made no step during any single call (switch interval raised, so only the callable's own
    release could let it in), the callable holds the GIL, whatever the progress-based fraction says; that
    fraction can be bent by other processes, the count and the GIL state cannot. Each verdict names the
    figure that decided it.
    """
    f = data["gil_free_fraction"]
    levels = [lv for lv in data["scaling"] if lv["speedup"] is not None]
    best = max((lv for lv in levels if lv["threads"] > 1), key=lambda lv: lv["threads"], default=None)
    head = decide(data).head
    disturbed = data.get("disturbed") or []
    if disturbed:
        worst = max(data["interference"][p]["others_cores"] or 0.0 for p in disturbed)
        head += (
            f" (figures disturbed: other processes took up to {worst:.1f} cores during the "
            f"{', '.join(disturbed)} phase{'s' if len(disturbed) > 1 else ''}, even when measured again)"
        )
    if best is None:
        return head
    scale = f"{best['threads']} threads do {best['speedup']:.1f}× the work of one"
    if best["efficiency"] >= SCALES:
        return f"{head}; {scale}"
    if f >= FREE:
        return (
            f"{head}, yet scales poorly: {scale} (efficiency {best['efficiency']:.2f}); something other than "
            "the GIL limits it, such as memory bandwidth or a lock of its own"
        )
    return f"{head}; {scale}: threads will not speed it up"
