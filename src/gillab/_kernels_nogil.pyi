"""Stub for the compiled kernels (cext/_kernels.pyx); _kernels_gil has the same interface."""

from typing import Any

import numpy as np
import numpy.typing as npt

from gillab._domain import check_fib_n as check_fib_n
from gillab._domain import check_sumsq_args as check_sumsq_args

RELEASES_GIL: bool
DIRECTIVES: dict[str, Any]
CYTHON_VERSION: str

def last_end_ns() -> int: ...
def fib(n: int) -> int: ...
def sumsq(a: npt.NDArray[np.float64], start: int, stop: int) -> float: ...
