/* A thread-state sampler that runs on its own pthread and never touches the GIL.
 *
 * It reads /proc/<pid>/task/<tid>/stat for each watched pid every interval and
 * counts, per thread, how often it was seen Running, Sleeping, in Disk sleep or
 * in another state (Z, T, ...). Optionally it records every change of state, for
 * timelines. Being native and GIL-free, it does not disturb what it watches.
 */
#ifndef GILLAB_SAMPLER_H
#define GILLAB_SAMPLER_H
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define GILLAB_MAX_PIDS 256
#define GILLAB_MAX_TIDS 1024

typedef struct {
    int64_t t_ns;
    int32_t pid;
    int32_t tid;
    char state;
} gillab_event;

typedef struct {
    pthread_t thread;
    volatile int stop;
    int started;
    int64_t interval_ns;
    int npids;
    int pids[GILLAB_MAX_PIDS];
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

static inline int64_t gillab_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

/* Read the state letter from a /proc .../stat file; 0 when it is gone. */
static char gillab_read_state(const char *path) {
    char buf[512];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');  /* the comm field may hold spaces and parens */
    if (!p || p[1] != ' ' || !p[2]) return 0;
    return p[2];
}

static int gillab_slot(gillab_sampler *s, int pid, int tid) {
    for (int i = 0; i < s->ntids; i++)
        if (s->tids[i] == tid) return i;
    if (s->ntids >= GILLAB_MAX_TIDS) { s->overflow++; return -1; }
    int i = s->ntids++;
    s->tids[i] = tid;
    s->tid_pid[i] = pid;
    s->last[i] = 0;
    return i;
}

static void gillab_push_event(gillab_sampler *s, int64_t t, int pid, int tid, char st) {
    if (s->nevents >= s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 4096;
        gillab_event *e = realloc(s->events, (size_t)cap * sizeof(gillab_event));
        if (!e) { s->record_events = 0; return; }
        s->events = e;
        s->cap = cap;
    }
    gillab_event *e = &s->events[s->nevents++];
    e->t_ns = t - s->t0_ns;
    e->pid = pid;
    e->tid = tid;
    e->state = st;
}

static void gillab_record(gillab_sampler *s, int64_t t, int pid, int tid, char st, int64_t *running) {
    int i = gillab_slot(s, pid, tid);
    if (st == 'R') (*running)++;
    if (i < 0) return;
    int k = st == 'R' ? 0 : st == 'S' ? 1 : st == 'D' ? 2 : 3;
    s->counts[i][k]++;
    if (s->record_events && st != s->last[i]) gillab_push_event(s, t, pid, tid, st);
    s->last[i] = st;
}

static void gillab_sample_once(gillab_sampler *s) {
    char path[128];
    int64_t t = gillab_now_ns();
    int64_t running = 0;
    for (int p = 0; p < s->npids; p++) {
        int pid = s->pids[p];
        snprintf(path, sizeof(path), "/proc/%d/task", pid);
        DIR *d = opendir(path);
        if (!d) {
            /* The process is gone (reaped); a zombie still has its task directory. */
            int i = gillab_slot(s, pid, pid);
            if (i >= 0 && s->last[i] != 'X' && s->last[i] != 0) {
                if (s->record_events) gillab_push_event(s, t, pid, pid, 'X');
                s->last[i] = 'X';
            }
            continue;
        }
        struct dirent *ent;
        while ((ent = readdir(d)) != NULL) {
            if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
            int tid = atoi(ent->d_name);
            if (tid == s->self_tid) continue;
            snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
            char st = gillab_read_state(path);
            if (st) gillab_record(s, t, pid, tid, st, &running);
        }
        closedir(d);
    }
    s->nsamples++;
    s->running_sum += running;
}

static void *gillab_sampler_main(void *arg) {
    gillab_sampler *s = (gillab_sampler *)arg;
    s->self_tid = (int)syscall(SYS_gettid);
    int64_t cpu0 = gillab_thread_cpu_ns();
    while (!s->stop) {
        gillab_sample_once(s);
        gillab_sleep_ns(s->interval_ns);
    }
    s->cpu_ns = gillab_thread_cpu_ns() - cpu0;
    return NULL;
}

static int gillab_sampler_start(gillab_sampler *s) {
    s->t0_ns = gillab_now_ns();
    s->stop = 0;
    if (pthread_create(&s->thread, NULL, gillab_sampler_main, s) != 0) return -1;
    s->started = 1;
    return 0;
}

static void gillab_sampler_stop(gillab_sampler *s) {
    if (!s->started) return;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    s->started = 0;
}
#endif
