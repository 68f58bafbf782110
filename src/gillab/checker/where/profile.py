"""The line profile of scaling: each line's share of the calling threads' time and its cost per call, alone
and on N threads, from the samples the sampler took (gillab.checker.where.sampler).

A sample reads every thread's stack at one instant. A calling thread's sample counts against the innermost
frame of the user's own code (the callable's file, or any file outside the standard library and gillab):
time in the standard library or in C counts against the user's line that called it. Over a phase of W
seconds, with `ticks` samples and `calls` calls, a line that k thread-samples were on spent k / ticks × W
thread-seconds, and k / ticks × W / calls seconds per call. Its slowdown is that cost on N threads over its
cost alone; its interval comes from resampling the phases' samples in blocks of consecutive ticks (samples
close in time are not independent).

Against the machine: on a VM, or with more threads than free cores, every line slows down because the
machine does. The child times a GIL-free native reference on N threads against one in the same run; a line
is contended when its slowdown is well beyond that (CONTENDED, with its interval's low end over
CONTENDED_LOW).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gillab.stats import BOOTSTRAP_SEED

CONTENDED = 1.5
"""A line is contended on N threads when its cost per call, against the machine's own slowdown, is at least
this many times its cost alone ..."""
CONTENDED_LOW = 1.25
"""... and its interval's low end is over this ..."""
MATERIAL = 0.10
"""... and the time it adds per call, beyond the machine's own slowdown, is at least this share of a whole call
alone (a line run once a call, `with lock:` after a local sum, may slow down tenfold and still cost nothing)."""
BUSY = 1.3
"""The machine itself was busy when its native reference ran this many times slower on N threads than on one
(other work on its cores, or fewer cores than threads): contention can then hide inside its slowdown."""
SHOWN_SHARE = 0.02
"""A line is listed when it took at least this share of the calling threads' time in either phase."""
MAX_LINES = 8
BLOCKS = 20
RESAMPLES = 400
COLLECTOR = 0.10
"""The collector is named beside the lines where it ran for at least this share of the N-thread phase."""

Key = tuple[str, int, str]
"""(file, line, function)."""


@dataclass(frozen=True)
class WhereLine:
    """One line of the user's code: its share of the calling threads' time and its cost per call, alone and
    on N threads."""

    file: str
    line: int
    function: str
    source: str
    alone: float
    """Share of the calling thread's time on this line, alone."""
    threads: float
    """Share of the calling threads' time on this line, on N threads."""
    cost_alone_us: float
    """Thread time on this line per call, alone (µs)."""
    cost_threads_us: float
    slowdown: float | None
    """Its cost per call on N threads over its cost alone (None where it was not seen alone)."""
    slowdown_ci95: tuple[float, float] | None
    gil_held: float | None
    """On a GIL build: whether this line lets go of the GIL. The share of its samples alone in which its thread
    held the GIL: alone, no other calling thread holds it, so a thread on this line either holds it or has let
    it go, and never waits for it (on N threads, a Python line's thread also waits for the GIL on that line,
    which is `gil_wait`). None where the line was not seen alone."""
    shared: str | None
    """The object it touches that threads share, in words (gillab.checker.where.objects), or None."""
    verb: str = ""
    kind: str = ""
    name: str = ""
    """The shared object's name in the module (an attribute's name, for `self.x`)."""
    contended: bool = False
    """Its slowdown is well beyond the machine's own (CONTENDED): threads fight over something here."""
    caller: str = ""
    """The user's line that called this one most often ("file:line"), where this one is in another function."""
    gil_wait: float | None = None
    """On a GIL build, on N threads: the share of this line's time its thread waited for the GIL, apart from
    the share it lets it go. A thread on this line holds the GIL, has let it go (as alone: 1 - gil_held), or
    waits for it; so this is gil_held less the share of its samples on N threads in which it held it."""


@dataclass(frozen=True)
class Where:
    """Which lines keep the callable's threads from scaling, and what they touch: check's `where`."""

    sampler: str | None
    """The sampler that ran, or None (then `note` says why none could)."""
    rate_hz: float = 0.0
    cost_us: float = 0.0
    """The sampler's time per sample (it runs in a process of its own and never stops the child)."""
    samples: int = 0
    threads: int = 0
    gil: bool = True
    """Whether the GIL was on while the threads called."""
    machine: float | None = None
    """The machine's own slowdown on N threads (a GIL-free native reference), which a line's is set against."""
    calls_alone: int = 0
    calls_threads: int = 0
    """The calls made while sampled, alone and on N threads."""
    kept_alone: float | None = None
    """Calls per second while sampled over while not, in slices taken in turn: the sampler's own cost (1.0:
    none), alone and on N threads."""
    kept_threads: float | None = None
    gc_alone: float = 0.0
    """Share of the phase's wall in the cycle collector, alone and on N threads."""
    gc_threads: float = 0.0
    outside: float = 0.0
    """Share of the calling threads' time on N threads in no line of the user's code (C code it was given,
    or gillab's loop that calls it)."""
    lines: tuple[WhereLine, ...] = field(default_factory=tuple)
    note: str = ""

    @property
    def busy(self) -> bool:
        """Whether the machine itself slowed N threads down (BUSY): a line's contention may then hide in it."""
        return self.machine is not None and self.machine >= BUSY

    @property
    def contended(self) -> tuple[WhereLine, ...]:
        """The lines that slow down well beyond the machine, most extra time per call first."""
        return tuple(ln for ln in self.lines if ln.contended)


