"""The labs' subcommands: race, dis, annotate, io, convoy, states; one ``cmd_*`` function each.

Each lab writes DIR/<lab>.json (and DIR/<lab>.png where a picture helps), refreshes DIR/report.html,
and with --json PATH also writes its JSON there.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gillab.harness.options import DEFAULT_OUT, OptionError, check_out_dir
from gillab.labs.common import lab_document, write_json


def _usage(message: str) -> Exception:
    from gillab.cli import UsageError

    return UsageError(message)


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise _usage(f"{what} must be whole numbers above 0, separated by commas; got {text!r}") from None
    if not values or min(values) <= 0:
        raise _usage(f"{what} must be whole numbers above 0; got {text!r}")
    return values


def _floats(text: str, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) <= 0:
        raise _usage(f"{what} must be numbers above 0, separated by commas; got {text!r}")
    return values


def _out(args: argparse.Namespace) -> Path:
    try:
        return check_out_dir(args.out)
    except OptionError as exc:
        raise _usage(str(exc)) from None


def _finish(lab: str, data: dict[str, Any], args: argparse.Namespace, out: Path) -> None:
    from gillab.outputs.report import write_report

    doc = lab_document(lab, data)
    write_json(doc, out / f"{lab}.json")
    if args.json:
        write_json(doc, args.json)
    write_report(out)
    print(f"wrote {lab}.json{f', {lab}.png' if (out / f'{lab}.png').exists() else ''} and report.html in {out}")


def cmd_race(args: argparse.Namespace) -> int:
    """The shared-counter race: lost updates and the price of each kind of safety."""
    from gillab.labs import pictures, race

    variants = [v.strip() for v in args.variant.split(",")] if args.variant else list(race.VARIANTS)
    bad = [v for v in variants if v not in race.VARIANTS]
    if bad:
        raise _usage(f"unknown variant {', '.join(bad)}; choose from {', '.join(race.VARIANTS)}")
    threads = _ints(args.threads, "--threads")[0]
    k = _ints(args.k, "-k")[0]
    repeat = _ints(args.repeat, "--repeat")[0]
    switch = _floats(args.switch_interval, "--switch-interval")[0] if args.switch_interval else None
    out = _out(args)
    data = race.run_race(variants, threads, k, repeat, switch)
    data["dis_windows"] = race.dis_windows()
    for line in race.facts(data, data["dis_windows"]):
        print(line)
    for r in data["results"]:
        if r["status"] != "ok":
            print(f"{r['variant']}: skipped: {r['reason']}")
    if any(r["status"] == "ok" for r in data["results"]):
        pictures.race_png(data, out / "race.png")
    _finish("race", data, args, out)
    return 0


def cmd_dis(args: argparse.Namespace) -> int:
    """The bytecode of the pure-Python workloads, with the points where the GIL may change hands."""
    from gillab.labs import disasm

    try:
        data = disasm.analyse(args.workload, args.adaptive)
    except ValueError as exc:
        raise _usage(str(exc)) from None
    print(disasm.render(data))
    _finish("dis", data, args, _out(args))
    return 0


def cmd_annotate(args: argparse.Namespace) -> int:
    """Cython's annotation of both kernel builds, checking that nogil lines touch no Python object."""
    from gillab.labs import annotate

    out = _out(args)
    try:
        data = annotate.annotate(out)
    except (FileNotFoundError, RuntimeError) as exc:
        raise _usage(str(exc)) from None
    for variant, v in data["variants"].items():
        bad = v["nogil_lines_touching_python"]
        print(
            f"{variant}: {v['html']}: {len(data['nogil_lines'])} nogil lines, "
            f"{'none touch Python' if not bad else f'lines {bad} touch Python'}"
        )
    _finish("annotate", data, args, out)
    return 1 if any(v["nogil_lines_touching_python"] for v in data["variants"].values()) else 0


def cmd_io(args: argparse.Namespace) -> int:
    """Blocking and non-blocking clients against a loopback echo server (or sleeps)."""
    from gillab.labs import io, pictures

    levels = _ints(args.concurrency, "--concurrency")
    requests = _ints(args.requests, "--requests")[0]
    delay = _floats(args.delay, "--delay")[0]
    out = _out(args)
    data = io.run_io(levels, requests, delay, args.sleep)
    for r in data["rows"]:
        print(
            f"{r['client']:<8} in flight {r['concurrency']:>4}: {r['throughput_rps']:8.1f} req/s  "
            f"p50 {r['latency_p50_ms']:7.2f} ms  p95 {r['latency_p95_ms']:7.2f} ms  CPU {r['cpu_utilization']:.2f}"
        )
    pictures.io_png(data, out / "io.png")
    _finish("io", data, args, out)
    return 0


def cmd_convoy(args: argparse.Namespace) -> int:
    """An I/O thread's round trips alone, beside python fib threads and beside cython-nogil fib threads."""
    from gillab.labs import convoy, pictures

    intervals = _floats(args.switch_interval, "--switch-interval")
    threads = _ints(args.threads, "--threads")[0]
    requests = _ints(args.requests, "--requests")[0]
    out = _out(args)
    data = convoy.run_convoy(intervals, threads, requests)
    for line in [*convoy.facts(data), *data["notes"]]:
        print(line)
    pictures.convoy_png(data, out / "convoy.png")
    _finish("convoy", data, args, out)
    return 0


def cmd_states(args: argparse.Namespace) -> int:
    """A child process's life cycle, sampled from /proc."""
    from gillab.labs import states

    out = _out(args)
    try:
        data = states.run_states()
    except RuntimeError as exc:
        raise _usage(str(exc)) from None
    print(f"child {data['child_pid']}: {' -> '.join(data['sequence'])}")
    for m in data["marks"]:
        print(f"  {m['t_s']:7.3f} s  {m['what']}")
    for letter, meaning in data["letters"].items():
        print(f"  {letter}: {meaning}")
    states.timeline_png(data, out / "states.png")
    _finish("states", data, args, out)
    return 0


def add_lab_parsers(sub: Any) -> None:
    """Register the labs' subcommands."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
        p.add_argument("--json", help="also write the lab's JSON to this path")

    p = sub.add_parser("race", help="the shared-counter race: lost updates, and the price of safety")
    p.add_argument("--variant", help="comma-separated variants (default: all)")
    p.add_argument("--threads", default="2", help="threads (default 2)")
    p.add_argument("-k", default="1000000", help="increments per thread (default 1,000,000)")
    p.add_argument("--repeat", default="5", help="repeats (default 5)")
    p.add_argument("--switch-interval", help="sys.setswitchinterval() in seconds")
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
    p.add_argument("--concurrency", default="1,2,4,8,16,32", help="requests in flight (default 1,2,4,8,16,32)")
    p.add_argument("--requests", default="64", help="requests per level (default 64)")
    p.add_argument("--delay", default="0.02", help="server delay per request, seconds (default 0.02)")
    p.add_argument("--sleep", action="store_true", help="sleep instead of using the network")
    common(p)
    p.set_defaults(func=cmd_io)

    p = sub.add_parser("convoy", help="an I/O thread beside CPU threads: the convoy effect")
    p.add_argument("--switch-interval", default="0.001,0.005,0.02", help="switch intervals, seconds")
    p.add_argument("--threads", default="1", help="CPU-bound threads (default 1)")
    p.add_argument("--requests", default="100", help="round trips per condition (default 100)")
    common(p)
    p.set_defaults(func=cmd_convoy)

    p = sub.add_parser("states", help="a child process's states over its life, sampled from /proc")
    common(p)
    p.set_defaults(func=cmd_states)
