# cython: language_level=3
"""The shared counter's native kernels (the race lab), compiled twice from this one source as the kernels are.

``gillab._counter_nogil`` runs them inside ``with nogil``, ``gillab._counter_gil`` with the GIL held. The
counter is one C global of the module, shared by every thread of the process; so, unlike the kernels of
``cext/_kernels.pyx``, these modules are not built for subinterpreters (interpreters share no objects, and a
counter shared across them could not be counted).
"""

from libc.stdint cimport int64_t

from _sync cimport (
    gillab_fetch_add, gillab_last_end, gillab_load_relaxed, gillab_mutex_lock, gillab_mutex_unlock,
    gillab_stamp_end, gillab_store_relaxed,
)

from gillab._domain import check_count


RELEASES_GIL = RELEASE_GIL
"""True when this build runs its kernels inside ``with nogil``."""

DIRECTIVES = dict(DIRECTIVES_BUILT)
"""The Cython compiler directives this module was built with."""

CYTHON_VERSION = CYTHON_BUILT
"""The version of Cython that compiled this module."""


def last_end_ns():
    """Return when this thread's last counter call finished its work (CLOCK_MONOTONIC ns; 0 before any call)."""
    return gillab_last_end()


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
