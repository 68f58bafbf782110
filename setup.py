"""Build gillab's native core: one Cython source compiled into two variants.

Build rules
-----------
``cext/_kernels.pyx`` is compiled twice, with the compile-time constant
``RELEASE_GIL`` set through ``compile_time_env``:

* ``gillab._kernels_nogil`` (impl ``cython-nogil``): ``RELEASE_GIL = True``, so
  every kernel runs inside ``with nogil``;
* ``gillab._kernels_gil`` (impl ``cython-gil``): ``RELEASE_GIL = False``, so the
  same C code runs while holding the GIL.

``cext/_instruments.pyx`` (the GIL-wait probe, the thread-state sampler and the
GIL-state sampler, with ``cext/_gilstate.c``, which reads the interpreter's own GIL
state through its internal headers) is always built once: the lab cannot measure
without it.

Environment variable, read in :func:`build_toggles` alone:

``GILLAB_BUILD`` = ``both`` (default) | ``nogil`` | ``gil``
    Which kernel variants to build. Rebuild with ``pip install -e .`` after
    changing it; a variant left out is reported as not built, never faked.
    An editable install builds the modules in place (``src/gillab``), so the
    in-place module of a variant left out is removed: toggling really toggles.

Directives for every module: ``language_level=3``, ``embedsignature=True`` and
``freethreading_compatible=True`` (importing them never re-enables the GIL on a
free-threaded interpreter).
"""

from __future__ import annotations

import os
from pathlib import Path

import Cython
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
DIRECTIVES = {"language_level": 3, "embedsignature": True, "freethreading_compatible": True}
VARIANTS = {"nogil": True, "gil": False}  # variant name -> RELEASE_GIL


def build_toggles() -> list[str]:
    """Return the kernel variants to build, from GILLAB_BUILD."""
    choice = os.environ.get("GILLAB_BUILD", "both").strip().lower() or "both"
    if choice == "both":
        return list(VARIANTS)
    if choice in VARIANTS:
        return [choice]
    raise SystemExit(f"GILLAB_BUILD must be one of both, nogil, gil; got {choice!r}")


def remove_left_out(chosen: list[str]) -> None:
    """Delete in-place builds (from earlier editable installs) of the variants not chosen now."""
    for variant in set(VARIANTS) - set(chosen):
        for stale in (HERE / "src" / "gillab").glob(f"_kernels_{variant}.*.so"):
            stale.unlink()


def extensions() -> list[Extension]:
    """Cythonize the instruments once and the kernels once per chosen variant."""
    common = {"include_dirs": ["cext"], "extra_compile_args": ["-O2"]}
    exts = cythonize(
        [
            Extension(
                "gillab._instruments",
                ["cext/_instruments.pyx", "cext/_gilstate.c"],
                depends=["cext/_sampler.h", "cext/_gilstate.h"],
                **common,
            )
        ],
        compiler_directives=DIRECTIVES,
        build_dir="build/cython/instruments",
    )
    chosen = build_toggles()
    remove_left_out(chosen)
    for variant in chosen:
        env = {
            "RELEASE_GIL": VARIANTS[variant],
            "DIRECTIVES_BUILT": tuple(sorted(DIRECTIVES.items())),
            "CYTHON_BUILT": Cython.__version__,
        }
        exts += cythonize(
            [Extension(f"gillab._kernels_{variant}", ["cext/_kernels.pyx"], depends=["cext/_sync.h"], **common)],
            compiler_directives=DIRECTIVES,
            compile_time_env=env,
            build_dir=f"build/cython/{variant}",
        )
    return exts


setup(ext_modules=extensions())
