"""The IPython magics: ``%gil_check``, ``%%gil_run`` and ``%gil_advise`` (``%load_ext gillab``).

Each shows its figures as HTML in the cell and returns its result object, so that a cell can go on with the
figures. A bad expression or option is one line on stderr, never a traceback in the cell's output. A long run
shows its progress in one line that updates in place, and the kernel's stop button (KeyboardInterrupt) stops
it with its workers shut down, keeping the cells already measured.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import shlex
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gillab.errors import GillabError, TargetError


def _fail(message: str) -> None:
    print(f"gillab: {message}", file=sys.stderr)


def parse_call(
    line: str, ns: dict[str, Any]
) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    """f(a, b, k=v) in the user's namespace -> (f, args, kwargs); TargetError (one line) for anything else."""
    try:
        node = ast.parse(line.strip(), mode="eval").body
    except SyntaxError as exc:
        raise TargetError(f"not a Python expression: {line.strip()!r} ({exc.msg})") from None
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
        raise TargetError(f"give one call, as func(args): got {line.strip()!r}")

    def value(expr: ast.expr) -> Any:
        try:
            return eval(compile(ast.Expression(expr), "<gillab magic>", "eval"), ns)
        except Exception as exc:
            raise TargetError(f"{ast.unparse(expr)}: {type(exc).__name__}: {exc}") from None

    func = value(node.func)
    if not callable(func):
        raise TargetError(f"{ast.unparse(node.func)} is not callable")
    kwargs = {k.arg: value(k.value) for k in node.keywords if k.arg is not None}
    return func, tuple(value(a) for a in node.args), kwargs


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "gillab-notebook"
    folder.mkdir(exist_ok=True)
    return folder


def target_for(func: Callable[..., Any]) -> str:
    """The target name of a function, for workers to import: by reference where it can be imported, else its
    source written to a module of its own (a notebook's function must then be self-contained)."""
    from gillab.advice.api import target_of

    try:
        return target_of(func)
    except TargetError:
        pass
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise TargetError(
            f"{getattr(func, '__name__', func)!r}: its source cannot be read for workers"
        ) from None
    path = _folder() / f"cell_{abs(hash(source))}.py"
    path.write_text(source)
    return f"{path}:{func.__name__}"


class Progress:
    """One line in the cell's output, updated in place: which impl and round a run is at."""

    def __init__(self) -> None:
        shown: Any = importlib.import_module("IPython.display")  # the notebook extra
        self.html = shown.HTML
        self.handle: Any = shown.display(
            self.html("<code>gillab: starting</code>"), display_id=True
        )

    def __call__(self, label: str, done: int, total: int) -> None:
        bar = "#" * round(20 * done / max(1, total))
        text = f"gillab [{bar:<20}] {done}/{total} {label}"
        if self.handle is not None:
            self.handle.update(self.html(f"<code>{text}</code>"))


def _title(cell: str) -> str:
    """A cell's name in tables and pictures: its last line of code (what the task computes)."""
    lines = [
        ln.strip() for ln in cell.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    last = lines[-1] if lines else "pass"
    return "cell: " + (last if len(last) <= 40 else last[:39] + "…")


RUN = argparse.ArgumentParser(prog="%%gil_run", add_help=False, exit_on_error=False)
RUN.add_argument("--executor", default=None)
RUN.add_argument("--workers", default="1,2")
RUN.add_argument("--repeat", type=int, default=3)


def gil_run(line: str, cell: str) -> Any:
    """Run the cell's code as the task of each executor: a function gil_cell() holding the cell, through the
    target workload (so the cell must import what it uses: process and interpreter workers start afresh)."""
    from gillab.harness import options
    from gillab.harness.runner import Interrupted, run_matrix
    from gillab.workloads import target

    try:
        opts = RUN.parse_args(shlex.split(line))
        workers = tuple(int(w) for w in opts.workers.split(","))
        executors = tuple(opts.executor.split(",")) if opts.executor else None
    except (argparse.ArgumentError, ValueError, SystemExit) as exc:
        _fail(f"%%gil_run [--executor A,B] [--workers 1,2] [--repeat N]: {exc}")
        return None
    path = _folder() / f"run_{abs(hash(cell))}.py"
    path.write_text("def gil_cell():\n" + textwrap.indent(cell.rstrip() or "pass", "    ") + "\n")
    try:
        name = target.prepare(f"{path}:gil_cell", title=_title(cell))
        config = options.make_config(
            name, executors=executors, workers=workers, repeat=opts.repeat, min_repeat=opts.repeat
        )
        result = run_matrix(config, None, Progress())
    except Interrupted as stop:
        _fail(
            f"interrupted: {len(stop.result.cells)} finished cells kept; no worker is left running"
        )
        return stop.result
    except KeyboardInterrupt:
        _fail("interrupted before any cell was measured; no worker is left running")
        return None
    except GillabError as exc:
        _fail(str(exc))
        return None
    return result


def gil_check(line: str, ns: dict[str, Any]) -> Any:
    """gillab.check on the call a line makes: in a child process where the function can be imported by
    reference, else in this kernel (its own function, defined in the notebook)."""
    from gillab.checker.api import check

    try:
        func, args, kwargs = parse_call(line, ns)
        isolate = getattr(func, "__module__", "__main__") not in ("__main__", None)
        where = (
            None if isolate else False
        )  # the line profile where threads fall short and it can run
        return check(func, *args, isolate=isolate, where=where, **kwargs)
    except GillabError as exc:
        _fail(str(exc))
        return None


def gil_advise(line: str, ns: dict[str, Any]) -> Any:
    """gillab advise on the call a line makes (a notebook's function through its own source)."""
    from gillab.advice.api import advise_target

    try:
        func, args, kwargs = parse_call(line, ns)
        if kwargs:
            raise TargetError(
                "give the call's arguments by position (advise passes them as its tasks' inputs)"
            )
        return advise_target(target_for(func), args, progress=Progress())
    except KeyboardInterrupt:
        _fail("interrupted; no worker is left running")
        return None
    except GillabError as exc:
        _fail(str(exc))
        return None


def load(ipython: Any) -> None:
    """Register the magics and the results' HTML with this IPython."""
    from gillab.notebook import display

    display.register()

    def _check(line: str) -> Any:
        return gil_check(line, ipython.user_ns)

    def _advise(line: str) -> Any:
        return gil_advise(line, ipython.user_ns)

    ipython.register_magic_function(_check, "line", "gil_check")
    ipython.register_magic_function(gil_run, "cell", "gil_run")
    ipython.register_magic_function(_advise, "line", "gil_advise")
