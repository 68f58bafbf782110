"""Run a child process and reduce its failure to one line: the one way gillab starts other programs."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any


class ChildFailed(Exception):  # noqa: N818 - reads as what happened
    """A child process could not start, was killed, timed out or exited non-zero; the message is one line."""

    def __init__(self, message: str, returncode: int | None = None, timed_out: bool = False) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.timed_out = timed_out


def last_line(text: str | None, limit: int = 300) -> str:
    """Return the last non-empty line of a program's output (at most limit characters), or 'no output'.

    >>> last_line("Traceback ...\\n  File x\\nValueError: nope\\n")
    'ValueError: nope'
    """
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return lines[-1].strip()[:limit] if lines else "no output"


def signal_name(returncode: int) -> str:
    """Return the name of the signal that ended a child with a negative return code (e.g. SIGSEGV)."""
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


def run_child(
    cmd: Sequence[str | Path],
    what: str,
    *,
    timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
    log: IO[str] | None = None,
    check: bool = True,
    capture: bool = True,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run cmd to its end and return it; ChildFailed names `what` and the cause in one line.

    Output is captured (or appended to log). With check=False a non-zero exit is returned, not raised,
    so that the caller can read exit codes of its own; a start failure, a signal or a time-out still raises.
    """
    kwargs: dict[str, Any] = {"text": True, "env": env, "cwd": cwd, "timeout": timeout_s}
    if log is not None:
        kwargs |= {"stdout": log, "stderr": subprocess.STDOUT}
    elif capture:
        kwargs |= {"capture_output": True}
    else:
        kwargs |= {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    try:
        proc = subprocess.run([str(c) for c in cmd], check=False, **kwargs)
    except FileNotFoundError:
        raise ChildFailed(f"{what}: {cmd[0]} was not found") from None
    except PermissionError:
        raise ChildFailed(f"{what}: {cmd[0]} cannot be run (permission denied)") from None
    except OSError as exc:
        raise ChildFailed(f"{what}: cannot start {cmd[0]} ({exc.strerror or exc})") from None
    except subprocess.TimeoutExpired:
        raise ChildFailed(f"{what} did not finish within {timeout_s:g} s; it was killed", timed_out=True) from None
    if proc.returncode < 0:
        raise ChildFailed(f"{what} was killed by {signal_name(proc.returncode)}", proc.returncode)
    if check and proc.returncode != 0:
        where = f" (see {log.name})" if log is not None and hasattr(log, "name") else ""
        raise ChildFailed(f"{what} failed (exit {proc.returncode}): {last_line(proc.stderr)}{where}", proc.returncode)
    return proc
