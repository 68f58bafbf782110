"""The labs' subcommands: race, dis, annotate, io, convoy, states; one ``cmd_*`` function each.

Each lab writes DIR/<lab>.json (and DIR/<lab>.png where a picture helps), refreshes DIR/report.html,
and with --json PATH also writes its JSON there. Files are written before anything is printed, so that a
reader who stops reading (`| head -1`) loses nothing. Then it prints its lesson first, its figures, and last
the files it wrote, no line wider than 100 columns. The labs themselves
(gillab.labs) measure, say and draw; this module only parses and prints.
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from gillab.cli import types
from gillab.cli.common import add_json, add_out, add_switch_interval, out_dir
from gillab.kinds import finish_document
from gillab.labs import annotate, convoy, disasm, io, race, states
from gillab.present import terminal
from gillab.present.view import View


class _Result(Protocol):
    def to_json(self) -> dict[str, Any]: ...


def _finish(name: str, result: _Result, view: View, args: argparse.Namespace, drew: bool) -> None:
    """Write the lab's files, then print its view and last the files written."""
    wrote = finish_document(name, result.to_json(), args.json, out_dir(args.out), drew)
    terminal.show(view, wrote)


def cmd_race(args: argparse.Namespace) -> int:
    """The shared-counter race: lost updates and the price of each kind of safety."""
    out = out_dir(args.out)
    data = race.run(
        list(args.variant or race.VARIANTS), args.threads, args.k, args.repeat, args.switch_interval
    )
    _finish(race.NAME, data, race.view(data), args, race.picture(data, out / "race.png"))
    return 0


def cmd_dis(args: argparse.Namespace) -> int:
    """The bytecode of the pure-Python workloads, with the points where the GIL may change hands."""
    data = disasm.run(args.workload, args.adaptive)
    _finish(disasm.NAME, data, disasm.view(data), args, False)
    return 0


def cmd_annotate(args: argparse.Namespace) -> int:
    """Cython's annotation of both kernel builds, checking that nogil lines touch no Python object."""
    data = annotate.run(out_dir(args.out))
    _finish(annotate.NAME, data, annotate.view(data), args, False)
    return 1 if data.touching else 0


def cmd_io(args: argparse.Namespace) -> int:
    """Blocking and non-blocking clients against a loopback echo server (or sleeps)."""
    out = out_dir(args.out)
    data = io.run(list(args.concurrency), args.requests, args.delay, args.sleep)
    _finish(io.NAME, data, io.view(data), args, io.picture(data, out / "io.png"))
    return 0


def cmd_convoy(args: argparse.Namespace) -> int:
    """An I/O thread's round trips alone, beside python fib threads and beside cython-nogil fib threads."""
    out = out_dir(args.out)
    data = convoy.run(list(args.switch_interval), args.threads, args.requests, args.peer_delay)
    drew = convoy.picture(data, out / "convoy.png")
    _finish(convoy.NAME, data, convoy.view(data), args, drew)
    return 0


def cmd_states(args: argparse.Namespace) -> int:
    """A child process's life cycle, sampled from /proc."""
    out = out_dir(args.out)
    data = states.run()
    _finish(states.NAME, data, states.view(data), args, states.picture(data, out / "states.png"))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    add_out(p)
    add_json(p)


def add_parsers(sub: Any) -> None:
    """Register the labs' subcommands."""
    p = sub.add_parser(
        "race", help="the shared-counter race: lost updates, and the price of safety"
    )
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
    add_switch_interval(p)
    _common(p)
    p.set_defaults(func=cmd_race)

    p = sub.add_parser(
        "dis", help="bytecode of the python workloads, with the GIL switch points marked"
    )
    p.add_argument("workload", help="fib or counter")
    p.add_argument(
        "--adaptive", action="store_true", help="show the specialised instructions after a warm-up"
    )
    _common(p)
    p.set_defaults(func=cmd_dis)

    p = sub.add_parser(
        "annotate", help="cython -a of both kernel builds; nogil lines must not touch Python"
    )
    _common(p)
    p.set_defaults(func=cmd_annotate)

    _add_io(sub)
    _add_convoy(sub)

    p = sub.add_parser("states", help="a child process's states over its life, sampled from /proc")
    _common(p)
    p.set_defaults(func=cmd_states)


def _add_io(sub: Any) -> None:
    p = sub.add_parser("io", help="blocking against non-blocking I/O on a loopback server")
    p.add_argument(
        "--concurrency",
        type=types.positive_ints,
        default=(1, 2, 4, 8, 16, 32),
        help="requests in flight (default 1,2,4,8,16,32)",
    )
    p.add_argument(
        "--requests", type=types.positive_int, default=64, help="requests per level (default 64)"
    )
    p.add_argument(
        "--delay",
        type=types.positive_float,
        default=0.02,
        help="server delay per request, seconds (default 0.02)",
    )
    p.add_argument("--sleep", action="store_true", help="sleep instead of using the network")
    _common(p)
    p.set_defaults(func=cmd_io)


def _add_convoy(sub: Any) -> None:
    p = sub.add_parser("convoy", help="an I/O thread beside CPU threads: the convoy effect")
    p.add_argument(
        "--switch-interval",
        type=types.positive_floats,
        default=(0.001, 0.005, 0.02),
        help="switch intervals, seconds (default 0.001,0.005,0.02)",
    )
    p.add_argument(
        "--threads", type=types.positive_int, default=1, help="CPU-bound threads (default 1)"
    )
    p.add_argument(
        "--requests",
        type=types.positive_int,
        default=100,
        help="round trips per condition (default 100)",
    )
    p.add_argument(
        "--peer-delay",
        type=types.positive_float,
        default=0.0005,
        help="seconds the echo peer waits before it answers, like a network round trip (default 0.0005)",
    )
    _common(p)
    p.set_defaults(func=cmd_convoy)
