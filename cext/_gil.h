/* The GIL-state reader (_gil_read.c, where the version gates live) and its sampler thread (_gil_sampler.c). */
#ifndef GILLAB_GIL_H
#define GILLAB_GIL_H
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "_clock.h"

typedef struct {
    int locked;
    uintptr_t holder;
    uint64_t switches;
    int enabled;  /* 0 on a free-threaded build running without its GIL */
} gillab_gil_reading;

/* "" where the GIL state can be read here, else why not (one sentence). */
const char *gillab_gil_reason(void);
/* The main interpreter's GIL (NULL where it cannot be read). */
void *gillab_gil_main(void);
/* The GIL of the interpreter with this id: its own, or the one it shares (NULL: no such interpreter, or it
 * cannot be read). Call it with the GIL held. */
void *gillab_gil_of_interpreter(int64_t id);
/* 0 and a reading of one GIL, or -1 where it cannot be read. Never takes the GIL. */
int gillab_gil_read_at(void *gil, gillab_gil_reading *out);
/* The same, of the main interpreter's GIL. */
int gillab_gil_read(gillab_gil_reading *out);

#define GILLAB_GIL_MAX_WORKERS 64

typedef struct {
    pthread_t thread;
    gillab_flag stop;
    int started;
    int64_t interval_ns;      /* the rate asked for */
    int64_t max_interval_ns;  /* the slowest the governor may go */
    double budget;            /* the sampler's CPU share of one core it may use; 0: no governor */
    int64_t cur_interval_ns;  /* the interval in use (the governor's choice; read after stop to start the next) */
    int64_t wake_cost_ns;     /* the sampler's CPU time per sample, in its last governor window */
    int slowed;               /* it sampled more slowly than asked (set at stop) */
    int nworkers;
    uintptr_t tstate[GILLAB_GIL_MAX_WORKERS];  /* 0: the only thread of its interpreter, holds whenever its GIL is */
    gillab_cpu_clock clock[GILLAB_GIL_MAX_WORKERS];
    int64_t last_cpu[GILLAB_GIL_MAX_WORKERS];
    int ngils;                                 /* the distinct GILs watched: the main one, or one per interpreter */
    void *gil[GILLAB_GIL_MAX_WORKERS];
    int8_t lane_gil[GILLAB_GIL_MAX_WORKERS];   /* worker j takes GIL lane_gil[j] */
    int64_t cap, n;
    int64_t *t_ns;
    uint64_t *locked;    /* bit k: GIL k was locked */
    uint64_t *holds;     /* bit j: worker j held its GIL (it was locked, and the worker took it last) */
    uint64_t *switches;  /* cap x ngils: each GIL's switch number */
    uint64_t *running;   /* bit j: worker j's CPU clock advanced since the previous sample */
    int8_t enabled;
    int64_t cpu_ns;      /* the sampler thread's own CPU time */
    int64_t t0_ns, t1_ns;
    int tid;             /* the sampler thread's native id, once it runs (for /proc samplers to leave out) */
} gillab_gil_sampler;

/* Start sampling on a new pthread (0, or -1 where it cannot start); stop and join it. */
int gillab_gil_start(gillab_gil_sampler *s);
void gillab_gil_stop(gillab_gil_sampler *s);

/* The sampler thread's native id once it runs (0 before it does). */
static inline int gillab_gil_tid(const gillab_gil_sampler *s) { return __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE); }

/* The calling thread's CPU clock, for a worker to register itself. */
static inline int gillab_gil_thread_clock(gillab_cpu_clock *out) { return gillab_thread_clock(out); }
#endif
