"""Subinterpreters: concurrent.futures.InterpreterPoolExecutor (Python 3.14+), one interpreter and one GIL
per worker."""

from __future__ import annotations

import concurrent.futures as cf
import sys

from gillab.errors import ExecutorUnavailableError
from gillab.harness.executors.base import PoolExecutor, register


@register
class InterpreterExecutor(PoolExecutor):
    """concurrent.futures.InterpreterPoolExecutor: one interpreter, and one GIL, per worker."""

    name = "interpreter"
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
        if not hasattr(cf, "InterpreterPoolExecutor"):
            return f"InterpreterPoolExecutor needs Python 3.14 or newer (this is {sys.version.split()[0]})"
        return None

    def _make_pool(self) -> cf.Executor:
        reason = self.unavailable()
        if reason:
            raise ExecutorUnavailableError(reason)
        pool: cf.Executor = cf.InterpreterPoolExecutor(self.workers)  # type: ignore[attr-defined,unused-ignore]
        return pool
