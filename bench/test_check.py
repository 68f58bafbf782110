"""The group check: how long `gillab check` takes, as a user runs it (a child process, the command line).

- check_quiet and check_beside_a_competitor: `gillab check hashlib:sha256` of 1 MiB with its safety trial (on
  by default), on a quiet machine (at most 6 s on 2 cores) and beside one CPU-bound process (at most 12 s;
  without the trial it took 15.4-16.0 s, each phase waiting 2 s of its own for a quiet moment that never came).
- where_costs_the_callable_little: check --where under 3.14t: its wall (at most 10 s) and, as each profile
  measures it, the callable's calls per second while sampled over while not (at least 0.95).
- py_spy_costs_the_callable_little: check --where before 3.14 (py-spy's readers): its wall (at most 10 s), and
  the calls on 2 threads sampled over unsampled, checks taken in turn (at least 0.95).
- check_without_gil: one shared dict checked under 3.14t (`--python`, where scripts/build-python.sh built it),
  where the check names contention; it took 25 s before its venv was kept, and must take at most 12 s on a
  quiet 2-core machine. Skipped in the quick run (its first call may install the venv).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gillab import environment
from gillab.interpreters import built

QUICK = os.environ.get("GILLAB_BENCH_QUICK", "") not in ("", "0")
ROUNDS = 3


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gillab", "check", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _machine() -> dict[str, Any]:
    return {
        "usable_cores": environment.usable_cores(),
        "python": sys.version.split()[0],
        "load": os.getloadavg(),
    }


SHA = ("hashlib:sha256", "--setup", "data = bytes(1 << 20)")


def _timed(benchmark: Any, args: tuple[str, ...], rounds: int, line: int = 1) -> list[str]:
    """Time `gillab check ARGS` as a user waits for it, round by round; each round's wall and a line it said."""
    seen: list[str] = []

    def once() -> None:
        t0 = time.perf_counter()
        proc = _check(*args)
        assert proc.returncode == 0, proc.stderr
        seen.append(f"{time.perf_counter() - t0:.1f} s: {proc.stdout.splitlines()[line]}")

    benchmark.pedantic(once, rounds=rounds, iterations=1)
    return seen


def test_check_quiet(benchmark: Any) -> None:
    """gillab check of sha256 with its safety trial, as a user waits for it on a quiet machine."""
    benchmark.group = "check"
    seen = _timed(benchmark, SHA, 1 if QUICK else ROUNDS)
    benchmark.extra_info.update(_machine(), runs=seen, limit_s=6)


@pytest.mark.skipif(QUICK, reason="the quick run leaves out the competitor")
def test_check_beside_a_competitor(benchmark: Any) -> None:
    """The same check beside one CPU-bound process (a user's busy machine)."""
    benchmark.group = "check"
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        seen = _timed(benchmark, SHA, ROUNDS)
    finally:
        spin.kill()
        spin.wait()
    benchmark.extra_info.update(
        _machine(), runs=seen, limit_s=12, competitor="one CPU-bound process"
    )


@pytest.mark.skipif(
    QUICK, reason="the quick run leaves it out: its first call may install 3.14t's venv"
)
def test_check_without_gil(benchmark: Any, tmp_path: Path) -> None:
    """gillab check of one shared dict under 3.14t: the diagnosis names contention; its wall, as a user waits."""
    ft = built("python3.14t")
    if ft is None:
        pytest.skip(
            "no 3.14t built: scripts/build-python.sh --version 3.14 --free-threaded --tarball PATH"
        )
    benchmark.group = "check"
    args = ("gillab.workloads.patterns:shared_dict", "--args", "200000", "--python", str(ft))
    first = _check(*args)  # makes the venv, where it is not made yet: not timed
    assert first.returncode == 0, first.stderr
    seen = _timed(benchmark, args, ROUNDS, line=0)
    benchmark.extra_info.update(_machine(), interpreter=str(ft), runs=seen, limit_s=12)


@pytest.mark.skipif(
    QUICK, reason="the quick run leaves it out: its first call may install 3.14t's venv"
)
def test_where_costs_the_callable_little(benchmark: Any, tmp_path: Path) -> None:
    """check --where under 3.14t, as a user waits for it: its wall (at most 10 s on a quiet machine), and the
    sampler's cost as each profile measures it: the callable's calls per second in the sampled slices of a
    phase over the unsampled slices between them (alone and on 2 threads; at least 0.95: sampling costs at most
    5% of its calls per second)."""
    ft = built("python3.14t")
    if ft is None:
        pytest.skip(
            "no 3.14t built: scripts/build-python.sh --version 3.14 --free-threaded --tarball PATH"
        )
    benchmark.group = "check"
    out = tmp_path / "where.json"
    args = ("gillab.workloads.patterns:own_dict", "--args", "1000", "--no-safety", "--where")
    args += ("--python", str(ft), "--json", str(out))
    first = _check(*args)  # makes the venv, where it is not made yet: not timed
    assert first.returncode == 0, first.stderr
    kept: dict[str, list[float]] = {"alone": [], "threads": []}

    def once() -> None:
        proc = _check(*args)
        assert proc.returncode == 0, proc.stderr
        where = json.loads(out.read_text())["where"]
        kept["alone"].append(where["kept_alone"])
        kept["threads"].append(where["kept_threads"])

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1)
    benchmark.extra_info.update(
        _machine(),
        interpreter=str(ft),
        kept_alone=kept["alone"],
        kept_threads=kept["threads"],
        limit_kept=0.95,
        limit_s=10,
    )


@pytest.mark.skipif(QUICK, reason="the quick run leaves it out: six checks of 8 s")
def test_py_spy_costs_the_callable_little(benchmark: Any, tmp_path: Path) -> None:
    """check --where before 3.14, with py-spy's two readers: its wall (at most 10 s on a quiet machine), and the
    readers' cost, which py-spy cannot measure in a profile (it cannot pause): the calls made on 2 threads while
    sampled over those made unsampled (GILLAB_WHERE_HZ=0), in phases of the same seconds, checks taken in turn
    (the median of each; at least 0.95: sampling costs at most 5% of its calls per second)."""
    if sys.version_info >= (3, 14):
        pytest.skip("3.14 profiles with its RemoteUnwinder (test_where_costs_the_callable_little)")
    from gillab.checker.where import spy

    if spy.unavailable():
        pytest.skip(spy.unavailable())
    benchmark.group = "check"
    out = tmp_path / "where.json"
    args = ("gillab.workloads.patterns:own_dict", "--args", "1000", "--no-safety", "--where")
    args += ("--json", str(out))
    calls: dict[str, list[int]] = {"sampled": [], "unsampled": []}
    walls: list[float] = []

    def profile(hz: str) -> dict[str, Any]:
        env = dict(os.environ, GILLAB_WHERE_HZ=hz) if hz else None
        proc = subprocess.run(
            [sys.executable, "-m", "gillab", "check", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        where: dict[str, Any] = json.loads(out.read_text())["where"]
        return where

    def once() -> None:
        t0 = time.perf_counter()
        where = profile("")
        walls.append(round(time.perf_counter() - t0, 1))
        assert where["sampler"] is not None, where["note"]
        calls["sampled"].append(where["calls_threads"])
        calls["unsampled"].append(profile("0")["calls_threads"])

    benchmark.pedantic(once, rounds=ROUNDS, iterations=1)
    kept = statistics.median(calls["sampled"]) / statistics.median(calls["unsampled"])
    benchmark.extra_info.update(
        _machine(),
        walls_s=walls,
        calls=calls,
        kept_threads=round(kept, 3),
        limit_kept=0.95,
        limit_s=10,
    )
