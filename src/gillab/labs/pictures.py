"""The labs' pictures: race, io and convoy (states draws its own timeline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gillab.outputs.plots import plt, save


def race_png(data: dict[str, Any], path: Path) -> None:
    """Bar charts of lost updates (median, min-max) and the time per increment, per variant."""
    rows = [r for r in data["results"] if r["status"] == "ok"]
    names = [r["variant"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    total = [r["threads"] * r["k"] for r in rows]  # every update made, whatever its sign
    med = [r["lost_median"] / n for r, n in zip(rows, total, strict=True)]
    err = [
        [max(0.0, m - r["lost_min"] / n) for m, r, n in zip(med, rows, total, strict=True)],
        [max(0.0, r["lost_max"] / n - m) for m, r, n in zip(med, rows, total, strict=True)],
    ]
    a1.barh(names, med, xerr=err, color="tab:red")
    a1.set_xlabel("lost updates, share of all updates made (median, min-max)")
    a1.invert_yaxis()
    a2.barh(names, [r["ns_per_increment"] for r in rows], color="tab:blue")
    a2.set_xlabel("ns per increment (the price of safety)")
    a2.set_xscale("log")
    a2.invert_yaxis()
    fig.suptitle(
        f"race: {data['threads']} threads × "
        + (f"{data['k']:,} increments" if data["k"] else "k increments sized per variant (see the JSON)")
        + f", Python {data['python']}, "
        f"GIL {'on' if data['gil_enabled'] else 'off'}",
        fontsize=10,
    )
    save(fig, path)


def io_png(data: dict[str, Any], path: Path) -> None:
    """Throughput and CPU utilisation against concurrency, one line per client."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for client in dict.fromkeys(r["client"] for r in data["rows"]):
        rows = [r for r in data["rows"] if r["client"] == client]
        xs = [r["concurrency"] for r in rows]
        a1.plot(xs, [r["throughput_rps"] for r in rows], marker="o", label=client)
        a2.plot(xs, [r["cpu_utilization"] for r in rows], marker="o", label=client)
    a1.set_xscale("log", base=2)
    a2.set_xscale("log", base=2)
    a1.set_xlabel("requests in flight")
    a2.set_xlabel("requests in flight")
    a1.set_ylabel("requests per second")
    a2.set_ylabel("CPU seconds / wall seconds")
    a1.legend()
    fig.suptitle(f"io ({data['mode']}): each request waits {data['delay_s'] * 1e3:g} ms", fontsize=10)
    save(fig, path)


def convoy_png(data: dict[str, Any], path: Path) -> None:
    """Median round trip against switch interval, one line per background."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for bg in dict.fromkeys(r["background"] for r in data["rows"]):
        rows = [r for r in data["rows"] if r["background"] == bg]
        ax.plot([r["switch_interval_ms"] for r in rows], [r["p50_ms"] for r in rows], marker="o", label=bg)
    xs = sorted({r["switch_interval_ms"] for r in data["rows"]})
    ax.plot(xs, xs, color="grey", ls=":", label="one switch interval")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("switch interval (ms)")
    ax.set_ylabel("I/O round trip, median (ms)")
    ax.legend()
    ax.set_title(f"convoy: an I/O thread beside {data['threads']} CPU thread(s)", fontsize=10)
    save(fig, path)
