"""`gillab convoy`: Beazley's convoy effect, an I/O thread's round trips beside CPU-bound threads.

The echo peer runs in a child process, so only the I/O thread here needs this interpreter's GIL. Each time
its blocking recv() returns, the I/O thread must take the GIL back: beside Python CPU threads it waits for
one to be forced off (about one switch interval); beside nogil native threads it does not wait.
"""

from __future__ import annotations

import multiprocessing
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gillab import _native, environment
from gillab.codec import Record, encode
from gillab.harness import gilstate
from gillab.present.view import View
from gillab.stats import median, percentile
from gillab.workloads import resolve

NAME = "convoy"
BACKGROUNDS = ("alone", "python", "cython-nogil")

PEER_DELAY_S = 0.0005
"""The echo peer's default delay: about a round trip on a local network. A loopback peer that answers at
once (about 10 µs) is back before the CPU thread has even been scheduled, which hides the convoy."""


def _echo_peer(conn: socket.socket, delay_s: float) -> None:
    while data := conn.recv(64):
        if data.endswith(b"x"):  # b"i": an instant answer
            time.sleep(delay_s)
        conn.sendall(data)


def _round_trips(sock: socket.socket, n: int, instant: bool = False) -> list[float]:
    out = []
    msg = b"i" if instant else b"x"
    for _ in range(n):
        t0 = time.perf_counter()
        sock.sendall(msg)
        sock.recv(64)
        out.append(time.perf_counter() - t0)
    return out


@dataclass(frozen=True)
class IoShares:
    """The I/O thread's shares of the round trips' time, from the GIL-state sampler (None, and why, where none)."""

    io_holds: float | None = None
    io_runs_without_gil: float | None = None
    io_waits: float | None = None
    switches_per_s: float | None = None
    gil_sample_hz: float | None = None
    gil_note: str = ""


@dataclass(frozen=True)
class Condition:
    """The round trips at one switch interval beside one background."""

    switch_interval_ms: float
    background: str
    threads: int
    p50_ms: float
    p95_ms: float
    requests: int
    io_holds: float | None
    io_runs_without_gil: float | None
    io_waits: float | None
    switches_per_s: float | None
    gil_sample_hz: float | None
    gil_note: str


@dataclass(frozen=True)
class InstantPeer:
    """The round trip alone and beside python fib with a peer that answers at once."""

    switch_interval_ms: float
    alone_ms: float
    beside_python_ms: float


@dataclass(frozen=True)
class Convoy(Record):
    """Every condition, the instant peer's counter-example, and what could not run."""

    threads: int
    requests: int
    peer_delay_ms: float
    rows: tuple[Condition, ...]
    instant_peer: InstantPeer
    notes: tuple[str, ...]


def _condition(
    sock: socket.socket, background: str | None, threads: int, n: int, instant: bool = False
) -> tuple[list[float], IoShares]:
    """Return the round trips' latencies, and what the GIL-state sampler saw of the I/O thread meanwhile."""
    stop = threading.Event()
    workers: list[threading.Thread] = []
    lanes = [gilstate.this_thread("I/O thread")] if not gilstate.unavailable() else []
    if background is not None:
        fib = resolve("fib", background)
        size = 22 if background == "python" else 30

        def burn(i: int) -> None:
            if lanes:
                lanes.append(gilstate.this_thread(f"{background} fib {i}"))
            while not stop.is_set():
                fib(size)

        workers = [threading.Thread(target=burn, args=(i,), daemon=True) for i in range(threads)]
        for w in workers:
            w.start()
        time.sleep(0.05)
    sampler = gilstate.GilSampler(lanes) if environment.gil_enabled() else None
    try:
        if sampler is not None:
            sampler.start()
        t0 = time.monotonic_ns()
        lat = _round_trips(sock, n, instant)
        t1 = time.monotonic_ns()
        seen = (
            sampler.stop({lanes[0][1]: [(t0, t1)]} if lanes else {}, t0, t1)
            if sampler is not None
            else None
        )
        return lat, _io_state(seen)
    finally:
        stop.set()
        for w in workers:
            w.join()


