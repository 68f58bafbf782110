"""The measurement itself, run inside a child process so that foreign code cannot take the lab down.

GIL-free fraction: a pure-Python "progress" thread counts loop iterations per second while the callable
runs again and again in another thread. Its rate is divided by its rate beside a reference competitor
that is known to hold no GIL (gillab's cython-nogil fib), so the figure means the same on 1 core
(where any competitor takes half the CPU) as on many. About 1.0: the callable lets Python run freely;
near 0: it holds the GIL.

Progress during calls (exact, and immune to load): with the switch interval set far longer than any call,
no thread is ever forced off the GIL, so a callable that holds the GIL throughout lets the other thread
make exactly zero steps during each call, on any machine under any load. A callable that releases it lets
the other thread step. The steps are counted, never timed; see :func:`progress_during_calls`.

Scaling: calls completed per second with 1, 2, ... threads calling it at once.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from gillab import _native, environment
from gillab.checker.phases import QUIET_WAIT_S, Phase
from gillab.checker.phases import phase as _phase
from gillab.checker.scaling import Level, scaling, speedups, without_gil
from gillab.codec import omit_if_none
from gillab.harness import gilstate, interference
from gillab.harness.results import Diagnosis


def progress_rate(duration_s: float, competitor: Callable[[threading.Event], None] | None) -> float:
    """Return the progress thread's loop iterations per second, beside an optional competitor thread."""
    stop = threading.Event()
    other = None
    if competitor is not None:
        other = threading.Thread(target=competitor, args=(stop,), daemon=True)
        other.start()
        time.sleep(0.02)
    count = 0
    t0 = time.perf_counter()
    end = t0 + duration_s
    while True:
        for _ in range(1000):
            count += 1
        if time.perf_counter() >= end:
            break
    rate = count / (time.perf_counter() - t0)
    stop.set()
    if other is not None:
        other.join()
    return rate


NO_FORCED_SWITCH_S = 1000.0
"""The switch interval while progress during calls is counted: no call here lasts that long, so no thread
is forced to drop the GIL and only a voluntary release (what is being tested) lets another thread run."""


@dataclass(frozen=True)
class CallProgress:
    """What another thread did while one thread was inside single calls of the callable."""

    calls: int
    calls_with_progress: int
    """Calls during which the other thread made at least one step."""
    steps: int
    """The other thread's steps, summed over the calls (each read on either side of one call)."""
    window_s: float
    """How long the calls ran in all; a window of several scheduler slices lets the OS run the stepper."""
    held_throughout: bool = field(init=False)
    """True when no step was made during any call: the callable kept the GIL from entry to return."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "held_throughout", self.calls > 0 and self.steps == 0)


def progress_during_calls(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    min_window_s: float = 0.2,
    max_calls: int = 1000,
) -> CallProgress:
    """Count the main thread's steps while a worker thread is inside single calls of func (exact, not timed).

    The switch interval is raised to NO_FORCED_SWITCH_S, so the worker keeps the GIL from reading the
    counter before a call to reading it after, unless the call itself releases it. The main thread steps
    and then sleeps for a moment, which hands the GIL back to a worker that wants it. Calls go on until
    min_window_s has passed (at least one call, at most max_calls), so that a loaded OS has time to
    schedule the stepping thread.
    """
    counter = [0]
    per_call: list[int] = []
    done = threading.Event()
    failure: list[BaseException] = []

    def worker() -> None:
        try:
            end = time.perf_counter() + min_window_s
            while len(per_call) < max_calls:
                before = counter[0]
                func(*args, **kwargs)
                per_call.append(counter[0] - before)
                if time.perf_counter() >= end:
                    break
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)
        finally:
            done.set()

    t0 = time.perf_counter()
    with environment.switch_interval(NO_FORCED_SWITCH_S):
        t = threading.Thread(target=worker, name="gillab-calls", daemon=True)
        t.start()
        while not done.is_set():
            counter[0] += 1
            time.sleep(1e-6)  # releases the GIL: a worker back from a release takes it here
        t.join()
    if failure:
        raise failure[0]
    return CallProgress(
        len(per_call), sum(1 for n in per_call if n > 0), sum(per_call), time.perf_counter() - t0
    )


@dataclass(frozen=True)
class HeldShare:
    """The calling thread's share of its time inside calls holding the GIL (the interpreter's own state)."""

    fraction: float | None
    """None where the GIL state cannot be read here; note says why."""
    inside_calls: float | None = None
    """The share of the sampled time that fell inside calls."""
    calls: int | None = None
    switches_per_s: float | None = None
    note: str = ""


class _Caller:
    """A thread that calls func again and again for `seconds` once told to go, stamping each call's span."""

    def __init__(
        self,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        seconds: float,
    ):
        self.func, self.args, self.kwargs, self.seconds = func, args, kwargs, seconds
        self.lane: list[gilstate.Lane] = []
        self.ready, self.go = threading.Event(), threading.Event()
        self.calls: list[tuple[int, int]] = []
        self.failure: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.lane.append(gilstate.this_thread("caller"))
        self.ready.set()
        self.go.wait()
        now = time.monotonic_ns
        # The caller ends by itself: while it holds the GIL, no other thread could tell it to stop.
        deadline = now() + int(self.seconds * 1e9)
        try:
            while now() < deadline:
                t0 = now()
                self.func(*self.args, **self.kwargs)
                self.calls.append((t0, now()))
        except BaseException as exc:  # re-raised in the checking thread
            self.failure.append(exc)


