"""gillab: a laboratory for seeing Python's Global Interpreter Lock at work.

The public names below load on first use (PEP 562), so that importing a part of gillab (a worker in a
subinterpreter, say) pulls in nothing else: not the checker, and not numpy.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gillab.advice.api import advise
    from gillab.advice.model import Advice
    from gillab.checker.api import CheckResult, Releases, check
    from gillab.errors import GillabError, NotBuiltError
    from gillab.workloads import available, resolve

try:
    __version__ = version("gillab")
except PackageNotFoundError:  # pragma: no cover - only in an uninstalled checkout
    __version__ = "0+unknown"

_LAZY = {
    "Advice": "gillab.advice.model",
    "advise": "gillab.advice.api",
    "CheckResult": "gillab.checker.api",
    "Releases": "gillab.checker.api",
    "check": "gillab.checker.api",
    "Safety": "gillab.checker.safety",
    "thread_safe": "gillab.checker.api",
    "GillabError": "gillab.errors",
    "NotBuiltError": "gillab.errors",
    "available": "gillab.workloads",
    "resolve": "gillab.workloads",
}

__all__ = [
    "Advice",
    "CheckResult",
    "GillabError",
    "NotBuiltError",
    "Releases",
    "Safety",
    "__version__",
    "advise",
    "available",
    "check",
    "resolve",
    "thread_safe",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gillab' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext gillab``: the magics %gil_check, %%gil_run and %gil_advise, and the results' HTML."""
    from gillab.notebook.magics import load

    load(ipython)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
