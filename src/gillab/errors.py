"""gillab's errors: one base, GillabError, whose message is one line a person can act on.

The command line catches GillabError once: it prints the message on one line and exits 2. Every error a
user can cause (bad options, a target that will not load, a results file from elsewhere) is one of these;
a failure of the measured code itself (CheckFailed, a failed cell) is reported as a figure, not a traceback.
"""

from __future__ import annotations

import string
from collections.abc import Callable


class GillabError(Exception):
    """Something gillab was asked cannot be done; str() is one line saying why and, where it can, the fix."""


class UsageError(GillabError):
    """Bad input from the user (the command line's own checks)."""


class OptionError(GillabError, ValueError):
    """A run option is invalid. The message names options as $name (e.g. $size); the command line spells
    them as its flags (--size), any other caller reads the bare names. Text from the user that goes into the
    message passes through :func:`literal`, so that a $ in it stays as typed."""

    def __init__(self, template: str) -> None:
        super().__init__(template)
        self.template = template

    def render(self, spell: Callable[[str], str] = str) -> str:
        """Return the message with each $name spelt as spell(name) (default: the bare name)."""
        return string.Template(self.template).safe_substitute(
            {n: spell(n) for n in _names(self.template)}
        )

    def __str__(self) -> str:
        return self.render()


def literal(text: str) -> str:
    """Text for an OptionError's message that must stay as it is (a path, a value the user typed).

    >>> str(OptionError(f"cannot write to {literal('$HOME/x')}; lower $size"))
    'cannot write to $HOME/x; lower size'
    """
    return text.replace("$", "$$")


def _names(template: str) -> list[str]:
    return [
        m.group("named") for m in string.Template.pattern.finditer(template) if m.group("named")
    ]


class ResultsError(GillabError, ValueError):
    """A results file is not one this version of gillab can read."""


class NotBuiltError(GillabError, ImportError):
    """A native variant was asked for but is not built in this install (the message names the build command)."""


class CannotLoadError(GillabError, ImportError):
    """A module is built, but cannot be loaded here (in a subinterpreter, say): a different fact from not built."""


class ExecutorUnavailableError(GillabError):
    """An executor cannot run on this interpreter or machine (the reason says why)."""


class CellError(GillabError):
    """A cell could not be measured (a wrong result, a dead worker); the message is its one-line reason."""


class EngineError(GillabError):
    """A distributed engine cannot run gillab's cells; the message names the fix."""


class InterpreterError(GillabError):
    """Another interpreter could not be prepared, or could not run gillab."""


class TargetError(GillabError):
    """A callable to check cannot be loaded: not importable, not there, not callable, not sendable, or its
    setup failed."""


class CheckFailed(GillabError):  # noqa: N818 - reads as what happened
    """The checked callable crashed, hung or raised (a fact about it, reported with exit status 1)."""


class ChildFailed(GillabError):  # noqa: N818 - reads as what happened
    """A child process could not start, was killed, timed out or exited non-zero."""

    def __init__(
        self, message: str, returncode: int | None = None, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.timed_out = timed_out


class LabError(GillabError):
    """A lab cannot run here (no /proc, no Cython, an unknown workload)."""


def one_line(exc: BaseException) -> str:
    """Return an exception as one line: its type and the first line of its message.

    >>> one_line(ValueError("bad\\nmore"))
    'ValueError: bad'
    """
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
