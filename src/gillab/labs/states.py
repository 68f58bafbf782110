"""`gillab states`: a process's life cycle, observed in /proc rather than drawn.

A child process is created, runs, blocks on I/O (a pipe read), waits on a lock (flock on a file the parent
holds), exits, and stays a zombie until the parent reaps it. The harness's native sampler records every
change of state of the child's threads.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gillab import _native, environment
from gillab.codec import Record
from gillab.errors import LabError
from gillab.harness.instruments import has_proc
from gillab.present.view import View

NAME = "states"

STATE_LETTERS = {
    "R": "running, or ready to run (runnable, waiting for a core)",
    "S": "sleeping, interruptibly: blocked on I/O, a lock, a timer or an event",
    "D": "disk sleep: uninterruptible wait, usually for the disk",
    "Z": "zombie: exited, its exit status not yet collected by its parent",
    "T": "stopped by a signal (or t: stopped by a debugger)",
    "I": "idle kernel thread",
    "X": "dead: reaped by its parent and gone from /proc",
}

CHILD = """
import fcntl, sys, time
t = time.perf_counter()
while time.perf_counter() - t < {run_s}:
    pass
sys.stdin.buffer.read(1)
with open({lock!r}, "rb") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
"""


@dataclass(frozen=True)
class Event:
    """A thread of the child seen in a new state (t_s from the start of sampling)."""

    t_s: float
    pid: int
    tid: int
    state: str


@dataclass(frozen=True)
class Mark:
    """What the parent did, and when."""

    what: str
    t_s: float


@dataclass(frozen=True)
class States(Record):
    """The child's life: every change of state of its threads, and the parent's actions."""

    child_pid: int
    exit_code: int | None
    interval_s: float
    events: tuple[Event, ...]
    marks: tuple[Mark, ...]
    letters: dict[str, str]
    sequence: tuple[str, ...]
    """The child's main thread's states in order, repeats folded."""


def run(phase_s: float = 0.3, interval_s: float = 0.001) -> States:
    """Run the scenario and return the child's state changes and the parent's phase marks."""
    if not has_proc():
        why = environment.linux_readers_off()
        raise LabError(
            f"gillab states reads process states from Linux's /proc, not read here ({why})"
        )
    import fcntl  # Unix only, as /proc is

    ins = _native.instruments()
    with tempfile.TemporaryDirectory(prefix="gillab-states-") as tmp:
        lock_path = Path(tmp) / "lock"
        lock_path.write_bytes(b"")
        holder = lock_path.open("rb")
        fcntl.flock(holder, fcntl.LOCK_EX)  # the child will wait on this
        marks: list[tuple[str, int]] = []
        code = CHILD.format(run_s=phase_s, lock=str(lock_path))
        t_create = ins.now_ns()
        child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
        sampler = ins.ThreadSampler([child.pid], interval_s, True)
        sampler.start()
        marks.append(("created", t_create))
        try:
            time.sleep(
                phase_s + 0.35
            )  # start-up, then its busy loop, then it blocks reading the pipe
            marks.append(("parent writes to the pipe", ins.now_ns()))
            assert child.stdin is not None
            child.stdin.write(b"x")
            child.stdin.close()
            time.sleep(phase_s)  # the child now waits for the lock
            marks.append(("parent releases the lock", ins.now_ns()))
            fcntl.flock(holder, fcntl.LOCK_UN)
            holder.close()
            time.sleep(phase_s)  # the child has exited: a zombie until reaped
            marks.append(("parent reaps the child", ins.now_ns()))
            child.wait()
            time.sleep(0.02)
        finally:
            if child.stdin is not None and not child.stdin.closed:
                child.stdin.close()
            if child.poll() is None:
                child.kill()
                child.wait()
            sampler.stop()
    t0 = sampler.t0_ns
    events = tuple(Event(t, pid, tid, st) for t, pid, tid, st in sampler.events())
    return States(
        child.pid,
        child.returncode,
        interval_s,
        events,
        tuple(Mark(what, (t - t0) / 1e9) for what, t in marks),
        STATE_LETTERS,
        main_thread_sequence(events, child.pid),
    )


def main_thread_sequence(events: tuple[Event, ...], pid: int) -> tuple[str, ...]:
    """Return the child's main thread's states in order, repeats folded."""
    seq: list[str] = []
    for e in events:
        if e.tid == pid and (not seq or seq[-1] != e.state):
            seq.append(e.state)
    return tuple(seq)


def lesson(data: States) -> list[str]:
    """The lab's lesson: the states the child went through, each named."""
    named = [f"{s} ({data.letters.get(s, '?').split(':')[0].split(',')[0]})" for s in data.sequence]
    return [f"A process goes through states: this child was {' -> '.join(named)}."]


def lines(data: States) -> list[str]:
    """What `gillab states` prints after its lesson: the main thread's states, the parent's actions, the
    letters."""
    out = [f"child {data.child_pid}: {' -> '.join(data.sequence)}"]
    out += [f"  {m.t_s:7.3f} s  {m.what}" for m in data.marks]
    return out + [f"  {letter}: {meaning}" for letter, meaning in data.letters.items()]


def picture(data: States, path: Path) -> bool:
    """Draw the child's threads' states over time, with the parent's actions marked."""
    from gillab.outputs.plots import plt, save

    colours = {"R": "tab:green", "S": "tab:blue", "D": "tab:orange", "Z": "tab:red", "X": "black"}
    tids = sorted({e.tid for e in data.events})
    fig, ax = plt.subplots(figsize=(9, 2.6 + 0.4 * len(tids)))
    end = max([e.t_s for e in data.events] + [m.t_s for m in data.marks]) + 0.02
    for lane, tid in enumerate(tids):
        evs = [e for e in data.events if e.tid == tid]
        for e, nxt in zip(evs, [*evs[1:], None], strict=True):
            stop = nxt.t_s if nxt else end
            if e.state != "X":
                ax.barh(
                    lane, stop - e.t_s, left=e.t_s, color=colours.get(e.state, "grey"), height=0.6
                )
                if stop - e.t_s > 0.03:
                    ax.text(
                        (e.t_s + stop) / 2, lane, e.state, ha="center", va="center", color="white"
                    )
    for m in data.marks:
        ax.axvline(m.t_s, color="grey", ls=":", lw=1)
        ax.text(m.t_s, len(tids) - 0.55, m.what, rotation=25, fontsize=7, va="bottom")
    ax.set_yticks(range(len(tids)))
    ax.set_yticklabels(
        [f"tid {t}" + (" (main)" if t == data.child_pid else "") for t in tids], fontsize=7
    )
    ax.set_xlabel("seconds since sampling began")
    ax.set_ylim(-0.6, len(tids) + 0.9)
    ax.set_title("a child process's states, sampled from /proc", fontsize=10, pad=4)
    save(fig, path)
    return True


def view(data: States) -> View:
    """The lab's lesson, then the main thread's states, the parent's actions and the letters."""
    return View(
        f"gillab {NAME}",
        lesson=tuple(lesson(data)),
        notes=tuple(lines(data)),
        details=(
            "Blocking on the pipe and waiting for the lock are both S, so the dotted marks in the picture "
            "show which wait is which.",
        ),
        pictures=(f"{NAME}.png",),
    )
