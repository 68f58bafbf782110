# Declarations of cext/_gil.h: the interpreter's GIL state, read from C, and the sampler thread.
from libc.stdint cimport int8_t, int64_t, uint64_t, uintptr_t

from _clock cimport gillab_cpu_clock, gillab_flag

cdef extern from "_gil.h" nogil:
    enum:
        GILLAB_GIL_MAX_WORKERS
    ctypedef struct gillab_gil_reading:
        int locked
        uintptr_t holder
        uint64_t switches
        int enabled
    ctypedef struct gillab_gil_sampler:
        int64_t interval_ns
        int64_t max_interval_ns
        double budget
        int64_t cur_interval_ns
        int64_t wake_cost_ns
        int slowed
        int nworkers
        uintptr_t tstate[GILLAB_GIL_MAX_WORKERS]
        gillab_cpu_clock clock[GILLAB_GIL_MAX_WORKERS]
        int ngils
        void *gil[GILLAB_GIL_MAX_WORKERS]
        int8_t lane_gil[GILLAB_GIL_MAX_WORKERS]
        int64_t cap
        int64_t n
        int64_t *t_ns
        uint64_t *locked
        uint64_t *holds
        uint64_t *switches
        uint64_t *running
        int8_t enabled
        int64_t cpu_ns
        int64_t t0_ns
        int64_t t1_ns
        int tid
    const char *gillab_gil_reason()
    void *gillab_gil_main()
    void *gillab_gil_of_interpreter(int64_t id)
    int gillab_gil_read_at(void *gil, gillab_gil_reading *out)
    int gillab_gil_read(gillab_gil_reading *out)
    int gillab_gil_start(gillab_gil_sampler *s)
    void gillab_gil_stop(gillab_gil_sampler *s)
    int gillab_gil_thread_clock(gillab_cpu_clock *out)
    int gillab_gil_tid(const gillab_gil_sampler *s)