def _io_state(seen: gilstate.GilState | None) -> IoShares:
    """The I/O thread's shares of the round trips' time, from the GIL-state sampler (None, and why, where none)."""
    if seen is None:
        return IoShares(gil_note=gilstate.NO_GIL)
    if not seen.available or not seen.per_thread:
        return IoShares(gil_note=seen.note or "the GIL state was not sampled")
    io = seen.per_thread[0]
    hz = 1 / seen.interval_s if seen.interval_s else None
    return IoShares(io.holds, io.runs_without_gil, io.waits, seen.switches_per_s, hz, seen.note)


def run(
    switch_intervals: list[float], threads: int, requests: int, peer_delay_s: float = PEER_DELAY_S
) -> Convoy:
    """Measure round-trip latency alone, beside python fib threads and beside cython-nogil fib threads.

    The peer answers after peer_delay_s. At the middle switch interval the round trip alone and beside
    python fib is also measured with an instant peer, to show why such a peer hides the convoy.
    """
    backgrounds: list[str | None] = [None, "python"]
    notes = []
    if _native.is_built("cython-nogil"):
        backgrounds.append("cython-nogil")
    else:
        notes.append("cython-nogil is not built: that condition was skipped")
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = socket.socketpair()
    peer = ctx.Process(target=_echo_peer, args=(theirs, peer_delay_s), daemon=True)
    peer.start()
    theirs.close()
    old = sys.getswitchinterval()
    rows = []
    try:
        _round_trips(ours, 20)  # the peer is up and warm
        for si in switch_intervals:
            sys.setswitchinterval(si)
            for bg in backgrounds:
                lat, io = _condition(ours, bg, threads, requests)
                p50, p95 = median(lat) * 1e3, percentile(lat, 0.95) * 1e3
                rows.append(
                    Condition(si * 1e3, bg or "alone", threads, p50, p95, len(lat), **encode(io))
                )
        si = sorted(switch_intervals)[len(switch_intervals) // 2]
        sys.setswitchinterval(si)
        instant = InstantPeer(
            si * 1e3,
            median(_condition(ours, None, threads, requests, instant=True)[0]) * 1e3,
            median(_condition(ours, "python", threads, requests, instant=True)[0]) * 1e3,
        )
    finally:
        sys.setswitchinterval(old)
        ours.close()
        peer.join(5)
        if peer.is_alive():
            peer.kill()
            peer.join()
    return Convoy(threads, requests, peer_delay_s * 1e3, tuple(rows), instant, tuple(notes))


def facts(data: Convoy) -> list[str]:
    """Return what was measured, per switch interval, as sentences."""
    out = []
    by: dict[float, dict[str, Condition]] = {}
    for r in data.rows:
        by.setdefault(r.switch_interval_ms, {})[r.background] = r
    for si, rows in by.items():
        alone = rows["alone"].p50_ms
        parts = [f"switch interval {si:g} ms: round trip alone {alone:.3f} ms"]
        for bg in BACKGROUNDS[1:]:
            if bg in rows:
                parts.append(
                    f"beside {data.threads} {bg} fib threads {rows[bg].p50_ms:.3f} ms ({rows[bg].p50_ms - alone:+.3f})"
                )
        out.append(", ".join(parts) + " (medians).")
        shares = [
            (bg, rows[bg]) for bg in BACKGROUNDS if bg in rows and rows[bg].io_waits is not None
        ]
        if shares:
            out.append(_shares_sentence(si, shares))
    out.extend(_lesson(data))
    return out


def _shares_sentence(si: float, shares: list[tuple[str, Condition]]) -> str:
    return (
        f"Switch interval {si:g} ms, from the interpreter's own GIL state: the I/O thread waited (neither "
        "running nor holding the GIL: for the peer, the GIL or a core) "
        + ", ".join(
            f"{r.io_waits or 0:.0%} of the time {'alone' if bg == 'alone' else f'beside {bg} fib'}"
            for bg, r in shares
        )
        + "; the share above 'alone' is time spent waiting for the GIL (or a core). Sampled at "
        + f"{min(r.gil_sample_hz or 0 for _, r in shares) / 1e3:.1f} kHz or more: a thread whose CPU "
        "clock moved at all between two samples counts as running. The GIL changed hands "
        + ", ".join(
            f"{r.switches_per_s:.0f}/s {bg}" for bg, r in shares if r.switches_per_s is not None
        )
        + "."
    )


def _lesson(data: Convoy) -> list[str]:
    """Say, from the figures, whether the convoy showed, and why an instant peer hides it."""
    out = []
    for r in (r for r in data.rows if r.background == "python"):
        extra = r.p50_ms - next(
            a.p50_ms
            for a in data.rows
            if a.background == "alone" and a.switch_interval_ms == r.switch_interval_ms
        )
        if extra >= 0.5 * r.switch_interval_ms:
            out.append(
                f"At {r.switch_interval_ms:g} ms the I/O thread lost {extra:.2f} ms a round trip beside python "
                f"fib: about {extra / r.switch_interval_ms:.1f} switch intervals spent waiting for the CPU thread "
                "to be forced off the GIL (the convoy)."
            )
        else:
            out.append(
                f"At {r.switch_interval_ms:g} ms the I/O thread lost only {extra:.2f} ms beside python fib: no "
                "convoy showed here."
            )
    out.append(_instant(data.instant_peer, data.peer_delay_ms))
    return out


def _instant(inst: InstantPeer, delay: float) -> str:
    gap = inst.beside_python_ms - inst.alone_ms
    head = (
        f"With an instant peer (a round trip of {inst.alone_ms:.3f} ms alone) the I/O thread lost "
        f"{gap:.3f} ms beside python fib at {inst.switch_interval_ms:g} ms"
    )
    if gap < 0.5 * inst.switch_interval_ms:
        return (
            f"{head}: the convoy hid. The answer came back in microseconds, before the CPU thread (waiting "
            "for the GIL) had even been woken by the OS, so the I/O thread took the GIL straight back. A peer "
            f"that takes {delay:g} ms, like a real network, lets the CPU thread take the GIL meanwhile, and "
            "then it must be forced off."
        )
    return (
        f"{head}: here the convoy showed even so, because the CPU thread took the GIL before the answer "
        "came back. With a peer that answers in microseconds that is a race between the OS waking the "
        f"CPU thread and the answer, and it can go either way; a peer that takes {delay:g} ms, like a real "
        "network, settles it, which is why it is the default."
    )


def lesson(data: Convoy) -> list[str]:
    """The convoy's lesson from its figures: whether the I/O thread waited switch intervals beside python fib."""
    return _lesson(data)[:-1] or _lesson(data)


def lines(data: Convoy) -> list[str]:
    """What `gillab convoy` prints after its lesson: the figures per switch interval, the instant peer, the
    notes."""
    said = set(lesson(data))
    return [x for x in facts(data) if x not in said] + list(data.notes)


def picture(data: Convoy, path: Path) -> bool:
    """Median round trip against switch interval, one line per background."""
    from gillab.outputs.plots import plt, save

    fig, ax = plt.subplots(figsize=(7, 4))
    for bg in dict.fromkeys(r.background for r in data.rows):
        rows = [r for r in data.rows if r.background == bg]
        ax.plot(
            [r.switch_interval_ms for r in rows], [r.p50_ms for r in rows], marker="o", label=bg
        )
    xs = sorted({r.switch_interval_ms for r in data.rows})
    ax.plot(xs, xs, color="grey", ls=":", label="one switch interval")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("switch interval (ms)")
    ax.set_ylabel("I/O round trip, median (ms)")
    ax.legend()
    ax.set_title(f"convoy: an I/O thread beside {data.threads} CPU thread(s)", fontsize=10)
    save(fig, path)
    return True


def view(data: Convoy) -> View:
    """The convoy's lesson, then the figures per switch interval, the instant peer and the notes."""
    return View(
        f"gillab {NAME}",
        lesson=tuple(lesson(data)),
        notes=tuple(lines(data)),
        details=(
            "An I/O thread must take the GIL back after every blocking call; beside Python CPU threads it "
            "waits for one of them to be forced off.",
        ),
        pictures=(f"{NAME}.png",),
    )
