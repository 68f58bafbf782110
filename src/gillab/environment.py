"""What the machine and interpreter in front of us are: the context every figure needs."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from gillab import _native


def usable_cores() -> int:
    """Return the number of CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> list[float] | None:
    """Return the 1, 5 and 15 minute load averages, or None where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def gil_enabled() -> bool:
    """Return whether the GIL is on now (always True before Python 3.13)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


@contextmanager
def switch_interval(seconds: float | None) -> Iterator[None]:
    """Set sys.setswitchinterval(seconds) for the block (None leaves it), and restore the old value after."""
    old = sys.getswitchinterval()
    if seconds is not None:
        sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def free_threaded_build() -> bool:
    """Return whether this interpreter was built with Py_GIL_DISABLED."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _dist_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def native_variants() -> dict[str, dict[str, Any]]:
    """Return, per native impl, whether it is built and what its RELEASES_GIL says."""
    out: dict[str, dict[str, Any]] = {}
    for impl in _native.NATIVE_MODULES:
        try:
            mod = _native.kernels(impl)
        except _native.NotBuiltError as exc:
            out[impl] = {
                "built": False,
                "releases_gil": None,
                "module": _native.NATIVE_MODULES[impl],
                "error": str(exc),
            }
        else:
            out[impl] = {
                "built": True,
                "releases_gil": bool(mod.RELEASES_GIL),
                "module": mod.__name__,
                "directives": dict(mod.DIRECTIVES),
                "cython_version": mod.CYTHON_VERSION,
            }
    return out


def cython_version() -> str | None:
    """Return the version of Cython that compiled the native modules, else the installed one, else None."""
    for impl in _native.NATIVE_MODULES:
        if _native.is_built(impl):
            return str(_native.kernels(impl).CYTHON_VERSION)
    return _dist_version("Cython")


def interpreter_label() -> str:
    """Return a short name for this interpreter: version, 't' for free-threaded, and PYTHON_GIL if set."""
    label = platform.python_version() + ("t" if free_threaded_build() else "")
    forced = os.environ.get("PYTHON_GIL")
    return f"{label} PYTHON_GIL={forced}" if forced is not None and free_threaded_build() else label


def info() -> dict[str, Any]:
    """Return everything `gillab info` reports, as plain JSON-ready data."""
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    import numpy

    return {
        "gillab": _dist_version("gillab"),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "interpreter": interpreter_label(),
        "executable": sys.executable,
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "switch_interval_s": sys.getswitchinterval(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "affinity": affinity,
        "load_average": load_average(),
        "platform": platform.platform(),
        "cython_version": cython_version(),
        "numpy_version": numpy.__version__,
        "native": native_variants(),
    }
