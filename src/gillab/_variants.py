"""The native kernels' variants: one table, read by setup.py (by path, before gillab is installed), by
gillab._native and by the annotate lab. Imports nothing of gillab's."""

from __future__ import annotations

from typing import NamedTuple


class Variant(NamedTuple):
    """One build of cext/_kernels.pyx."""

    impl: str
    """The impl name the harness knows it by."""
    build: str
    """Its word in GILLAB_BUILD, and the suffix of its module."""
    release_gil: bool
    """The compile-time RELEASE_GIL: whether its kernels run inside ``with nogil``."""

    @property
    def module(self) -> str:
        """The compiled module's import name."""
        return f"gillab._kernels_{self.build}"

    @property
    def build_hint(self) -> str:
        """The command that builds it."""
        return f"pip install -e .  (or GILLAB_BUILD={self.build} pip install -e .)"


VARIANTS = (Variant("cython-nogil", "nogil", True), Variant("cython-gil", "gil", False))
BY_IMPL = {v.impl: v for v in VARIANTS}
BY_BUILD = {v.build: v for v in VARIANTS}
