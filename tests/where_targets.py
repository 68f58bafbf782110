"""A callable with one line that lets the GIL go and one that holds it, for the line profile's tests."""

from __future__ import annotations

import zlib

DATA = bytes(range(256)) * 400


def compress_then_loop(n: int) -> int:
    """Compress 100 kB (zlib lets the GIL go), then loop n times in Python (holding it)."""
    zlib.compress(DATA, 6)
    x = 0
    for i in range(n):
        x += i * i
    return x


def loop(n: int) -> int:
    """Loop n times in Python: its thread holds the GIL all the time it runs (two such threads take turns)."""
    x = 0
    for i in range(n):
        x += i * i
    return x
