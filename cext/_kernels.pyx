# cython: language_level=3
"""Native kernels of gillab (fib, sumsq), compiled twice from this one source.

``setup.py`` builds this file as ``gillab._kernels_nogil`` (compile-time
``RELEASE_GIL = True``: every kernel runs inside ``with nogil``) and as
``gillab._kernels_gil`` (``RELEASE_GIL = False``: the same C code runs while the
GIL is held). The release of the GIL is the only difference between the builds.

Both load in subinterpreters that each have a GIL of their own (``subinterpreters_compatible=own_gil``,
built with module state): they keep no module-level C state. The shared counter, which must, is
``cext/_counter.pyx``.
"""

from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from libc.stdint cimport int64_t

from _sync cimport gillab_last_end, gillab_stamp_end

from gillab._domain import check_fib_n, check_sumsq_args


RELEASES_GIL = RELEASE_GIL
"""True when this build runs its kernels inside ``with nogil``."""

DIRECTIVES = dict(DIRECTIVES_BUILT)
"""The Cython compiler directives this module was built with."""

CYTHON_VERSION = CYTHON_BUILT
"""The version of Cython that compiled this module."""


def last_end_ns():
    """Return when this thread's last kernel call finished its work (CLOCK_MONOTONIC ns; 0 before any call).

    Stamped inside the kernel, before it takes the GIL back: time.monotonic_ns() after the call returns
    would also count the wait for the GIL.
    """
    return gillab_last_end()


# --- fib ---------------------------------------------------------------------

cdef int64_t _fib(int n) noexcept nogil:
    if n <= 2:
        return 1
    return _fib(n - 1) + _fib(n - 2)


def fib(n):
    """Return fib(n) by the naive recursion (fib(n) = 1 for n <= 2), 0 <= n <= 92."""
    check_fib_n(n)
    cdef int c_n = n
    cdef int64_t result
    with nogil(RELEASE_GIL):
        result = _fib(c_n)
        gillab_stamp_end()
    return result


# --- sumsq ---------------------------------------------------------------------
# Through the buffer protocol, not a typed memoryview: Cython's memoryviews keep C-global state that a second
# interpreter would free ("not supported yet and will likely crash" with subinterpreters_compatible).

cdef double _sumsq(const double *a, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t i
    for i in range(start, stop):
        s += a[i] * a[i]
    return s


def sumsq(a, start, stop):
    """Return the sum of a[i] ** 2 for start <= i < stop over a 1-D C-contiguous float64 array."""
    check_sumsq_args(a, start, stop)
    cdef Py_buffer buf
    PyObject_GetBuffer(a, &buf, PyBUF_C_CONTIGUOUS)
    cdef const double *data = <const double *>buf.buf
    cdef Py_ssize_t c_start = start, c_stop = stop
    cdef double result
    try:
        with nogil(RELEASE_GIL):
            result = _sumsq(data, c_start, c_stop)
            gillab_stamp_end()
    finally:
        PyBuffer_Release(&buf)
    return result
