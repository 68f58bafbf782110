"""Interleaved rounds: every cell of one impl alive together, measured once per round in a shuffled order.

- Cells are grouped by impl. All cells of one impl, its serial baseline included, are started together
  (pools created and warmed, never timed) and stay alive while that impl is measured; only one impl's
  pools are alive at a time, which bounds memory. Speedups only compare cells of the same impl.
- Each round runs every cell of the group once, in an order shuffled by a seeded RNG (round_order), so that
  slow drifts and passing load fall on every cell alike, as Google Benchmark's random interleaving does; and
  each next to a repeat of the serial baseline (two cells on either side of one: _beside), as Abedi and
  Brecht's randomized multiple interleaved trials pair them: a cell's speedup in a round is set against the
  serial repeat next to it in time, not one a whole round away (gillab.harness.noise.paired).
- Each repeat records the interference of other processes and steal (harness.interference). A disturbed
  repeat (at least DISTURBED_CORES) is dropped and measured again once the machine is quiet, within
  --max-wait seconds for the whole run (Waits) and at most --repeat extra repeats per cell; once a wait finds
  no quiet moment, no more are waited for: what cannot be measured quietly is kept and flagged.
- Right after each cell's repeat the machine's own reference is timed (gillab.harness.ceiling): the ceiling
  each cell is set against, round by round.
- After --min-repeat rounds, the rounds stop once every cell's figures have settled (:func:`settled`:
  parallelism and efficiency against the ceiling, each moved by at most CONVERGED with the latest round),
  else at --repeat rounds.
- Then rounds are added where the doubt is: to the cells still unsteady (gillab.harness.noise.wants_rounds),
  the nearest to settling first, each round with the serial baseline they are paired with and the reference,
  until each has settled or the run's --settle seconds are spent (gillab.harness.runner shares them between
  the impls).
"""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass, replace

from gillab import environment, stats
from gillab.errors import CannotLoadError, CellError, NotBuiltError, one_line
from gillab.harness import ceiling, diagnosis, interference
from gillab.harness.ceiling import Reference
from gillab.harness.noise import PerRound, rounds_of, spread, wants_rounds, with_speedup
from gillab.harness.results import Cell, RunConfig
from gillab.harness.session import CellSession

CONVERGED = 0.05
"""Rounds stop once every cell's parallelism and efficiency against the ceiling moved by at most this share of
their medians with the latest round."""
NOT_MEASURED = "no repeat was measured"
SETTLE_CELLS = 3
"""The most cells a round added to settle them measures (beside their serial baseline): the nearest to settling
first. On the 2-core VM gillab is built on, rounds added to every unsteady cell of a default demo (14-16 of
them, 1-2 rounds each in 8 s) settled 0-1."""

Key = tuple[str, str, int]
"""A cell of a group: impl, executor, workers."""


def round_order(seed: int, group: int, round_: int, keys: list[Key]) -> list[Key]:
    """Return the cells of one round in the order they run: the keys shuffled by Random(seed, group, round)."""
    order = list(keys)
    random.Random(f"{seed}/{group}/{round_}").shuffle(order)
    return order


def _beside(cells: list[Key], base: Key | None, rng: random.Random) -> list[Key]:
    """A round's run order: its cells in their shuffled order, two at a time on either side of a repeat of the
    serial baseline (an odd one out has it before or after at random), so that every cell is measured next to
    a serial repeat of its own block and the serial baseline runs half as often as the cells.

    >>> _beside([("f", "a", 1), ("f", "b", 1), ("f", "c", 1)], ("f", "s", 1), random.Random(1))
    [('f', 'a', 1), ('f', 's', 1), ('f', 'b', 1), ('f', 's', 1), ('f', 'c', 1)]
    """
    if base is None or not cells:
        return cells or ([base] if base is not None else [])
    order: list[Key] = []
    for i in range(0, len(cells), 2):
        block = cells[i : i + 2]
        if len(block) == 2:
            order += [block[0], base, block[1]]
        else:
            order += [base, block[0]] if rng.random() < 0.5 else [block[0], base]
    return order


