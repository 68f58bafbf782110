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
#endif
