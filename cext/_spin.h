/* The machine's own reference: a fixed integer loop that touches no shared memory and holds no GIL, run on
 * one thread and on N threads at once (_spin.c). Its time is the machine's speed; N threads against one
 * is the machine's own ceiling for N workers, whatever the code a cell runs. */
#ifndef GILLAB_SPIN_H
#define GILLAB_SPIN_H
#include <stdint.h>

#define GILLAB_SPIN_MAX_THREADS 256

/* Run n steps of the loop; return its result (never 0, so the loop cannot be optimised away). */
uint64_t gillab_spin(int64_t n);

/* Run n steps on each of `threads` pthreads released together; 0 and the wall time from the release to the
 * last thread's end, and the threads' summed CPU time, in ns; -1 where a thread cannot be started. */
int gillab_spin_threads(int64_t n, int threads, int64_t *wall_ns, int64_t *cpu_ns);
#endif
