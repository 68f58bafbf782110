/* Synchronisation for the shared int64 counter: atomics and a pthread mutex (no CPython API at all).
 *
 * The "unsynchronised" counter uses a relaxed load followed by a relaxed store:
 * it loses updates exactly like `t = total; total = t + 1`, yet it is not a
 * C data race (which would be undefined behaviour and let the compiler fold the
 * loop into one addition).
 */
#ifndef GILLAB_SYNC_H
#define GILLAB_SYNC_H
#include <pthread.h>
#include <stdint.h>
#include <time.h>

static pthread_mutex_t gillab_mutex = PTHREAD_MUTEX_INITIALIZER;

static inline void gillab_mutex_lock(void) { pthread_mutex_lock(&gillab_mutex); }
static inline void gillab_mutex_unlock(void) { pthread_mutex_unlock(&gillab_mutex); }

static inline int64_t gillab_load_relaxed(int64_t *p) {
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void gillab_store_relaxed(int64_t *p, int64_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline int64_t gillab_fetch_add(int64_t *p, int64_t v) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/* When this thread's last kernel finished its work (CLOCK_MONOTONIC ns, the clock of time.monotonic_ns):
 * stamped inside the kernel, before it takes the GIL back, so that a task's end is when its work ended,
 * not when its thread next got the GIL. */
static __thread int64_t gillab_end_ns = 0;

static inline void gillab_stamp_end(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    gillab_end_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static inline int64_t gillab_last_end(void) { return gillab_end_ns; }
#endif
