"""The safety trial, check's second verdict: is a callable safe to call from several threads at once? Each
verdict is asserted of a callable whose nature decides it (tests/safety_targets.py), never of a time."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import gillab
from gillab import environment
from gillab.checker.safety import CRASHED, DIFFER, EXIT_UNSAFE, HUNG, SAFE, overlapping

Cli = Callable[..., subprocess.CompletedProcess[str]]
HERE = Path(__file__).parent
TARGETS = HERE / "safety_targets.py"
sys.path.insert(0, str(HERE))
import safety_targets  # noqa: E402

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]


def _check(
    cli: Cli, name: str, tmp_path: Path, *more: str
) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    out = tmp_path / f"{name}.json"
    proc = cli("check", f"{TARGETS}:{name}", "--args", "3", "--json", str(out), *more)
    assert "Traceback" not in proc.stderr
    return proc, json.loads(out.read_text())


def test_a_fault_only_with_threads_is_that_and_keeps_the_serial_figures(
    cli: Cli, tmp_path: Path
) -> None:
    proc, doc = _check(cli, "faults_with_threads", tmp_path)
    assert proc.returncode == EXIT_UNSAFE, proc.stderr
    assert doc["safety"]["verdict"] == CRASHED
    assert doc["safety"]["signal"] == "SIGSEGV"
    assert doc["safety"]["alone_calls"] > 0
    assert "crashed only with threads" in proc.stdout
    assert "without a fault" in proc.stdout
    assert doc["scaling"][0]["threads"] == 1  # the figures of one calling thread were kept
    assert doc["scaling"][0]["calls"] > 0
    assert doc["releases"]  # and the GIL verdict


def test_results_that_depend_on_the_other_thread_differ(cli: Cli, tmp_path: Path) -> None:
    proc, doc = _check(cli, "appends", tmp_path)
    assert proc.returncode == EXIT_UNSAFE, proc.stderr
    assert doc["safety"]["verdict"] == DIFFER
    assert doc["safety"]["alone_value"] and doc["safety"]["threaded_value"]  # noqa: PT018
    assert "results differ" in proc.stdout
    if (
        not environment.gil_enabled()
    ):  # without the GIL, not safe: tried again with it on (PYTHON_GIL=1)
        assert doc["safety"]["with_gil"]["gil"] is True
        assert (
            doc["safety"]["with_gil"]["verdict"] == DIFFER
        )  # it keeps state: not safe with the GIL either


def test_sha256_is_safe_as_far_as_tried(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "sha.json"
    proc = cli("check", "hashlib:sha256", "--setup", "data = bytes(1 << 20)", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["safety"]["verdict"] == SAFE
    assert doc["safety"]["calls"] > 0
    assert "safe as far as tried" in proc.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}").exists()
        and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    )


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path("/proc").glob("[0-9]*"):
        try:
            if int((task / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(task.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_a_deadlock_with_threads_is_hung_within_the_deadline_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    out = tmp_path / "deadlocks.json"
    cmd = [
        sys.executable,
        "-m",
        "gillab",
        "check",
        f"{TARGETS}:deadlocks",
        "--args",
        "3",
        "--json",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        seen |= _children(proc.pid)
        time.sleep(0.1)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_UNSAFE, stderr
    doc = json.loads(out.read_text())
    assert doc["safety"]["verdict"] == HUNG
    assert doc["safety"]["deadline_s"] < 60  # the trial's own deadline, not the check's --timeout
    assert "hung with threads" in stdout
    assert not [p for p in seen if _alive(p)], "a child process was left behind"


def test_the_api_and_the_fixture_say_it_too(pytester: pytest.Pytester) -> None:
    assert gillab.thread_safe(hashlib.sha256, b"x" * 1000, safety_s=0.2)
    got = gillab.thread_safe(safety_targets.appends, 3, safety_s=0.2)
    assert not got
    assert "results differ" in repr(got)
    pytester.makepyfile(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import hashlib, safety_targets

        def test_safe(gil):
            assert gil.thread_safe(hashlib.sha256, b"x" * 1000, safety_s=0.2)

        def test_unsafe(gil):
            assert gil.thread_safe(safety_targets.appends, 3, safety_s=0.2)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*results differ*"])


def test_no_safety_skips_the_trial(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    proc = cli("check", f"{TARGETS}:appends", "--args", "3", "--no-safety", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "safety" not in json.loads(out.read_text())


def test_overlaps_are_counted_from_the_spans() -> None:
    assert overlapping([[(0, 10)], [(20, 30)]]) == 0
    assert overlapping([[(0, 10)], [(5, 30)]]) == 2
