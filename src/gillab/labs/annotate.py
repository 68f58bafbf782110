"""`gillab annotate`: Cython's annotation of the kernels, the native counterpart of `gillab dis`.

`cython -a` colours each source line by how much it touches Python objects. Lines inside nogil code must
not touch Python at all: this lab checks that from the annotation itself.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gillab.checkout import source_dir
from gillab.childproc import ChildFailed, run_child

BUILDS = {"nogil": True, "gil": False}
"""Build -> whether RELEASE_GIL is set in it."""
_LINE = re.compile(r'<pre class="cython line score-(\d+)"[^>]*>\s*\+?<span class="">(\d+)</span>:')


def nogil_lines(source: str) -> set[int]:
    """Return the 1-based numbers of lines that run without the GIL in the nogil build."""
    lines = source.splitlines()
    out: set[int] = set()
    block_indent: int | None = None
    for i, text in enumerate(lines, start=1):
        stripped = text.strip()
        indent = len(text) - len(text.lstrip())
        if block_indent is not None:
            if stripped and indent <= block_indent:
                block_indent = None
            elif stripped:
                out.add(i)
                continue
            else:
                continue
        if re.match(r"(cdef|cpdef)\b.*\bnogil\s*:\s*$", stripped) or re.match(r"with nogil\b.*:\s*$", stripped):
            block_indent = indent
    return out


def scores(html: str) -> dict[int, int]:
    """Return line number -> Python-interaction score from a Cython annotation page."""
    return {int(n): int(s) for s, n in _LINE.findall(html)}


def annotate(out: Path) -> dict[str, Any]:
    """Annotate both builds of the kernels into out/annotate-<variant>.html and check the nogil lines."""
    cext = source_dir()
    if shutil.which("cython") is None and not _has_cython():
        raise FileNotFoundError("Cython is not installed here: pip install 'cython>=3.1'")
    source = (cext / "_kernels.pyx").read_text()
    watched = nogil_lines(source)
    result: dict[str, Any] = {"source": str(cext / "_kernels.pyx"), "nogil_lines": sorted(watched), "variants": {}}
    out.mkdir(parents=True, exist_ok=True)
    for variant, release in BUILDS.items():
        with tempfile.TemporaryDirectory(prefix="gillab-annotate-") as tmp:
            pyx = Path(tmp) / f"_kernels_{variant}.pyx"
            pyx.write_text(source)
            shutil.copy(cext / "_sync.h", tmp)
            cmd = [
                sys.executable,
                "-m",
                "cython",
                "-a",
                "-3",
                "-I",
                str(cext),
                "-E",
                f"RELEASE_GIL={release}",
                "-E",
                "DIRECTIVES_BUILT=()",
                "-E",
                "CYTHON_BUILT=''",
                str(pyx),
            ]
            try:
                run_child(cmd, "cython -a", timeout_s=300)
            except ChildFailed as exc:
                raise RuntimeError(str(exc)) from None
            html = pyx.with_suffix(".html").read_text()
        target = out / f"annotate-{variant}.html"
        target.write_text(html)
        sc = scores(html)
        touching = sorted(n for n in watched if sc.get(n, 0) > 0)
        result["variants"][variant] = {
            "html": str(target),
            "lines_scored": len(sc),
            "nogil_lines_touching_python": touching,
        }
    return result


def sentence(build: str, watched: int, v: dict[str, Any]) -> str:
    """Say what the annotation found in one build, true to what runs without the GIL in that build."""
    bad = v["nogil_lines_touching_python"]
    touch = "none touch Python" if not bad else f"lines {bad} touch Python"
    if BUILDS.get(build, True):
        return f"{build} build: of the {watched} lines that run without the GIL, {touch}"
    return (
        f"{build} build: nothing runs without the GIL here; the {watched} lines that the nogil build runs "
        f"without it run with it in this build, and of them {touch}"
    )


def _has_cython() -> bool:
    try:
        import Cython  # noqa: F401
    except ImportError:
        return False
    return True
