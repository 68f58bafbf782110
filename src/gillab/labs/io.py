"""`gillab io`: blocking against non-blocking I/O, and concurrency without parallelism.

A loopback echo server that this lab starts itself (127.0.0.1, an ephemeral port) answers each request
after a chosen delay. Clients: serial blocking sockets, threads with blocking sockets, asyncio streams.
`--sleep` replaces the network with sleeping (time.sleep / asyncio.sleep) for the same delay.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gillab import aio
from gillab.codec import Record, omit_if_none
from gillab.present.view import Table, View
from gillab.stats import median, percentile

NAME = "io"
CLIENTS = ("serial", "thread", "asyncio")

HOST = "127.0.0.1"
MESSAGE = b"ping\n"


class EchoServer:
    """An asyncio echo server on loopback, in a thread of its own; replies after `delay_s`."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="gillab-echo", daemon=True)
        self._error: BaseException | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                await asyncio.sleep(self.delay_s)
                writer.write(line)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, HOST, 0, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    def _main(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    def start(self) -> None:
        """Start serving; raise if the server could not bind."""
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None or not self.port:
            raise OSError(f"echo server failed to start: {self._error}")

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        if self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def alive(self) -> bool:
        """Whether the server thread still runs."""
        return self._thread.is_alive()


@contextmanager
def echo_server(delay_s: float) -> Iterator[EchoServer]:
    """Run an EchoServer for the span of a with-block, stopping it on every exit path."""
    server = EchoServer(delay_s)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _blocking_request(port: int) -> float:
    t0 = time.perf_counter()
    with socket.create_connection((HOST, port)) as s:
        s.sendall(MESSAGE)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(64)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
    return time.perf_counter() - t0


def _sleep_request(delay_s: float) -> float:
    t0 = time.perf_counter()
    time.sleep(delay_s)
    return time.perf_counter() - t0


async def _async_request(port: int | None, delay_s: float) -> float:
    t0 = time.perf_counter()
    if port is None:
        await asyncio.sleep(delay_s)
    else:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(MESSAGE)
        await writer.drain()
        await reader.readline()
        writer.close()
        await writer.wait_closed()
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Level:
    """One client at one concurrency: throughput, latency and CPU."""

    client: str
    concurrency: int
    requests: int
    wall_s: float
    throughput_rps: float
    latency_p50_ms: float
    latency_p95_ms: float
    cpu_utilization: float


@dataclass(frozen=True)
class Io(Record):
    """Every client at every concurrency level, against the loopback server (or sleeps)."""

    mode: str
    """"network" (the loopback echo server) or "sleep"."""
    server: str | None = omit_if_none()
    delay_s: float = 0.0
    requests: int = 0
    rows: tuple[Level, ...] = ()


def _one_level(
    client: str, concurrency: int, requests: int, port: int | None, delay_s: float
) -> Level:
    def call() -> float:
        return _sleep_request(delay_s) if port is None else _blocking_request(port)

    cpu0, t0 = time.process_time(), time.perf_counter()
    if client == "serial":
        lat = [call() for _ in range(requests)]
    elif client == "thread":
        with ThreadPoolExecutor(concurrency) as pool:
            lat = list(pool.map(lambda _: call(), range(requests)))
    else:

        async def main() -> list[float]:
            sem = asyncio.Semaphore(concurrency)

            async def one() -> float:
                async with sem:
                    return await _async_request(port, delay_s)

            return list(await asyncio.gather(*(one() for _ in range(requests))))

        lat = aio.run(main)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return Level(
        client,
        concurrency,
        requests,
        wall,
        requests / wall,
        median(lat) * 1e3,
        percentile(lat, 0.95) * 1e3,
        cpu / wall,
    )


def _levels(
    concurrency: list[int], requests: int, port: int | None, delay_s: float
) -> tuple[Level, ...]:
    """Every client at every level (serial once, at concurrency 1)."""
    return tuple(
        _one_level(client, m, requests, port, delay_s)
        for client in CLIENTS
        for m in ([1] if client == "serial" else concurrency)
    )


def run(concurrency: list[int], requests: int, delay_s: float, sleep_mode: bool) -> Io:
    """Measure every client at every concurrency level (serial runs once, at concurrency 1)."""
    if sleep_mode:
        return Io("sleep", None, delay_s, requests, _levels(concurrency, requests, None, delay_s))
    with echo_server(delay_s) as server:
        rows = _levels(concurrency, requests, server.port, delay_s)
    return Io("network", f"{HOST}:ephemeral", delay_s, requests, rows)


def lesson(data: Io) -> list[str]:
    """The lab's lesson from its figures: how much more threads and asyncio got through than one blocking
    client, at their most requests in flight, and at what CPU."""
    serial = next((r for r in data.rows if r.client == "serial"), None)
    if serial is None or serial.throughput_rps <= 0:
        return []
    out = []
    for client in dict.fromkeys(r.client for r in data.rows if r.client != "serial"):
        top = max((r for r in data.rows if r.client == client), key=lambda r: r.concurrency)
        out.append(
            f"{client} with {top.concurrency} requests in flight got {top.throughput_rps / serial.throughput_rps:.1f}× "
            f"the throughput of one blocking client, at {top.cpu_utilization:.2f} of a core"
        )
    wait = "a socket" if data.mode == "network" else "a sleep"
    return [
        "; ".join(out)
        + f": a thread waiting on {wait} holds no GIL, and one event loop can wait on many."
    ]


def picture(data: Io, path: Path) -> bool:
    """Throughput and CPU utilisation against concurrency, one line per client."""
    from gillab.outputs.plots import plt, save

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for client in dict.fromkeys(r.client for r in data.rows):
        rows = [r for r in data.rows if r.client == client]
        xs = [r.concurrency for r in rows]
        a1.plot(xs, [r.throughput_rps for r in rows], marker="o", label=client)
        a2.plot(xs, [r.cpu_utilization for r in rows], marker="o", label=client)
    a1.set_xscale("log", base=2)
    a2.set_xscale("log", base=2)
    a1.set_xlabel("requests in flight")
    a2.set_xlabel("requests in flight")
    a1.set_ylabel("requests per second")
    a2.set_ylabel("CPU seconds / wall seconds")
    a1.legend()
    fig.suptitle(f"io ({data.mode}): each request waits {data.delay_s * 1e3:g} ms", fontsize=10)
    save(fig, path)
    return True


IO = ("client", "in flight", "req/s", "p50 ms", "p95 ms", "CPU")


def view(data: Io) -> View:
    """The lab's lesson, then one row per client and level."""
    rows = tuple(
        (
            r.client,
            str(r.concurrency),
            f"{r.throughput_rps:.1f}",
            f"{r.latency_p50_ms:.2f}",
            f"{r.latency_p95_ms:.2f}",
            f"{r.cpu_utilization:.2f}",
        )
        for r in data.rows
    )
    return View(
        f"gillab {NAME}",
        lesson=tuple(lesson(data)),
        tables=(Table(IO, rows),) if rows else (),
        details=(
            "Waiting is not computing: threads and asyncio both overlap the waits, despite the GIL, while the "
            "CPU stays mostly idle. Concurrency without parallelism.",
        ),
        pictures=(f"{NAME}.png",),
    )
