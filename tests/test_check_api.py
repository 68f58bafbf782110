"""gillab.check(), the pytest fixture `gil`, the catalogue, size sweeps and free-threading readiness.

Every verdict asserted here is decided by a count or by the interpreter's own GIL state, never by a time:
a holding call lets no other thread in, whatever the load; a releasing one lets it in.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sysconfig
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import gillab
from gillab import _native, environment
from gillab.checker import catalogue
from gillab.checker.api import CheckResult, Releases, check_target, sweep_target
from gillab.checker.entries import ENTRIES
from gillab.errors import CheckFailed, TargetError

GIL_ON = environment.gil_enabled()
Cli = Callable[..., subprocess.CompletedProcess[str]]
FAST = {"threads": (1, 2), "duration_s": 0.2}

pytest_plugins = ["pytester"]


def _kernels() -> tuple[object, object]:
    try:
        return _native.kernels("cython-nogil").fib, _native.kernels("cython-gil").fib
    except _native.NotBuiltError as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
@pytest.mark.parametrize("isolate", [True, False])
def test_check_tells_a_releasing_callable_from_a_holding_one(isolate: bool) -> None:
    free_fib, held_fib = _kernels()
    free = gillab.check(free_fib, 27, isolate=isolate, **FAST)
    held = gillab.check(held_fib, 27, isolate=isolate, **FAST)
    assert isinstance(free, CheckResult)
    assert free.isolated is isolate
    assert [lv.threads for lv in free.scaling] == [1, 2]
    assert free.target == "gillab._kernels_nogil.fib"
    if not GIL_ON:
        assert free.releases is held.releases is Releases.NO_GIL
        return
    assert free.releases is Releases.RELEASES, free.verdict
    assert held.releases is Releases.HOLDS, held.verdict
    assert held.steps_during_calls == 0  # no other thread got in during any call
    assert held.decided_by in ("GIL state", "step count")
    doc = held.to_json()
    assert doc["releases"] == "holds"
    assert json.loads(json.dumps(doc))["verdict"] == held.verdict


def test_isolated_check_refuses_what_cannot_reach_a_child_process() -> None:
    with pytest.raises(TargetError, match=r"cannot be sent to a child process.*isolate=False"):
        gillab.check(lambda: None, **FAST)


def test_in_process_check_takes_any_callable_and_says_it_is_not_isolated() -> None:
    result = gillab.check(functools.partial(time.sleep, 0.002), isolate=False, **FAST)
    assert not result.isolated
    assert "crash" in result.note
    if GIL_ON:
        assert result.releases is Releases.RELEASES, result.verdict


def test_an_isolated_crash_is_reported_not_suffered() -> None:
    import ctypes

    with pytest.raises(CheckFailed, match="crashed the child process"):
        gillab.check(ctypes.string_at, 0, **FAST)  # reads address 0: a segfault, in the child only


WANTS = """
    import json, time

    def test_sleep_releases(gil):
        gil.assert_releases(time.sleep, 0.002, duration_s=0.2)

    def test_dumps_releases(gil):
        gil.assert_releases(json.dumps, [list(range(50))] * 2000, duration_s=0.2)
