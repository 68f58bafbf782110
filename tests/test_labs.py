"""The labs run in small configurations and show behaviour that holds on any machine."""

from __future__ import annotations

import dis
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gillab import environment
from gillab.checkout import source_dir
from gillab.errors import LabError
from gillab.harness import gilstate
from gillab.harness.instruments import has_proc
from gillab.labs import annotate, convoy, disasm, io, race, states
from gillab.outputs.documents import LAB_SCHEMA_VERSION
from gillab.workloads import exact_counters

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_race_safe_variants_lose_nothing_and_lost_is_expected_minus_observed() -> None:
    data = race.run(list(race.VARIANTS), threads=2, k=20_000, repeat=2, switch_interval=None)
    by = {r.variant: r for r in data.measured}
    assert len(by) == len(data.results) == len(race.VARIANTS)
    for v in sorted(exact_counters()):  # the race's variants carry the counters' impl names
        assert by[v].lost == (0, 0), v
    for r in data.measured:
        assert r.status == "ok"
        assert list(r.lost) == [r.expected - o for o in r.observed]
        assert r.lost_min <= r.lost_median <= r.lost_max
    assert by["python-add-desc"].expected == 0
    assert race.Race.from_json(data.to_json()) == data


@pytest.mark.usefixtures("switch_interval")
def test_race_sets_and_restores_the_switch_interval() -> None:
    before = sys.getswitchinterval()
    data = race.run(["python"], 2, 1000, 1, switch_interval=0.0005)
    assert data.switch_interval_s == pytest.approx(0.0005)
    assert sys.getswitchinterval() == before


def test_race_facts_are_built_from_the_figures() -> None:
    data = race.run(["python-rcw", "cython-atomic"], 2, 5000, 2, None)
    lines = race.facts(data)
    assert len(lines) == 2
    assert lines[1].startswith("cython-atomic: lost updates in 0 of 2 runs")
    if environment.gil_enabled():
        assert "switch point lies between" in lines[0]
    else:
        assert "switch points do not matter" in lines[0]
    sampled = not gilstate.unavailable() and environment.gil_enabled()
    for r in data.measured:  # the GIL's own switch count per run, where there is a GIL to read
        assert len(r.switches) == (2 if sampled else 0)
        assert all(n >= 0 for n in r.switches)
    assert ("The GIL changed hands" in lines[0]) is sampled


def test_dis_marks_switch_points_and_finds_the_rcw_window() -> None:
    data = disasm.run("counter")
    funcs = data.functions
    assert funcs["add_rcw"].switch_between_load_and_store is True
    assert funcs["add"].switch_between_load_and_store is False
    assert any(i.switch and i.opname.startswith("JUMP_BACKWARD") for i in funcs["add"].instructions)
    assert "RESUME" in data.switch_points
    assert disasm.Disasm.from_json(data.to_json()) == data


def test_dis_adaptive_shows_specialised_instructions() -> None:
    data = disasm.run("counter", adaptive=True)
    names = {i.opname for i in data.functions["add"].instructions}
    changed = bool(names - {i.opname for i in dis.get_instructions(race.pure.add)})
    assert data.specialised is changed
    if not environment.free_threaded_build() or sys.version_info >= (3, 14):
        assert changed  # 3.14t specialises too (PEP 779 turned it on for free-threaded builds)
    else:  # 3.13t has no specialising interpreter: nothing changes, and the lab says so
        assert not changed
        assert "no instruction was specialised" in disasm.render(data)


def test_dis_rejects_native_only_workloads() -> None:
    with pytest.raises(LabError, match="pure-Python workloads fib, counter"):
        disasm.run("sumsq")


@pytest.mark.slow
def test_annotate_nogil_lines_touch_no_python(tmp_path: Path) -> None:
    try:
        source_dir()
    except FileNotFoundError as exc:  # an installed wheel: the Cython sources are not beside it
        pytest.skip(str(exc))
    data = annotate.run(tmp_path)
    assert [Path(s.source).name for s in data.sources] == list(annotate.SOURCES)
    for source in data.sources:
        assert source.nogil_lines, source.source
        for variant, v in source.variants.items():
            assert v.lines_scored > 0, variant
            assert v.nogil_lines_touching_python == (), variant
            assert Path(v.html).exists()


def test_annotate_finds_nogil_blocks() -> None:
    src = (
        "cdef int f() noexcept nogil:\n    return 1\n\n"
        "def g():\n    x = 1\n    with nogil:\n        f()\n    return x\n"
    )
    assert annotate.nogil_lines(src) == {2, 7}


def test_io_server_binds_loopback_only_and_is_gone_after() -> None:
    with io.echo_server(0.001) as server:
        port = server.port
        assert server.alive
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"hi\n")
            assert s.recv(16) == b"hi\n"
        addresses = [a for a in _listening_addresses() if a[1] == port]
        assert addresses
        assert all(host == "127.0.0.1" for host, _ in addresses)
    assert not server.alive
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


def _listening_addresses() -> list[tuple[str, int]]:
    """Return (ip, port) of listening TCP sockets from /proc/net/tcp (IPv4), or skip without it."""
    path = Path("/proc/net/tcp")
    if not path.exists():
        pytest.skip("needs /proc/net/tcp")
    out = []
    for line in path.read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A":  # LISTEN
            hexip, hexport = local.split(":")
            ip = ".".join(str(int(hexip[i : i + 2], 16)) for i in (6, 4, 2, 0))
            out.append((ip, int(hexport, 16)))
    return out


