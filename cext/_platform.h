/* What differs between the OSes gillab's native instruments run on, and nothing else: a thread's native id,
 * a handle on a thread's CPU clock that another thread can read, and the sampler's sleep. Linux; macOS and
 * Windows (mingw-w64, whose winpthreads gives pthreads and clock_gettime) are checked here by compiling with
 * zig cc (scripts/cross-compile.sh), never run on a real Mac or Windows machine. No CPython API. */
#ifndef GILLAB_PLATFORM_H
#define GILLAB_PLATFORM_H
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  /* syscall() and SYS_gettid */
#endif
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <mach/mach.h>
#include <mach/thread_act.h>
#elif defined(_WIN32)
#include <windows.h>
#endif

/* The calling thread's native id: what threading.get_native_id() returns for it. */
static inline long gillab_thread_id(void) {
#if defined(__linux__)
    return (long)syscall(SYS_gettid);
#elif defined(__APPLE__)
    uint64_t id = 0;
    pthread_threadid_np(NULL, &id);
    return (long)id;
#elif defined(_WIN32)
    return (long)GetCurrentThreadId();
#else
    return 0;
#endif
}

/* A thread's CPU clock, readable from any thread of the process: its clockid_t on Linux (a negative
 * number), its Mach thread port on macOS, a handle on it on Windows; -1 where none could be had. */
typedef long long gillab_cpu_clock;

/* The calling thread's CPU clock (0), or -1 where this OS gives none. */
static inline int gillab_thread_clock(gillab_cpu_clock *out) {
#if defined(__linux__)
    clockid_t c;
    int err = pthread_getcpuclockid(pthread_self(), &c);
    *out = err == 0 ? (gillab_cpu_clock)c : -1;
    return err == 0 ? 0 : -1;
#elif defined(__APPLE__)
    *out = (gillab_cpu_clock)pthread_mach_thread_np(pthread_self());
    return 0;
#elif defined(_WIN32)
    HANDLE h;  /* a real handle on this thread (GetCurrentThread's is a pseudo-handle), kept for the process */
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &h,
                         THREAD_QUERY_LIMITED_INFORMATION, FALSE, 0)) {
        *out = -1;
        return -1;
    }
    *out = (gillab_cpu_clock)(intptr_t)h;
    return 0;
#else
    *out = -1;
    return -1;
#endif
}

/* A thread's CPU time so far, in ns, or -1 where it cannot be read (the thread ended, say). */
static inline int64_t gillab_cpu_clock_ns(gillab_cpu_clock c) {
#if defined(__linux__)  /* a thread's clockid_t is negative: -1 alone is none, and clock_gettime refuses it */
    struct timespec ts;
    if (clock_gettime((clockid_t)c, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#elif defined(__APPLE__)
    if (c <= 0) return -1;
    thread_basic_info_data_t info;
    mach_msg_type_number_t count = THREAD_BASIC_INFO_COUNT;
    if (thread_info((thread_act_t)c, THREAD_BASIC_INFO, (thread_info_t)&info, &count) != KERN_SUCCESS) return -1;
    return ((int64_t)info.user_time.seconds + info.system_time.seconds) * 1000000000LL
        + ((int64_t)info.user_time.microseconds + info.system_time.microseconds) * 1000LL;
#elif defined(_WIN32)
    FILETIME created, ended, kernel, user;
    if (c <= 0 || !GetThreadTimes((HANDLE)(intptr_t)c, &created, &ended, &kernel, &user)) return -1;
    ULARGE_INTEGER k = {{kernel.dwLowDateTime, kernel.dwHighDateTime}};
    ULARGE_INTEGER u = {{user.dwLowDateTime, user.dwHighDateTime}};
    return (int64_t)(k.QuadPart + u.QuadPart) * 100LL;  /* FILETIME counts 100 ns */
#else
    return -1;
#endif
}
/* Sleep until CLOCK_MONOTONIC reads deadline_ns (gillab_now_ns's clock): an absolute deadline on Linux, so
 * that a sampler's period does not drift by its own cost; macOS has no absolute sleep on that clock, and
 * sleeps what is left of it. */
static inline void gillab_sleep_until_ns(int64_t deadline_ns) {
#if defined(__linux__)
    struct timespec ts = {deadline_ns / 1000000000LL, deadline_ns % 1000000000LL};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
#else
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = deadline_ns - ((int64_t)now.tv_sec * 1000000000LL + now.tv_nsec);
    if (left <= 0) return;
    struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
    nanosleep(&ts, NULL);
#endif
}
#endif
