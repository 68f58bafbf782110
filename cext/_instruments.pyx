# cython: language_level=3
"""Native instruments of gillab: a GIL-wait probe, a /proc thread-state sampler, and the speed probe's spin.

All three do their timing in C. The probe measures, on every wake-up, the time between waking from its
sleep and holding the GIL again. The sampler runs on a pthread of its own that never takes the GIL, so it
does not disturb what it watches. (The GIL-state sampler is gillab._gilstate.)
"""

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from _clock cimport gillab_flag, gillab_flag_get, gillab_flag_set, gillab_now_ns, gillab_sleep_ns, gillab_thread_cpu_ns
from _spin cimport GILLAB_SPIN_MAX_THREADS, gillab_spin_threads
from _threads cimport (
    GILLAB_MAX_PIDS, GILLAB_MAX_SKIP, GILLAB_MAX_TIDS, gillab_sampler, gillab_sampler_start, gillab_sampler_stop,
)

MAX_PIDS = GILLAB_MAX_PIDS
"""The processes one ThreadSampler can watch."""
MAX_TIDS = GILLAB_MAX_TIDS
"""The threads one ThreadSampler tracks; more are counted as overflow."""
MAX_SKIP = GILLAB_MAX_SKIP
"""The threads one ThreadSampler can be told to leave out."""


def now_ns():
    """Return CLOCK_MONOTONIC in nanoseconds, the clock both instruments use."""
    return gillab_now_ns()


def spin(long long n):
    """Run n steps of a fixed integer loop in C, without the GIL; return its wall time in ns.

    The same work every time, so that a change in its time is the machine's own speed changing
    (frequency scaling, a host that throttles the VM, an SMT sibling at work), whatever caused it.
    """
    cdef int64_t wall = 0, cpu = 0
    with nogil:
        gillab_spin_threads(n, 1, &wall, &cpu)
    return wall


def spin_threads(long long n, int threads):
    """Run n steps of the same loop on each of `threads` native threads released together, without the GIL.

    Returns (wall ns from the release to the last thread's end, the threads' summed CPU ns): the machine's
    own ceiling for that many workers is the time of threads × n steps on one thread over this wall.
    """
    if threads < 1 or threads > GILLAB_SPIN_MAX_THREADS:
        raise ValueError(f"threads must be from 1 to {GILLAB_SPIN_MAX_THREADS}")
    cdef int64_t wall = 0, cpu = 0
    cdef int rc
    with nogil:
        rc = gillab_spin_threads(n, threads, &wall, &cpu)
    if rc != 0:
        raise OSError(f"could not start {threads} threads for the reference spin")
    return wall, cpu


cdef class GilProbe:
    """Sleep `interval_s` again and again; record wake-up lateness and the wait for the GIL.

    Call :meth:`run` in a thread of its own; call :meth:`stop` from another.
    """

    cdef int64_t interval_ns
    cdef Py_ssize_t cap
    cdef Py_ssize_t n
    cdef int64_t *gil_wait_ns
    cdef int64_t *wake_late_ns
    cdef int64_t *wake_at_ns
    cdef gillab_flag _stop
    cdef public int64_t elapsed_ns
    cdef public int64_t cpu_ns

    def __cinit__(self, double interval_s=0.001, Py_ssize_t max_samples=200000):
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        if max_samples <= 0:
            raise ValueError("max_samples must be > 0")
        self.interval_ns = <int64_t>(interval_s * 1e9)
        self.cap = max_samples
        self.gil_wait_ns = <int64_t *>malloc(max_samples * sizeof(int64_t))
        self.wake_late_ns = <int64_t *>malloc(max_samples * sizeof(int64_t))
        self.wake_at_ns = <int64_t *>malloc(max_samples * sizeof(int64_t))
        if self.gil_wait_ns == NULL or self.wake_late_ns == NULL or self.wake_at_ns == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.gil_wait_ns)
        free(self.wake_late_ns)
        free(self.wake_at_ns)

    def run(self):
        """Probe until stopped or full. Holds the GIL only for the instant of each re-acquisition."""
        cdef int64_t t_start = gillab_now_ns(), cpu0 = gillab_thread_cpu_ns()
        cdef int64_t t_sleep, t_wake, t_gil, t_end
        while not gillab_flag_get(&self._stop) and self.n < self.cap:
            with nogil:
                t_sleep = gillab_now_ns()
                gillab_sleep_ns(self.interval_ns)
                t_wake = gillab_now_ns()
            # Leaving `with nogil` blocks until this thread holds the GIL again.
            t_gil = gillab_now_ns()
            self.wake_late_ns[self.n] = t_wake - t_sleep - self.interval_ns
            self.gil_wait_ns[self.n] = t_gil - t_wake
            self.wake_at_ns[self.n] = t_wake
            self.n += 1
        t_end = gillab_now_ns()
        self.elapsed_ns = t_end - t_start
        self.cpu_ns = gillab_thread_cpu_ns() - cpu0

    def stop(self):
        """Ask :meth:`run` to return after its current sample."""
        gillab_flag_set(&self._stop, 1)

    def samples(self, int64_t since_ns=0, int64_t until_ns=0):
        """Return (wake time ns, GIL wait s, wake lateness s) for each sample woken in [since_ns, until_ns).

        until_ns = 0 means no upper bound. Wake lateness is the OS's share of the delay;
        the GIL wait is the time from waking to holding the GIL again.
        """
        return [
            (self.wake_at_ns[i], self.gil_wait_ns[i] / 1e9, self.wake_late_ns[i] / 1e9)
            for i in range(self.n)
            if self.wake_at_ns[i] >= since_ns and (until_ns == 0 or self.wake_at_ns[i] < until_ns)
        ]


