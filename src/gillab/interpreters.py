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


def venv_for(python: str, info: Interpreter, log: Path) -> Path:
    """Create (once) a venv for the interpreter under the cache and pip install -e the checkout into it.

    The interpreter running gillab now already has it installed, and is used as it is.
    """
    if info.executable == sys.executable:
        return Path(sys.executable)
    key = hashlib.sha256(f"{Path(info.executable).resolve()} {info.version}".encode()).hexdigest()[:12]
    venv = cache_dir() / "venvs" / f"{info.version}{'t' if info.free_threaded else ''}-{key}"
    vpy = venv / "bin" / "python"
    try:
        root = source_root()
        with log.open("a") as fh:
            if not vpy.exists():
                run_child([python, "-m", "venv", venv], f"{python}: creating a venv", log=fh)
            run_child(
                [vpy, "-m", "pip", "install", "-q", "--prefer-binary", "-e", root],
                f"{python}: pip install -e . in {venv}",
                log=fh,
            )
    except (ChildFailed, FileNotFoundError) as exc:
        raise InterpreterError(str(exc)) from None
    return vpy
