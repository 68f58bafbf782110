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


def _echo_peer(conn: socket.socket) -> None:
    while data := conn.recv(64):
        conn.sendall(data)


def _round_trips(sock: socket.socket, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        sock.sendall(b"x")
        sock.recv(64)
        out.append(time.perf_counter() - t0)
    return out


def _condition(sock: socket.socket, background: str | None, threads: int, n: int) -> list[float]:
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
        return _round_trips(sock, n)
    finally:
        stop.set()
        for w in workers:
            w.join()


def run_convoy(switch_intervals: list[float], threads: int, requests: int) -> dict[str, Any]:
    """Measure round-trip latency alone, beside python fib threads and beside cython-nogil fib threads."""
    backgrounds: list[str | None] = [None, "python"]
    notes = []
    if _native.is_built("cython-nogil"):
        backgrounds.append("cython-nogil")
    else:
        notes.append("cython-nogil is not built: that condition was skipped")
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = socket.socketpair()
    peer = ctx.Process(target=_echo_peer, args=(theirs,), daemon=True)
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
    finally:
        sys.setswitchinterval(old)
        ours.close()
        peer.join(5)
        if peer.is_alive():
            peer.kill()
            peer.join()
    return {"threads": threads, "requests": requests, "rows": rows, "notes": notes}


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
    return out
