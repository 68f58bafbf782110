/* The GIL-state sampler's loop (declared in _gil.h): a pthread that never takes the GIL. */
#if defined(__linux__)
#define _GNU_SOURCE  /* before any include: syscall() and SYS_gettid (cext/_platform.h) */
#endif

#include "_gil.h"

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

/* One sample of every watched GIL and worker; -1 where a GIL cannot be read. */
static int gillab_gil_sample(gillab_gil_sampler *s, int64_t now) {
    gillab_gil_reading r[GILLAB_GIL_MAX_WORKERS];
    int64_t i = s->n;
    uint64_t locked = 0, holds = 0, running = 0;
    for (int k = 0; k < s->ngils; k++) {
        if (gillab_gil_read_at(s->gil[k], &r[k]) != 0) return -1;
        if (r[k].locked > 0) locked |= (1ULL << k);
        s->switches[i * s->ngils + k] = r[k].switches;
    }
    s->t_ns[i] = now;
    s->enabled = (int8_t)(r[0].enabled != 0);
    for (int j = 0; j < s->nworkers; j++) {
        int k = s->lane_gil[j];
        if ((locked >> k & 1) && (s->tstate[j] == 0 || r[k].holder == s->tstate[j])) holds |= (1ULL << j);
        int64_t cpu = gillab_cpu_clock_ns(s->clock[j]);
        if (cpu > s->last_cpu[j]) running |= (1ULL << j);
        if (cpu >= 0) s->last_cpu[j] = cpu;
    }
    s->locked[i] = locked;
    s->holds[i] = holds;
    s->running[i] = running;
    s->n = i + 1;
    return 0;
}

static void *gillab_gil_loop(void *arg) {
    gillab_gil_sampler *s = (gillab_gil_sampler *)arg;
    __atomic_store_n(&s->tid, (int)gillab_thread_id(), __ATOMIC_RELEASE);
    int64_t next = gillab_now_ns();
    int64_t cpu_start = gillab_thread_cpu_ns();
    int64_t win_t = next, win_cpu = cpu_start, win_n = 0;
    s->t0_ns = next;
    if (s->cur_interval_ns < s->interval_ns) s->cur_interval_ns = s->interval_ns;
    if (s->max_interval_ns < s->interval_ns) s->max_interval_ns = s->interval_ns;
    for (int j = 0; j < s->nworkers; j++) s->last_cpu[j] = gillab_cpu_clock_ns(s->clock[j]);
    while (!gillab_flag_get(&s->stop) && s->n < s->cap) {
        next += s->cur_interval_ns;
        gillab_sleep_until_ns(next);
        int64_t now = gillab_now_ns();
        if (now - next > s->cur_interval_ns) next = now;  /* woken late: go on from now, never burst to catch up */
        if (gillab_gil_sample(s, now) != 0) break;
        if (s->budget > 0 && ++win_n >= 16 && now - win_t >= GILLAB_GIL_WINDOW_NS) {
            int64_t cpu = gillab_thread_cpu_ns();
            gillab_gil_govern(s, cpu - win_cpu, win_n);
            win_t = now;
            win_cpu = cpu;
            win_n = 0;
        }
    }
    if (s->cur_interval_ns > s->interval_ns) s->slowed = 1;
    s->t1_ns = gillab_now_ns();
    s->cpu_ns = gillab_thread_cpu_ns() - cpu_start;
    return NULL;
}

int gillab_gil_start(gillab_gil_sampler *s) {
    gillab_flag_set(&s->stop, 0);
    s->n = 0;
    s->slowed = 0;
    if (pthread_create(&s->thread, NULL, gillab_gil_loop, s) != 0) return -1;
    s->started = 1;
    return 0;
}

void gillab_gil_stop(gillab_gil_sampler *s) {
    if (!s->started) return;
    gillab_flag_set(&s->stop, 1);
    pthread_join(s->thread, NULL);
    s->started = 0;
}
