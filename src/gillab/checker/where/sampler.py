"""The sampler of `check --where`: ``python -m gillab.checker.where.sampler SPEC``, under the interpreter the
check runs under.

It never runs the user's code. It starts the check's child itself (job "where", gillab.checker.where.calls),
so that it is the child's parent: under Linux's Yama ptrace scope 1, only a process's ancestors may read its
memory. It then reads every thread's Python stack in the child, from outside, about RATE_HZ times a second,
with CPython 3.14's RemoteUnwinder (`_remote_debugging`, the module 3.15's sampling profiler is built on): the
child is never stopped. On a GIL build a second unwinder asks which thread holds the GIL at each sample.
Before 3.14, on a GIL build, two py-spy processes read it instead (gillab.checker.where.spy).

It writes one line: {"where": ...} (gillab.checker.where.profile.Where), or {"error": ...} as the check's child
would, with the child's exit status.
"""

from __future__ import annotations

import contextlib
import json
import linecache
import os
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gillab.checker.where import spy
from gillab.checker.where.profile import Key, Phase, Sample, Where, build, user_lines
from gillab.childproc import run_spec
from gillab.codec import decode, encode

RATE_HZ = 1000.0
"""Samples a second: one every millisecond (a sample costs 35-55 µs here, in a process of its own). The
environment variable GILLAB_WHERE_HZ sets another rate; 0 runs the child's phases unsampled, so that the
sampler's own cost can be measured (bench/test_check.py)."""


def rate_hz(default: float = RATE_HZ) -> float:
    """The sampling rate: GILLAB_WHERE_HZ where set (0: none), else the sampler's default."""
    try:
        return max(0.0, float(os.environ.get("GILLAB_WHERE_HZ", default)))
    except ValueError:
        return default


SAMPLER = "RemoteUnwinder (CPython 3.14 _remote_debugging)"


def unavailable() -> str:
    """Why no sampler can read this interpreter's threads from outside, or "" where one can."""
    if sys.version_info < (3, 14):
        return spy.unavailable()
    try:
        import _remote_debugging  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return "this CPython was built without _remote_debugging, which reads another process's threads"
    return ""


