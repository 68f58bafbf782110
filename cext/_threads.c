/* The thread-state sampler's loop (declared in _threads.h). */
#if defined(__linux__)
#define _GNU_SOURCE  /* before any include: syscall() and SYS_gettid (cext/_platform.h) */
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "_threads.h"

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

static int gillab_skipped(const gillab_sampler *s, int tid) {
    if (tid == s->self_tid) return 1;
    for (int i = 0; i < s->nskip; i++)
        if (s->skip[i] == tid) return 1;
    return 0;
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
            if (gillab_skipped(s, tid)) continue;
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
    s->self_tid = (int)gillab_thread_id();
    int64_t cpu0 = gillab_thread_cpu_ns();
    while (!gillab_flag_get(&s->stop)) {
        gillab_sample_once(s);
        gillab_sleep_ns(s->interval_ns);
    }
    s->cpu_ns = gillab_thread_cpu_ns() - cpu0;
    return NULL;
}

int gillab_sampler_start(gillab_sampler *s) {
    s->t0_ns = gillab_now_ns();
    gillab_flag_set(&s->stop, 0);
    if (pthread_create(&s->thread, NULL, gillab_sampler_main, s) != 0) return -1;
    s->started = 1;
    return 0;
}

void gillab_sampler_stop(gillab_sampler *s) {
    if (!s->started) return;
    gillab_flag_set(&s->stop, 1);
    pthread_join(s->thread, NULL);
    s->started = 0;
}