@dataclass(frozen=True)
class Phase:
    """One phase as the child wrote it: its slices, sampled and unsampled in turn."""

    threads: int
    thread_ids: tuple[int, ...]
    slices: tuple[tuple[int, int, int, bool], ...]
    """(start ns, end ns, calls, sampled) of each slice, in order."""
    gc_s: float = 0.0

    def _of(self, sampled: bool) -> list[tuple[int, int, int, bool]]:
        return [s for s in self.slices if s[3] is sampled]

    @property
    def wall_s(self) -> float:
        """The sampled slices' wall."""
        return sum(e - b for b, e, _, _ in self._of(True)) / 1e9

    @property
    def calls(self) -> int:
        """The calls in its sampled slices."""
        return sum(c for _, _, c, _ in self._of(True))

    @property
    def whole_s(self) -> float:
        return sum(e - b for b, e, _, _ in self.slices) / 1e9

    def sampled_at(self, t: int) -> bool:
        """Whether t is inside one of its sampled slices."""
        return any(b <= t <= e for b, e, _, _ in self._of(True))

    def kept(self) -> float | None:
        """Its calls per second while sampled over while not (1.0: sampling cost it nothing)."""
        rates = []
        for sampled in (True, False):
            part = self._of(sampled)
            wall = sum(e - b for b, e, _, _ in part) / 1e9
            rates.append(sum(c for _, _, c, _ in part) / wall if wall > 0 else 0.0)
        return rates[0] / rates[1] if rates[1] > 0 else None


Sample = tuple[int, Sequence[tuple[int, Key | None, Key | None, bool | None]]]
"""(monotonic ns, [(thread id, the innermost user line or None, the user line that called it, held the GIL)])."""


def user_lines(frames: Iterable[Key], mine: Callable[[str], bool]) -> tuple[Key | None, Key | None]:
    """A stack's innermost line of user code (frames innermost first), and the user line that called it; a
    line number of 0 or less is a frame between lines (its entry, say)."""
    found: list[Key] = []
    for key in frames:
        if key[1] > 0 and mine(key[0]):
            found.append(key)
            if len(found) == 2:
                break
    return (found[0] if found else None, found[1] if len(found) > 1 else None)


class _Tally:
    """One phase's samples, in BLOCKS blocks of consecutive ticks."""

    def __init__(self, phase: Phase, samples: Sequence[Sample]) -> None:
        ids = set(phase.thread_ids)
        ticks = [s for s in samples if phase.sampled_at(s[0])]
        self.ticks = len(ticks)
        self.blocks: list[tuple[int, Counter[Key | None]]] = []
        self.held: Counter[Key] = Counter()
        self.seen_held: Counter[Key] = Counter()
        self.callers: dict[Key, Counter[Key]] = {}
        size = max(1, math.ceil(len(ticks) / BLOCKS))
        for b in range(0, len(ticks), size):
            counts: Counter[Key | None] = Counter()
            for _, threads in ticks[b : b + size]:
                for tid, key, caller, held in threads:
                    if tid not in ids:
                        continue
                    counts[key] += 1
                    if key is not None and held is not None:
                        self.seen_held[key] += 1
                        self.held[key] += held
                    if key is not None and caller is not None:
                        self.callers.setdefault(key, Counter())[caller] += 1
            self.blocks.append((len(ticks[b : b + size]), counts))
        self.counts: Counter[Key | None] = sum((c for _, c in self.blocks), Counter())

    def held_share(self, key: Key) -> float | None:
        """The share of the line's samples in which its thread held the GIL, where the sampler read it."""
        return self.held[key] / self.seen_held[key] if self.seen_held[key] else None

    def share(self, key: Key | None) -> float:
        total = sum(self.counts.values())
        return self.counts[key] / total if total else 0.0

    def per_tick(self, key: Key, blocks: Sequence[tuple[int, Counter[Key | None]]]) -> float:
        ticks = sum(t for t, _ in blocks)
        return sum(c[key] for _, c in blocks) / ticks if ticks else 0.0


