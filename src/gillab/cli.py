"""The gillab command line: argparse subcommands, one ``cmd_*`` function each."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from gillab import environment


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and a pointer to --help), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def cmd_info(args: argparse.Namespace) -> int:
    """Report the interpreter, the machine and the native builds."""
    data = environment.info()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    gil = "on" if data["gil_enabled"] else "off"
    rows = [
        ("gillab", data["gillab"]),
        ("python", f"{data['python_implementation']} {data['python_version']} ({data['executable']})"),
        ("free-threaded build", "yes" if data["free_threaded_build"] else "no"),
        ("GIL now", gil),
        ("switch interval", f"{data['switch_interval_s'] * 1e3:g} ms"),
        ("cpu_count", data["cpu_count"]),
        ("usable cores", f"{data['usable_cores']} {data['affinity']}"),
        ("load average", data["load_average"]),
        ("cython", data["cython_version"]),
        ("numpy", data["numpy_version"]),
    ]
    for impl, v in data["native"].items():
        state = f"built, RELEASES_GIL={v['releases_gil']}" if v["built"] else f"NOT BUILT - {v['error']}"
        rows.append((impl, state))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one subparser per command."""
    parser = _Parser(prog="gillab", description="A laboratory for seeing the GIL at work.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="the interpreter, the machine and the native builds")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)
    from gillab.run_cli import add_run_parser

    add_run_parser(sub)
    from gillab.labs.cli import add_lab_parsers

    add_lab_parsers(sub)
    from gillab.check.cli import add_check_parser

    add_check_parser(sub)
    from gillab.compare.cli import add_compare_parser

    add_compare_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gillab command line; bad input is one line on stderr and exit status 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as exc:
        print(f"gillab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gillab {args.command}: interrupted", file=sys.stderr)
        return 130
