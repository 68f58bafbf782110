"""What the machine and interpreter in front of us are: the context every figure needs, as a frozen
:class:`Environment` (the ``environment`` block of every results file)."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TypeVar

from gillab import _native
from gillab.codec import omit_if_none
from gillab.errors import GillabError, UsageError

T = TypeVar("T")


PLATFORM = "GILLAB_PLATFORM"
"""The environment variable that, set to `portable`, turns off every reader of Linux's /proc (thread states,
other processes' CPU, workers' CPU by schedstat), so that the fallbacks macOS and Windows take run on Linux
too (docs/platforms.md)."""


def linux_readers_off() -> str:
    """Why gillab reads nothing from Linux's /proc here ($GILLAB_PLATFORM=portable, or an OS without it), or
    "" where it does. UsageError for any other value of $GILLAB_PLATFORM."""
    asked = os.environ.get(PLATFORM, "").strip().lower()
    if asked not in ("", "portable"):
        raise UsageError(f"${PLATFORM} must be portable, or unset; got {asked!r}")
    if asked:
        return f"${PLATFORM}=portable"
    if not os.path.isdir("/proc/self/task"):
        return f"this OS ({sys.platform}) has no /proc"
    return ""


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


def watch_gil(load: Callable[[], T]) -> tuple[T, bool, bool, str]:
    """Run load() and return its value, whether the GIL was on before and after it, and CPython's RuntimeWarning
    saying it turned the GIL back on ("" where none). On a free-threaded build, CPython re-enables the GIL when
    it imports an extension module that does not declare itself free-threading compatible."""
    before = gil_enabled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = load()
    said = [
        str(w.message)
        for w in caught
        if issubclass(w.category, RuntimeWarning) and "GIL" in str(w.message)
    ]
    return value, before, gil_enabled(), said[0] if said else ""


def gil_turned_on(load: Callable[[], object]) -> str:
    """Run load(); return what turned the GIL back on where it did (CPython's warning), else ""."""
    _, before, after, warning = watch_gil(load)
    if before or not after:
        return ""
    return warning or "an import turned the GIL back on"


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


@dataclass(frozen=True)
class NativeVariant:
    """One native kernel variant in this install: built or not, and what its RELEASES_GIL says."""

    built: bool
    releases_gil: bool | None
    module: str
    directives: dict[str, bool | int | str] | None = omit_if_none()
    cython_version: str | None = omit_if_none()
    error: str | None = omit_if_none()
    """Why it cannot be imported, where it is not built (or cannot be loaded here)."""


def native_variants() -> dict[str, NativeVariant]:
    """Return, per native impl, whether it is built and what its RELEASES_GIL says."""
    out: dict[str, NativeVariant] = {}
    for impl, name in _native.NATIVE_MODULES.items():
        try:
            mod = _native.kernels(impl)
        except GillabError as exc:
            out[impl] = NativeVariant(False, None, name, error=str(exc))
        else:
            out[impl] = NativeVariant(
                True,
                bool(mod.RELEASES_GIL),
                mod.__name__,
                dict(mod.DIRECTIVES),
                str(mod.CYTHON_VERSION),
            )
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


@dataclass(frozen=True)
class Pool:
    """A native thread pool (BLAS, OpenMP) loaded in this process, and its threads."""

    user_api: str | None
    internal_api: str | None
    threads: int | None


@dataclass(frozen=True)
class DaskWorker:
    """One worker of an existing dask cluster: where it runs, with how many threads, under which Python."""

    address: str
    host: str
    threads: int | None
    python: str


@dataclass(frozen=True)
class Environment:
    """The machine and interpreter a figure was measured on (and, for a run, the pools it pinned)."""

    gillab: str | None
    python_version: str
    python_implementation: str
    interpreter: str
    executable: str
    free_threaded_build: bool
    gil_enabled: bool
    switch_interval_s: float
    cpu_count: int | None
    usable_cores: int
    affinity: tuple[int, ...] | None
    load_average: tuple[float, ...] | None
    platform: str
    cython_version: str | None
    numpy_version: str
    native: dict[str, NativeVariant]
    dask_workers: tuple[DaskWorker, ...] | None = omit_if_none()
    """An existing dask cluster's workers, where a run's dask cells ran on one."""
    threadpools: tuple[Pool, ...] | None = omit_if_none()
    """The native pools a run pinned while measuring."""
    threadpools_note: str | None = omit_if_none()


def info() -> Environment:
    """Return everything `gillab info` reports."""
    affinity = tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else None
    import numpy

    load = load_average()
    return Environment(
        gillab=_dist_version("gillab"),
        python_version=platform.python_version(),
        python_implementation=platform.python_implementation(),
        interpreter=interpreter_label(),
        executable=sys.executable,
        free_threaded_build=free_threaded_build(),
        gil_enabled=gil_enabled(),
        switch_interval_s=sys.getswitchinterval(),
        cpu_count=os.cpu_count(),
        usable_cores=usable_cores(),
        affinity=affinity,
        load_average=tuple(load) if load is not None else None,
        platform=platform.platform(),
        cython_version=cython_version(),
        numpy_version=numpy.__version__,
        native=native_variants(),
    )
