"""Stub for the GIL-holding build of cext/_counter.pyx: the same interface as _counter_nogil."""

from gillab._counter_nogil import *  # noqa: F403
from gillab._counter_nogil import CYTHON_VERSION as CYTHON_VERSION
from gillab._counter_nogil import DIRECTIVES as DIRECTIVES
from gillab._counter_nogil import RELEASES_GIL as RELEASES_GIL
