"""`gillab.advise(func, *args, ...)`: the advise command, from Python, returning the frozen Advice."""

from __future__ import annotations

import ast
import importlib
import json
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gillab.advice.model import Advice
from gillab.advice.run import advise as run_advise
from gillab.errors import TargetError
from gillab.harness.runner import Progress
from gillab.workloads import target


def target_of(func: Callable[..., Any]) -> str:
    """'module:qualname' of a function every worker can import by name; TargetError where there is none (a
    lambda, a function defined inside another, one defined in __main__ or a notebook)."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or "<" in qualname or module == "__main__":
        raise TargetError(
            f"{getattr(func, '__name__', func)!r} cannot be named for workers to import: define it at the top "
            "level of a module (a file.py works too, through gillab advise path/file.py:func)"
        )
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        raise TargetError(f"{module}:{qualname} cannot be imported by name") from None
    return f"{module}:{qualname}"


def _literal(values: Iterable[Any], what: str) -> str:
    """A Python expression that rebuilds the values in any worker (their repr, checked to read back)."""
    items = list(values)
    text = repr(items)
    try:
        same = ast.literal_eval(text) == items
    except (ValueError, SyntaxError):
        same = False
    if not same:
        raise TargetError(
            f"{what} must be Python literals (numbers, strings, bytes, tuples, lists, dicts): give "
            'a str expression instead, e.g. inputs="range(25, 40)"'
        )
    return text


def advise_target(
    name: str,
    args: tuple[Any, ...] = (),
    inputs: str | Iterable[Any] | None = None,
    workers: tuple[int, ...] = (1, 2),
    pythons: tuple[str, ...] = (),
    out: Path | None = None,
    progress: Progress | None = None,
) -> Advice:
    """advise on a target named as the command names it ('module:func' or 'file.py:func'), each task calling it
    with args (JSON-able or Python literals), or once per input of inputs (an expression, or literals)."""
    setup = None
    json_args: list[Any] | None = None
    if args:
        try:
            json_args = json.loads(json.dumps(list(args)))
            if json_args != list(args):
                raise TypeError
        except TypeError:
            json_args, setup = None, f"args = tuple({_literal(args, 'the arguments')})"
    expr = inputs if isinstance(inputs, str) or inputs is None else _literal(inputs, "inputs")
    workload = target.prepare(name, setup, json_args, expr)
    if out is not None:
        return run_advise(workload, workers, out, pythons, progress, say=lambda _m: None).advice
    with tempfile.TemporaryDirectory(prefix="gillab-advise-") as tmp:
        return run_advise(
            workload, workers, Path(tmp), pythons, progress, say=lambda _m: None
        ).advice


def advise(
    func: Callable[..., Any],
    *args: Any,
    inputs: str | Iterable[Any] | None = None,
    workers: tuple[int, ...] = (1, 2),
    pythons: tuple[str, ...] = (),
    out: Path | None = None,
) -> Advice:
    """Run func serially, on threads, processes and interpreters (and under each of pythons), and advise.

    args are the call's arguments (each task calls func(*args)); inputs, one per task instead: an expression
    ("range(25, 40)") or literals. out keeps the run's files (default: a temporary folder, removed)."""
    return advise_target(target_of(func), args, inputs, workers, pythons, out)
