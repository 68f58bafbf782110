"""Run a child process and reduce its failure to one line: the one way gillab starts other programs.

Two ways: :func:`run_child` runs a program to its end; :func:`run_spec` runs one of gillab's own child
entry points (``python -m MODULE SPEC``), the protocol that `gillab check` and `gillab catalogue` share: the
parent writes a JSON spec, the child appends one JSON object per line to the spec's ``result_path`` as it
goes, and exits with 0, EXIT_BAD_INPUT or EXIT_RAISED. Every line written before a crash, a time-out or
Ctrl-C is kept.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gillab.errors import ChildFailed

EXIT_BAD_INPUT = 3
"""A child entry point's exit status when it could not load what it was asked to run (its last line says why)."""
EXIT_RAISED = 4
"""A child entry point's exit status when the code it ran raised (its last line says what)."""


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
        raise ChildFailed(
            f"{what} did not finish within {timeout_s:g} s; it was killed", timed_out=True
        ) from None
    if proc.returncode < 0:
        raise ChildFailed(f"{what} was killed by {signal_name(proc.returncode)}", proc.returncode)
    if check and proc.returncode != 0:
        where = f" (see {log.name})" if log is not None and hasattr(log, "name") else ""
        raise ChildFailed(
            f"{what} failed (exit {proc.returncode}): {last_line(proc.stderr)}{where}",
            proc.returncode,
        )
    return proc


@dataclass(frozen=True)
class SpecRun:
    """How a child entry point ended, and every line it wrote."""

    returncode: int | None
    """None where gillab killed it (a time-out, or Ctrl-C)."""
    lines: tuple[dict[str, Any], ...]
    stderr: str
    timed_out: bool = False
    interrupted: bool = False

    def failure(self, what: str, timeout_s: float | None) -> str:
        """One line saying how the child ended, if not well ("" when it exited 0)."""
        if self.interrupted:
            return "interrupted"
        if self.timed_out:
            return f"{what} did not finish within {timeout_s:g} s; it was killed"
        if self.returncode is not None and self.returncode < 0:
            return f"{what} was killed by {signal_name(self.returncode)}"
        if self.returncode:
            return f"{what} failed (exit {self.returncode}): {last_line(self.stderr)}"
        return ""


def run_spec(
    module: str,
    spec: Mapping[str, Any],
    what: str,
    *,
    python: str | None = None,
    timeout_s: float | None = None,
    on_line: Callable[[dict[str, Any]], float | None] | None = None,
    files: Mapping[str, bytes] | None = None,
    env: Mapping[str, str] | None = None,
) -> SpecRun:
    """Run ``python -m module SPEC`` (the protocol in the module docstring) and return how it ended.

    spec gets ``result_path`` added; files (name -> bytes) are written beside it first and their paths
    added as spec[name]. on_line(obj) is called for each line as it arrives; where it returns seconds, the
    time-out is from now on that many seconds (a phase of the child with a deadline of its own). env, the
    child's environment (default: this one). Ctrl-C and the time-out kill the child and return what it wrote;
    ChildFailed only where the child cannot start.
    """
    with tempfile.TemporaryDirectory(prefix="gillab-child-") as tmp:
        result = Path(tmp) / "lines.jsonl"
        result.touch()
        doc = dict(spec, result_path=str(result))
        for name, data in (files or {}).items():
            (Path(tmp) / name).write_bytes(data)
            doc[name] = str(Path(tmp) / name)
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(doc))
        errors = Path(tmp) / "stderr.txt"
        lines: list[dict[str, Any]] = []

        deadline = None if timeout_s is None else time.monotonic() + timeout_s

        def poll() -> None:
            nonlocal deadline
            got = [x for x in result.read_text().splitlines() if x.strip()]
            for line in got[len(lines) :]:
                lines.append(json.loads(line))
                later = on_line(lines[-1]) if on_line is not None else None
                if later is not None:
                    deadline = time.monotonic() + later

        with errors.open("w") as err:
            proc = _start([python or sys.executable, "-m", module, str(spec_path)], what, err, env)
            timed_out = interrupted = False
            try:
                while proc.poll() is None:
                    time.sleep(0.05)
                    poll()
                    if deadline is not None and time.monotonic() > deadline:
                        proc.kill()
                        timed_out = True
            except KeyboardInterrupt:
                proc.kill()
                interrupted = True
            proc.wait()
        poll()
        code = None if timed_out or interrupted else proc.returncode
        return SpecRun(code, tuple(lines), errors.read_text(), timed_out, interrupted)


def _start(
    cmd: list[str], what: str, err: IO[str], env: Mapping[str, str] | None
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    except OSError as exc:
        raise ChildFailed(f"{what}: cannot start {cmd[0]} ({exc.strerror or exc})") from None