def build(
    samples: Sequence[Sample],
    phases: Sequence[Phase],
    *,
    sampler: str,
    rate_hz: float,
    cost_us: float,
    gil: bool,
    machine: float | None,
    objects: dict[tuple[str, int], dict[str, Any]],
    source: dict[Key, str],
    held: tuple[dict[Key, float], dict[Key, float]] | None = None,
) -> Where:
    """The line profile from the samples of the two phases (alone, then N threads). held: each line's GIL-held
    share alone and on N threads, where the sampler measured it apart from the samples (py-spy's reader of the
    holder)."""
    alone_p, many_p = phases[0], phases[-1]
    alone, many = _Tally(alone_p, samples), _Tally(many_p, samples)
    keys = {k for k in alone.counts | many.counts if k is not None}
    keys = {k for k in keys if max(alone.share(k), many.share(k)) >= SHOWN_SHARE}
    m = max(1.0, machine or 1.0)
    pair = _Pair(alone_p, many_p, alone, many, m, gil, held)
    lines = [pair.line(key, objects.get((key[0], key[1]), {}), source.get(key, "")) for key in keys]
    lines.sort(key=lambda ln: _rank(ln, m))
    return Where(
        sampler,
        rate_hz=round(rate_hz, 1),
        cost_us=round(cost_us, 1),
        samples=len(samples),
        threads=many_p.threads,
        gil=gil,
        machine=round(machine, 3) if machine is not None else None,
        calls_alone=alone_p.calls,
        calls_threads=many_p.calls,
        kept_alone=_round(alone_p.kept()),
        kept_threads=_round(many_p.kept()),
        gc_alone=round(alone_p.gc_s / alone_p.whole_s, 4) if alone_p.whole_s else 0.0,
        gc_threads=round(many_p.gc_s / many_p.whole_s, 4) if many_p.whole_s else 0.0,
        outside=round(many.share(None), 4),
        lines=tuple(lines[:MAX_LINES]),
    )


class _Pair:
    """The two phases' tallies, and the machine's own slowdown: each line's figures from them."""

    def __init__(
        self,
        alone_p: Phase,
        many_p: Phase,
        alone: _Tally,
        many: _Tally,
        m: float,
        gil: bool,
        held: tuple[dict[Key, float], dict[Key, float]] | None,
    ) -> None:
        self.alone_p, self.many_p, self.alone, self.many = alone_p, many_p, alone, many
        self.m, self.gil, self.held = m, gil, held
        self.rng = random.Random(BOOTSTRAP_SEED)

    def line(self, key: Key, obj: dict[str, Any], source: str) -> WhereLine:
        alone, many, alone_p, many_p, m = self.alone, self.many, self.alone_p, self.many_p, self.m
        a = alone.per_tick(key, alone.blocks) * alone_p.wall_s / max(1, alone_p.calls)
        b = many.per_tick(key, many.blocks) * many_p.wall_s / max(1, many_p.calls)
        slowdown = b / a if a > 0 else None
        ci = _interval(key, alone, many, alone_p, many_p, self.rng) if a > 0 else None
        held, held_many = alone.held_share(key), many.held_share(key)
        if self.held is not None:
            held, held_many = self.held[0].get(key), self.held[1].get(key)
        wait = (
            min(1.0, max(0.0, held - held_many))
            if held is not None and held_many is not None and many_p.threads > 1
            else None
        )
        callers = many.callers.get(key) or alone.callers.get(key)
        caller = callers.most_common(1)[0][0] if callers else None
        contended = (
            not self.gil
            and slowdown is not None
            and ci is not None
            and slowdown / m >= CONTENDED
            and ci[0] / m >= CONTENDED_LOW
            and (b - m * a) >= MATERIAL * alone_p.wall_s / max(1, alone_p.calls)
        )
        return WhereLine(
            key[0],
            key[1],
            key[2],
            source,
            round(alone.share(key), 4),
            round(many.share(key), 4),
            round(a * 1e6, 3),
            round(b * 1e6, 3),
            round(slowdown, 3) if slowdown is not None else None,
            (round(ci[0], 3), round(ci[1], 3)) if ci is not None else None,
            round(held, 3) if held is not None and self.gil else None,
            obj.get("shared"),
            obj.get("verb", ""),
            obj.get("kind", ""),
            obj.get("name", ""),
            contended,
            f"{caller[0]}:{caller[1]}" if caller is not None and caller[0:2] != key[0:2] else "",
            round(wait, 3) if wait is not None and self.gil else None,
        )


def _round(x: float | None) -> float | None:
    return round(x, 4) if x is not None else None


def _rank(ln: WhereLine, machine: float) -> tuple[int, float]:
    """Contended lines first, most extra time per call beyond the machine's first; then by time on N threads."""
    if ln.contended:
        return 0, -(ln.cost_threads_us - ln.cost_alone_us * machine)
    return 1, -ln.threads


def _interval(
    key: Key, alone: _Tally, many: _Tally, alone_p: Phase, many_p: Phase, rng: random.Random
) -> tuple[float, float] | None:
    """The slowdown's 95% interval: each phase's blocks resampled with replacement."""
    ratios = []
    for _ in range(RESAMPLES):
        a_blocks = [alone.blocks[rng.randrange(len(alone.blocks))] for _ in alone.blocks]
        b_blocks = [many.blocks[rng.randrange(len(many.blocks))] for _ in many.blocks]
        a = alone.per_tick(key, a_blocks) * alone_p.wall_s / max(1, alone_p.calls)
        b = many.per_tick(key, b_blocks) * many_p.wall_s / max(1, many_p.calls)
        if a > 0:
            ratios.append(b / a)
    if len(ratios) < RESAMPLES // 2:
        return None
    ratios.sort()
    return ratios[int(0.025 * len(ratios))], ratios[min(len(ratios) - 1, int(0.975 * len(ratios)))]