def plan_impl(config: RunConfig, impl: str) -> list[Key]:
    """Return one impl's cells: its serial baseline, then each executor at each worker count."""
    cells = [(impl, config.baseline, 1)]
    for ex in config.executors:
        if not config.kinds[ex].baseline:
            cells.extend((impl, ex, w) for w in config.workers)
    return cells


def _unsendable(session: CellSession) -> str:
    """Why a cell's task inputs cannot reach its workers (they share no memory and it cannot pickle them); ""."""
    if session.payloads is None or session.ex.shares_memory:
        return ""
    try:
        pickle.dumps(session.payloads[0])
    except Exception as exc:  # pickle raises what the object's own __reduce__ raises
        return f"its inputs cannot be pickled to send to {session.ex.name} workers: {one_line(exc)}"
    return ""


@dataclass
class Budget:
    """What one cell may still spend on measuring disturbed repeats again."""

    extra: int


@dataclass
class Waits:
    """The run's wait for quiet moments: at most `budget_s` in all, and none once a wait found none (the
    machine is busy: the rest is measured beside what runs, and flagged). Beside one CPU-bound process, waits
    of up to 10 s a cell took 211 s of a 290 s demo on the 2-core VM, and no quiet moment came."""

    budget_s: float
    spent_s: float = 0.0
    gave_up: bool = False

    def wait(self) -> bool:
        """Wait for a quiet moment within what is left; whether one came."""
        left = self.budget_s - self.spent_s
        if self.gave_up or left <= 0:
            return False
        quiet, waited = interference.wait_for_quiet(left)
        self.spent_s += waited
        self.gave_up = not quiet
        return quiet


