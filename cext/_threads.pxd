# Declarations of cext/_threads.h: the /proc thread-state sampler, and the size macros it is built with.
from libc.stdint cimport int32_t, int64_t

from _clock cimport gillab_flag

cdef extern from "_threads.h" nogil:
    enum:
        GILLAB_MAX_PIDS
        GILLAB_MAX_TIDS
        GILLAB_MAX_SKIP
    ctypedef struct gillab_event:
        int64_t t_ns
        int32_t pid
        int32_t tid
        char state
    ctypedef struct gillab_sampler:
        gillab_flag stop
        int started
        int64_t interval_ns
        int npids
        int pids[GILLAB_MAX_PIDS]
        int nskip
        int skip[GILLAB_MAX_SKIP]
        int64_t nsamples
        int64_t t0_ns
        int64_t cpu_ns
        int64_t running_sum
        int ntids
        int overflow
        int tids[GILLAB_MAX_TIDS]
        int tid_pid[GILLAB_MAX_TIDS]
        int64_t counts[GILLAB_MAX_TIDS][4]
        int record_events
        gillab_event *events
        int64_t nevents
    int gillab_sampler_start(gillab_sampler *s)
    void gillab_sampler_stop(gillab_sampler *s)
