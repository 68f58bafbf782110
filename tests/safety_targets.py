"""Callables whose thread safety is known from their nature, for the safety trial's tests (gillab check TARGET)."""

from __future__ import annotations

import ctypes
import itertools
import threading
import time

BUSY = [False]


def faults_with_threads(x: int) -> int:
    """Fault (read address 0) when a second thread is inside it: alone it never does. The sleep lets the other
    thread in while the first is inside, with the GIL or without."""
    if BUSY[0]:
        ctypes.string_at(0)
    BUSY[0] = True
    time.sleep(0.001)
    BUSY[0] = False
    return x


SEEN: list[int] = []


def appends(x: int) -> int:
    """Append to a module-level list and return its length: its result depends on every other call."""
    SEEN.append(x)
    return len(SEEN)


FIRST, SECOND = threading.Lock(), threading.Lock()
CALLS = itertools.count()


def deadlocks(x: int) -> int:
    """Take two locks in opposite orders on alternate calls: alone it never waits; two threads wait for each
    other for ever."""
    first, second = (FIRST, SECOND) if next(CALLS) % 2 else (SECOND, FIRST)
    with first:
        time.sleep(0.002)
        with second:
            return x
