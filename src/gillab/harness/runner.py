"""The one harness: every workload × impl × executor × workers cell is measured by the same code.

run_matrix composes the parts, each in a module of its own:

- harness.session: one cell's pools and instruments, timed repeat after repeat;
- harness.rounds: one impl's cells alive together, measured in interleaved rounds, stopping once settled;
- harness.noise: each cell's speedup with its interval, and the flags that say when not to trust it.

In every round the machine's own reference is timed beside the cells (harness.ceiling): the ceiling each
cell is set against, and, from its solo runs, the machine's own speed round by round (speed_probe), which
nothing inside a VM can see otherwise. results.json is written after every round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from gillab import environment, stats
from gillab.errors import CannotLoadError, NotBuiltError
from gillab.harness import ceiling, interference, pools, results
from gillab.harness.calibrate import engine_target_s, pick_size
from gillab.harness.ceiling import Reference
from gillab.harness.results import (
    CeilingBlock,
    Cell,
    EngineInfo,
    Interleave,
    RunConfig,
    RunResult,
    SpeedProbe,
)
from gillab.harness.rounds import NOT_MEASURED, Group, Waits
from gillab.workloads import label as workload_label

LOAD_COMPETING = 0.5
"""A 1-minute load average above this many busy cores before the run means other work competes."""

SETTLE_SHARE = 0.2
"""Rounds added to unsteady cells take at most this share of the time their impl's own rounds took (and at
most --settle in all): a small run stays small. A default demo's own rounds take about 26 s on the 2-core VM
gillab is built on, so about 5 s are added, and the demo stays within 40 s."""

Progress = Callable[[str, int, int], None]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run: ``result`` holds the cells measured so far (already saved, marked interrupted)."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("interrupted")
        self.result = result


def engine_of(config: RunConfig) -> EngineInfo | None:
    """The engine block of a run whose cells run on an engine (None without them, or without its extra)."""
    for name in config.executors:
        info = config.kinds[name].engine_info(config.scheduler)
        if info is not None:
            return info
    return None


class _Run:
    """One run of the matrix: its result so far, saved after every round."""

    def __init__(self, config: RunConfig, out: Path | None, progress: Progress | None) -> None:
        self.config, self.out, self.progress = config, out, progress
        self.cores = environment.usable_cores()
        self.sizes = dict(config.sizes)
        self.reference = Reference()
        self.waits = Waits(config.max_wait_s)
        self.t0 = time.monotonic()
        self.done: list[Cell] = []
        self.settle_left = config.settle_s
        self.sized = False
        """Whether the engine's own cost per task was measured to size the tasks (once a run)."""
        self.total = len(config.impls) * config.repeat
        env = environment.info()
        if config.switch_interval_s is not None:
            env = replace(env, switch_interval_s=config.switch_interval_s)
        engine = engine_of(config)
        if engine is not None and isinstance(engine.workers, tuple):
            env = replace(
                env, dask_workers=engine.workers
            )  # an existing cluster: its hosts, threads, Pythons
        load_before = environment.load_average()
        self.result = RunResult(
            environment=env,
            config=config,
            load_before=tuple(load_before) if load_before is not None else None,
            load_competing=bool(load_before and load_before[0] > LOAD_COMPETING),
            interleave=Interleave(config.seed),
            interference_note="" if interference.available() else interference.unavailable(),
            engine=engine,
        )

    def say(self, label: str, step: int) -> None:
        if self.progress:
            self.progress(label, step, self.total)

    def save(
        self, extra: list[Cell] | None = None, finished: bool = False, interrupted: bool = False
    ) -> RunResult:
        """Record the cells so far (and extra, the current impl's) and write results.json."""
        label = self.result.environment.interpreter
        cells = tuple(replace(c, interpreter=label) for c in [*self.done, *(extra or [])])
        ms = tuple(t * 1e3 for t in self.solo_s())
        load = environment.load_average() if finished or interrupted else None
        self.result = replace(
            self.result,
            cells=cells,
            config=replace(self.config, sizes=dict(self.sizes)),
            speed_probe=SpeedProbe(ms, self.drift(), stats.cv(ms) if len(ms) >= 2 else None),
            interrupted=interrupted,
            load_after=tuple(load) if load is not None else self.result.load_after,
            ceiling=self.ceiling_block(),
            waited_s=round(self.waits.spent_s, 3),
            wait_gave_up=self.waits.gave_up,
        )
        if self.out is not None:
            results.save(self.result, self.out / "results.json")
        return self.result

    def solo_s(self) -> list[float]:
        """The reference's solo time per unit, round by round, beside each round's serial baseline."""
        return list(ceiling.solo(self.reference.samples).values())

    def drift(self) -> float | None:
        """The machine's own speed drift over the run: slowest ÷ fastest solo unit, minus 1."""
        return ceiling.drift(self.reference.samples)

    def ceiling_block(self) -> CeilingBlock | None:
        samples = tuple(self.reference.samples)
        if not samples:
            return None
        counts = sorted({s.workers for s in samples})
        summaries = tuple(
            c for w in counts if (c := ceiling.summary(samples, w, self.cores)) is not None
        )
        unit = self.reference.n_seconds
        return CeilingBlock(
            unit, samples, summaries, self.reference.cost_s(), time.monotonic() - self.t0
        )

    def size_of(self, impl: str) -> int:
        """The impl's task size: as given, else calibrated (0 where it is not built: its cells are skipped)."""
        if impl not in self.sizes:
            try:
                self.sizes[impl] = pick_size(self.config.work, impl, self.target_s())[0]
            except (NotBuiltError, CannotLoadError):
                self.sizes[impl] = 0
        return self.sizes[impl]

    def target_s(self) -> float:
        """The time a calibrated task is sized for: the config's, or longer where an engine's own cost per task
        (measured once, on a cluster of the run's largest shape started for it) would be a tenth of it or more;
        the run's config and engine block record both."""
        cfg = self.config
        engines = [e for e in cfg.executors if cfg.kinds[e].engine]
        if not engines or self.result.engine is None or self.sized:
            return cfg.target_s
        self.sized = True
        costs = [cfg.kinds[e].own_cost_s(max(cfg.workers), cfg.scheduler) for e in engines]
        cost = max((c for c in costs if c is not None), default=None)
        if cost is None:
            return cfg.target_s
        self.config = replace(cfg, target_s=engine_target_s(cfg.target_s, cost))
        self.result = replace(self.result, engine=replace(self.result.engine, sized_for_s=cost))
        return self.config.target_s

    def run_group(self, gi: int, group: Group) -> None:
        """Measure one impl's cells round by round, saving each round, until they settle."""
        cfg, seq, t0 = self.config, 0, time.monotonic()
        for r in range(cfg.repeat):
            self.say(
                f"{workload_label(cfg.workload)} {group.impl}: round {r + 1}", gi * cfg.repeat + r
            )
            seq = group.run_round(r, seq)
            cells = group.cells(self.drift())
            self.save(cells)  # every round on disk: a kill loses at most one round
            if r + 1 >= cfg.min_repeat and group.converged(cells):
                break
        self.settle(gi, group, r + 1, seq, cells, time.monotonic() - t0)

    def settle(
        self, gi: int, group: Group, round_: int, seq: int, cells: list[Cell], own_s: float
    ) -> None:
        """Add rounds to the group's unsteady cells (each with its serial baseline) until each settles, or
        this group's share is spent: what is left of --settle over the impls left, and at most SETTLE_SHARE of
        the group's own rounds (own_s). A round starts only where one as long as its longest still fits."""
        cfg = self.config
        share = min(self.settle_left / (len(cfg.impls) - gi), SETTLE_SHARE * own_s)
        spent = longest = 0.0
        while (want := group.unsettled(cells)) and spent + longest <= share and share > 0:
            self.say(
                f"{workload_label(cfg.workload)} {group.impl}: round {round_ + 1}, added for "
                f"{len(want)} unsteady cell{'s' if len(want) > 1 else ''}",
                (gi + 1) * cfg.repeat - 1,
            )
            t0 = time.monotonic()
            seq = group.run_round(round_, seq, only=want)
            took = time.monotonic() - t0
            spent, longest = spent + took, max(longest, took)
            round_ += 1
            cells = group.cells(self.drift())
            self.save(cells)
        self.settle_left -= spent
        self.result = replace(self.result, settle_spent_s=self.result.settle_spent_s + spent)


