"""Behavioural proof that cython-nogil lets go of the GIL and cython-gil does not.

The main thread counts steps while a worker thread is inside single native fib calls, with the switch
interval raised so that no thread is ever forced off the GIL (see gillab.checker.measure.progress_during_calls).
Steps are counted, never timed: beside a GIL-holding call the count is exactly zero on any machine under any
load, and beside a releasing one it is above zero once the OS has run the main thread at all.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gillab import environment
from gillab.checker.measure import progress_during_calls
from gillab.workloads import resolve

N = 32  # one native call of a few milliseconds; calls repeat for 0.3 s


def steps_beside(impl: str) -> tuple[int, int]:
    """Return (calls, main-thread steps made inside them) for fib(N) of the impl."""
    seen = progress_during_calls(resolve("fib", impl), (N,), {}, min_window_s=0.3)
    return seen.calls, seen.steps


def test_main_thread_advances_only_while_nogil_kernel_runs() -> None:
    calls, released = steps_beside("cython-nogil")
    assert calls >= 1
    assert released > 0, f"the main thread made no step during {calls} cython-nogil calls"
    calls, held = steps_beside("cython-gil")
    if environment.gil_enabled():
        assert held == 0, (
            f"the main thread made {held} steps inside {calls} GIL-holding cython-gil calls"
        )
    else:  # a free-threaded interpreter: there is no GIL to hold, so the main thread runs beside both
        assert held > 0, (
            f"the main thread made no step beside cython-gil without a GIL ({calls} calls)"
        )


def test_switch_interval_is_restored() -> None:
    before = sys.getswitchinterval()
    steps_beside("cython-gil")
    assert sys.getswitchinterval() == before


def test_an_exception_in_the_call_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="0 <= n"):
        progress_during_calls(resolve("fib", "cython-nogil"), (-1,), {})


@pytest.mark.skipif(not environment.free_threaded_build(), reason="free-threaded interpreters only")
def test_importing_the_native_modules_keeps_the_gil_off() -> None:
    code = (
        "import sys, gillab, gillab._kernels_nogil, gillab._kernels_gil, gillab._instruments; "
        "print(sys._is_gil_enabled())"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert proc.stdout.strip() == "False"