cdef class ThreadSampler:
    """Sample the state of every thread of the given pids from a native, GIL-free pthread.

    skip: native thread ids never counted (gillab's own instrument threads); the sampler never counts itself.
    """

    cdef gillab_sampler *s

    def __cinit__(self, pids, double interval_s=0.002, bint record_events=False, skip=()):
        pids = list(pids)
        skip = list(skip)
        if not pids:
            raise ValueError("pids must not be empty")
        if len(pids) > GILLAB_MAX_PIDS:
            raise ValueError(f"at most {GILLAB_MAX_PIDS} pids")
        if len(skip) > GILLAB_MAX_SKIP:
            raise ValueError(f"at most {GILLAB_MAX_SKIP} threads to leave out")
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.s = <gillab_sampler *>malloc(sizeof(gillab_sampler))
        if self.s == NULL:
            raise MemoryError()
        memset(self.s, 0, sizeof(gillab_sampler))
        self.s.interval_ns = <int64_t>(interval_s * 1e9)
        self.s.npids = len(pids)
        for i, pid in enumerate(pids):
            self.s.pids[i] = pid
        self.s.nskip = len(skip)
        for i, tid in enumerate(skip):
            self.s.skip[i] = tid
        self.s.record_events = record_events

    def __dealloc__(self):
        if self.s != NULL:
            with nogil:
                gillab_sampler_stop(self.s)
            free(self.s.events)
            free(self.s)

    def start(self):
        """Start sampling on a new pthread."""
        if self.s.started:
            raise RuntimeError("sampler already started")
        if gillab_sampler_start(self.s) != 0:
            raise OSError("could not start the sampler thread")

    def stop(self):
        """Stop sampling and wait for the sampler thread to end."""
        with nogil:
            gillab_sampler_stop(self.s)

    @property
    def samples(self):
        """Number of sweeps over /proc taken so far."""
        return self.s.nsamples

    @property
    def running_sum(self):
        """Sum over sweeps of the threads seen running ('R')."""
        return self.s.running_sum

    @property
    def t0_ns(self):
        """When sampling started (CLOCK_MONOTONIC ns): event times count from here."""
        return self.s.t0_ns

    @property
    def cpu_s(self):
        """The sampler thread's own CPU time, in seconds (valid after stop)."""
        return self.s.cpu_ns / 1e9

    @property
    def overflow(self):
        """Thread sightings dropped because more threads existed than the sampler tracks."""
        return self.s.overflow

    def threads(self):
        """Return one (pid, tid, running, sleeping, disk, other) count tuple per thread seen."""
        return [
            (self.s.tid_pid[i], self.s.tids[i], self.s.counts[i][0], self.s.counts[i][1],
             self.s.counts[i][2], self.s.counts[i][3])
            for i in range(self.s.ntids)
        ]

    def events(self):
        """Return each recorded change of state as (t_s, pid, tid, state letter); 'X' means gone."""
        return [
            (self.s.events[i].t_ns / 1e9, self.s.events[i].pid, self.s.events[i].tid,
             chr(self.s.events[i].state))
            for i in range(self.s.nevents)
        ]
