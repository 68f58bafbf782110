"""Golden outputs: each command's JSON keeps its shape and its words; measured numbers are masked.

A command's JSON is reduced to its shape:
- numbers and nulls become "#", flags become "<bool>", digits inside strings become "#";
- the environment block and other machine-bound values (VOLATILE) are only kept as present;
- a list under a key in ORDERED (cells, rows, ...) keeps every item in order; any other list keeps only
  its distinct masked items, sorted, so that the number of samples or spans may vary.

The reduced form must equal the stored one in tests/golden/. After a change that is meant to alter an
output, refresh them with GILLAB_GOLDEN_UPDATE=1 pytest tests/test_golden.py, and say why in the commit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gillab import environment

Cli = Callable[..., subprocess.CompletedProcess[str]]

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GILLAB_GOLDEN_UPDATE") == "1"
VOLATILE = {
    "environment",
    "environments",
    "executable",
    "source",
    "html",
    "path",
    "events",
    "marks",
    "sequence",
    "role",
    "thread_states",
    "noise_reason",
    "disturbed",
    "gil",
    "gil_held",
    "gil_note",
    "against_ceiling",
    "unsteady",
}
"""Keys whose values depend on the machine, the folder or the OS's timing (a short cell may end before the
thread sampler's first sample): only their presence is kept."""


ORDERED = {"cells", "results", "rows", "scaling"}
"""Lists whose items follow the command's options: kept whole and in order."""


def mask(value: Any, key: str = "", volatile: frozenset[str] = frozenset()) -> Any:  # noqa: PLR0911 - one per type
    """Return the shape of a JSON value (see the module docstring)."""
    if key in VOLATILE or key in volatile:
        return "<volatile>"
    if isinstance(value, bool):  # flags such as noisy or load_competing are measured too
        return "<bool>"
    if value is None or isinstance(
        value, int | float
    ):  # a figure may be null where nothing was sampled
        return "#"
    if isinstance(
        value, str
    ):  # a verdict may name a disturbance the machine caused: that part is measured
        value = re.sub(r" \(figures disturbed: [^)]*\)", "", value)
        return re.sub(r"#+", "#", re.sub(r"[0-9]", "#", value))
    if isinstance(value, dict):
        return {k: mask(v, k, volatile) for k, v in value.items()}
    items = [mask(v, volatile=volatile) for v in value]
    if key in ORDERED:
        return items
    distinct = {json.dumps(m, sort_keys=True): m for m in items}
    return [distinct[k] for k in sorted(distinct)]


def check_golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    got = mask(data, volatile=frozenset(CASE_VOLATILE.get(name, ())))
    if UPDATE:
        path.write_text(json.dumps(got, indent=1, sort_keys=False) + "\n")
    want = json.loads(path.read_text())
    assert got == want, f"the shape of {name}'s JSON changed; see the module docstring"


CASES = {
    "run": [
        "run",
        "--impl",
        "python,cython-nogil",
        "--executor",
        "serial,thread",
        "--workers",
        "2",
        "--size",
        "python=20,cython-nogil=30",  # cython-nogil fib(20) took 15 µs: a cell's CPU could read 0, its core speed none
        "--repeat",
        "2",
        "--max-wait",
        "0.2",
    ],
    "race": ["race", "--variant", "python-lock,cython-atomic", "-k", "1000", "--repeat", "2"],
    "dis": ["dis", "counter"],
    "io": ["io", "--concurrency", "1,2", "--requests", "4", "--delay", "0.001", "--sleep"],
    "convoy": ["convoy", "--switch-interval", "0.005", "--requests", "5"],
    "check": [
        "check",
        "gillab._kernels_gil:fib",
        "--args",
        "25",
        "--threads",
        "1",
        "--duration",
        "0.2",
    ],
    "catalogue": ["catalogue", "--only", "crc32"],
}
CASE_VOLATILE = {"catalogue": {"verdict"}, "check": {"safety_verdict"}}
"""Keys volatile in one case only: a catalogue row's verdict ends with its 2-thread scaling, which load bends; a
check's safety verdict counts its calls (1,234 masks as #,#, 999 as #)."""


SLOW_CASES = {"catalogue", "check", "convoy", "run"}
"""The cases of more than a couple of seconds (pytest -m "not slow" leaves them out)."""


@pytest.mark.skipif(not environment.gil_enabled(), reason="the goldens were taken with a GIL")
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CASES else n for n in sorted(CASES)],
)
def test_json_output_keeps_its_shape(name: str, tmp_path: Path, cli: Cli) -> None:
    args = CASES[name]
    if name == "run":
        proc = cli(*args, "--out", str(tmp_path))
        data = json.loads((tmp_path / "results.json").read_text())
    else:
        proc = cli(*args, "--out", str(tmp_path), "--json", str(tmp_path / "doc.json"))
        data = json.loads((tmp_path / "doc.json").read_text())
    assert proc.returncode == 0, proc.stderr
    check_golden(name, data)


def test_diff_prints_what_it_printed(cli: Cli) -> None:
    """Two stored runs (schema 3, as an older gillab wrote them): the diff's text, to the byte."""
    proc = cli("diff", str(GOLDEN / "diff-a.json"), str(GOLDEN / "diff-b.json"))
    assert proc.returncode == 0, proc.stderr
    if UPDATE:
        (GOLDEN / "diff.txt").write_text(proc.stdout)
    assert proc.stdout == (GOLDEN / "diff.txt").read_text()
