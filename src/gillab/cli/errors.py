"""The command line's one error: bad input, reported in one line with exit status 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""
