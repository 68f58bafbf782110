"""The line profile's sampler before 3.14 (gillab.checker.where.spy): py-spy's two readers, every thread's and
the GIL holder's, read back into a profile.

What holds on any interpreter: a thread's samples count only inside the child's call loop, its id names its
phase, a phase's ticks lie inside its window, and a line's GIL-held share is the holder's samples on it over
every thread's. The profile of a real child under py-spy is test_where's (it runs where py-spy can).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gillab.checker.where import calls, spy
from gillab.checker.where.profile import Phase

USER = "/home/me/code.py"
LOOP = {"name": spy.CALL_LOOP, "file": calls.__file__, "line": 90}
HOT = {"name": "work", "file": USER, "line": 5}
COLD = {"name": "work", "file": USER, "line": 7}
WAIT = {"name": "wait", "file": "/usr/lib/python3.11/threading.py", "line": 320}


def _doc(threads: dict[str, list[list[dict[str, object]]]]) -> dict[str, object]:
    """A speedscope file as py-spy writes it: shared frames, and each thread's samples root first."""
    frames: list[dict[str, object]] = []
    profiles = []
    for name, samples in threads.items():
        rows = []
        for stack in samples:
            row = []
            for f in stack:
                if f not in frames:
                    frames.append(f)
                row.append(frames.index(f))
            rows.append(row)
        profiles.append({"name": name, "samples": rows, "weights": [1.0] * len(rows)})
    return {"shared": {"frames": frames}, "profiles": profiles}


def mine(file: str) -> bool:
    return file == USER


def test_the_call_loop_py_spy_looks_for_is_the_child_s() -> None:
    assert calls._call_loop.__name__ == spy.CALL_LOOP


def test_samples_count_inside_the_call_loop_and_the_holder_s_give_each_line_its_gil_share(
    tmp_path: Path,
) -> None:
    every = _doc(
        {
            'Thread 10 "MainThread"': [[WAIT]] * 12,
            'Thread 11 "Thread-1"': [[WAIT]] + [[LOOP, HOT]] * 3 + [[LOOP, COLD]],  # alone
            'Thread 12 "Thread-2"': [[LOOP, HOT]] * 4 + [[LOOP, COLD]] * 4,
            'Thread 13 "Thread-3"': [[LOOP, HOT]] * 4 + [[LOOP, COLD]] * 4 + [[WAIT]],
            # the calibrations, before each phase and after the last: each held the GIL throughout
            'Thread 7 "Thread-a"': [[LOOP, HOT]] * 10,
            'Thread 8 "Thread-b"': [[LOOP, HOT]] * 10,
            'Thread 9 "Thread-c"': [[LOOP, HOT]] * 10,
        }
    )
    # a reader that ticked at 0.7, 0.9 and 0.7 of the other's rate around the phases: 0.8 for each
    holder = _doc(
        {
            'Thread 12 "Thread-2"': [[LOOP, HOT]] * 4,  # it held the GIL on line 5 each time
            'Thread 13 "Thread-3"': [[LOOP, HOT]] * 2 + [[LOOP, COLD]],
            'Thread 11 "Thread-1"': [[LOOP, HOT]] * 2,
            'Thread 7 "Thread-a"': [[LOOP, HOT]] * 7,
            'Thread 8 "Thread-b"': [[LOOP, HOT]] * 9,
            'Thread 9 "Thread-c"': [[LOOP, HOT]] * 7,
        }
    )
    reader = spy.SpyReader("py-spy", tmp_path / "attached", tmp_path, spy.RATE_HZ)
    (tmp_path / "every.speedscope.json").write_text(json.dumps(every))
    (tmp_path / "holder.speedscope.json").write_text(json.dumps(holder))
    reader.started, reader.ended, reader.cpu_s = 1.0, 1.12, 0.012
    phases = [
        Phase(1, (11,), ((0, 10**9, 100, True),)),
        Phase(2, (12, 13), ((2 * 10**9, 3 * 10**9, 150, True),)),
    ]
    calibration = [Phase(1, (tid,), ((0, 10**8, 10, True),)) for tid in (7, 8, 9)]
    samples, (held_alone, held), rate, cost = reader.result(phases, mine, calibration)
    alone = [s for s in samples if s[0] < 10**9]
    assert len(alone) == 4  # the wait before the loop is no tick of its
    assert all(0 < t < 10**9 for t, _ in alone)
    many = [s for s in samples if s[0] >= 2 * 10**9]
    assert len(many) == 8
    assert all(2 * 10**9 < t < 3 * 10**9 for t, _ in many)
    assert {tid for _, threads in many for tid, *_ in threads} == {12, 13}
    hot, cold = (USER, 5, "work"), (USER, 7, "work")
    assert held[hot] == pytest.approx(6 / 8 / 0.8)  # 6 of 8, at 0.8 of the rate
    assert held[cold] == pytest.approx(1 / 8 / 0.8)
    assert held_alone[hot] == pytest.approx(2 / 3 / 0.8)
    assert cold not in held_alone or held_alone[cold] == 0.0
    assert rate == pytest.approx(12 / 0.12)  # the main thread's samples, one a tick
    assert cost == pytest.approx(1000.0)  # 12 ms of CPU over 12 ticks


def test_where_py_spy_cannot_run_it_says_why_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GILLAB_PY_SPY", "/nonexistent/py-spy")
    assert spy.binary() is None
    why = spy.unavailable()
    assert why
    assert "\n" not in why
    assert "3.14" in why
