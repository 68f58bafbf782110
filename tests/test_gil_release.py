"""Behavioural proof that cython-nogil lets go of the GIL and cython-gil does not.

The main thread counts iterations of a pure-Python loop while a worker thread
is inside one long native fib call. Progress is counted, never timed, so this
holds on one core as on many.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from gillab import environment
from gillab.workloads import resolve

N = 40  # one native call of tens of milliseconds or more


def progress_during_native_call(impl: str) -> int:
    """Return how many iterations the main thread made while the worker was inside fib(N)."""
    fib = resolve("fib", impl)
    box = {"count": 0, "before": -1, "after": -1}
    done = threading.Event()

    def worker() -> None:
        box["before"] = box["count"]
        fib(N)
        box["after"] = box["count"]
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    while not done.is_set():
        box["count"] += 1
    t.join()
    return box["after"] - box["before"]


@pytest.mark.usefixtures("switch_interval")
def test_main_thread_advances_only_while_nogil_kernel_runs() -> None:
    # A short switch interval bounds the main thread's progress at the edges of the call,
    # where the worker still runs bytecode, to a few thousand iterations.
    sys.setswitchinterval(1e-4)
    released = progress_during_native_call("cython-nogil")
    held = progress_during_native_call("cython-gil")
    assert released > 100_000, f"main thread made only {released} iterations beside cython-nogil"
    if environment.gil_enabled():
        assert held * 20 < released, f"main thread advanced {held} iterations beside cython-gil (vs {released})"
    else:  # a free-threaded interpreter: there is no GIL to hold, so the main thread runs beside both
        assert held > 100_000, f"main thread made only {held} iterations beside cython-gil without a GIL"


@pytest.mark.skipif(not environment.free_threaded_build(), reason="free-threaded interpreters only")
def test_importing_the_native_modules_keeps_the_gil_off() -> None:
    code = (
        "import sys, gillab, gillab._kernels_nogil, gillab._kernels_gil, gillab._instruments; "
        "print(sys._is_gil_enabled())"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert proc.stdout.strip() == "False"
