"""Is a callable safe to call from several threads at once? The safety trial: `gillab check`'s second verdict.

Releasing the GIL is exactly what lets two threads into an extension's C code at once, and on a free-threaded
build every function runs that way. So after the figures that need one calling thread (the GIL verdict, the
serial rate), the child process that checks a callable calls it from N threads at once (2 and the usable
cores), again and again for a bounded time, all released together from a barrier so that the calls overlap,
and compares every result with the one it returned alone. The calls that overlapped another thread's call
are counted from their spans, never assumed.

Each thread counts its finished calls in a file the parent maps too, so that a crash still says after how many
calls it came. The parent (gillab.checker.run) gives the trial a deadline of its own, from the trial's own
line: a trial that does not end by then hung, and the child is killed. The verdict is one of VERDICTS.
"""

from __future__ import annotations

import bisect
import enum
import functools
import mmap
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab import environment
from gillab.codec import omit_if_none
from gillab.workloads.target import comparable

DEFAULT_SAFETY_S = 1.0
"""How long the threads call it, in all (split between the thread counts)."""
GRACE_S = 5.0
"""The least time a trial may run past its length before it is called hung (more for slow calls)."""
SLOTS = 64
"""Threads whose calls the counts file has room for."""
SPANS = 20_000
"""The most calls per thread whose spans are kept to count the overlaps (the calls themselves go on)."""


class Verdict(enum.StrEnum):
    """The safety trial's verdict; in JSON, its value."""

    SAFE = "safe"
    DIFFER = "differ"
    CRASHED = "crashed-with-threads"
    CRASHED_ALONE = "crashed-alone"
    HUNG = "hung-with-threads"


SAFE, DIFFER, CRASHED = Verdict.SAFE, Verdict.DIFFER, Verdict.CRASHED
CRASHED_ALONE, HUNG = Verdict.CRASHED_ALONE, Verdict.HUNG
VERDICTS = tuple(Verdict)
UNSAFE = (DIFFER, CRASHED, HUNG)
"""The verdicts that say a callable is not safe in threads (gillab check's exit status EXIT_UNSAFE)."""
EXIT_UNSAFE = 3
"""`gillab check`'s exit status where the safety trial found the callable not safe in threads."""


@dataclass(frozen=True)
class Safety:
    """The safety trial's verdict and what it rests on."""

    verdict: Verdict
    threads: tuple[int, ...] = ()
    alone_calls: int = 0
    """Calls it made from one thread, before the trial, without a fault."""
    calls: int = 0
    """Calls finished by the threads at once."""
    overlapped: int = 0
    """Of those, the calls that overlapped another thread's call."""
    compared: bool = True
    note: str = ""
    """Why the results were not compared, or that they differ between calls even alone."""
    input: str = ""
    alone_value: str = ""
    threaded_value: str = ""
    signal: str = ""
    deadline_s: float | None = None
    gil: bool = True
    """Whether a GIL was on while the threads called it."""
    with_gil: Safety | None = omit_if_none()
    """On a free-threaded build, where it was not safe without the GIL: the same trial with PYTHON_GIL=1."""

    @property
    def safe(self) -> bool:
        """Safe as far as tried."""
        return self.verdict == SAFE

    def __bool__(self) -> bool:
        return self.safe

    def __repr__(self) -> str:
        return f"<Safety: {self.sentence}>"

    @property
    def sentence(self) -> str:
        """The verdict in words, with what it rests on."""
        threads = "/".join(map(str, self.threads)) or "2"
        gil = "" if self.gil else " (no GIL)"
        if self.verdict == SAFE:
            tail = (
                f"; {self.note}" if self.note else "; each result matched the one it returned alone"
            )
            said = (
                f"safe as far as tried: {threads} threads{gil} made {self.calls:,} calls at once, "
                f"{self.overlapped:,} of them overlapping another's{tail}"
            )
        elif self.verdict == DIFFER:
            said = (
                f"results differ: with {threads} threads{gil} it returned {self.threaded_value} where alone it "
                f"returned {self.alone_value} (input {self.input})"
                + (f"; {self.note}" if self.note else "")
            )
        elif self.verdict == CRASHED:
            when = f"after {self.calls:,} calls" if self.calls else "before any call returned"
            said = (
                f"crashed only with threads: {self.signal} {when} on {threads} threads{gil}; it ran alone "
                f"{self.alone_calls:,} times without a fault"
            )
        elif self.verdict == HUNG:
            said = (
                f"hung with threads: {threads} threads{gil} entered it and no call returned within "
                f"{self.deadline_s or 0:.1f} s (a deadlock?); the child was killed"
            )
        else:
            said = f"crashed alone: {self.signal}"
        if self.with_gil is not None and self.with_gil.safe and not self.safe:
            said += (
                f"; with the GIL on (PYTHON_GIL=1) it was safe ({self.with_gil.calls:,} calls at once): it relied on "
                "the GIL for its locking"
            )
        return said


def short(value: Any, limit: int = 60) -> str:
    """A value as a reader sees it, shortened.

    >>> short(list(range(100)), 20)
    '[0, 1, 2, 3, 4, 5, …'
    """
    try:
        text = repr(value)
    except Exception as exc:  # a repr that raises is the value's own business
        text = f"<{type(value).__name__}: repr raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def thread_counts(cores: int) -> tuple[int, ...]:
    """The thread counts tried: 2 and the usable cores.

    >>> thread_counts(1), thread_counts(2), thread_counts(16)
    ((2,), (2,), (2, 16))
    """
    return tuple(sorted({2, max(2, min(cores, SLOTS))}))