class Group:
    """Every cell of one impl (or the keys given), started together and measured in interleaved rounds, with
    the machine's reference (gillab.harness.ceiling) at a shuffled place in each round."""

    def __init__(
        self,
        config: RunConfig,
        impl: str,
        size: int,
        index: int,
        cores: int,
        keys: list[Key] | None = None,
        reference: Reference | None = None,
        waits: Waits | None = None,
    ) -> None:
        """reference: the run's reference, timed for every worker count in each round (None: no ceiling);
        waits: the run's wait for quiet moments (None: this group's own, of config.max_wait_s)."""
        self.waits = waits if waits is not None else Waits(config.max_wait_s)
        self.config, self.impl, self.size, self.index, self.cores = config, impl, size, index, cores
        self.reference = reference
        self.keys = keys if keys is not None else plan_impl(config, impl)
        self.sessions: dict[Key, CellSession] = {}
        self.finished: dict[Key, Cell] = {}
        self.budget: dict[Key, Budget] = {}
        self.timed_alone: set[int] = set()
        """The rounds whose reference has been timed alone."""
        self.added: dict[Key, int] = {}
        """Rounds added to a cell after the run's own: while it was unsteady, or beside such a cell (the serial
        baseline)."""

    def start(self) -> None:
        """Create and warm every cell's workers; a cell that cannot start is finished as skipped or failed."""
        cfg = self.config
        for key in self.keys:
            impl, ex, workers = key
            base = Cell(cfg.workload, impl, ex, workers, cfg.n_tasks, self.size, status="skipped")
            reason = cfg.kinds[ex].unavailable() or cfg.kinds[ex].refuses(cfg.work)
            if reason:
                self.finished[key] = replace(base, reason=reason)
                continue
            try:
                session = CellSession(
                    cfg.workload,
                    impl,
                    ex,
                    workers,
                    cfg.n_tasks,
                    self.size,
                    cfg.probe_interval_s,
                    cfg.gil_interval_s,
                    scheduler=cfg.scheduler,
                )
            except (NotBuiltError, CannotLoadError) as exc:
                self.finished[key] = replace(base, reason=str(exc))
                continue
            unsendable = _unsendable(session)
            if unsendable:
                self.finished[key] = replace(base, reason=unsendable)
                continue
            self.sessions[key] = session
            try:
                session.start()
            except KeyboardInterrupt:
                raise
            except (
                CannotLoadError
            ) as exc:  # its task cannot load in these workers (a subinterpreter)
                self.sessions.pop(key).close(kill=True)
                self.finished[key] = replace(base, reason=str(exc))
                continue
            except Exception as exc:  # a pool that cannot start fails its cell, not the run
                self._fail(key, exc)
                continue
            self.budget[key] = Budget(cfg.repeat)
        self._serial_results()

    def _serial_results(self) -> None:
        """Where tasks bring their own inputs (the user's target), run the serial baseline once, untimed: its
        results, input by input, are what every other cell's tasks must return."""
        base = next((s for k, s in self.sessions.items() if self._baseline(k)), None)
        if base is None or base.payloads is None:
            return
        key = next(k for k, s in self.sessions.items() if s is base)
        try:
            reference = base.reference_run()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self._fail(key, exc)
            return
        for session in self.sessions.values():
            if session is not base:
                session.reference = reference

    def _fail(self, key: Key, exc: BaseException) -> None:
        session = self.sessions.pop(key)
        session.close(kill=True)
        self.finished[key] = session.failed(exc)

    def run_round(self, round_: int, seq: int, only: list[Key] | None = None) -> int:
        """Measure every live cell once (or only those given, with the serial baseline they are paired with), in
        this round's shuffled order; return the next seq."""
        keys = [k for k in self.sessions if only is None or k in only or self._baseline(k)]
        base = next((k for k in keys if self._baseline(k)), None)
        cells = [k for k in round_order(self.config.seed, self.index, round_, keys) if k != base]
        for key in _beside(cells, base, random.Random(f"{self.config.seed}/{self.index}/{round_}")):
            if key in self.sessions:
                seq = self.measure(key, round_, seq)
        if only is not None:
            for key in keys:
                self.added[key] = self.added.get(key, 0) + 1
        return seq

    def _baseline(self, key: Key) -> bool:
        return self.config.kinds[key[1]].baseline

    def unsettled(self, cells: list[Cell]) -> list[Key]:
        """The live cells that more rounds may still settle, the nearest to settling first, at most
        SETTLE_CELLS of them (cells: as :meth:`cells` returns them)."""
        by_key = dict(zip(self.keys, cells, strict=True))
        want = [k for k in self.sessions if wants_rounds(by_key[k])]
        return sorted(want, key=lambda k: spread(by_key[k]))[:SETTLE_CELLS]

    def _reference(self, key: Key, round_: int, after_s: float) -> None:
        """Time the machine's reference right after a cell's repeat of after_s (gillab.harness.ceiling); alone
        once a round, after the first of the serial baseline's repeats (the ceiling reads one a round)."""
        alone = self._baseline(key)
        if self.reference is not None and not (alone and round_ in self.timed_alone):
            if alone:
                self.timed_alone.add(round_)
            _, ex, workers = key
            self.reference.measure(self.index, round_, ex, workers, alone, after_s)

    def measure(self, key: Key, round_: int, seq: int) -> int:
        """Run one repeat of a cell in this round, again after a quiet wait while disturbed; return seq."""
        session, budget = self.sessions[key], self.budget[key]
        try:
            while True:
                rep = session.run_once(round_=round_, seq=seq)
                self._reference(key, round_, rep.wall_s)
                seq += 1
                if not rep.interference.disturbed:
                    return seq
                if budget.extra <= 0 or not self.waits.wait():
                    session.drop_last(kept=True)
                    return seq
                session.drop_last(kept=False)
                budget.extra -= 1
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # a fault in a task fails its cell; the others go on
            self._fail(key, exc)
            return seq

    def converged(self, cells: list[Cell]) -> bool:
        """Whether every live cell's speedup interval is within CONVERGED of its speedup.

        cells: this group's cells as :meth:`cells` returns them, intervals already computed.
        """
        by_key = dict(zip(self.keys, cells, strict=True))
        serial = by_key[self.keys[0]]
        if not serial.ok:
            return True
        live = [key for key in self.sessions if not self._baseline(key)]
        return all(settled(rounds_of(by_key[key], serial, self._ceiling(key))) for key in live)

    def cells(self, drift: float | None = None) -> list[Cell]:
        """Return every cell of the group in plan order, with speedups against the serial cell's rounds.

        drift: the machine's own speed drift, where no reference measured this group's (None: this group's)."""
        if self.reference is not None:
            drift = ceiling.drift(self.reference.samples, self.index)
        out: dict[Key, Cell] = dict(self.finished)
        for key, session in self.sessions.items():
            if session.kept():
                out[key] = replace(session.summary(), rounds_added=self.added.get(key, 0))
            else:
                out[key] = replace(session.failed(CellError(NOT_MEASURED)), status="skipped")
        serial = next((out[k] for k in self.keys if self._baseline(k)), None)
        cells = [
            with_speedup(out[k], serial, self.cores, drift, self._ceiling(k)) for k in self.keys
        ]
        return [self._diagnosed(c, serial) for c in cells]

    def _diagnosed(self, cell: Cell, serial: Cell | None) -> Cell:
        """The cell with its diagnosis, where its workers ran with no GIL shared between them."""
        if (
            serial is None
            or self.reference is None
            or not diagnosis.applies(cell, environment.gil_enabled())
        ):
            return cell
        key = cell.key
        machine = ceiling.core_speeds(self.reference.samples, self.index, key[1], key[2])
        session = self.sessions.get(key)
        gil_on = session.gil_on if session is not None else ""
        fig = rounds_of(cell, serial, self._ceiling(key))
        return replace(cell, diagnosis=diagnosis.diagnose(cell, fig, machine, self.cores, gil_on))

    def _ceiling(self, key: Key) -> dict[int, float] | None:
        """Round -> the machine's ceiling for one cell in this group's rounds."""
        if self.reference is None:
            return None
        return ceiling.ratios(self.reference.samples, self.index, key[1], key[2])

    def close(self, kill: bool = False) -> None:
        """Shut every live cell's workers down."""
        for session in self.sessions.values():
            session.close(kill=kill)