def held_while_calling(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float
) -> HeldShare:
    """Return the share of its time inside calls that the calling thread held the GIL, while it called func
    again and again, read from the interpreter's own GIL state (gillab.harness.gilstate), with a Python
    thread waiting beside it so that a released GIL is taken. Only the time inside calls counts: between
    calls the waiting thread takes its turn whatever the callable does. The fraction is None, and the note
    says why, where it cannot be read."""
    caller = _Caller(func, args, kwargs, seconds)
    stop = threading.Event()

    def waiter() -> None:  # takes the GIL whenever the caller lets go, and hands it back at once
        while not stop.is_set():
            time.sleep(1e-6)

    w = threading.Thread(target=waiter, daemon=True)
    caller.thread.start()
    caller.ready.wait()
    sampler = gilstate.GilSampler(caller.lane)
    if sampler.note:
        caller.go.set()
        caller.thread.join()
        return HeldShare(None, note=sampler.note)
    # No forced switches (as for progress during calls): the caller keeps the GIL from stamping a call's
    # start to stamping its end unless the callable itself lets go of it.
    with environment.switch_interval(NO_FORCED_SWITCH_S):
        w.start()
        t0 = time.monotonic_ns()
        sampler.start()
        caller.go.set()
        caller.thread.join()
        t1 = time.monotonic_ns()
        stop.set()
        w.join()
    if caller.failure:
        raise caller.failure[0]
    seen = sampler.stop({caller.lane[0][1]: caller.calls}, t0, t1)
    if not seen.available or not seen.per_thread:
        return HeldShare(None, note=seen.note)
    share = seen.per_thread[0]
    inside = share.holds + share.runs_without_gil + share.waits
    if inside <= 0:
        return HeldShare(
            None, note="no sample fell inside a call: calls too short for the GIL state"
        )
    return HeldShare(share.holds / inside, inside, len(caller.calls), seen.switches_per_s)


