/* The GIL-state reader (cext/_gilstate.c) and its sampler thread. See _gilstate.c for the version gates. */
#ifndef GILLAB_GILSTATE_H
#define GILLAB_GILSTATE_H
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    int locked;
    uintptr_t holder;
    uint64_t switches;
    int enabled;  /* 0 on a free-threaded build running without its GIL */
} gillab_gil_reading;

/* "" where the GIL state can be read here, else why not (one sentence). */
const char *gillab_gil_reason(void);
/* 0 and a reading, or -1 where it cannot be read. Never takes the GIL. */
int gillab_gil_read(gillab_gil_reading *out);

#define GILLAB_GIL_MAX_WORKERS 64

typedef struct {
    pthread_t thread;
    volatile int stop;
    int started;
    int64_t interval_ns;      /* the rate asked for */
    int64_t max_interval_ns;  /* the slowest the governor may go */
    double budget;            /* the sampler's CPU share of one core it may use; 0: no governor */
    int64_t cur_interval_ns;  /* the interval in use (the governor's choice; read after stop to start the next) */
    int64_t wake_cost_ns;     /* the sampler's CPU time per sample, in its last governor window */
    int slowed;               /* it sampled more slowly than asked (set at stop) */
    int nworkers;
    uintptr_t tstate[GILLAB_GIL_MAX_WORKERS];
    clockid_t clock[GILLAB_GIL_MAX_WORKERS];
    int64_t last_cpu[GILLAB_GIL_MAX_WORKERS];
    int64_t cap, n;
    int64_t *t_ns;
    int8_t *locked;
    int8_t *holder;      /* registered worker index, or -1: another thread (or none) */
    uint64_t *switches;
    uint64_t *running;   /* bit j: worker j's CPU clock advanced since the previous sample */
    int8_t enabled;
    int64_t cpu_ns;      /* the sampler thread's own CPU time */
    int64_t t0_ns, t1_ns;
} gillab_gil_sampler;

static inline int64_t gillab_gil_now(clockid_t c) {
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The governor: every window of at least GILLAB_GIL_WINDOW_NS and 16 samples, the sampler reads its own
 * CPU clock and sets the interval so that its cost stays within `budget` of one core: never faster than the
 * rate asked for, never slower than max_interval_ns. A wake-up costs about 1-2 us on bare metal and 9-14 us in
 * a small VM, so 10 kHz fits a 3% budget on one and not on the other. */
#define GILLAB_GIL_WINDOW_NS 5000000LL

static void gillab_gil_govern(gillab_gil_sampler *s, int64_t cpu_ns, int64_t samples) {
    int64_t per = cpu_ns / samples;
    s->wake_cost_ns = per;
    int64_t want = (int64_t)((double)per / s->budget * 1.1);
    if (want < s->interval_ns) want = s->interval_ns;
    if (want > s->max_interval_ns) want = s->max_interval_ns;
    s->cur_interval_ns = want;
}

static void *gillab_gil_loop(void *arg) {
    gillab_gil_sampler *s = (gillab_gil_sampler *)arg;
    gillab_gil_reading r;
    int64_t next = gillab_gil_now(CLOCK_MONOTONIC);
    int64_t cpu_start = gillab_gil_now(CLOCK_THREAD_CPUTIME_ID);
    int64_t win_t = next, win_cpu = cpu_start, win_n = 0;
    s->t0_ns = next;
    if (s->cur_interval_ns < s->interval_ns) s->cur_interval_ns = s->interval_ns;
    if (s->max_interval_ns < s->interval_ns) s->max_interval_ns = s->interval_ns;
    for (int j = 0; j < s->nworkers; j++) s->last_cpu[j] = gillab_gil_now(s->clock[j]);
    while (!s->stop && s->n < s->cap) {
        next += s->cur_interval_ns;
        struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        int64_t now = gillab_gil_now(CLOCK_MONOTONIC);
        if (now - next > s->cur_interval_ns) next = now;  /* woken late: go on from now, never burst to catch up */
        if (gillab_gil_read(&r) != 0) break;
        int64_t i = s->n;
        s->t_ns[i] = now;
        s->locked[i] = (int8_t)(r.locked > 0);
        s->switches[i] = r.switches;
        s->enabled = (int8_t)(r.enabled != 0);
        int8_t who = -1;
        uint64_t mask = 0;
        for (int j = 0; j < s->nworkers; j++) {
            if (r.holder == s->tstate[j]) who = (int8_t)j;
            int64_t cpu = gillab_gil_now(s->clock[j]);
            if (cpu > s->last_cpu[j]) mask |= (1ULL << j);
            if (cpu >= 0) s->last_cpu[j] = cpu;
        }
        s->holder[i] = who;
        s->running[i] = mask;
        s->n = i + 1;
        if (s->budget > 0 && ++win_n >= 16 && now - win_t >= GILLAB_GIL_WINDOW_NS) {
            int64_t cpu = gillab_gil_now(CLOCK_THREAD_CPUTIME_ID);
            gillab_gil_govern(s, cpu - win_cpu, win_n);
            win_t = now;
            win_cpu = cpu;
            win_n = 0;
        }
    }
    if (s->cur_interval_ns > s->interval_ns) s->slowed = 1;
    s->t1_ns = gillab_gil_now(CLOCK_MONOTONIC);
    s->cpu_ns = gillab_gil_now(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    return NULL;
}

static inline int gillab_gil_start(gillab_gil_sampler *s) {
    s->stop = 0;
    s->n = 0;
    s->slowed = 0;
    if (pthread_create(&s->thread, NULL, gillab_gil_loop, s) != 0) return -1;
    s->started = 1;
    return 0;
}

static inline void gillab_gil_stop(gillab_gil_sampler *s) {
    if (!s->started) return;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    s->started = 0;
}

/* The calling thread's CPU clock, for a worker to register itself. */
static inline int gillab_gil_thread_clock(clockid_t *out) {
    return pthread_getcpuclockid(pthread_self(), out);
}
#endif
