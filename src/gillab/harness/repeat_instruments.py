"""A repeat's instruments as one context manager, which stops every one of them on every exit: a task that
raises, a worker that dies or Ctrl-C never leaves an instrument thread behind to take the GIL from later
measurements (gillab.harness.session times the repeats)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from types import TracebackType

from gillab import environment
from gillab.harness.executors import Executor
from gillab.harness.executors.base import Spans
from gillab.harness.gilstate import GilSampler, GilState, Settled, not_sampled
from gillab.harness.instruments import GcWatch, GilWait, Probe, Sampler, ThreadStates


@dataclass(frozen=True)
class Seen:
    """What a repeat's instruments saw, and the CPU they used themselves (not the work's)."""

    gil_wait: GilWait | None
    states: ThreadStates
    gil: GilState
    own_cpu_s: float
    gc: GcWatch | None = None


class Instruments:
    """A repeat's instruments, started together and stopped on every exit path.

    The /proc thread-state sampler always (leaving gillab's own instrument threads out of its counts); the
    GIL-state sampler for workers in this process; the GIL-wait probe where it is asked for (it takes the GIL
    every millisecond, so it runs only in the repeats whose GIL state is not what is being read); and
    whatever the executor runs inside its workers (an engine's probe and sampler); and, for workers in this
    interpreter, the time its cycle collector ran.
    """

    def __init__(
        self,
        ex: Executor,
        probe_interval_s: float | None,
        gil_interval_s: float | None,
        gil_budget: float,
        settled: Settled,
    ) -> None:
        """probe_interval_s: the GIL-wait probe's sleep, or None for no probe in this repeat."""
        self.ex = ex
        self.gil_interval_s = gil_interval_s
        self.probe = Probe(probe_interval_s) if probe_interval_s is not None else None
        self.sampler: Sampler | None = None
        lanes = ex.local_lanes()
        sample = lanes and environment.gil_enabled() and gil_interval_s is not None
        self.gil = (
            GilSampler(lanes, gil_interval_s, gil_budget, settled)
            if sample and gil_interval_s
            else None
        )
        self.roles = {tid: f"worker {i}" for i, (_, tid) in enumerate(ex.worker_ids)}
        self.gc = GcWatch() if ex.shares_gil and ex.same_process else None
        self.read_out = False

    def __enter__(self) -> Instruments:
        try:
            own: list[int] = []
            if self.probe is not None:
                own.append(self.probe.start())
                self.roles[own[-1]] = "gil-probe"
            if self.gil is not None:
                self.gil.start()
                tid = self.gil.thread_id()
                own += [tid] if tid else []
            self.sampler = Sampler([os.getpid(), *self.ex.worker_pids()], skip=tuple(own))
            self.sampler.start()
            self.ex.instruments_start(self.gil_interval_s, probe=self.probe is not None)
            if self.gc is not None:
                self.gc.__enter__()
        except BaseException:
            self._stop_quietly()
            raise
        return self

    def read(self, spans: Spans, release_ns: int, finish_ns: int) -> Seen:
        """Stop every instrument and return what they saw between the release and the finish."""
        if self.gc is not None:
            self.gc.__exit__()
        inside_gw, inside_gil = self.ex.instruments_stop(spans, release_ns, finish_ns)
        if inside_gil is not None:
            gil_state = inside_gil
        elif self.gil is not None:
            gil_state = self.gil.stop(spans, release_ns, finish_ns)
        else:
            gil_state = not_sampled(self.ex.own_gil, self.gil_interval_s)
        assert self.sampler is not None
        states = self.sampler.stop(self.roles)
        gw = self.probe.stop(release_ns, finish_ns) if self.probe is not None else None
        self.read_out = True
        wall = (finish_ns - release_ns) / 1e9
        own = (gw.cpu_s if gw else 0.0) + states.cpu_s + (gil_state.overhead or 0.0) * wall
        if inside_gw is not None:
            # the GIL that matters is the workers' own: their probe speaks for them
            own += inside_gw.cpu_s
            gw = inside_gw
        return Seen(gw, states, gil_state, own, self.gc)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.read_out:  # a task failed, a worker died or Ctrl-C
            self._stop_quietly()

    def _stop_quietly(self) -> None:
        if self.gc is not None:
            self.gc.__exit__()
        if self.probe is not None:
            with contextlib.suppress(Exception):
                self.probe.stop(0, 0)
        if self.sampler is not None:
            with contextlib.suppress(Exception):
                self.sampler.stop({})
        if self.gil is not None:
            with contextlib.suppress(Exception):
                self.gil.stop({}, 0, 0)
