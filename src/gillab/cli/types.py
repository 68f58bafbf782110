"""argparse ``type=`` functions for every option: bad input fails in the parser, in one line, exit 2.

Each function takes the option's text and returns its value, or raises argparse.ArgumentTypeError
naming what is valid.

>>> positive_ints("4,1,2,2")
(1, 2, 4)
>>> names(("a", "b"), "thing")("b,a")
('b', 'a')
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from gillab.errors import UsageError

Bad = argparse.ArgumentTypeError


def _items(text: str, what: str) -> list[str]:
    """Split a comma-separated list; an empty item (as in '1,,2') or an empty list is refused."""
    items = [v.strip() for v in text.split(",")]
    if not text.strip() or any(not v for v in items):
        raise Bad(f"must be {what} separated by commas, with no empty item; got {text!r}")
    return items


def positive_ints(text: str) -> tuple[int, ...]:
    """A comma-separated list of whole numbers above 0, sorted, without repeats."""
    try:
        values = sorted({int(v) for v in _items(text, "whole numbers")})
    except ValueError:
        raise Bad(f"must be whole numbers above 0, separated by commas; got {text!r}") from None
    if values[0] <= 0:
        raise Bad(f"must be whole numbers above 0; got {text!r}")
    return tuple(values)


def positive_int(text: str) -> int:
    """One whole number above 0."""
    try:
        value = int(text.strip())
    except ValueError:
        raise Bad(f"must be a whole number above 0; got {text!r}") from None
    if value <= 0:
        raise Bad(f"must be a whole number above 0; got {text!r}")
    return value


def positive_float(text: str) -> float:
    """One number above 0 (seconds, say)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise Bad(f"must be a number above 0; got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """One number, 0 or above (seconds, where 0 turns a step off)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise Bad(f"must be a number, 0 or above; got {text!r}")
    return value


def gil_rate(text: str) -> float:
    """Samples per second for the GIL-state sampler: 0 (off), or 100 to 100000."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not (value == 0 or 100 <= value <= 100_000):
        raise Bad(f"must be 0 (off) or from 100 to 100000 samples per second; got {text!r}")
    return value


def positive_floats(text: str) -> tuple[float, ...]:
    """A comma-separated list of numbers above 0, in the order given."""
    try:
        values = tuple(positive_float(v) for v in _items(text, "numbers"))
    except Bad:
        raise Bad(f"must be numbers above 0, separated by commas; got {text!r}") from None
    return values


def name_list(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (repeats dropped, order kept), to be checked against a set later."""
    return tuple(dict.fromkeys(_items(text, "names")))


def names(valid: tuple[str, ...], what: str, sep: str = ", ") -> Callable[[str], tuple[str, ...]]:
    """Return a type for a comma-separated list of names from `valid` (repeats dropped, order kept)."""

    def parse(text: str) -> tuple[str, ...]:
        items = tuple(dict.fromkeys(_items(text, f"{what}s")))
        bad = [n for n in items if n not in valid]
        if bad:
            raise Bad(f"unknown {what} {', '.join(bad)}; choose from {sep.join(valid)}")
        return items

    parse.__name__ = f"{what} list"
    return parse


def one_of(valid: tuple[str, ...], what: str) -> Callable[[str], str]:
    """Return a type for one name from `valid`."""

    def parse(text: str) -> str:
        if text not in valid:
            raise Bad(f"unknown {what} {text!r}; choose from {', '.join(valid)}")
        return text

    parse.__name__ = what
    return parse


def json_args(text: str | None) -> list[Any] | None:
    """--args: a call's positional arguments as JSON (a list, or one value); UsageError where it is not JSON."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--args is not valid JSON ({exc.msg} at column {exc.colno})") from None
    return value if isinstance(value, list) else [value]
