/* Clocks, sleeps and stop flags shared by gillab's native instruments (no CPython API at all). */
#ifndef GILLAB_CLOCK_H
#define GILLAB_CLOCK_H
#include <stdint.h>
#include <time.h>
#include "_platform.h"

/* CLOCK_MONOTONIC in ns: the clock of time.monotonic_ns(), shared by every process on the machine. */
static inline int64_t gillab_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The calling thread's own CPU time, in ns. */
static inline int64_t gillab_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}


static inline void gillab_sleep_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = ns / 1000000000LL;
    ts.tv_nsec = ns % 1000000000LL;
    while (nanosleep(&ts, &ts) != 0) {}
}

/* A stop flag written by one thread and read by another: atomic, so that no compiler keeps it in a
 * register and no free-threaded interpreter races on it. */
typedef struct { int value; } gillab_flag;

static inline void gillab_flag_set(gillab_flag *f, int v) { __atomic_store_n(&f->value, v, __ATOMIC_RELEASE); }
static inline int gillab_flag_get(const gillab_flag *f) { return __atomic_load_n(&f->value, __ATOMIC_ACQUIRE); }
#endif
