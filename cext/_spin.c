/* The reference spin of _spin.h. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "_clock.h"
#include "_spin.h"

uint64_t gillab_spin(int64_t n) {
    uint64_t x = 88172645463325252ULL;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x | 1;
}

typedef struct {
    int64_t n;
    gillab_flag *go;
    int64_t end_ns;
    int64_t cpu_ns;
    volatile uint64_t sink;
} gillab_spinner;

static void *gillab_spin_main(void *arg) {
    gillab_spinner *s = (gillab_spinner *)arg;
    while (!gillab_flag_get(s->go)) sched_yield();  /* every thread in hand before any starts */
    int64_t cpu0 = gillab_thread_cpu_ns();
    s->sink = gillab_spin(s->n);
    s->end_ns = gillab_now_ns();
    s->cpu_ns = gillab_thread_cpu_ns() - cpu0;
    return NULL;
}

int gillab_spin_threads(int64_t n, int threads, int64_t *wall_ns, int64_t *cpu_ns) {
    if (threads < 1 || threads > GILLAB_SPIN_MAX_THREADS) return -1;
    pthread_t tid[GILLAB_SPIN_MAX_THREADS];
    gillab_spinner s[GILLAB_SPIN_MAX_THREADS];
    gillab_flag go = {0};
    int made = 0;
    for (; made < threads; made++) {
        s[made].n = n;
        s[made].go = &go;
        if (pthread_create(&tid[made], NULL, gillab_spin_main, &s[made]) != 0) break;
    }
    int64_t t0 = gillab_now_ns();
    gillab_flag_set(&go, 1);
    int64_t end = t0, cpu = 0;
    for (int i = 0; i < made; i++) {
        pthread_join(tid[i], NULL);
        if (s[i].end_ns > end) end = s[i].end_ns;
        cpu += s[i].cpu_ns;
    }
    *wall_ns = end - t0;
    *cpu_ns = cpu;
    return made < threads ? -1 : 0;
}
