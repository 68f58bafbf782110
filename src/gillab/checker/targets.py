"""The callables the catalogue defines itself: a C call needs a Python-level wrapper (ctypes, os.read of a
device, a query in an in-memory database, a Decimal root). Entries name them as gillab.checker.targets:NAME."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sqlite3
from decimal import Context, Decimal
from typing import Any

_LIBC: dict[str, Any] = {}
_ZERO: list[int] = []


def _libc(kind: str) -> Any:
    if kind not in _LIBC:
        name = ctypes.util.find_library("c") or None
        _LIBC[kind] = (ctypes.CDLL if kind == "cdll" else ctypes.PyDLL)(name)
    return _LIBC[kind]


def cdll_usleep(usec: int) -> int:
    """libc usleep(usec) through ctypes.CDLL: the GIL is released around the call."""
    result: int = _libc("cdll").usleep(usec)
    return result


def pydll_usleep(usec: int) -> int:
    """libc usleep(usec) through ctypes.PyDLL: the call keeps the GIL."""
    result: int = _libc("pydll").usleep(usec)
    return result


def read_dev_zero(size: int) -> int:
    """os.read size bytes of /dev/zero; return how many came."""
    if not _ZERO:
        _ZERO.append(os.open("/dev/zero", os.O_RDONLY))
    return len(os.read(_ZERO[0], size))


def sqlite_sum(n: int) -> int:
    """Sum 1..n with a recursive query in an in-memory database."""
    con = sqlite3.connect(":memory:")
    try:
        row = con.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT sum(x) FROM c",
            (n,),
        ).fetchone()
    finally:
        con.close()
    return int(row[0])


def decimal_sqrt(digits: int) -> Decimal:
    """The square root of 2 to `digits` digits."""
    return Decimal(2).sqrt(Context(prec=digits))
