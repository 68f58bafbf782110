/* A thread-state sampler that runs on its own pthread and never touches the GIL (loop: _threads.c).
 *
 * It reads /proc/<pid>/task/<tid>/stat for each watched pid every interval and
 * counts, per thread, how often it was seen Running, Sleeping, in Disk sleep or
 * in another state (Z, T, ...). Optionally it records every change of state, for
 * timelines. Threads it is told to leave out (gillab's own instruments) are not
 * counted. Being native and GIL-free, it does not disturb what it watches.
 */
#ifndef GILLAB_THREADS_H
#define GILLAB_THREADS_H
#include <pthread.h>
#include <stdint.h>
#include "_clock.h"

#define GILLAB_MAX_PIDS 256
#define GILLAB_MAX_TIDS 1024
#define GILLAB_MAX_SKIP 16

typedef struct {
    int64_t t_ns;
    int32_t pid;
    int32_t tid;
    char state;
} gillab_event;

typedef struct {
    pthread_t thread;
    gillab_flag stop;
    int started;
    int64_t interval_ns;
    int npids;
    int pids[GILLAB_MAX_PIDS];
    int nskip;
    int skip[GILLAB_MAX_SKIP];  /* thread ids never counted: the sampler itself, and instruments named */
    int self_tid;
    int64_t t0_ns;
    int64_t cpu_ns;        /* the sampler thread's own CPU time */
    int64_t nsamples;
    int64_t running_sum;   /* sum over samples of threads seen 'R' */
    int ntids;
    int overflow;          /* threads seen beyond GILLAB_MAX_TIDS */
    int tids[GILLAB_MAX_TIDS];
    int tid_pid[GILLAB_MAX_TIDS];
    int64_t counts[GILLAB_MAX_TIDS][4]; /* R, S, D, other */
    char last[GILLAB_MAX_TIDS];
    int record_events;
    gillab_event *events;
    int64_t nevents;
    int64_t cap;
} gillab_sampler;

/* Start sampling on a new pthread (0, or -1 where it cannot start); stop and join it. */
int gillab_sampler_start(gillab_sampler *s);
void gillab_sampler_stop(gillab_sampler *s);
#endif
