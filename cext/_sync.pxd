# Declarations of cext/_sync.h: the shared counter's atomics and mutex, and the kernels' end stamp.
from libc.stdint cimport int64_t

cdef extern from "_sync.h" nogil:
    void gillab_mutex_lock()
    void gillab_mutex_unlock()
    int64_t gillab_load_relaxed(int64_t *p)
    void gillab_store_relaxed(int64_t *p, int64_t v)
    int64_t gillab_fetch_add(int64_t *p, int64_t v)
    void gillab_stamp_end()
    int64_t gillab_last_end()
