"""`gillab info`: the interpreter, the machine and the native builds."""

from __future__ import annotations

import argparse
import json
from typing import Any

from gillab import environment
from gillab.codec import encode
from gillab.present import terminal
from gillab.present.view import Table, View


def cmd_info(args: argparse.Namespace) -> int:
    """Report the interpreter, the machine and the native builds."""
    data = encode(environment.info())
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    gil = "on" if data["gil_enabled"] else "off"
    runs = (
        "the GIL is on: one thread at a time runs Python code, whatever the cores"
        if data["gil_enabled"]
        else "the GIL is off: threads run Python code on every core at once"
    )
    lesson = f"This process may use {data['usable_cores']} of the machine's {data['cpu_count']} CPUs, and {runs}."
    rows = [
        ("gillab", data["gillab"]),
        (
            "python",
            f"{data['python_implementation']} {data['python_version']} ({data['executable']})",
        ),
        ("free-threaded build", "yes" if data["free_threaded_build"] else "no"),
        ("GIL now", gil),
        ("switch interval", f"{data['switch_interval_s'] * 1e3:g} ms"),
        ("cpu_count", str(data["cpu_count"])),
        ("usable cores", f"{data['usable_cores']} {data['affinity']}"),
        ("load average", str(data["load_average"])),
        ("cython", str(data["cython_version"])),
        ("numpy", str(data["numpy_version"])),
    ]
    for impl, v in data["native"].items():
        state = (
            f"built, RELEASES_GIL={v['releases_gil']}"
            if v["built"]
            else f"NOT BUILT - {v['error']}"
        )
        rows.append((impl, state))
    table = Table(("what", "here"), tuple(rows), align="ll")
    terminal.show(View("gillab info", lesson=(lesson,), tables=(table,)))
    return 0


def add_parsers(sub: Any) -> None:
    """Register `gillab info`."""
    p = sub.add_parser("info", help="the interpreter, the machine and the native builds")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)