def settled(fig: PerRound) -> bool:
    """Whether a cell's figures have settled: the figures that say what the code did (parallelism, and its
    efficiency against the machine's ceiling where that was measured, else its speedup) each moved by at most
    CONVERGED when the latest round came in. The raw speedup moves with the machine, and is not asked to settle
    where the ceiling speaks for it: its interval is reported as measured."""
    asked = [fig.parallelism, fig.against_ceiling if fig.against_ceiling else fig.speedup]
    return all(_steady(xs) for xs in asked)


def _steady(xs: dict[int, float]) -> bool:
    """Whether a figure's median over its rounds moved by at most CONVERGED with the latest round."""
    if len(xs) < 3:
        return False
    values = [xs[k] for k in sorted(xs)]
    now, before = stats.median(values), stats.median(values[:-1])
    return before > 0 and abs(now - before) <= CONVERGED * before


def measure_cell(
    workload: str,
    impl: str,
    executor: str,
    workers: int,
    tasks: int,
    size: int,
    repeat: int,
    probe_interval_s: float = 0.001,
) -> Cell:
    """Measure one cell alone, `repeat` rounds through the same Group as a run (a disturbed repeat is kept and
    flagged, never waited for); a fault in it becomes a failed or skipped cell, never an exception (except
    Ctrl-C, which shuts its workers down first)."""
    config = RunConfig(
        workload=workload,
        impls=(impl,),
        executors=(executor,),
        workers=(workers,),
        tasks=tasks,
        sizes={impl: size},
        repeat=repeat,
        min_repeat=repeat,
        max_wait_s=0.0,
        probe_interval_s=probe_interval_s,
    )
    keys: list[Key] = [(impl, executor, workers)]
    if config.work.payloads(size, tasks) is not None and not config.kinds[executor].baseline:
        # its serial results are what the cell is checked against
        keys.append((impl, config.baseline, 1))
    group = Group(config, impl, size, 0, environment.usable_cores(), keys=keys)
    try:
        group.start()
        seq = 0
        for r in range(repeat):
            seq = group.run_round(r, seq)
    except KeyboardInterrupt:
        group.close(kill=True)
        raise
    group.close()
    return next(c for c in group.cells(None) if c.key == keys[0])
