# Declarations of cext/_spin.h: the machine's own reference spin, on one thread and on N at once.
from libc.stdint cimport int64_t, uint64_t

cdef extern from "_spin.h" nogil:
    enum:
        GILLAB_SPIN_MAX_THREADS
    uint64_t gillab_spin(int64_t n)
    int gillab_spin_threads(int64_t n, int threads, int64_t *wall_ns, int64_t *cpu_ns)
