"""Subinterpreters: an InterpreterPoolExecutor, one interpreter and one GIL per worker (PEP 684, PEP 734).

The standard library's on 3.14 (``concurrent.futures.InterpreterPoolExecutor``), and the PEP 734 backport's
on 3.12 and 3.13 (``pip install -e '.[interpreters]'``). Each worker is a thread of this process running an
interpreter of its own, with its own GIL, created (with the task's imports) outside the timing. Tasks are
sent by reference (a function pickles as its module and name) with their arguments pickled, and results come
back pickled: no object is shared, so a shared counter cannot be counted across them, and a module that
cannot load in a subinterpreter (numpy, gillab's instruments) says so in its cell.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gillab.errors import CannotLoadError, ExecutorUnavailableError
from gillab.harness.executors.base import PoolExecutor, register
from gillab.harness.worker import Identity

if TYPE_CHECKING:
    from gillab.workloads.base import Workload

BACKPORT = "interpreters_backport.concurrent.futures"
"""Where the PEP 734 backport (the interpreters-pep-734 distribution) keeps its InterpreterPoolExecutor."""
NO_SHARED_OBJECTS = (
    "interpreters share no objects: the shared counter cannot be counted across them"
)


def pool_class() -> tuple[type[cf.Executor] | None, str]:
    """The InterpreterPoolExecutor this interpreter has, and where it comes from (None, and why not)."""
    stdlib = getattr(cf, "InterpreterPoolExecutor", None)
    if stdlib is not None:
        return stdlib, "concurrent.futures (the standard library)"
    here = sys.version.split()[0]
    if sys.version_info < (3, 12):
        return None, (
            f"subinterpreters with a GIL each need Python 3.12 or newer (this is {here}): InterpreterPoolExecutor "
            "is 3.14's, and its backport (interpreters-pep-734) needs 3.12+"
        )
    try:
        backport = importlib.import_module(BACKPORT)
    except ImportError as exc:
        return None, (
            f"no InterpreterPoolExecutor on {here} (3.14 has one) and no PEP 734 backport "
            f"({exc}); install it with: pip install -e '.[interpreters]'"
        )
    return backport.InterpreterPoolExecutor, f"{BACKPORT} (the PEP 734 backport)"


def load_error(exc: BaseException) -> str:
    """The line of an ImportError raised inside a worker interpreter that says what could not load."""
    text = str(exc)
    marker = "Original error was:"
    if marker in text:  # numpy wraps the C extension's own message in a page of advice
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


@register
class InterpreterExecutor(PoolExecutor):
    """An InterpreterPoolExecutor: one subinterpreter, and one GIL, per worker."""

    name = "interpreter"
    plural = "interpreters"
    in_demo = True
    summary = "an InterpreterPoolExecutor: one subinterpreter, and one GIL, per worker"
    shares_gil = False
    gil_per_worker = True
    shares_memory = False
    style = "-."
    own_gil = "interpreter workers each have a GIL of their own: this interpreter's GIL says nothing of them"
    parallel_because = "each worker interpreter has a GIL of its own"
    release_delay_s = 0.05

    @classmethod
    def unavailable(cls) -> str | None:
        found, why = pool_class()
        return None if found is not None else why

    @classmethod
    def refuses(cls, workload: Workload) -> str | None:
        return NO_SHARED_OBJECTS if workload.shared_counter else None

    @classmethod
    def origin(cls) -> str | None:
        """Where this interpreter's InterpreterPoolExecutor comes from (None where it has none)."""
        found, where = pool_class()
        return where if found is not None else None

    def _make_pool(self) -> cf.Executor:
        found, why = pool_class()
        if found is None:
            raise ExecutorUnavailableError(why)
        pool: cf.Executor = found(self.workers)  # type: ignore[call-arg]
        return pool

    def start(self, warm: Callable[..., Identity], warm_args: Sequence[Any]) -> None:
        """Create the interpreters and import the task in each (outside the timing: its start-up); a module that
        cannot load in a subinterpreter raises CannotLoadError with the ImportError's text."""
        try:
            super().start(warm, warm_args)
        except ImportError as exc:
            self.shutdown()
            raise CannotLoadError(f"cannot load in a subinterpreter: {load_error(exc)}") from None