def run_matrix(config: RunConfig, out: Path | None, progress: Progress | None = None) -> RunResult:
    """Run the whole matrix in interleaved rounds, impl by impl; write results.json after every round.

    A results.json written mid-run has load_after null; the finished run's has it set.

    On Ctrl-C the cells measured so far (the current impl's too, where a round reached them) are saved,
    marked interrupted, and :class:`Interrupted` (a KeyboardInterrupt) is raised carrying that RunResult.
    """
    run = _Run(config, out, progress)
    group: Group | None = None
    with environment.switch_interval(config.switch_interval_s), pools.pin_to_one():
        run.result = replace(
            run.result,
            environment=replace(
                run.result.environment, threadpools=pools.pinned(), threadpools_note=pools.NOTE
            ),
        )
        try:
            for gi, impl in enumerate(config.impls):
                run.say(
                    f"{workload_label(config.workload)} {impl}: starting its workers",
                    gi * config.repeat,
                )
                group = Group(
                    config,
                    impl,
                    run.size_of(impl),
                    gi,
                    run.cores,
                    reference=run.reference,
                    waits=run.waits,
                )
                group.start()
                run.run_group(gi, group)
                group.close()
                run.done.extend(group.cells(run.drift()))
                group = None
                run.save()
            run.say("done", run.total)
            return run.save(finished=True)
        except KeyboardInterrupt:
            partial: list[Cell] = []
            if group is not None:
                group.close(kill=True)
                partial = [c for c in group.cells(run.drift()) if c.reason != NOT_MEASURED]
            raise Interrupted(run.save(partial, interrupted=True)) from None
