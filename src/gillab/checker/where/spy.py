"""The line profile's sampler before CPython 3.14: py-spy, from outside the child, on a GIL build.

CPython 3.11 to 3.13 have no RemoteUnwinder. py-spy reads a process's threads from outside, and, with `--gil`,
keeps only the samples of the thread that holds the GIL; it cannot give both from one process. So two py-spy
processes read the child at once, at one rate, without stopping it (`--nonblocking`):

- one every thread's stack at each sample (`--idle`: a thread waiting for the GIL counts too);
- one the stacks of the GIL's holder only (`--gil`).

A line's GIL-held share is the second's samples on it over the first's, in the same seconds: alone, where its
thread never waits for the GIL, and on N threads, where the shortfall from alone is the wait. Each reader keeps
a rate of its own, so before each phase and after the last the child calls a thread that holds the GIL
throughout, alone: the second's samples of it over the first's set the two rates against each other. The two
readers sample apart, so a line's share carries both samplings' noise: a pure-Python line read 0.69-1.00 held
alone over 10 profiles of 1 s at 100 a second here (3.14's RemoteUnwinder reads both at one instant).

Each writes a speedscope file: every thread's samples in order, one a tick. A thread's samples count while it
is inside the child's call loop (gillab.checker.where.calls.CALL_LOOP), and the thread's id names its phase
(the child keeps every thread alive to its end: py-spy files a new thread that takes over an ended one's id
under the old one's name, and the phase's samples went to the wrong thread); the samples of a phase are set at
even times across its window, since py-spy keeps none.

py-spy is a sibling of the child, not its parent: under Linux's Yama ptrace scope 1 the child names the sampler
that started it as the process whose descendants may read it (prctl PR_SET_PTRACER), before it says ready.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from gillab.checker.where.profile import Key, Phase, Sample, user_lines

RATE_HZ = 100.0
"""py-spy's samples a second, each reader: a py-spy sample of the child costs about 400 µs of CPU here, ten times
RemoteUnwinder's, so it samples a tenth as often ..."""
LONGER = 2.0
"""... for this many times as long a phase."""
ATTACH_S = 10.0
"""How long the readers may take to start sampling (py-spy reads the interpreter's symbols first)."""
CALL_LOOP = "_call_loop"
"""The name of the child's function that calls the callable, on every calling thread's stack."""
NAME = "py-spy {version} (two readers at once: every thread, and the GIL's holder)"


def binary() -> str | None:
    """py-spy's path: GILLAB_PY_SPY where set, else beside this interpreter, else on PATH."""
    named = os.environ.get("GILLAB_PY_SPY")
    if named is not None:
        return named if os.access(named, os.X_OK) else None
    beside = Path(sys.executable).with_name("py-spy")
    if os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("py-spy")


def unavailable() -> str:
    """Why py-spy cannot profile this interpreter's child, or "" where it can."""
    from gillab import environment

    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not sys.platform.startswith("linux"):
        return (
            f"the line profile reads the child's threads from outside: on {this}, with py-spy on Linux; "
            "here, run the check with --python a CPython 3.14 or newer"
        )
    if not environment.gil_enabled():
        return (
            f"py-spy cannot read a free-threaded CPython {this}; run the check with --python a 3.14t, whose "
            "RemoteUnwinder can"
        )
    if binary() is None:
        return (
            f"the line profile needs CPython 3.14 or newer, or py-spy (pip install 'gillab[where]'), to read "
            f"the child's threads from outside (this is {this}); or run the check with --python a 3.14"
        )
    return ""


