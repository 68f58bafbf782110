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

from gillab import _native
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


def _condition(sock: socket.socket, background: str | None, threads: int, n: int, instant: bool = False) -> list[float]:
    stop = threading.Event()
    workers: list[threading.Thread] = []
    if background is not None:
        fib = resolve("fib", background)
        size = 22 if background == "python" else 30

        def burn() -> None:
            while not stop.is_set():
                fib(size)

        workers = [threading.Thread(target=burn, daemon=True) for _ in range(threads)]
        for w in workers:
            w.start()
        time.sleep(0.05)
    try:
        return _round_trips(sock, n, instant)
    finally:
        stop.set()
        for w in workers:
            w.join()


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
                lat = _condition(ours, bg, threads, requests)
                rows.append(
                    {
                        "switch_interval_ms": si * 1e3,
                        "background": bg or "alone",
                        "threads": threads,
                        "p50_ms": median(lat) * 1e3,
                        "p95_ms": percentile(lat, 0.95) * 1e3,
                        "requests": len(lat),
                    }
                )
        si = sorted(switch_intervals)[len(switch_intervals) // 2]
        sys.setswitchinterval(si)
        instant = {
            "switch_interval_ms": si * 1e3,
            "alone_ms": median(_condition(ours, None, threads, requests, instant=True)) * 1e3,
            "beside_python_ms": median(_condition(ours, "python", threads, requests, instant=True)) * 1e3,
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
