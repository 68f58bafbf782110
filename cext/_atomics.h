/* Relaxed/sequentially-consistent atomics on a shared int64 counter.
 *
 * The "unsynchronised" counter uses a relaxed load followed by a relaxed store:
 * it loses updates exactly like `t = total; total = t + 1`, yet it is not a
 * C data race (which would be undefined behaviour and let the compiler fold the
 * loop into one addition).
 */
#ifndef GILLAB_ATOMICS_H
#define GILLAB_ATOMICS_H
#include <stdint.h>

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
