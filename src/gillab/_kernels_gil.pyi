"""Stub for the GIL-holding build of cext/_kernels.pyx: the same interface as _kernels_nogil."""

from gillab._kernels_nogil import *  # noqa: F403
from gillab._kernels_nogil import CYTHON_VERSION as CYTHON_VERSION
from gillab._kernels_nogil import DIRECTIVES as DIRECTIVES
from gillab._kernels_nogil import RELEASES_GIL as RELEASES_GIL
