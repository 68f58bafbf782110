"""Load the compiled modules, failing loudly with the command that builds a missing one."""

from __future__ import annotations

import importlib
from types import ModuleType

NATIVE_MODULES = {"cython-nogil": "gillab._kernels_nogil", "cython-gil": "gillab._kernels_gil"}
"""Native impl name -> compiled kernel module."""

BUILD_HINT = {
    "cython-nogil": "pip install -e .  (or GILLAB_BUILD=nogil pip install -e .)",
    "cython-gil": "pip install -e .  (or GILLAB_BUILD=gil pip install -e .)",
    "instruments": "pip install -e .",
}


class NotBuiltError(ImportError):
    """A native variant was asked for but is not built in this install."""


def kernels(impl: str) -> ModuleType:
    """Return the compiled kernel module of a native impl, or raise NotBuiltError naming the build command."""
    try:
        name = NATIVE_MODULES[impl]
    except KeyError:
        raise ValueError(f"unknown native impl {impl!r}; choose from {', '.join(NATIVE_MODULES)}") from None
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise NotBuiltError(
            f"the {impl} variant is not built in this install ({exc}); build it with: {BUILD_HINT[impl]}"
        ) from None


def instruments() -> ModuleType:
    """Return the compiled instruments module (GIL-wait probe, thread sampler)."""
    try:
        return importlib.import_module("gillab._instruments")
    except ImportError as exc:
        raise NotBuiltError(
            f"gillab's native instruments are not built ({exc}); build them with: pip install -e ."
        ) from None


def is_built(impl: str) -> bool:
    """Return True when the compiled module of a native impl can be imported."""
    try:
        kernels(impl)
    except NotBuiltError:
        return False
    return True