class _Reader:
    """Reads the child's stacks in a thread of the sampler's own, from the child's `ready` line to the end."""

    def __init__(self, attached: Path, pause: Path, hz: float) -> None:
        self.attached, self.pause, self.hz = attached, pause, hz
        self.samples: list[Sample] = []
        self.spent_ns = 0
        self.error = ""
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.started_ns = self.ended_ns = self.paused_ns = 0

    def start(self, pid: int, target_file: str) -> None:
        if self.hz <= 0:  # unsampled: the child calls as it would, with no reader
            self.attached.touch()
            return
        import _remote_debugging as rd

        try:
            every = rd.RemoteUnwinder(pid, all_threads=True)
            try:
                holder: Any = rd.RemoteUnwinder(pid, only_active_thread=True)
            except ValueError:  # a free-threaded build: no one GIL to hold
                holder = None
        except (OSError, RuntimeError) as exc:
            self.error = (
                f"cannot read the child's threads from outside ({type(exc).__name__}: {exc})"
            )
            self.attached.touch()
            return
        mine = _user_code(target_file)
        self.thread = threading.Thread(
            target=self._run,
            args=(every, holder, mine, lambda: rd.RemoteUnwinder(pid, all_threads=True)),
            daemon=True,
        )
        self.thread.start()

    def _run(
        self, every: Any, holder: Any, mine: Callable[[str], bool], fresh: Callable[[], Any]
    ) -> None:
        period = 1e9 / self.hz
        self.started_ns = nxt = time.monotonic_ns()
        renewed = 0
        while not self.stop.is_set():
            if self.pause.exists():  # an unsampled slice: its calls per second without a reader
                time.sleep(period / 1e9)
                self.paused_ns += time.monotonic_ns() - nxt
                nxt = time.monotonic_ns()
                continue
            t = time.monotonic_ns()
            try:
                stacks = every.get_stack_trace()
                held = {x[0] for x in holder.get_stack_trace()} if holder is not None else None
            except (OSError, RuntimeError, UnicodeDecodeError):  # the child moved on, or ended
                stacks = None
            if stacks is not None and _unplaced(stacks, mine) and t - renewed > RENEW_NS:
                with contextlib.suppress(OSError, RuntimeError):  # the child ended meanwhile
                    every = fresh()  # its stale bytecode cache: this sample is dropped
                stacks, renewed = None, t
            self.spent_ns += time.monotonic_ns() - t
            if stacks is not None:
                self.samples.append(
                    (t, [_reduce(tid, frames, mine, held) for tid, frames in stacks])
                )
                if len(self.samples) == 1:
                    self.attached.touch()
            nxt += int(period)
            pause = (nxt - time.monotonic_ns()) / 1e9
            if pause > 0:
                time.sleep(pause)
            else:
                nxt = time.monotonic_ns()
        self.ended_ns = time.monotonic_ns()

    def finish(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def result(
        self, phases: list[Phase], mine: Callable[[str], bool], calibration: list[Phase]
    ) -> tuple[list[Sample], None, float, float]:
        """(its samples, no GIL-held shares apart from them, its rate a second, its µs a sample)."""
        # each sample was set in time, reduced and read with its holder as it was taken
        del phases, mine, calibration
        spent = self.ended_ns - self.started_ns - self.paused_ns
        rate = len(self.samples) / (spent / 1e9) if spent > 0 else 0.0
        return self.samples, None, rate, self.spent_ns / max(1, len(self.samples)) / 1e3


RENEW_NS = 20_000_000
"""An unwinder is made afresh at most once in this many ns (gillab.checker.where.sampler._unplaced)."""


def _unplaced(stacks: Any, mine: Callable[[str], bool]) -> bool:
    """Whether a frame of the user's code was read with no line: on a free-threaded build each thread runs a
    copy of the bytecode of its own, and 3.14's RemoteUnwinder caches each code object's copies until a thread
    starts or ends; one read while a new thread had not yet made its copy kept that thread's frames at line -1
    for the whole phase (1 profile in about 32 here lost one of its two threads so). A fresh unwinder reads them
    again."""
    return any(f.lineno < 0 and mine(f.filename) for _, frames in stacks for f in frames)


def _reduce(
    tid: int, frames: Any, mine: Callable[[str], bool], held: set[int] | None
) -> tuple[int, Key | None, Key | None, bool | None]:
    """A thread's stack as (id, its innermost line of user code, the user line that called it, held the GIL)."""
    inner, caller = user_lines(((f.filename, f.lineno, f.funcname) for f in frames), mine)
    return tid, inner, caller, (tid in held) if held is not None else None


def _user_code(target_file: str) -> Callable[[str], bool]:
    """Whether a file is the user's code: the callable's own file, or any outside the standard library, the
    installed packages and gillab."""
    paths = sysconfig.get_paths()
    theirs = tuple(
        os.path.realpath(paths[k]) + os.sep
        for k in ("stdlib", "platstdlib", "purelib", "platlib")
        if k in paths
    )
    gillab = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))) + os.sep
    cache: dict[str, bool] = {}

    def mine(file: str) -> bool:
        got = cache.get(file)
        if got is None:
            real = os.path.realpath(file) if file and not file.startswith("<") else ""
            got = bool(real) and (
                file == target_file or not (real.startswith(theirs) or real.startswith(gillab))
            )
            cache[file] = got
        return got

    return mine


def main(spec_path: str) -> int:
    """Start the check's child, read its stacks while it calls, and write the line profile."""
    spec = json.loads(Path(spec_path).read_text())
    with Path(spec["result_path"]).open("a") as out:

        def write(doc: dict[str, Any]) -> None:
            out.write(json.dumps(doc) + "\n")
            out.flush()

        if spec.get("spy"):  # gillab's own py-spy, where this interpreter's environment has none
            os.environ.setdefault("GILLAB_PY_SPY", spec["spy"])
        why = unavailable()
        if not why and spec.get("by_default") and sys.version_info < (3, 14):
            why = "not asked for: before 3.14 the line profile (py-spy's) runs with --where"
        if why:
            write({"where": encode(Where(None, note=why))})
            return 0
        with tempfile.TemporaryDirectory(prefix="gillab-where-") as tmp:
            return _sample(spec, Path(tmp), write)


