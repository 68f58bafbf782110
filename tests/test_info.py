"""`gillab info` reports the interpreter, the machine and the builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from gillab import environment
from gillab.cli import main

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_info_json_has_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in (
        "python_version",
        "python_implementation",
        "free_threaded_build",
        "gil_enabled",
        "switch_interval_s",
        "cpu_count",
        "usable_cores",
        "load_average",
        "cython_version",
        "numpy_version",
        "native",
    ):
        assert key in data
    assert data["switch_interval_s"] == sys.getswitchinterval()
    assert 1 <= data["usable_cores"] <= (data["cpu_count"] or 1)
    assert data["native"]["cython-nogil"]["releases_gil"] is True
    assert data["native"]["cython-gil"]["releases_gil"] is False


def test_info_text_lists_each_variant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "cython-nogil" in out
    assert "RELEASES_GIL=True" in out
    assert "GIL now" in out


@pytest.mark.parametrize("gil", ["1", "0"])
def test_gil_state_follows_the_interpreter(gil: str) -> None:
    # The truth comes from outside environment.gil_enabled(): a build with a GIL always has it on; on a
    # free-threaded build PYTHON_GIL decides.
    if gil == "0" and not environment.free_threaded_build():
        pytest.skip("PYTHON_GIL=0 needs a free-threaded build")
    env = (
        dict(os.environ, PYTHON_GIL=gil) if environment.free_threaded_build() else dict(os.environ)
    )
    code = "from gillab import environment; print(environment.gil_enabled(), environment.info().gil_enabled)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    want = "True" if gil == "1" else "False"
    assert proc.stdout.split() == [want, want]


def test_python_dash_m_works(cli: Cli) -> None:
    proc = cli("info")
    assert proc.returncode == 0, proc.stderr
    assert "usable cores" in proc.stdout


def test_unknown_command_is_one_line_and_exit_2(cli: Cli) -> None:
    proc = cli("nope")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