class _Counts:
    """Each thread's finished calls, in a file the parent reads after a crash (8 bytes a thread)."""

    def __init__(self, path: str | None) -> None:
        self.map: mmap.mmap | None = None
        if path:
            with Path(path).open("r+b") as fh:
                self.map = mmap.mmap(fh.fileno(), SLOTS * 8)

    def set(self, slot: int, n: int) -> None:
        if self.map is not None:
            struct.pack_into("q", self.map, 8 * slot, n)


def read_counts(path: Path) -> int:
    """The calls the threads finished, as the counts file says."""
    data = path.read_bytes()[: SLOTS * 8]
    return sum(struct.unpack_from("q", data, 8 * i)[0] for i in range(len(data) // 8))


def new_counts(path: Path) -> None:
    """Make an empty counts file at path."""
    path.write_bytes(b"\0" * (SLOTS * 8))


@dataclass
class _Seen:
    calls: int = 0
    first_bad: tuple[str, str] | None = None


def _threads(
    call: Callable[[], Any],
    want: Any,
    compare: bool,
    n: int,
    seconds: float,
    counts: _Counts,
    base: int,
) -> tuple[list[_Seen], list[list[tuple[int, int]]]]:
    """n threads released together, each calling for `seconds`; what each saw, and its calls' spans."""
    barrier = threading.Barrier(n)
    seen = [_Seen() for _ in range(n)]
    spans: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    failure: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            end = time.monotonic_ns() + int(seconds * 1e9)
            mine, keep = seen[i], spans[i]
            while time.monotonic_ns() < end:
                t0 = time.monotonic_ns()
                try:
                    got = call()
                except Exception as exc:  # raised only beside another thread: its results differ
                    mine.first_bad = (
                        f"raised {type(exc).__name__}: {short(str(exc), 50)}",
                        short(want),
                    )
                    break
                t1 = time.monotonic_ns()
                mine.calls += 1
                counts.set(base + i, mine.calls)
                if len(keep) < SPANS:
                    keep.append((t0, t1))
                if compare and mine.first_bad is None and not _same(got, want):
                    mine.first_bad = (short(got), short(want))
        except BaseException as exc:  # re-raised in the trial's thread
            failure.append(exc)

    pool = [
        threading.Thread(target=worker, args=(i,), daemon=True, name=f"gillab-trial-{i}")
        for i in range(n)
    ]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failure:
        raise failure[0]
    return seen, spans


def _same(got: Any, want: Any) -> bool:
    try:
        return bool(got == want)
    except Exception:  # an __eq__ that raises against another object: not the same
        return False


def overlapping(spans: Sequence[Sequence[tuple[int, int]]]) -> int:
    """How many calls overlapped a call of another thread (each thread's spans are in time order).

    >>> overlapping([[(0, 10), (20, 30)], [(5, 15)], [(40, 50)]])
    2
    """
    ends = [[e for _, e in mine] for mine in spans]
    count = 0
    for i, mine in enumerate(spans):
        for start, end in mine:
            for j, theirs in enumerate(spans):
                k = bisect.bisect_left(ends[j], start) if j != i else len(theirs)
                if k < len(theirs) and theirs[k][0] <= end:
                    count += 1
                    break
    return count


def threads_trial(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    alone_calls: int,
    seconds: float,
    counts_path: str | None,
    started: Callable[[dict[str, Any]], None],
) -> Safety:
    """Call func alone, then from 2 and the usable cores' threads at once for `seconds` in all, comparing each
    result with the one it returned alone; started(line) is called before the threads start (the parent's
    deadline), with the trial's deadline."""
    want, why_not, notes, slowest = _alone(func, args, kwargs)
    counts = thread_counts(environment.usable_cores())
    deadline = seconds + max(GRACE_S, 20 * slowest)
    gil = environment.gil_enabled()
    line = {"threads": list(counts), "deadline_s": deadline, "alone_calls": alone_calls + 3}
    started({"trial": line | {"gil": gil}})
    calls = overlapped = 0
    base, counted = 0, _Counts(counts_path)
    call = functools.partial(func, *args, **kwargs)
    for n in counts:
        seen, spans = _threads(call, want, not why_not, n, seconds / len(counts), counted, base)
        base += n
        calls += sum(s.calls for s in seen)
        overlapped += overlapping(spans)
        bad = next((s.first_bad for s in seen if s.first_bad is not None), None)
        if bad is not None:
            return Safety(
                verdict=DIFFER,
                threads=counts,
                alone_calls=alone_calls + 3,
                calls=calls,
                overlapped=overlapped,
                note="; ".join(notes),
                input=short((args, kwargs) if kwargs else args),
                alone_value=bad[1],
                threaded_value=bad[0],
                gil=gil,
                deadline_s=deadline,
            )
    return Safety(
        verdict=SAFE,
        threads=counts,
        alone_calls=alone_calls + 3,
        calls=calls,
        overlapped=overlapped,
        compared=not why_not,
        note="; ".join(notes),
        gil=gil,
        deadline_s=deadline,
    )


def _alone(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, str, list[str], float]:
    """Call func 3 times from one thread: the result to compare with, why it cannot be compared ("" where it
    can), the notes so far, and the slowest call's seconds."""
    alone, slowest = [], 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        alone.append(func(*args, **kwargs))
        slowest = max(slowest, time.perf_counter() - t0)
    want, why_not = alone[0], comparable(alone[0])
    notes = [why_not] if why_not else []
    if not why_not and not all(_same(x, want) for x in alone[1:]):
        notes.append("its results differ between calls even alone: they depend on state it keeps")
    return want, why_not, notes, slowest
