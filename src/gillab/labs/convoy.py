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
from typing import Any

from gillab import _native, environment
from gillab.harness import gilstate
from gillab.stats import median, percentile
from gillab.workloads import resolve

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


def _condition(
    sock: socket.socket, background: str | None, threads: int, n: int, instant: bool = False
) -> tuple[list[float], dict[str, Any]]:
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
        seen = sampler.stop({lanes[0][1]: [(t0, t1)]} if lanes else {}, t0, t1) if sampler is not None else None
        return lat, _io_state(seen)
    finally:
        stop.set()
        for w in workers:
            w.join()


def _io_state(seen: gilstate.GilState | None) -> dict[str, Any]:
    """The I/O thread's shares of the round trips' time, from the GIL-state sampler (None, and why, where none)."""
    out: dict[str, Any] = dict.fromkeys(
        ("io_holds", "io_runs_without_gil", "io_waits", "switches_per_s", "gil_sample_hz")
    )
    if seen is None:
        return out | {"gil_note": "no GIL to hold: this free-threaded interpreter runs without one"}
    if not seen.available or not seen.per_thread:
        return out | {"gil_note": seen.note or "the GIL state was not sampled"}
    io = seen.per_thread[0]
    return {
        "io_holds": io.holds,
        "io_runs_without_gil": io.runs_without_gil,
        "io_waits": io.waits,
        "switches_per_s": seen.switches_per_s,
        "gil_sample_hz": 1 / seen.interval_s if seen.interval_s else None,
        "gil_note": seen.note,
    }


def run_convoy(
    switch_intervals: list[float], threads: int, requests: int, peer_delay_s: float = PEER_DELAY_S
) -> dict[str, Any]:
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
                rows.append(
                    {
                        "switch_interval_ms": si * 1e3,
                        "background": bg or "alone",
                        "threads": threads,
                        "p50_ms": median(lat) * 1e3,
                        "p95_ms": percentile(lat, 0.95) * 1e3,
                        "requests": len(lat),
                        **io,
                    }
                )
        si = sorted(switch_intervals)[len(switch_intervals) // 2]
        sys.setswitchinterval(si)
        instant = {
            "switch_interval_ms": si * 1e3,
            "alone_ms": median(_condition(ours, None, threads, requests, instant=True)[0]) * 1e3,
            "beside_python_ms": median(_condition(ours, "python", threads, requests, instant=True)[0]) * 1e3,
        }
    finally:
        sys.setswitchinterval(old)
        ours.close()
        peer.join(5)
        if peer.is_alive():
            peer.kill()
            peer.join()
    return {
        "threads": threads,
        "requests": requests,
        "peer_delay_ms": peer_delay_s * 1e3,
        "rows": rows,
        "instant_peer": instant,
        "notes": notes,
    }


def facts(data: dict[str, Any]) -> list[str]:
    """Return what was measured, per switch interval, as sentences."""
    out = []
    by: dict[float, dict[str, dict[str, Any]]] = {}
    for r in data["rows"]:
        by.setdefault(r["switch_interval_ms"], {})[r["background"]] = r
    for si, rows in by.items():
        alone = rows["alone"]["p50_ms"]
        parts = [f"switch interval {si:g} ms: round trip alone {alone:.3f} ms"]
        for bg in ("python", "cython-nogil"):
            if bg in rows:
                parts.append(
                    f"beside {data['threads']} {bg} fib threads {rows[bg]['p50_ms']:.3f} ms "
                    f"({rows[bg]['p50_ms'] - alone:+.3f})"
                )
        out.append(", ".join(parts) + " (medians).")
        shares = [
            (bg, rows[bg]) for bg in ("alone", "python", "cython-nogil") if rows.get(bg, {}).get("io_waits") is not None
        ]
        if shares:
            out.append(
                f"Switch interval {si:g} ms, from the interpreter's own GIL state: the I/O thread waited (neither "
                "running nor holding the GIL: for the peer, the GIL or a core) "
                + ", ".join(
                    f"{r['io_waits']:.0%} of the time {'alone' if bg == 'alone' else f'beside {bg} fib'}"
                    for bg, r in shares
                )
                + "; the share above 'alone' is time spent waiting for the GIL (or a core). Sampled at "
                + f"{min(r.get('gil_sample_hz') or 0 for _, r in shares) / 1e3:.1f} kHz or more: a thread whose CPU "
                "clock moved at all between two samples counts as running. The GIL changed hands "
                + ", ".join(
                    f"{r['switches_per_s']:.0f}/s {bg}" for bg, r in shares if r.get("switches_per_s") is not None
                )
                + "."
            )
    out.extend(_lesson(data))
    return out


def _lesson(data: dict[str, Any]) -> list[str]:
    """Say, from the figures, whether the convoy showed, and why an instant peer hides it."""
    out = []
    rows = [r for r in data["rows"] if r["background"] == "python"]
    delay = data.get("peer_delay_ms", 0.0)
    for r in rows:
        extra = r["p50_ms"] - next(
            a["p50_ms"]
            for a in data["rows"]
            if a["background"] == "alone" and a["switch_interval_ms"] == r["switch_interval_ms"]
        )
        if extra >= 0.5 * r["switch_interval_ms"]:
            out.append(
                f"At {r['switch_interval_ms']:g} ms the I/O thread lost {extra:.2f} ms a round trip beside python "
                f"fib: about {extra / r['switch_interval_ms']:.1f} switch intervals spent waiting for the CPU thread "
                "to be forced off the GIL (the convoy)."
            )
        else:
            out.append(
                f"At {r['switch_interval_ms']:g} ms the I/O thread lost only {extra:.2f} ms beside python fib: no "
                "convoy showed here."
            )
    inst = data.get("instant_peer")
    if inst:
        gap = inst["beside_python_ms"] - inst["alone_ms"]
        head = (
            f"With an instant peer (a round trip of {inst['alone_ms']:.3f} ms alone) the I/O thread lost "
            f"{gap:.3f} ms beside python fib at {inst['switch_interval_ms']:g} ms"
        )
        if gap < 0.5 * inst["switch_interval_ms"]:
            out.append(
                f"{head}: the convoy hid. The answer came back in microseconds, before the CPU thread (waiting "
                "for the GIL) had even been woken by the OS, so the I/O thread took the GIL straight back. A peer "
                f"that takes {delay:g} ms, like a real network, lets the CPU thread take the GIL meanwhile, and "
                "then it must be forced off."
            )
        else:
            out.append(
                f"{head}: here the convoy showed even so, because the CPU thread took the GIL before the answer "
                "came back. With a peer that answers in microseconds that is a race between the OS waking the "
                f"CPU thread and the answer, and it can go either way; a peer that takes {delay:g} ms, like a real "
                "network, settles it, which is why it is the default."
            )
    return out
