"""`gillab check`: measured in a child, verdicts built from figures, faults survived, bad input refused."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab import environment
from gillab.checker.measure import CallProgress, HeldShare, Measurement
from gillab.checker.run import run_check
from gillab.checker.scaling import Level, Wait
from gillab.checker.verdict import verdict
from gillab.errors import CheckFailed, TargetError

Cli = Callable[..., subprocess.CompletedProcess[str]]
FAST = {"threads": [1, 2], "duration_s": 0.3, "timeout_s": 60.0}


GIL_ONLY = pytest.mark.skipif(not environment.gil_enabled(), reason="needs a GIL to hold")


@pytest.mark.slow
@GIL_ONLY
def test_nogil_kernel_frees_the_gil_and_gil_kernel_does_not() -> None:
    # Counted, not timed: load on the machine can slow the other thread, never make it step inside a
    # GIL-holding call, nor stop it stepping across the 0.2 s window of a releasing one.
    free = run_check("gillab._kernels_nogil:fib", None, [32], **FAST).measurement
    held = run_check("gillab._kernels_gil:fib", None, [32], **FAST).measurement
    assert free is not None
    assert held is not None
    assert held.progress_during_calls.steps == 0
    assert held.progress_during_calls.held_throughout
    assert free.progress_during_calls.steps > 0
    assert free.progress_during_calls.calls_with_progress > 0
    assert verdict(held).startswith("holds the GIL")
    assert not verdict(free).startswith("holds the GIL")
    if held.gil_held.fraction is not None:  # the interpreter's own GIL state, where it can be read
        assert held.gil_held.fraction >= 0.9
        assert free.gil_held.fraction is not None
        assert free.gil_held.fraction <= 0.2
        assert "decided by the GIL state" in verdict(held)
    assert [lv.threads for lv in free.scaling] == [1, 2]
    assert free.scaling[0].speedup == pytest.approx(1.0)


@pytest.mark.slow
def test_hashlib_of_one_mib_releases_the_gil() -> None:
    data = run_check("hashlib:sha256", "data = bytes(1 << 20)", None, **FAST).measurement
    assert data is not None
    assert data.progress_during_calls.steps > 0


@pytest.mark.slow
@GIL_ONLY
def test_json_dumps_holds_the_gil() -> None:
    setup = "import json; data = [{'a': i, 'b': str(i)} for i in range(20000)]"
    data = run_check("json:dumps", setup, None, **FAST).measurement
    assert data is not None
    assert data.progress_during_calls.steps == 0
    assert "holds the GIL" in verdict(data)


def test_verdict_names_poor_scaling_despite_release() -> None:
    def level(threads: int, speedup: float, efficiency: float) -> Level:
        return Level(
            threads, 100, 100.0, 1.0, 1.0, Wait(0.0, 0.0, 0.0), speedup, threads, efficiency
        )

    data = Measurement(
        gil_free_fraction=0.97,
        progress_solo_per_s=1.0,
        progress_reference_per_s=1.0,
        progress_beside_per_s=0.97,
        normalisation="",
        progress_during_calls=CallProgress(10, 10, 100, 0.2),
        gil_held=HeldShare(None),
        usable_cores=2,
        gil_enabled=True,
        switch_interval_ms=5.0,
        scaling=(level(1, 1.0, 1.0), level(2, 1.1, 0.55)),
        interference={},
        interference_note="",
        disturbed=(),
    )
    text = verdict(data)
    assert text.startswith("releases the GIL for about 97%")
    assert "scales poorly" in text


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "foreign.py"
    path.write_text(
        "import ctypes, time\n"
        "def crash():\n    ctypes.string_at(0)\n"
        "def hang():\n    time.sleep(600)\n"
        "def boom():\n    raise ValueError('nope')\n"
        "not_callable = 3\n"
    )
    return path


def test_segfault_is_survived(foreign: Path) -> None:
    with pytest.raises(CheckFailed, match=r"crashed the child process \(SIGSEGV\)"):
        run_check(f"{foreign}:crash", None, None, **FAST)


@pytest.mark.slow
def test_hang_is_killed_at_the_timeout(foreign: Path) -> None:
    with pytest.raises(CheckFailed, match="did not finish within --timeout 3 s"):
        run_check(f"{foreign}:hang", None, None, [1], 0.2, 3.0)


def test_exception_is_one_line_with_its_type(foreign: Path) -> None:
    with pytest.raises(CheckFailed, match="raised ValueError: nope"):
        run_check(f"{foreign}:boom", None, None, **FAST)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_xyz:f", "cannot import no_such_module_xyz"),
        ("hashlib:nope", "has no attribute 'nope'"),
        ("/nonexistent/file.py:f", "no such file"),
    ],
)
def test_bad_targets_raise_target_error(target: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        run_check(target, None, None, **FAST)


def test_non_callable_is_refused(foreign: Path) -> None:
    with pytest.raises(TargetError, match="is a int, not a callable"):
        run_check(f"{foreign}:not_callable", None, None, **FAST)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hashlib:nope"], "has no attribute"),
        (["hashlib"], "TARGET must look like"),
        (["no_such_module_xyz:f"], "cannot import"),
        (["hashlib:sha256", "--args", "[1,"], "--args is not valid JSON"),
        (["hashlib:sha256", "--threads", "0"], "above 0"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args: list[str], message: str, cli: Cli) -> None:
    proc = cli("check", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_cli_writes_json_and_report(tmp_path: Path, cli: Cli) -> None:
    setup = "data = bytes(range(256)) * 256"
    proc = cli(
        "check",
        "zlib:compress",
        "--setup",
        setup,
        "--threads",
        "1,2",
        "--duration",
        "0.3",
        "--json",
        str(tmp_path / "c.json"),
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "zlib:compress:" in proc.stdout
    assert (tmp_path / "c.json").exists()
    assert "gillab check" in (tmp_path / "report.html").read_text()