def version(path: str) -> str:
    try:
        out = subprocess.run(
            [path, "--version"], check=False, capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.split()[-1] if out.split() else "?"


class SpyReader:
    """Two py-spy processes reading the child from its `ready` line until it ends."""

    def __init__(self, path: str, attached: Path, tmp: Path, hz: float) -> None:
        self.path, self.attached, self.tmp, self.hz = path, attached, tmp, hz
        self.procs: list[subprocess.Popen[bytes]] = []
        self.cpu_s = 0.0
        self.started = self.ended = 0.0
        self.error = ""

    def _out(self, name: str) -> Path:
        return self.tmp / f"{name}.speedscope.json"

    def start(self, pid: int, target_file: str) -> None:
        del target_file  # the user's code is told apart when the files are read
        if self.hz <= 0:  # unsampled: the child calls as it would, with no reader
            self.attached.touch()
            return
        for name, extra in (("every", []), ("holder", ["--gil"])):
            cmd = [self.path, "record", "-p", str(pid), "-r", f"{self.hz:g}", "--nonblocking"]
            cmd += ["--threads", "--idle", "--full-filenames", "-f", "speedscope"]
            cmd += ["-o", str(self._out(name)), *extra]
            with (self.tmp / f"{name}.err").open("wb") as err:
                self.procs.append(
                    subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
                )
        threading.Thread(target=self._wait_attached, daemon=True).start()

    def _wait_attached(self) -> None:
        """Touch `attached` once both readers sample (py-spy says so), or give up and let the child call."""
        deadline = time.monotonic() + ATTACH_S
        while time.monotonic() < deadline:
            said = [
                (self.tmp / f"{n}.err").read_text(errors="replace") for n in ("every", "holder")
            ]
            if all("Sampling process" in s for s in said):
                self.started = time.monotonic()
                break
            if any(
                "Error" in s for s in said
            ):  # py-spy could not read it: the child calls unsampled
                break
            time.sleep(0.01)
        self.attached.touch()

    def finish(self) -> None:
        """Wait for both readers to write (each stops when the child ends), and take their CPU time."""
        self.ended = time.monotonic()
        if not self.procs:  # unsampled, or the child never said it was ready
            return
        for p in self.procs:
            deadline = time.monotonic() + ATTACH_S
            while not self._reaped(p) and time.monotonic() < deadline:
                time.sleep(0.02)
            if p.returncode is None:
                p.send_signal(signal.SIGINT)  # py-spy writes what it has on Ctrl-C
                deadline = time.monotonic() + ATTACH_S
                while not self._reaped(p):
                    if time.monotonic() > deadline:
                        p.kill()  # it wrote nothing in time: _check says so
                    time.sleep(0.02)
        self._check()

    def _reaped(self, p: subprocess.Popen[bytes]) -> bool:
        """Reap p where it ended (its CPU time with it), without blocking."""
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid == 0:
            return False
        p.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_s += usage.ru_utime + usage.ru_stime
        return True

    def _check(self) -> None:
        """Say why, where a reader wrote no profile."""
        for name in ("every", "holder"):
            if not self._out(name).exists():
                said = (self.tmp / f"{name}.err").read_text(errors="replace")
                self.error = f"py-spy could not read the child: {_why(said)}"
                return

    def result(
        self, phases: Sequence[Phase], mine: Callable[[str], bool], calibration: Sequence[Phase]
    ) -> tuple[list[Sample], tuple[dict[Key, float], dict[Key, float]], float, float]:
        """(the samples of each phase's calling threads, each line's GIL-held share alone and on N threads, the
        rate a second, CPU µs a sample of both readers)."""
        every = _read(self._out("every"), mine)
        holder = _read(self._out("holder"), mine)
        samples: list[Sample] = []
        for phase in phases:
            samples += _ticks(phase, every)
        rates = [_rate(every, holder, c) for c in calibration]
        alone, many = (
            _held(every, holder, set(p.thread_ids), _beside(rates, i))
            for i, p in ((0, phases[0]), (len(phases) - 1, phases[-1]))
        )
        main = len(every.get(0, []))  # the main thread's samples: one a tick
        wall = max(1e-9, (self.ended or time.monotonic()) - (self.started or self.ended))
        cost = self.cpu_s / main * 1e6 if main else 0.0
        return samples, (alone, many), main / wall, cost


def _rate(every: dict[int, Seq], holder: dict[int, Seq], calibration: Phase) -> float | None:
    """The holder reader's ticks over the every-thread reader's, from a calibration thread, which held the GIL
    all the time (gillab.checker.where.calls.CALIBRATE_S); None where either missed it."""
    seen = sum(len(every.get(tid, [])) for tid in calibration.thread_ids)
    got = sum(len(holder.get(tid, [])) for tid in calibration.thread_ids)
    return got / seen if seen and got else None


def _beside(rates: Sequence[float | None], i: int) -> float:
    """The readers' ratio for phase i: the mean of the calibrations just before and just after it (1.0 where
    there were none)."""
    near = [r for r in rates[i : i + 2] if r is not None]
    return sum(near) / len(near) if near else 1.0


def _held(
    every: dict[int, Seq], holder: dict[int, Seq], ids: set[int], rate: float
) -> dict[Key, float]:
    """Each line's GIL-held share over one phase's calling threads: the holder's samples on it over every
    thread's, set against the readers' rates."""
    seen = Counter(k for tid, seq in every.items() if tid in ids for k, _ in seq if k)
    got = Counter(k for tid, seq in holder.items() if tid in ids for k, _ in seq if k)
    return {key: min(1.0, got[key] / n / rate) for key, n in seen.items()}


def _why(said: str) -> str:
    """py-spy's error in one line, and Yama's scope where it forbids the read."""
    line = next((s for s in said.splitlines() if s.startswith("Error")), "").removeprefix("Error: ")
    line = line or (said.strip().splitlines() or ["it wrote no profile"])[-1]
    path = Path("/proc/sys/kernel/yama/ptrace_scope")
    scope = path.read_text().strip() if path.exists() else "0"
    if scope not in ("0", "1"):
        line += f" (kernel.yama.ptrace_scope is {scope}: only root may read it)"
    return line


Seq = list[tuple[Key | None, Key | None]]
"""A thread's samples inside the call loop, in order: (its innermost user line, the user line that called it)."""


def _read(path: Path, mine: Callable[[str], bool]) -> dict[int, Seq]:
    """Each thread's samples (by native id) inside the call loop; the main thread's whole count under id 0."""
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    out: dict[int, Seq] = {}
    for prof in doc["profiles"]:
        words = str(prof.get("name", "")).split()
        if len(words) < 2 or not words[1].isdigit():
            continue
        tid = int(words[1])
        if '"MainThread"' in prof["name"]:
            out[0] = [(None, None)] * len(prof["samples"])
            continue
        seq: Seq = []
        for stack in prof["samples"]:
            inner = [frames[i] for i in reversed(stack)]  # innermost first
            names = [f["name"] for f in inner]
            if CALL_LOOP in names:  # the thread is calling: its frames inside the call loop
                calling = inner[: names.index(CALL_LOOP)]
                keys = ((f.get("file") or "", f.get("line") or 0, f["name"]) for f in calling)
                seq.append(user_lines(keys, mine))
        out[tid] = seq
    return out


def _ticks(phase: Phase, every: dict[int, Seq]) -> list[Sample]:
    """A phase's samples, tick by tick, set at even times across its window (all its slices are sampled)."""
    seqs = [(tid, every.get(tid, [])) for tid in phase.thread_ids]
    n = max((len(s) for _, s in seqs), default=0)
    if not n or not phase.slices:
        return []
    start, end = phase.slices[0][0], phase.slices[-1][1]
    step = (end - start) / n
    return [
        (
            int(start + (i + 0.5) * step),
            [(tid, s[i][0], s[i][1], None) for tid, s in seqs if i < len(s)],
        )
        for i in range(n)
    ]
