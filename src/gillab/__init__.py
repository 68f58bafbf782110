"""gillab: a laboratory for seeing Python's Global Interpreter Lock at work."""

from importlib.metadata import PackageNotFoundError, version

from gillab.checker.api import CheckResult, Releases, check
from gillab.errors import GillabError, NotBuiltError
from gillab.workloads import available, resolve

try:
    __version__ = version("gillab")
except PackageNotFoundError:  # pragma: no cover - only in an uninstalled checkout
    __version__ = "0+unknown"

__all__ = ["CheckResult", "GillabError", "NotBuiltError", "Releases", "__version__", "available", "check", "resolve"]
