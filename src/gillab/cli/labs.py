"""The labs' subcommands: race, dis, annotate, io, convoy, states; one ``cmd_*`` function each.

Each lab writes DIR/<lab>.json (and DIR/<lab>.png where a picture helps), refreshes DIR/report.html,
and with --json PATH also writes its JSON there. Files are written before anything is printed, so that a
reader who stops reading (`| head -1`) loses nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

from gillab.cli import types
from gillab.cli.errors import UsageError
from gillab.cli.report import finish_lab, out_dir
from gillab.harness.options import DEFAULT_OUT
from gillab.labs import race


def cmd_race(args: argparse.Namespace) -> int:
    """The shared-counter race: lost updates and the price of each kind of safety."""
    from gillab.labs import pictures

    variants = list(args.variant or race.VARIANTS)
    out = out_dir(args.out)
    data = race.run_race(variants, args.threads, args.k, args.repeat, args.switch_interval)
    data["dis_windows"] = race.dis_windows()
    drew = any(r["status"] == "ok" for r in data["results"])
    if drew:
        pictures.race_png(data, out / "race.png")
    finish_lab("race", data, args.json, out, drew)
    for line in race.facts(data, data["dis_windows"]):
        print(line)
    for r in data["results"]:
        if r["status"] != "ok":
            print(f"{r['variant']}: skipped: {r['reason']}")
    return 0


def cmd_dis(args: argparse.Namespace) -> int:
    """The bytecode of the pure-Python workloads, with the points where the GIL may change hands."""
    from gillab.labs import disasm

    try:
        data = disasm.analyse(args.workload, args.adaptive)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finish_lab("dis", data, args.json, out_dir(args.out))
    print(disasm.render(data))
    return 0


def cmd_annotate(args: argparse.Namespace) -> int:
    """Cython's annotation of both kernel builds, checking that nogil lines touch no Python object."""
    from gillab.labs import annotate

    out = out_dir(args.out)
    try:
        data = annotate.annotate(out)
    except (FileNotFoundError, RuntimeError) as exc:
        raise UsageError(str(exc)) from None
    finish_lab("annotate", data, args.json, out)
    for variant, v in data["variants"].items():
        print(f"{annotate.sentence(variant, len(data['nogil_lines']), v)} ({v['html']})")
    return 1 if any(v["nogil_lines_touching_python"] for v in data["variants"].values()) else 0


def cmd_io(args: argparse.Namespace) -> int:
    """Blocking and non-blocking clients against a loopback echo server (or sleeps)."""
    from gillab.labs import io, pictures

    out = out_dir(args.out)
    data = io.run_io(list(args.concurrency), args.requests, args.delay, args.sleep)
    pictures.io_png(data, out / "io.png")
    finish_lab("io", data, args.json, out, drew=True)
    for r in data["rows"]:
        print(
            f"{r['client']:<8} in flight {r['concurrency']:>4}: {r['throughput_rps']:8.1f} req/s  "
            f"p50 {r['latency_p50_ms']:7.2f} ms  p95 {r['latency_p95_ms']:7.2f} ms  CPU {r['cpu_utilization']:.2f}"
        )
    return 0


def cmd_convoy(args: argparse.Namespace) -> int:
    """An I/O thread's round trips alone, beside python fib threads and beside cython-nogil fib threads."""
    from gillab.labs import convoy, pictures

    out = out_dir(args.out)
    data = convoy.run_convoy(list(args.switch_interval), args.threads, args.requests, args.peer_delay)
    pictures.convoy_png(data, out / "convoy.png")
    finish_lab("convoy", data, args.json, out, drew=True)
    for line in [*convoy.facts(data), *data["notes"]]:
        print(line)
    return 0


def cmd_states(args: argparse.Namespace) -> int:
    """A child process's life cycle, sampled from /proc."""
    from gillab.labs import states

    out = out_dir(args.out)
    try:
        data = states.run_states()
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    states.timeline_png(data, out / "states.png")
    finish_lab("states", data, args.json, out, drew=True)
    print(f"child {data['child_pid']}: {' -> '.join(data['sequence'])}")
    for m in data["marks"]:
        print(f"  {m['t_s']:7.3f} s  {m['what']}")
    for letter, meaning in data["letters"].items():
        print(f"  {letter}: {meaning}")
    return 0


def add_parsers(sub: Any) -> None:
    """Register the labs' subcommands."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
        p.add_argument("--json", help="also write the lab's JSON to this path")

    p = sub.add_parser("race", help="the shared-counter race: lost updates, and the price of safety")
    p.add_argument(
        "--variant",
        type=types.names(tuple(race.VARIANTS), "variant"),
        help=f"comma-separated variants (default: all): {', '.join(race.VARIANTS)}",
    )
    p.add_argument("--threads", type=types.positive_int, default=2, help="threads (default 2)")
    p.add_argument(
        "-k",
        type=types.positive_int,
        help="increments per thread (default: sized per variant so that one thread runs about 0.1 s, "
        "at least 1,000,000, so that the threads overlap)",
    )
    p.add_argument("--repeat", type=types.positive_int, default=5, help="repeats (default 5)")
    p.add_argument("--switch-interval", type=types.positive_float, help="sys.setswitchinterval() in seconds")
    common(p)
    p.set_defaults(func=cmd_race)

    p = sub.add_parser("dis", help="bytecode of the python workloads, with the GIL switch points marked")
    p.add_argument("workload", help="fib or counter")
    p.add_argument("--adaptive", action="store_true", help="show the specialised instructions after a warm-up")
    common(p)
    p.set_defaults(func=cmd_dis)

    p = sub.add_parser("annotate", help="cython -a of both kernel builds; nogil lines must not touch Python")
    common(p)
    p.set_defaults(func=cmd_annotate)

    p = sub.add_parser("io", help="blocking against non-blocking I/O on a loopback server")
    p.add_argument(
        "--concurrency",
        type=types.positive_ints,
        default=(1, 2, 4, 8, 16, 32),
        help="requests in flight (default 1,2,4,8,16,32)",
    )
    p.add_argument("--requests", type=types.positive_int, default=64, help="requests per level (default 64)")
    p.add_argument(
        "--delay", type=types.positive_float, default=0.02, help="server delay per request, seconds (default 0.02)"
    )
    p.add_argument("--sleep", action="store_true", help="sleep instead of using the network")
    common(p)
    p.set_defaults(func=cmd_io)

    p = sub.add_parser("convoy", help="an I/O thread beside CPU threads: the convoy effect")
    p.add_argument(
        "--switch-interval",
        type=types.positive_floats,
        default=(0.001, 0.005, 0.02),
        help="switch intervals, seconds (default 0.001,0.005,0.02)",
    )
    p.add_argument("--threads", type=types.positive_int, default=1, help="CPU-bound threads (default 1)")
    p.add_argument("--requests", type=types.positive_int, default=100, help="round trips per condition (default 100)")
    p.add_argument(
        "--peer-delay",
        type=types.positive_float,
        default=0.0005,
        help="seconds the echo peer waits before it answers, like a network round trip (default 0.0005)",
    )
    common(p)
    p.set_defaults(func=cmd_convoy)

    p = sub.add_parser("states", help="a child process's states over its life, sampled from /proc")
    common(p)
    p.set_defaults(func=cmd_states)
