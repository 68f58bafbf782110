"""Load the compiled modules, failing loudly: not built (with the command that builds it) is one fact,
built but not loadable here (in a subinterpreter, say) is another."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from gillab._variants import BY_IMPL
from gillab.errors import CannotLoadError, NotBuiltError

NATIVE_MODULES = {v.impl: v.module for v in BY_IMPL.values()}
"""Native impl name -> compiled kernel module."""
BUILD_ALL = "pip install -e ."


def _load(name: str, what: str, hint: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found:
            raise CannotLoadError(f"{what} is built but cannot be loaded here: {exc}") from None
        raise NotBuiltError(f"{what} not built in this install ({exc}); build {hint}") from None


def kernels(impl: str) -> ModuleType:
    """Return the compiled kernel module of a native impl; NotBuiltError names the build command."""
    try:
        name = NATIVE_MODULES[impl]
    except KeyError:
        raise ValueError(
            f"unknown native impl {impl!r}; choose from {', '.join(NATIVE_MODULES)}"
        ) from None
    return _load(name, f"the {impl} variant is", f"it with: {BY_IMPL[impl].build_hint}")


def counter_kernels(impl: str) -> ModuleType:
    """Return the compiled shared-counter module of a native impl; NotBuiltError names the build command."""
    if impl not in BY_IMPL:
        raise ValueError(f"unknown native impl {impl!r}; choose from {', '.join(NATIVE_MODULES)}")
    return _load(
        BY_IMPL[impl].counter_module,
        f"the {impl} counter is",
        f"it with: {BY_IMPL[impl].build_hint}",
    )


def instruments() -> ModuleType:
    """Return the compiled instruments module (GIL-wait probe, thread sampler, speed probe's spin)."""
    return _load(
        "gillab._instruments", "gillab's native instruments are", f"them with: {BUILD_ALL}"
    )


def gilstate() -> ModuleType:
    """Return the compiled GIL-state module (the interpreter's own GIL state, and its sampler)."""
    return _load("gillab._gilstate", "gillab's GIL-state sampler is", f"it with: {BUILD_ALL}")


def is_built(impl: str) -> bool:
    """Return True when the compiled module of a native impl can be imported."""
    try:
        kernels(impl)
    except (NotBuiltError, CannotLoadError):
        return False
    return True
