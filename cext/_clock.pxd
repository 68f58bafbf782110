# Declarations of cext/_clock.h: clocks, sleeps and atomic stop flags.
from libc.stdint cimport int64_t

cdef extern from "_clock.h" nogil:
    ctypedef long long gillab_cpu_clock
    ctypedef struct gillab_flag:
        int value
    int64_t gillab_now_ns()
    int64_t gillab_thread_cpu_ns()
    void gillab_sleep_ns(int64_t ns)
    void gillab_flag_set(gillab_flag *f, int v)
    int gillab_flag_get(const gillab_flag *f)