@pytest.mark.parametrize("sleep_mode", [False, True])
def test_io_runs_every_client(sleep_mode: bool) -> None:
    data = io.run([1, 4], requests=8, delay_s=0.005, sleep_mode=sleep_mode)
    assert [(r.client, r.concurrency) for r in data.rows] == [
        ("serial", 1),
        ("thread", 1),
        ("thread", 4),
        ("asyncio", 1),
        ("asyncio", 4),
    ]
    for r in data.rows:
        assert r.requests == 8
        assert r.latency_p50_ms <= r.latency_p95_ms
    assert io.Io.from_json(data.to_json()) == data


def test_convoy_measures_every_condition() -> None:
    data = convoy.run([0.001], threads=1, requests=10)
    assert [r.background for r in data.rows] == ["alone", "python", "cython-nogil"]
    assert all(r.requests == 10 for r in data.rows)
    assert convoy.facts(data)[0].startswith("switch interval 1 ms: round trip alone")
    assert convoy.Convoy.from_json(data.to_json()) == data
    if not gilstate.unavailable() and environment.gil_enabled():
        for r in data.rows:  # the I/O thread's shares, from the interpreter's own GIL state
            assert r.io_waits is not None
            assert 0.0 <= r.io_waits <= 1.0, r
            assert (
                abs((r.io_holds or 0) + (r.io_runs_without_gil or 0) + r.io_waits - 1.0) < 1e-6
            ), r
        assert "from the interpreter's own GIL state" in " ".join(convoy.facts(data))


@pytest.mark.skipif(not has_proc(), reason="needs /proc, read (not $GILLAB_PLATFORM=portable)")
def test_states_sees_the_child_run_or_sleep_then_become_a_zombie() -> None:
    data = states.run(phase_s=0.15)
    seq = data.sequence
    assert seq[0] in ("R", "S", "D")
    assert "Z" in seq
    assert seq.index("Z") > 0
    assert data.exit_code == 0
    assert states.States.from_json(data.to_json()) == data


@pytest.mark.slow
def test_lab_commands_write_json_png_and_report(tmp_path: Path, cli: Cli) -> None:
    cmds = [
        ["race", "-k", "2000", "--repeat", "1"],
        ["dis", "fib"],
        ["io", "--sleep", "--requests", "4", "--concurrency", "1,2", "--delay", "0.001"],
        ["convoy", "--requests", "5", "--switch-interval", "0.001"],
    ]
    for cmd in cmds:
        proc = cli(*cmd, "--out", str(tmp_path), "--json", str(tmp_path / "copy.json"))
        assert proc.returncode == 0, proc.stderr
        doc = json.loads((tmp_path / f"{cmd[0]}.json").read_text())
        assert doc["lab"] == cmd[0]
        assert doc["schema_version"] == LAB_SCHEMA_VERSION
        assert json.loads((tmp_path / "copy.json").read_text())["lab"] == cmd[0]
    page = (tmp_path / "report.html").read_text()
    for lab in ("race", "dis", "io", "convoy"):
        assert f"gillab {lab}" in page
    assert (tmp_path / "race.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["race", "--variant", "nope"], "choose from python,"),
        (["race", "--threads", "0"], "above 0"),
        (["race", "--switch-interval", "x"], "above 0"),
        (["dis", "sumsq"], "pure-Python workloads"),
        (["io", "--concurrency", "0"], "above 0"),
        (["io", "--delay", "-1"], "above 0"),
        (["convoy", "--threads", "x"], "whole number above 0"),
    ],
)
def test_lab_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    proc = cli(*args, "--out", str(tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(
    environment.gil_enabled(), reason="free-threaded interpreter with the GIL off only"
)
def test_python_plus_equals_loses_updates_without_the_gil() -> None:
    data = race.run(
        ["python", "python-rcw"], threads=2, k=1_000_000, repeat=5, switch_interval=None
    )
    for r in data.measured:
        assert r.runs_losing >= 1, r.variant


@pytest.mark.parametrize("gil", ["1", "0"])
def test_race_reports_gil_state(gil: str) -> None:
    # The truth comes from outside the code under test: PYTHON_GIL decides on a free-threaded build, and a
    # build with a GIL always has it on.
    if gil == "0" and not environment.free_threaded_build():
        pytest.skip("PYTHON_GIL=0 needs a free-threaded build")
    code = "from gillab.labs import race; print(race.run(['python'], 2, 100, 1, None).gil_enabled)"
    env = (
        dict(os.environ, PYTHON_GIL=gil) if environment.free_threaded_build() else dict(os.environ)
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert proc.stdout.strip() == ("True" if gil == "1" else "False")


@pytest.mark.slow
def test_race_sizes_each_variant_so_its_threads_overlap() -> None:
    data = race.run(["cython-nogil", "python"], threads=2, k=None, repeat=1, switch_interval=None)
    assert data.k_sized is True
    for r in data.measured:
        assert r.k >= race.K_DEFAULT
        assert r.overlap_ms_median > 0, r.variant
    native = next(r for r in data.measured if r.variant == "cython-nogil")
    assert native.k > race.K_DEFAULT  # a native loop is sized far past the course's k


def test_convoy_explains_the_instant_peer_from_its_own_figures() -> None:
    data = convoy.run([0.005], threads=1, requests=10)
    assert data.peer_delay_ms == pytest.approx(0.5)
    assert data.instant_peer.switch_interval_ms == pytest.approx(5.0)
    lesson = " ".join(convoy.facts(data))
    assert "With an instant peer" in lesson
    assert "convoy" in lesson