"""


@pytest.mark.slow
def test_the_fixture_passes_and_fails_with_the_measured_figure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=textwrap.dedent(WANTS))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider"
    )  # the plugin comes from the entry point
    if not GIL_ON:
        result.assert_outcomes(skipped=2)
        return
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*expected json.dumps to release the GIL; other threads got *% of their progress*"]
    )


@pytest.mark.slow
def test_the_catalogue_agrees_with_its_sources_on_a_slice() -> None:
    names = (
        "time.sleep, 5 ms",
        "json.dumps of 100,000 numbers",
        "hashlib.sha256 below and above its threshold",
    )
    entries = [e for e in ENTRIES if e.name in names]
    got = catalogue.run_catalogue(entries, duration_s=0.2)
    assert not got.error
    assert [r.entry.name for r in got.rows] == [e.name for e in entries]
    for row in got.rows:
        assert row.entry.source
        if GIL_ON:
            assert row.got.agrees, row
        else:
            assert row.got.agrees is None
    assert got.summary.startswith("3 of 3 entries agree" if GIL_ON else "0 of 0")
    assert catalogue.Catalogue.from_json(got.to_json()).to_json() == got.to_json()


def test_the_catalogue_is_big_enough_and_every_entry_has_its_proof() -> None:
    assert len(ENTRIES) >= 25
    assert len({e.name for e in ENTRIES}) == len(ENTRIES)
    for e in ENTRIES:
        assert e.source.startswith(("CPython ", "numpy ")), e.name
        assert e.expected in (Releases.RELEASES, Releases.PARTLY, Releases.HOLDS), e.name
        assert ("{n}" in e.setup) == bool(e.sizes) == (e.threshold is not None), e.name
    assert {e.target for e in ENTRIES if e.trap} >= {"hashlib:sha256", "zlib:crc32"}
    assert catalogue.select("sha256")
    assert not catalogue.select("no-such-thing")


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("GILLAB_SLOW") != "1", reason="the whole catalogue: GILLAB_SLOW=1"
)
def test_the_whole_catalogue_agrees_with_its_sources() -> None:
    got = catalogue.run_catalogue(list(ENTRIES))
    assert not got.error
    assert all(r.got.agrees is not False for r in got.rows), got.summary


def test_a_size_sweep_names_zlib_crc32s_threshold() -> None:
    data = sweep_target("zlib:crc32", "data = bytes({n})", [4096, 5120, 5121, 8192])
    if not GIL_ON:
        assert data.verdict.startswith("no GIL")
        return
    assert data.verdict == "releases the GIL from 5121 up; holds it at 5120 and below"
    assert data.sweep.releases_from == 5121
    by = {r.size: r for r in data.sweep.sizes}
    assert by[5120].switches == 0  # not one other thread got in during tens of thousands of calls
    assert (by[5121].switches or 0) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "zlib:crc32", "--setup", "data = bytes(10)", "--sizes", "10,20"],
            "--sizes needs --setup with {n}",
        ),
        (
            ["check", "zlib:crc32", "--setup", "data = bytes({n})", "--sizes", "10,x"],
            "whole numbers",
        ),
        (["check", "zlib:crc32", "--python", "/no/such/python"], "--python /no/such/python"),
        (["catalogue", "--only", "no-such-entry"], "matches no entry"),
    ],
)
def test_bad_check_input_is_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, cli: Cli
) -> None:
    proc = cli(*args, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


FREE_THREADED = pytest.mark.skipif(
    not environment.free_threaded_build(), reason="free-threaded builds only"
)

EXT = """
#include <Python.h>
static PyObject *noop(PyObject *self, PyObject *args) { Py_RETURN_NONE; }
static PyMethodDef methods[] = {{"noop", noop, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "gillab_legacy_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_gillab_legacy_ext(void) { return PyModule_Create(&def); }
"""


@FREE_THREADED
def test_an_extension_without_free_threading_support_turns_the_gil_back_on(tmp_path: Path) -> None:
    cc = shutil.which(sysconfig.get_config_var("CC").split()[0] or "cc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    (tmp_path / "ext.c").write_text(
        EXT
    )  # single-phase init, no Py_mod_gil slot: not declared compatible
    so = tmp_path / f"gillab_legacy_ext{sysconfig.get_config_var('EXT_SUFFIX')}"
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            f"-I{sysconfig.get_paths()['include']}",
            str(tmp_path / "ext.c"),
            "-o",
            str(so),
        ],
        check=True,
        timeout=120,
    )
    (tmp_path / "target.py").write_text(
        f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport gillab_legacy_ext\nnoop = gillab_legacy_ext.noop\n"
    )
    env_gil = os.environ.pop("PYTHON_GIL", None)
    try:
        result = check_target(f"{tmp_path / 'target.py'}:noop", threads=(1,), duration_s=0.1)
    finally:
        if env_gil is not None:
            os.environ["PYTHON_GIL"] = env_gil
    assert result.gil_import is not None
    assert result.gil_import.free_threaded_build
    assert result.gil_import.reenabled, result.gil_import
    assert "GIL" in result.gil_import.warning


@FREE_THREADED
def test_gillabs_own_modules_leave_the_gil_off() -> None:
    if os.environ.get("PYTHON_GIL") == "1":
        pytest.skip("PYTHON_GIL=1 turns the GIL on before any import")
    result = check_target("gillab._kernels_nogil:fib", args=[20], threads=(1,), duration_s=0.1)
    assert result.gil_import is not None
    assert result.gil_import.free_threaded_build
    assert result.gil_import.gil_before is False
    assert result.gil_import.reenabled is False
