"""Other Python interpreters: what each says of itself, and a venv of its own with this checkout installed.

`gillab compare` runs the matrix under each; `gillab check --python` runs a check under one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from gillab.checkout import source_root
from gillab.childproc import run_child
from gillab.errors import ChildFailed, InterpreterError


def cache_dir() -> Path:
    """Return gillab's cache folder (GILLAB_CACHE, else XDG_CACHE_HOME/gillab, else ~/.cache/gillab)."""
    env = os.environ.get("GILLAB_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gillab"


TODAY = ("python3.14", "python3.14t")
"""The interpreters `gillab compare` runs beside the running one by default, as scripts/build-python.sh names
them in the cache: 3.14 and its free-threaded build (PEP 779)."""
EARLIER = ("python3.13t", "python3.13")
"""Added with --with-3.13t: the first free-threaded build (PEP 703), and its GIL build where it was built."""
BUILD_HINT = {
    "python3.14": "scripts/build-python.sh --version 3.14 --tarball PATH",
    "python3.14t": "scripts/build-python.sh --version 3.14 --free-threaded --tarball PATH",
    "python3.13t": "scripts/build-python.sh --version 3.13 --free-threaded",
    "python3.13": "scripts/build-python.sh --version 3.13",
}


def built(name: str) -> Path | None:
    """The interpreter scripts/build-python.sh built into the cache under that name, where it did."""
    path = cache_dir() / name / "bin" / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def default_pythons(with_313t: bool) -> tuple[list[str], list[str]]:
    """The running interpreter and today's built ones (3.13t's too, with_313t), without repeats; and a note
    for each one asked for but not built, naming the command that builds it."""
    found = [sys.executable]
    seen = {Path(sys.executable).resolve()}
    missing = []
    for name in TODAY + (EARLIER if with_313t else ()):
        path = built(name)
        if path is None:
            if (
                name != "python3.13"
            ):  # 3.13's GIL build is optional: 3.13t is then set against the newest GIL build
                missing.append(f"{name} is not built here; build it with: {BUILD_HINT[name]}")
            continue
        if path.resolve() not in seen:
            seen.add(path.resolve())
            found.append(str(path))
    return found, missing


@dataclass(frozen=True)
class Interpreter:
    """What an interpreter says of itself."""

    version: str
    free_threaded: bool
    executable: str


def describe(python: str) -> Interpreter:
    """Return the interpreter's version and whether it is a free-threaded build."""
    code = (
        "import json, platform, sys, sysconfig; print(json.dumps({'version': platform.python_version(), "
        "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), 'executable': sys.executable}))"
    )
    try:
        proc = run_child([python, "-c", code], python, timeout_s=60)
    except ChildFailed as exc:
        raise InterpreterError(str(exc)) from None
    return Interpreter(**json.loads(proc.stdout))


def venv_python(info: Interpreter) -> Path:
    """The python of the venv gillab keeps under the cache for this interpreter (made by venv_for)."""
    if info.executable == sys.executable:
        return Path(sys.executable)
    key = hashlib.sha256(f"{Path(info.executable).resolve()} {info.version}".encode()).hexdigest()[
        :12
    ]
    return (
        cache_dir()
        / "venvs"
        / f"{info.version}{'t' if info.free_threaded else ''}-{key}"
        / "bin"
        / "python"
    )


def build_stamp(root: Path) -> str:
    """What an install of this checkout depends on, hashed: the build files and the native sources. A venv whose
    stamp matches was installed from them, and needs no new pip install."""
    h = hashlib.sha256()
    for path in sorted([root / "pyproject.toml", root / "setup.py", *(root / "cext").glob("*")]):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def venv_for(python: str, info: Interpreter, log: Path) -> Path:
    """Create (once) a venv for the interpreter under the cache and pip install -e the checkout into it, with
    the PEP 734 backport where the interpreter needs it for the interpreter executor (3.12, 3.13).

    The interpreter running gillab now already has it installed, and is used as it is. A venv installed from the
    same build files and native sources (its stamp) is used as it is too: pip's editable install rebuilt the
    extension every time, 15-20 s of each `gillab check --python`.
    """
    if info.executable == sys.executable:
        return Path(sys.executable)
    vpy = venv_python(info)
    venv = vpy.parent.parent
    stamp = venv / "gillab-build-stamp"
    try:
        root = source_root()
        want = build_stamp(root)
        if vpy.exists() and stamp.exists() and stamp.read_text() == want:
            return vpy
        with log.open("a") as fh:
            if not vpy.exists():
                run_child([python, "-m", "venv", venv], f"{python}: creating a venv", log=fh)
            run_child(
                [
                    vpy,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--prefer-binary",
                    "-e",
                    f"{root}[interpreters]",
                ],
                f"{python}: pip install -e . in {venv}",
                log=fh,
            )
        stamp.write_text(want)
    except (ChildFailed, FileNotFoundError) as exc:
        raise InterpreterError(str(exc)) from None
    return vpy
