"""Small callables for tests/test_advise.py, whose best way to run is known from their nature."""

from __future__ import annotations

import hashlib
import time
import zlib
from typing import Any

NOT_CALLABLE = 42
STATE: list[int] = []


def loop(n: int) -> int:
    """Pure Python arithmetic: holds the GIL all the time."""
    s = 0
    for i in range(n):
        s += i * i
    return s


def nap(seconds: float) -> float:
    """Waits, without computing: the GIL is free meanwhile."""
    time.sleep(seconds)
    return seconds


def size_of(data: bytes) -> int:
    """Does almost nothing with a large argument: the cost is in sending it."""
    return len(data)


def unsafe(n: int) -> int:
    """Mutates module-level state and returns it: its result depends on who else ran (not thread-safe)."""
    STATE.append(n)
    for _ in range(20_000):
        pass
    return len(STATE)


def nan(n: int) -> float:
    """Returns a NaN, which equals nothing, itself included."""
    return float("nan") * n


def identity(value: Any) -> Any:
    """Returns its argument."""
    return value


def sha256(data: bytes) -> str:
    """hashlib.sha256 of the data, as a hex digest: hashlib lets go of the GIL above 2 KiB."""
    return hashlib.sha256(data).hexdigest()


def hasher(n: int) -> Any:
    """Returns a hash object: it equals only itself, so results cannot be compared by value."""
    return hashlib.sha256(bytes(n))


def compress(data: bytes) -> int:
    """zlib.compress at level 6: zlib lets go of the GIL while it compresses."""
    return len(zlib.compress(data, 6))
