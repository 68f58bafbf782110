# cython: language_level=3
"""Native kernels of gillab, compiled twice from this one source.

``setup.py`` builds this file as ``gillab._kernels_nogil`` (compile-time
``RELEASE_GIL = True``: every kernel runs inside ``with nogil``) and as
``gillab._kernels_gil`` (``RELEASE_GIL = False``: the same C code runs while the
GIL is held). The release of the GIL is the only difference between the builds.
"""

cimport cython
from libc.stdint cimport int64_t

from _sync cimport (
    gillab_fetch_add, gillab_last_end, gillab_load_relaxed, gillab_mutex_lock, gillab_mutex_unlock,
    gillab_stamp_end, gillab_store_relaxed,
)

from gillab._domain import check_count, check_fib_n, check_sumsq_args


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


# --- counter -------------------------------------------------------------------

cdef int64_t _total = 0


def reset():
    """Set this build's shared counter to 0."""
    global _total
    gillab_store_relaxed(&_total, 0)


def value():
    """Return this build's shared counter."""
    return gillab_load_relaxed(&_total)


def add_unsync(k):
    """Add 1 to the counter k times by a relaxed load then a relaxed store (loses updates)."""
    check_count(k)
    cdef int64_t i, c_k = k
    with nogil(RELEASE_GIL):
        for i in range(c_k):
            gillab_store_relaxed(&_total, gillab_load_relaxed(&_total) + 1)
        gillab_stamp_end()


def add_atomic(k):
    """Add 1 to the counter k times by an atomic fetch_add (exact)."""
    check_count(k)
    cdef int64_t i, c_k = k
    with nogil(RELEASE_GIL):
        for i in range(c_k):
            gillab_fetch_add(&_total, 1)
        gillab_stamp_end()


def add_mutex(k):
    """Add 1 to the counter k times, each under a pthread mutex (exact)."""
    check_count(k)
    cdef int64_t i, c_k = k
    with nogil(RELEASE_GIL):
        for i in range(c_k):
            gillab_mutex_lock()
            gillab_store_relaxed(&_total, gillab_load_relaxed(&_total) + 1)
            gillab_mutex_unlock()
        gillab_stamp_end()


# --- sumsq ---------------------------------------------------------------------

@cython.boundscheck(False)
@cython.wraparound(False)
cdef double _sumsq(const double[::1] a, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef double s = 0.0
    cdef Py_ssize_t i
    for i in range(start, stop):
        s += a[i] * a[i]
    return s


def sumsq(a, start, stop):
    """Return the sum of a[i] ** 2 for start <= i < stop over a 1-D C-contiguous float64 array."""
    check_sumsq_args(a, start, stop)
    cdef const double[::1] view = a
    cdef Py_ssize_t c_start = start, c_stop = stop
    cdef double result
    with nogil(RELEASE_GIL):
        result = _sumsq(view, c_start, c_stop)
        gillab_stamp_end()
    return result
