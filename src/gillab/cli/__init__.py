"""The gillab command line: argparse subcommands, one ``cmd_*`` function each, dispatched from here.

Every option is parsed by a ``type=`` function of :mod:`gillab.cli.types`, so bad input fails in the
parser: one line on stderr, exit status 2. Whatever else a user can get wrong raises a
:class:`~gillab.errors.GillabError`, caught once here: one line, exit status 2. Only ``gillab/__main__.py``
and the console script import this package; nothing else in gillab depends on the command line.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, NoReturn

from gillab import environment
from gillab.cli import advise, check, compare, diff, info, labs, run, show
from gillab.errors import GillabError, OptionError
from gillab.harness.executors.local import start_method


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and a pointer to --help), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with one subparser per command."""
    from gillab import __version__

    parser = _Parser(prog="gillab", description="A laboratory for seeing the GIL at work.")
    parser.add_argument("--version", action="version", version=f"gillab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (info, run, show, labs, check, advise, compare, diff):
        module.add_parsers(sub)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that a reader who left (`| head`) costs no traceback at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))
"""Signals that stop gillab as Ctrl-C does (what `timeout`, CI runners, systemd and `kill` send)."""
_received: list[int] = []


def _stop(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _stop_on_signals() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP behave like Ctrl-C: measured results are kept, children stopped.

    A signal inherited as ignored (nohup) stays ignored. Returns the handlers to put back."""
    old: dict[int, Any] = {}
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) != signal.SIG_IGN:
            old[sig] = signal.signal(sig, _stop)
    return old


def flag(option: str) -> str:
    """The command-line spelling of a run option's name (min_repeat: --min-repeat)."""
    return "--" + option.replace("_", "-")


def message(exc: GillabError) -> str:
    """An error's one line, with the options it names spelt as this command line's flags."""
    return exc.render(flag) if isinstance(exc, OptionError) else str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gillab command line; bad input is one line on stderr and exit status 2.

    Ctrl-C exits 130, SIGTERM 143 and SIGHUP 129 (128 + the signal), each after keeping what was measured.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    old_handlers = _stop_on_signals()
    try:
        start_method()  # a bad $GILLAB_START_METHOD or $GILLAB_PLATFORM is one line before anything runs
        environment.linux_readers_off()
        status = func(args)
    except GillabError as exc:
        print(f"gillab {args.command}: error: {message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gillab {args.command}: interrupted", file=sys.stderr)
        status = 130
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    if status == 130 and _received:
        return 128 + _received[-1]
    return status
