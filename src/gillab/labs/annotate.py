"""`gillab annotate`: Cython's annotation of the kernels (cext/_kernels.pyx and cext/_counter.pyx), the native
counterpart of `gillab dis`.

`cython -a` colours each source line by how much it touches Python objects. Lines inside nogil code must
not touch Python at all: this lab checks that from the annotation itself.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gillab._variants import BY_BUILD
from gillab.checkout import source_dir
from gillab.childproc import run_child
from gillab.codec import Record
from gillab.errors import ChildFailed, LabError
from gillab.present.view import View

NAME = "annotate"
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
        if re.match(r"(cdef|cpdef)\b.*\bnogil\s*:\s*$", stripped) or re.match(
            r"with nogil\b.*:\s*$", stripped
        ):
            block_indent = indent
    return out


def scores(html: str) -> dict[int, int]:
    """Return line number -> Python-interaction score from a Cython annotation page."""
    return {int(n): int(s) for s, n in _LINE.findall(html)}


@dataclass(frozen=True)
class Build:
    """One build's annotation: where it is, how many lines it scored, and the nogil lines touching Python."""

    html: str
    lines_scored: int
    nogil_lines_touching_python: tuple[int, ...]


SOURCES = ("_kernels.pyx", "_counter.pyx")
"""The Cython sources of the kernels in cext/: fib and sumsq, and the shared counter."""


@dataclass(frozen=True)
class Source:
    """Cython's annotation of both builds of one source, and the lines that run without the GIL."""

    source: str
    nogil_lines: tuple[int, ...]
    variants: dict[str, Build]


@dataclass(frozen=True)
class Annotation(Record):
    """Cython's annotation of both builds of every kernel source."""

    sources: tuple[Source, ...]

    @property
    def touching(self) -> bool:
        """Whether any nogil line touches Python in any build of any source."""
        return any(v.nogil_lines_touching_python for s in self.sources for v in s.variants.values())


def _cython_a(cext: Path, name: str, source: str, build: str, out: Path) -> Path:
    """Annotate one build of one source into out/annotate-<stem>-<build>.html; return its path."""
    stem = Path(name).stem.lstrip("_")
    with tempfile.TemporaryDirectory(prefix="gillab-annotate-") as tmp:
        pyx = Path(tmp) / f"_{stem}_{build}.pyx"
        pyx.write_text(source)
        cmd = [
            sys.executable,
            "-m",
            "cython",
            "-a",
            "-3",
            "-I",
            str(cext),
            "-E",
            f"RELEASE_GIL={BY_BUILD[build].release_gil}",
            "-E",
            "DIRECTIVES_BUILT=()",
            "-E",
            "CYTHON_BUILT=''",
            str(pyx),
        ]
        try:
            run_child(cmd, "cython -a", timeout_s=300)
        except ChildFailed as exc:
            raise LabError(str(exc)) from None
        target = out / f"annotate-{stem}-{build}.html"
        target.write_text(pyx.with_suffix(".html").read_text())
    return target


def run(out: Path) -> Annotation:
    """Annotate both builds of each kernel source into out/annotate-<stem>-<variant>.html and check the nogil
    lines."""
    try:
        cext = source_dir()
    except FileNotFoundError as exc:
        raise LabError(str(exc)) from None
    if shutil.which("cython") is None and not _has_cython():
        raise LabError("Cython is not installed here: pip install 'cython>=3.1'")
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for name in SOURCES:
        source = (cext / name).read_text()
        watched = nogil_lines(source)
        variants = {}
        for build in BY_BUILD:
            target = _cython_a(cext, name, source, build, out)
            sc = scores(target.read_text())
            touching = tuple(sorted(n for n in watched if sc.get(n, 0) > 0))
            variants[build] = Build(str(target), len(sc), touching)
        done.append(Source(str(cext / name), tuple(sorted(watched)), variants))
    return Annotation(tuple(done))


def sentence(build: str, watched: int, v: Build) -> str:
    """Say what the annotation found in one build, true to what runs without the GIL in that build."""
    bad = list(v.nogil_lines_touching_python)
    touch = "none touch Python" if not bad else f"lines {bad} touch Python"
    variant = BY_BUILD.get(build)
    if variant is None or variant.release_gil:
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


def lesson(data: Annotation) -> list[str]:
    """The lab's lesson: whether the lines the nogil builds run without the GIL touch Python."""
    watched = sum(len(s.nogil_lines) for s in data.sources)
    if data.touching:
        return [
            f"Some of the {watched} lines that run without the GIL touch Python objects: see the annotations."
        ]
    return [
        f"The nogil builds run {watched} lines without the GIL, and none of them touches a Python object: the "
        "same lines run holding the GIL in the gil builds, which is the only difference between the two."
    ]


def lines(data: Annotation) -> list[str]:
    """What `gillab annotate` prints: each source's and build's sentence, and where its annotation is."""
    return [
        f"{Path(s.source).name}, {sentence(b, len(s.nogil_lines), v)} ({v.html})"
        for s in data.sources
        for b, v in s.variants.items()
    ]


def view(data: Annotation) -> View:
    """The lab's lesson, then each source's and build's sentence, and where its annotation is."""
    return View(
        f"gillab {NAME}",
        lesson=tuple(lesson(data)),
        notes=tuple(lines(data)),
        details=("Cython's annotation colours lines by how much they touch Python objects.",),
    )