def _sample(spec: dict[str, Any], tmp: Path, write: Callable[[dict[str, Any]], None]) -> int:
    reader, name, child = _reader(spec, tmp)
    ready: dict[str, Any] = {}

    def on_line(line: dict[str, Any]) -> None:
        if "ready" in line:
            ready.update(line["ready"])
            reader.start(int(line["ready"]["pid"]), str(line["ready"]["file"]))

    try:
        ran = run_spec(
            "gillab.checker.child",
            child,
            "the line profile's child",
            timeout_s=spec.get("timeout_s"),
            on_line=on_line,
        )
    finally:
        reader.finish()
    if ran.returncode != 0:
        error = next((x for x in reversed(ran.lines) if "error" in x), None)
        write(error or {"error": ran.failure("the line profile's child", spec.get("timeout_s"))})
        return ran.returncode or 1
    phases = [decode(Phase, x["phase"]) for x in ran.lines if "phase" in x]
    calibration = [decode(Phase, x["calibration"]) for x in ran.lines if "calibration" in x]
    machine = next((x["machine"] for x in ran.lines if "machine" in x), None)
    sampled = not reader.error and reader.hz > 0 and len(phases) >= 2
    mine = _user_code(str(ready.get("file", "")))
    got = reader.result(phases, mine, calibration) if sampled else None
    if got is None or not got[0]:
        write({"where": encode(_unsampled(reader, phases))})
        return 0
    samples, held, rate, cost = got
    objects = {(o["file"], o["line"]): o for o in ready.get("objects", [])}
    keys = {k for _, threads in samples for _, k, _, _ in threads if k is not None}
    where = build(
        samples,
        phases,
        sampler=name,
        rate_hz=rate,
        cost_us=cost,
        gil=bool(ready.get("gil", True)),
        machine=machine,
        objects=objects,
        source={k: linecache.getline(k[0], k[1]).strip() for k in keys},
        held=held,
    )
    write({"where": encode(where)})
    return 0


def _reader(spec: dict[str, Any], tmp: Path) -> tuple[_Reader | spy.SpyReader, str, dict[str, Any]]:
    """The reader for this interpreter (3.14's RemoteUnwinder, else py-spy's two), its name, and the child's
    spec (py-spy cannot pause: no pause file, and phases LONGER)."""
    child = {k: v for k, v in spec.items() if k not in ("result_path", "spy", "by_default")} | {
        "job": "where",
        "attached_path": str(tmp / "attached"),
    }
    if sys.version_info >= (3, 14):
        child["pause_path"] = str(tmp / "pause")
        return _Reader(tmp / "attached", tmp / "pause", rate_hz()), SAMPLER, child
    path = spy.binary() or ""
    child |= {"pause_path": "", "duration_s": spec["duration_s"] * spy.LONGER}
    reader = spy.SpyReader(path, tmp / "attached", tmp, rate_hz(spy.RATE_HZ))
    return reader, spy.NAME.format(version=spy.version(path)), child


def _unsampled(reader: _Reader | spy.SpyReader, phases: list[Phase]) -> Where:
    """No profile, and why; the calls made where the child called (GILLAB_WHERE_HZ=0: unsampled)."""
    why = reader.error or (
        "GILLAB_WHERE_HZ=0: the child called unsampled"
        if reader.hz <= 0
        else "the sampler read no stack of the child"
    )
    if not phases:
        return Where(None, note=why)
    return Where(
        None,
        threads=phases[-1].threads,
        calls_alone=phases[0].calls,
        calls_threads=phases[-1].calls,
        kept_alone=phases[0].kept(),
        kept_threads=phases[-1].kept(),
        note=why,
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