def call_forever(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Callable[..., None]:
    """Return a competitor that calls func until stopped."""

    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            func(*args, **kwargs)

    return run


def nogil_reference() -> tuple[Callable[[threading.Event], None] | None, str]:
    """Return a competitor known to release the GIL, and how the fraction is normalised."""
    if not _native.is_built("cython-nogil"):
        cores = environment.usable_cores()
        return None, f"no cython-nogil build: normalised by min(1, {cores} cores / 2 threads)"
    fib = _native.kernels("cython-nogil").fib

    def spin(stop: threading.Event) -> None:
        while not stop.is_set():
            fib(27)

    return (
        spin,
        "normalised by the progress beside cython-nogil fib (a competitor that holds no GIL)",
    )


@dataclass(frozen=True)
class Measurement:
    """Every figure one check measured (what check.json holds, before its verdict)."""

    gil_free_fraction: float
    progress_solo_per_s: float
    progress_reference_per_s: float
    progress_beside_per_s: float
    normalisation: str
    progress_during_calls: CallProgress
    gil_held: HeldShare
    usable_cores: int
    gil_enabled: bool
    switch_interval_ms: float
    scaling: tuple[Level, ...]
    interference: dict[str, Phase]
    interference_note: str
    disturbed: tuple[str, ...]
    """The phases in which other processes took a core, even when measured again."""
    diagnosis: Diagnosis | None = omit_if_none()
    """Without a GIL: what held the threads back at their most (gillab.harness.diagnosis)."""


def measure(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    threads: list[int],
    duration_s: float,
    after_alone: Callable[[Measurement], None] | None = None,
) -> Measurement:
    """Measure the GIL-free fraction and the scaling of func(*args, **kwargs).

    Every phase calls func from one thread, until the scaling's levels of more than one thread: after_alone (the
    safety trial, in the child) gets the figures measured so far first, so that a crash with threads loses none
    of them."""
    func(*args, **kwargs)  # warm-up; an exception here is the callable's own
    phases: dict[str, Phase] = {}
    wait = [QUIET_WAIT_S]
    alone = _alone(func, args, kwargs, duration_s, phases, wait)
    first_many = next((i for i, t in enumerate(threads) if t > 1), len(threads))
    levels: list[Level] = []

    def so_far() -> Measurement:
        scaled = speedups(levels, alone.usable_cores)
        return replace(
            alone,
            scaling=scaled,
            interference=dict(phases),
            disturbed=tuple(sorted(name for name, p in phases.items() if p.disturbed)),
            diagnosis=without_gil(scaled, phases),
        )

    for i, t in enumerate(threads):
        if i == first_many and after_alone is not None:
            after_alone(so_far())
        run = partial(scaling, func, args, kwargs, t, duration_s)
        levels.append(_phase(f"{t} threads", run, phases, wait))
    if first_many == len(threads) and after_alone is not None:
        after_alone(so_far())
    return so_far()


def _alone(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    duration_s: float,
    phases: dict[str, Phase],
    wait: list[float],
) -> Measurement:
    """The phases that call func from one thread: its figures, with no scaling level yet."""
    cores = environment.usable_cores()
    solo = _phase("solo", lambda: progress_rate(duration_s / 2, None), phases, wait)
    ref_competitor, normalisation = nogil_reference()
    if ref_competitor is not None:
        reference = _phase(
            "reference", lambda: progress_rate(duration_s / 2, ref_competitor), phases, wait
        )
    else:
        reference = solo * min(1.0, cores / 2)
    competitor = call_forever(func, args, kwargs)
    beside = _phase("beside", lambda: progress_rate(duration_s, competitor), phases, wait)
    return Measurement(
        gil_free_fraction=min(1.0, beside / reference) if reference > 0 else 0.0,
        progress_solo_per_s=solo,
        progress_reference_per_s=reference,
        progress_beside_per_s=beside,
        normalisation=normalisation,
        progress_during_calls=progress_during_calls(
            func, args, kwargs, min_window_s=min(0.2, duration_s)
        ),
        gil_held=held_while_calling(func, args, kwargs, min(0.3, duration_s)),
        usable_cores=cores,
        gil_enabled=environment.gil_enabled(),
        switch_interval_ms=sys.getswitchinterval() * 1e3,
        scaling=(),
        interference={},
        interference_note="" if interference.available() else interference.unavailable(),
        disturbed=(),
    )
