"""`gillab advise`: run the user's callable through the matrix here, and under each --python, then advise.

Here: serially, on threads, on processes, and on interpreters where this Python has them, through the same
harness as every workload (gillab.workloads.target). Under each --python: the same `gillab run --target`
in a venv of its own (gillab.harness.pythons.run), a free-threaded build with and without PYTHON_GIL=1, and then the
single-thread time of each against this interpreter in interleaved rounds (gillab.harness.pythons.cost).
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from gillab import environment
from gillab.advice.model import (
    Advice,
    Option,
    SafetyUnder,
    SlowerOn,
    WhereUnder,
    critical_path,
    options_of,
    serial_of,
)
from gillab.advice.recommend import sentence
from gillab.checker.child_spec import ChildSpec
from gillab.checker.run import run_trial
from gillab.checker.safety import DEFAULT_SAFETY_S
from gillab.checker.verdict import THREADS_HELP
from gillab.checker.where import profile_where
from gillab.checker.where.sampler import unavailable
from gillab.checker.where.view import short_of
from gillab.harness import executors, options
from gillab.harness.executors import Family
from gillab.harness.pythons.cost import Build, run_rounds
from gillab.harness.pythons.run import CompareResult, compare
from gillab.harness.results import RunResult
from gillab.harness.runner import Progress, run_matrix
from gillab.interpreters import describe, venv_for, venv_python
from gillab.stats import bootstrap_ci, median
from gillab.workloads.target import Target
from gillab.workloads.target import workload as target_workload

ADVISE_EXECUTORS = ("thread", "process", "interpreter")
"""What advise runs here, of those that can run (interpreters on 3.12+ only)."""
ADVISED = {name: executors.get(name) for name in ADVISE_EXECUTORS}
"""Each executor advise compares, as its class: the names resolved once."""


@dataclass(frozen=True)
class Advised:
    """Everything advise measured: the advice, the run here, and the runs under the other interpreters."""

    advice: Advice
    here: RunResult
    elsewhere: CompareResult | None = None


def _executors() -> tuple[str, ...]:
    return tuple(name for name, kind in ADVISED.items() if kind.unavailable() is None)


def _slower(
    builds: list[Build], workload: str, sizes: dict[str, int], rounds: int
) -> list[SlowerOn]:
    """Each other build's single-thread time against this interpreter's, in interleaved rounds."""
    serial, _ = run_rounds(builds, workload, sizes, rounds)
    here = builds[0].label
    by = {(s.label, s.impl): s.walls_s for s in serial}
    out = []
    for b in builds[1:]:
        for impl in sizes:
            a, g = by.get((b.label, impl)), by.get((here, impl))
            if a and g:
                ratios = [x / y for x, y in zip(a, g, strict=False) if y > 0]
                if ratios:
                    out.append(SlowerOn(b.label, here, median(ratios), bootstrap_ci(ratios)))
    return out


def advise(
    workload: str,
    workers: tuple[int, ...],
    out: Path,
    pythons: tuple[str, ...] = (),
    progress: Progress | None = None,
    say: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
    max_time_s: float = options.MAX_TIME_S,
    cost_rounds: int = 5,
    run_executors: tuple[str, ...] | None = None,
    repeat: int | None = None,
) -> Advised:
    """Measure the target workload here and under each python, and return the advice.

    run_executors: the executors run here (default: ADVISE_EXECUTORS that can run); repeat: the most rounds,
    and the fewest (default: a run's)."""
    config = options.make_config(
        workload,
        executors=run_executors or _executors(),
        workers=workers,
        repeat=repeat or options.DEFAULTS.repeat,
        min_repeat=repeat,
    )
    # bad input is refused before any work, the safety trial's too
    config = options.within_budget(config, max_time_s)
    tgt = target_workload(workload)
    trials = safety_trials(tgt, pythons, out, say)
    unsafe = any(not t.safety.safe for t in trials)
    if unsafe:
        kept = tuple(e for e in config.executors if config.kinds[e].family() != Family.THREADS)
        config = replace(config, executors=kept)
    here = run_matrix(config, out, progress)
    elsewhere = None
    slower: list[SlowerOn] = []
    if pythons:
        there = [n for n, k in ADVISED.items() if not (unsafe and k.family() == Family.THREADS)]
        args = ["--executor", ",".join(there), "--workers", ",".join(map(str, workers))]
        args += ["--settle", f"{config.settle_s:g}"]
        sizes = ",".join(f"{k}={v}" for k, v in here.config.sizes.items())
        elsewhere = compare(
            list(pythons),
            [*args, *target_flags(tgt)],
            sizes,
            out / "elsewhere",
            progress=say,
            cost_rounds=0,
        )
        slower = _slower_than_here(elsewhere, workload, here, cost_rounds, say)
    advice = build_advice(here, elsewhere, slower, trials)
    return Advised(with_where(advice, tgt, pythons, out, say), here, elsewhere)


def _slower_than_here(
    elsewhere: CompareResult,
    workload: str,
    here: RunResult,
    cost_rounds: int,
    say: Callable[[str], None],
) -> list[SlowerOn]:
    """Each other interpreter's single-thread time against this one's, in interleaved rounds."""
    builds = [
        Build(
            environment.interpreter_label(),
            Path(sys.executable),
            platform.python_version(),
            environment.free_threaded_build(),
            dict(os.environ),
        )
    ]
    builds += _builds(elsewhere)
    say(f"single-thread time against {builds[0].label}: {cost_rounds} interleaved rounds")
    return _slower(builds, workload, dict(here.config.sizes), cost_rounds)


def _builds(merged: CompareResult) -> list[Build]:
    """The interpreters compare ran under, as the cost rounds run them (in the venvs compare made)."""
    out = []
    for r in merged.runs:
        info = describe(r.python)
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
        if r.gil_forced:
            env["PYTHON_GIL"] = "1"
        out.append(Build(r.label, venv_python(info), info.version, r.free_threaded, env))
    return out


def target_flags(tgt: Target) -> list[str]:
    """The run options that name the same target workload under another interpreter."""
    spec = tgt.spec
    flags = ["--target", spec.target]
    if spec.setup is not None:
        flags += ["--setup", spec.setup]
    if spec.args is not None:
        flags += ["--args", json.dumps(list(spec.args))]
    if spec.inputs is not None:
        flags += ["--inputs", spec.inputs]
    return flags


def safety_trials(
    tgt: Target, pythons: tuple[str, ...], out: Path, say: Callable[[str], None]
) -> list[SafetyUnder]:
    """The safety trial of the target's first call, here and under each free-threaded --python (in the venv
    compare uses), each in a child process, before any pool: a callable that crashes, hangs or gives other
    results in threads gets no thread recommendation anywhere, and no pool of threads is started for it."""
    try:
        payload = pickle.dumps((None, *tgt.calls(1)[0]))
    except Exception as exc:  # inputs that cannot be pickled: their cells say so
        say(f"the safety trial did not run: its inputs cannot be pickled ({type(exc).__name__})")
        return []
    spec = ChildSpec(job="safety", target=tgt.spec.target)
    where: list[tuple[str, str | None]] = [(environment.interpreter_label(), None)]
    for python in pythons:
        info = describe(python)
        if info.free_threaded:
            where.append(
                (f"{info.version}t", str(venv_for(python, info, out / "advise-setup.log")))
            )
    trials = []
    for label, venv in where:
        say(f"safety trial under {label}")
        got = run_trial(spec, {"pickle_path": payload}, venv, DEFAULT_SAFETY_S, 60.0, label)
        if got is not None:
            trials.append(SafetyUnder(label, got))
    return trials


def with_where(
    advice: Advice, tgt: Target, pythons: tuple[str, ...], out: Path, say: Callable[[str], None]
) -> Advice:
    """Where threads fell short at the most workers (cores busy, or the speedup, under THREADS_HELP of the cores
    they could use, under any interpreter: with a GIL, cores busy tells; without one, threads that contend keep
    their cores busy and run slower): the line profile of the target's first call here and under each
    --python whose threads a sampler can read (3.14 or newer), each in a child process; each names the line
    that holds the GIL, or whose cost grows, in one more recommendation (never one that lets the GIL go)."""
    threads = [o for o in advice.options if o.family == Family.THREADS and o.status == "ok"]
    most = max((o.workers for o in threads), default=0)
    cores = advice.usable_cores or environment.usable_cores()
    short = [
        o
        for o in threads
        if o.workers == most
        and min((o.cores_busy or 0), (o.speedup or 0)) / min(most, cores) < THREADS_HELP
    ]
    if most < 2 or not short:
        return advice
    try:
        payload = pickle.dumps((None, *tgt.calls(1)[0]))
    except Exception:  # inputs that cannot be pickled: the safety trial said so
        return advice
    spec = ChildSpec(job="check", target=tgt.spec.target, threads=(1, most))
    runs: list[tuple[str, str | None]] = (
        [] if unavailable() else [(environment.interpreter_label(), None)]
    )
    for python in pythons:
        info = describe(python)
        if tuple(int(x) for x in info.version.split(".")[:2]) >= (3, 14):
            label = f"{info.version}{'t' if info.free_threaded else ''}"
            runs.append((label, str(venv_for(python, info, out / "advise-setup.log"))))
    found = []
    for label, venv in runs:
        say(f"line profile under {label}")
        got = profile_where(spec, {"pickle_path": payload}, venv, 60.0, label)
        if got.sampler is not None:
            found.append(WhereUnder(label, got))
        else:
            say(f"no line profile under {label}: {got.note}")
    said = tuple(
        f"Where threads fall short under {w.interpreter}: {place}."
        for w in found
        if (place := short_of(w.where)) is not None
    )
    return replace(advice, where=tuple(found), recommendations=(*advice.recommendations, *said))


def _options(
    here: RunResult, elsewhere: CompareResult | None, task_s: float | None
) -> tuple[list[Option], dict[str, bool]]:
    """Every way it ran, here and under the other interpreters, and whether each interpreter had a GIL."""
    opts: list[Option] = options_of(here, task_s)
    gil_on = {here.environment.interpreter: here.environment.gil_enabled}
    if elsewhere is not None:
        for r in elsewhere.runs:
            opts += [o for o in options_of(r.result, task_s) if o.family != "serial"]
            gil_on[r.label] = r.result.environment.gil_enabled
    return opts, gil_on


def build_advice(
    here: RunResult,
    elsewhere: CompareResult | None,
    slower: list[SlowerOn],
    trials: list[SafetyUnder] | None = None,
) -> Advice:
    """The advice from the figures measured (and, where it ran, the safety trial under each interpreter)."""
    serial = serial_of(here)
    task_s = (
        median([s.end_s - s.start_s for s in serial.timeline])
        if serial and serial.timeline
        else None
    )
    opts, gil_on = _options(here, elsewhere, task_s)
    held = serial.gil.held_fraction if serial and serial.gil and serial.gil.available else None
    busy = serial.parallelism if serial else None
    name = here.environment.interpreter
    w = here.config.work
    recs = tuple(
        sentence(n, [o for o in opts if o.workers == n], name, held, busy, gil_on, slower)
        for n in here.config.workers
        if n >= 2
    )
    unsafe = [t for t in trials or [] if not t.safety.safe]
    if unsafe:
        said = "; ".join(f"under {t.interpreter}, {t.safety.sentence}" for t in unsafe)
        recs = (
            f"Threads are advised nowhere, free-threaded or not, and none were run: it is not safe in threads "
            f"({said}).",
            *recs,
        )
    notes = tuple(
        dict.fromkeys(
            f"{o.interpreter} {o.executor} w{o.workers}: {o.reason}"
            for o in opts
            if not o.ok and o.reason
        )
    )
    unchecked = tuple(dict.fromkeys(c.unchecked for c in here.cells if c.unchecked))
    advice = Advice(
        target=w.label,
        interpreter=name,
        gil_enabled=here.environment.gil_enabled,
        serial_task_s=task_s,
        serial_cores_busy=busy,
        serial_gil_held=held,
        options=tuple(opts),
        recommendations=recs,
        single_thread=tuple(slower),
        notes=notes + unchecked,
        safety=tuple(trials or ()),
        usable_cores=here.environment.usable_cores,
    )
    if w.fixed_tasks is not None:
        advice = replace(advice, critical_path=critical_path(serial))
    return advice
