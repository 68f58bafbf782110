"""Build gillab's native core: one Cython source compiled into two variants, and the instruments.

Build rules
-----------
``cext/_kernels.pyx`` (fib, sumsq) and ``cext/_counter.pyx`` (the shared counter) are compiled once per
variant of ``src/gillab/_variants.py`` (the one table of them), with the compile-time constant
``RELEASE_GIL`` set through ``compile_time_env``:

* ``gillab._kernels_nogil`` and ``gillab._counter_nogil`` (impl ``cython-nogil``): ``RELEASE_GIL = True``,
  so every kernel runs inside ``with nogil``;
* ``gillab._kernels_gil`` and ``gillab._counter_gil`` (impl ``cython-gil``): ``RELEASE_GIL = False``, so
  the same C code runs while holding the GIL.

The ``_kernels`` modules also load in subinterpreters with a GIL of their own: they are built with
``subinterpreters_compatible=own_gil`` and ``CYTHON_USE_MODULE_STATE=1`` (module state instead of C
globals, which Cython needs for a second interpreter). The counter keeps a C global that every thread of
the process shares, and the instruments watch this interpreter: those stay main-interpreter modules.

``cext/_instruments.pyx`` (the GIL-wait probe, the thread-state sampler with ``cext/_threads.c``, and the
machine's reference spin with ``cext/_spin.c``) and
``cext/_gilstate.pyx`` (the GIL-state sampler, with ``cext/_gil_read.c``, which reads the interpreter's own
GIL state through its internal headers, and ``cext/_gil_sampler.c``) are always built: the lab cannot
measure without them. Each C header has its ``.pxd``, and every header and ``.pxd`` is listed in
``depends`` so that editing one rebuilds what uses it.

Environment variable, read in :func:`build_toggles` alone:

``GILLAB_BUILD`` = ``both`` (default) | ``nogil`` | ``gil``
    Which kernel variants to build. Rebuild with ``pip install -e .`` after
    changing it; a variant left out is reported as not built, never faked.
    An editable install builds the modules in place (``src/gillab``), so the
    in-place module of a variant left out is removed: toggling really toggles.

Nothing happens at import: Cython runs, and left-out builds are pruned, only inside the ``build_ext``
command, so that a metadata or sdist call neither compiles nor deletes anything.

Directives for every module: ``language_level=3``, ``embedsignature=True`` and
``freethreading_compatible=True`` (importing them never re-enables the GIL on a
free-threaded interpreter).
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
DIRECTIVES = {"language_level": 3, "embedsignature": True, "freethreading_compatible": True}
SUBINTERPRETERS = {"subinterpreters_compatible": "own_gil"}
"""The directive, and the macro below, of the modules that load in subinterpreters (cext/_kernels.pyx)."""
MODULE_STATE = [("CYTHON_USE_MODULE_STATE", "1")]
VARIANTS = runpy.run_path(str(HERE / "src" / "gillab" / "_variants.py"))["VARIANTS"]
HEADERS = {
    "_platform": [],
    "_clock": ["_platform"],
    "_threads": ["_clock"],
    "_spin": ["_clock"],
    "_gil": ["_clock"],
    "_sync": [],
}
"""Each header of cext/ (with its .pxd), and the headers it includes."""


def build_toggles() -> list[Any]:
    """Return the kernel variants to build, from GILLAB_BUILD."""
    choice = os.environ.get("GILLAB_BUILD", "both").strip().lower() or "both"
    if choice == "both":
        return list(VARIANTS)
    chosen = [v for v in VARIANTS if v.build == choice]
    if not chosen:
        words = ", ".join(["both", *(v.build for v in VARIANTS)])
        raise SystemExit(f"GILLAB_BUILD must be one of {words}; got {choice!r}")
    return chosen


def depends(*headers: str) -> list[str]:
    """Return the headers and .pxd files an extension depends on, with those they include."""
    names: set[str] = set()
    todo = list(headers)
    while todo:
        h = todo.pop()
        if h not in names:
            names.add(h)
            todo += HEADERS[h]
    found = (f"cext/{n}{ext}" for n in names for ext in (".h", ".pxd"))
    return sorted(f for f in found if (HERE / f).exists())


def plain_extensions() -> list[Extension]:
    """The extensions that exist in every build (not yet cythonized)."""
    common = {"include_dirs": ["cext"], "extra_compile_args": ["-O2"]}
    return [
        Extension("gillab._instruments", ["cext/_instruments.pyx", "cext/_threads.c", "cext/_spin.c"],
                  depends=depends("_threads", "_spin"), **common),
        Extension("gillab._gilstate", ["cext/_gilstate.pyx", "cext/_gil_read.c", "cext/_gil_sampler.c"],
                  depends=depends("_gil"), **common),
    ]  # fmt: skip


class BuildExt(build_ext):
    """build_ext that cythonizes the chosen variants, and removes the in-place builds of those left out."""

    def finalize_options(self) -> None:
        import Cython
        from Cython.Build import cythonize

        chosen = build_toggles()
        exts = cythonize(
            plain_extensions(),
            compiler_directives=DIRECTIVES,
            include_path=["cext"],
            build_dir="build/cython/core",
        )
        for v in chosen:
            for name, source in v.modules:
                sub = source == "cext/_kernels.pyx"
                directives = {**DIRECTIVES, **(SUBINTERPRETERS if sub else {})}
                env = {
                    "RELEASE_GIL": v.release_gil,
                    "DIRECTIVES_BUILT": tuple(sorted(directives.items())),
                    "CYTHON_BUILT": Cython.__version__,
                }
                exts += cythonize(
                    [Extension(name, [source], depends=depends("_sync"), include_dirs=["cext"],
                               extra_compile_args=["-O2"], define_macros=MODULE_STATE if sub else [])],
                    compiler_directives=directives, compile_time_env=env, include_path=["cext"],
                    build_dir=f"build/cython/{v.build}",
                )  # fmt: skip
        self.distribution.ext_modules = exts
        super().finalize_options()
        self.left_out = [v for v in VARIANTS if v not in chosen]

    def run(self) -> None:
        super().run()
        if (
            self.inplace
        ):  # an editable install: a variant left out must not linger beside the sources
            for v in self.left_out:
                for name, _ in v.modules:
                    for stale in (HERE / "src" / "gillab").glob(f"{name.rsplit('.', 1)[1]}.*.so"):
                        stale.unlink()


# A placeholder extension tells setuptools the package has compiled parts (a platform wheel); BuildExt
# replaces the list with the real, cythonized extensions.
setup(
    ext_modules=[Extension("gillab._instruments", ["cext/_instruments.pyx"])],
    cmdclass={"build_ext": BuildExt},
)
