"""`gillab dis`: the bytecode of the pure-Python workloads, with the points where a thread may lose the GIL.

The eval loop only offers the GIL to another thread when it checks its "eval breaker", and it checks it
at a few instructions only. Those instructions differ between versions: the table below is per version,
taken from CPython's ceval.c / bytecodes.c (CHECK_EVAL_BREAKER and its kin).
"""

from __future__ import annotations

import dis
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gillab import environment
from gillab.codec import Record
from gillab.errors import LabError
from gillab.present.view import View
from gillab.workloads import pure

NAME = "dis"

# Instruction-name prefixes at which the running thread may be asked to drop the GIL.
SWITCH_POINTS: dict[tuple[int, int], tuple[str, ...]] = {
    # 3.11: the generic PRECALL does not check; its specialised forms that make the call do.
    (3, 11): (
        "RESUME",
        "JUMP_BACKWARD",
        "CALL",
        "PRECALL_BUILTIN_",
        "PRECALL_NO_KW_",
        "PRECALL_METHOD_DESCRIPTOR_",
        "CALL_FUNCTION_EX",
    ),
    (3, 12): ("RESUME", "JUMP_BACKWARD", "CALL", "CALL_FUNCTION_EX"),
    (3, 13): ("RESUME", "JUMP_BACKWARD", "CALL", "CALL_FUNCTION_EX", "ENTER_EXECUTOR"),
    (3, 14): ("RESUME", "JUMP_BACKWARD", "CALL", "CALL_FUNCTION_EX", "ENTER_EXECUTOR"),
}

FUNCTIONS: dict[str, dict[str, Callable[..., Any]]] = {
    "fib": {"fib": pure._fib},
    "counter": {
        "add": pure.add,
        "desc": pure.desc,
        "add_rcw": pure.add_rcw,
        "add_locked": pure.add_locked,
    },
}
RACE_VARIANT = {
    "add": "python",
    "desc": "python-add-desc",
    "add_rcw": "python-rcw",
    "add_locked": "python-lock",
}


def switch_table(version: tuple[int, int] | None = None) -> tuple[tuple[int, int], tuple[str, ...]]:
    """Return (the table's version, switch-point prefixes) for a Python version (nearest known at or below)."""
    v = version or sys.version_info[:2]
    known = sorted(k for k in SWITCH_POINTS if k <= v) or [min(SWITCH_POINTS)]
    return known[-1], SWITCH_POINTS[known[-1]]


def is_switch_point(opname: str, prefixes: tuple[str, ...]) -> bool:
    """Return whether the eval loop may hand the GIL over at this instruction."""
    if opname in ("JUMP_BACKWARD_NO_INTERRUPT", "PRECALL_ADAPTIVE"):
        return False
    return any(
        opname == p or (p.endswith("_") and opname.startswith(p)) or opname.startswith(p + "_")
        for p in prefixes
    )


@dataclass(frozen=True)
class Line:
    """One instruction, marked when the GIL may change hands there."""

    offset: int
    opname: str
    argrepr: str
    switch: bool


def instructions(func: Callable[..., Any], adaptive: bool = False) -> list[Line]:
    """Return the function's instructions with their switch-point marks."""
    _, prefixes = switch_table()
    kw = {"adaptive": True} if adaptive else {}
    return [
        Line(i.offset, i.opname, i.argrepr, is_switch_point(i.opname, prefixes))
        for i in dis.get_instructions(func, **kw)
    ]


def race_window(lines: list[Line], name: str = "total") -> bool | None:
    """Return whether a switch point lies between a load of the global `name` and its store (None: no store)."""
    loading = False
    window = False
    for ln in lines:
        if ln.opname.startswith("LOAD_GLOBAL") and ln.argrepr.endswith(name):
            loading, window = True, False
        elif loading and ln.switch:
            window = True
        elif ln.opname == "STORE_GLOBAL" and ln.argrepr == name:
            if loading and window:
                return True
            loading = False
    return False if any(ln.opname == "STORE_GLOBAL" for ln in lines) else None


def warm_up() -> None:
    """Run the counter functions enough for the adaptive interpreter to specialise them."""
    for f in (pure.add, pure.desc, pure.add_rcw, pure.add_locked):
        f(5000)
    pure.reset()
    pure._fib(15)


