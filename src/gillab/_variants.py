"""The native kernels' variants: one table, read by setup.py (by path, before gillab is installed), by
gillab._native and by the annotate lab. Imports nothing of gillab's."""

from __future__ import annotations

from typing import NamedTuple


class Variant(NamedTuple):
    """One build of the native kernels: cext/_kernels.pyx (fib, sumsq) and cext/_counter.pyx (the counter)."""

    impl: str
    """The impl name the harness knows it by."""
    build: str
    """Its word in GILLAB_BUILD, and the suffix of its module."""
    release_gil: bool
    """The compile-time RELEASE_GIL: whether its kernels run inside ``with nogil``."""

    @property
    def module(self) -> str:
        """The import name of its fib and sumsq kernels (they load in subinterpreters)."""
        return f"gillab._kernels_{self.build}"

    @property
    def counter_module(self) -> str:
        """The import name of its shared-counter kernels (module-level state: the main interpreter's only)."""
        return f"gillab._counter_{self.build}"

    @property
    def modules(self) -> tuple[tuple[str, str], ...]:
        """(import name, Cython source) of each module this variant builds."""
        return (self.module, "cext/_kernels.pyx"), (self.counter_module, "cext/_counter.pyx")

    @property
    def build_hint(self) -> str:
        """The command that builds it."""
        return f"pip install -e .  (or GILLAB_BUILD={self.build} pip install -e .)"


VARIANTS = (Variant("cython-nogil", "nogil", True), Variant("cython-gil", "gil", False))
BY_IMPL = {v.impl: v for v in VARIANTS}
BY_BUILD = {v.build: v for v in VARIANTS}