@dataclass(frozen=True)
class Function:
    """One function's marked bytecode, and whether += in it can be torn by a thread switch."""

    race_variant: str | None
    switch_between_load_and_store: bool | None
    instructions: tuple[Line, ...]


@dataclass(frozen=True)
class Disasm(Record):
    """The marked bytecode of one workload's pure-Python functions on this interpreter."""

    workload: str
    adaptive: bool
    python: str
    gil_enabled: bool
    table_version: str
    switch_points: tuple[str, ...]
    functions: dict[str, Function]
    specialised: bool


def run(workload: str, adaptive: bool = False) -> Disasm:
    """Return every function's marked bytecode and, for counters, whether += can be torn by a thread switch."""
    if workload not in FUNCTIONS:
        raise LabError(
            f"dis knows the pure-Python workloads {', '.join(FUNCTIONS)}; got {workload!r}"
        )
    if adaptive:
        warm_up()
    table_version, prefixes = switch_table()
    functions = {}
    changed = False
    for name, func in FUNCTIONS[workload].items():
        marked = instructions(func, adaptive)
        changed |= adaptive and [ln.opname for ln in marked] != [
            ln.opname for ln in instructions(func)
        ]
        functions[name] = Function(RACE_VARIANT.get(name), race_window(marked), tuple(marked))
    return Disasm(
        workload,
        adaptive,
        sys.version.split()[0],
        environment.gil_enabled(),
        ".".join(map(str, table_version)),
        prefixes,
        functions,
        changed,
    )


def render(data: Disasm) -> str:
    """Return the marked listing as text."""
    lines = [
        f"# Python {data.python}: '>>' marks where the running thread may be asked to drop the GIL "
        f"({', '.join(data.switch_points)}; table for {data.table_version})"
    ]
    if data.adaptive and not data.specialised:
        lines.append(
            "# --adaptive: no instruction was specialised after the warm-up on this interpreter "
            "(free-threaded 3.13 builds turn the specialising interpreter off)"
        )
    for name, f in data.functions.items():
        lines.append(f"\n{name}:")
        for ins in f.instructions:
            mark = ">>" if ins.switch else "  "
            lines.append(f"  {mark} {ins.offset:4d} {ins.opname:<28} {ins.argrepr}")
        w = f.switch_between_load_and_store
        if w is not None and not data.gil_enabled:
            lines.append(
                "  -> this interpreter runs without the GIL: threads run at the same time, so any read "
                "then write of total can interleave with another thread's, switch point or not"
            )
        elif w is not None:
            verdict = (
                "a switch point lies between reading and writing total: another thread can run in between, "
                "so updates can be lost even with the GIL"
                if w
                else "no switch point lies between reading and writing total: with the GIL, no other thread can "
                "run in between, so no update is lost (without the GIL, this guarantee is gone)"
            )
            lines.append(f"  -> {verdict}")
    return "\n".join(lines)


def lesson(data: Disasm) -> list[str]:
    """The lab's lesson: where the running thread may be asked to drop the GIL, and what that means for +=."""
    marked = sum(1 for f in data.functions.values() for ins in f.instructions if ins.switch)
    out = [
        f"The GIL changes hands only at the {marked} instructions marked >> below (Python {data.python})."
    ]
    torn = [n for n, f in data.functions.items() if f.switch_between_load_and_store]
    whole = [n for n, f in data.functions.items() if f.switch_between_load_and_store is False]
    if not data.gil_enabled and (torn or whole):
        out.append(
            "Without a GIL, threads run at once: any read then write of total can interleave."
        )
    else:
        if torn:
            out.append(
                f"In {', '.join(torn)} a switch point lies between reading and writing total: updates can be "
                "lost even with the GIL."
            )
        if whole:
            out.append(f"In {', '.join(whole)} none does: with the GIL, no update is lost.")
    return out


def view(data: Disasm) -> View:
    """The lab's lesson, then the marked listing."""
    return View(
        f"gillab {NAME}",
        lesson=tuple(lesson(data)),
        listing=render(data),
        details=(
            "The running thread can only be asked to drop the GIL at the marked instructions (>>).",
        ),
    )
