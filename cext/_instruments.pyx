# cython: language_level=3
"""Native instruments of gillab: a GIL-wait probe and a /proc thread-state sampler.

Both do their timing in C. The probe measures, on every wake-up, the time
between waking from its sleep and holding the GIL again. The sampler runs on a
pthread of its own that never takes the GIL, so it does not disturb what it watches.
"""

from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc

cdef extern from "_sampler.h" nogil:
    int GILLAB_MAX_PIDS
    ctypedef struct gillab_event:
        int64_t t_ns
        int pid
        int tid
        char state
    ctypedef struct gillab_sampler:
        int64_t interval_ns
        int npids
        int pids[256]
        int64_t nsamples
        int64_t t0_ns
        int64_t cpu_ns
        int64_t running_sum
        int ntids
        int overflow
        int tids[1024]
        int tid_pid[1024]
        int64_t counts[1024][4]
        int record_events
        gillab_event *events
        int64_t nevents
        int started
    int64_t gillab_now_ns()
    int64_t gillab_thread_cpu_ns()
    void gillab_sleep_ns(int64_t ns)
    int gillab_sampler_start(gillab_sampler *s)
    void gillab_sampler_stop(gillab_sampler *s)

from libc.string cimport memset


def now_ns():
    """Return CLOCK_MONOTONIC in nanoseconds, the clock both instruments use."""
    return gillab_now_ns()


def spin(long long n):
    """Run n steps of a fixed integer loop in C, without the GIL; return its wall time in ns.

    The harness's speed probe: the same work before every round, so that a change in its time is the
    machine's own speed changing (frequency scaling, a host that throttles the VM), whatever caused it.
    """
    cdef unsigned long long x = 88172645463325252ULL
    cdef long long i
    cdef int64_t t0, t1
    with nogil:
        t0 = gillab_now_ns()
        for i in range(n):
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
        t1 = gillab_now_ns()
    if x == 0:  # never true: keeps the loop from being optimised away
        return -1
    return t1 - t0


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
    cdef volatile int _stop
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
        while not self._stop and self.n < self.cap:
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
        self._stop = 1

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
    """Sample the state of every thread of the given pids from a native, GIL-free pthread."""

    cdef gillab_sampler *s

    def __cinit__(self, pids, double interval_s=0.002, bint record_events=False):
        pids = list(pids)
        if not pids:
            raise ValueError("pids must not be empty")
        if len(pids) > GILLAB_MAX_PIDS:
            raise ValueError(f"at most {GILLAB_MAX_PIDS} pids")
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


from libc.stdint cimport int8_t, uint64_t, uintptr_t
from posix.time cimport clockid_t
from cpython.pystate cimport PyThreadState_Get


cdef extern from "_gilstate.h" nogil:
    ctypedef struct gillab_gil_sampler:
        int64_t interval_ns
        int64_t max_interval_ns
        double budget
        int64_t cur_interval_ns
        int64_t wake_cost_ns
        int slowed
        int nworkers
        uintptr_t tstate[64]
        clockid_t clock[64]
        int64_t cap
        int64_t n
        int64_t *t_ns
        int8_t *locked
        int8_t *holder
        uint64_t *switches
        uint64_t *running
        int8_t enabled
        int64_t cpu_ns
        int64_t t0_ns
        int64_t t1_ns
    ctypedef struct gillab_gil_reading:
        int locked
        uintptr_t holder
        uint64_t switches
        int enabled
    const char *gillab_gil_reason()
    int gillab_gil_read(gillab_gil_reading *out)
    int gillab_gil_start(gillab_gil_sampler *s)
    void gillab_gil_stop(gillab_gil_sampler *s)
    int gillab_gil_thread_clock(clockid_t *out)
    int GILLAB_GIL_MAX_WORKERS



def gil_state_unavailable():
    """Return "" where this build can read the interpreter's GIL state, else the reason in one sentence."""
    return gillab_gil_reason().decode()


def gil_switches():
    """Return CPython's own count of GIL switches since it started, or None where it cannot be read or there
    is no GIL (a free-threaded build running without one)."""
    cdef gillab_gil_reading r
    if gillab_gil_reason()[0] != 0 or gillab_gil_read(&r) != 0 or not r.enabled:
        return None
    return r.switches


def thread_identity():
    """Return (this thread's PyThreadState address, its CPU clock id): what a worker registers."""
    cdef clockid_t c = 0
    if gillab_gil_thread_clock(&c) != 0:
        c = -1
    return <uintptr_t>PyThreadState_Get(), <long>c


cdef class GilStateSampler:
    """Sample, on a pthread that never takes the GIL, who holds the GIL and which workers run.

    Each sample holds the time, whether the GIL is locked, which registered worker last took it (or -1),
    the interpreter's switch count, and a bit per worker whose CPU clock advanced since the last sample.

    With a budget (a share of one core), the sampler reads its own CPU clock every few milliseconds and
    lengthens its interval, from interval_s up to max_interval_s, so that its cost stays within it.
    start_interval_s is where it begins (the interval an earlier sampler settled on).
    """

    cdef gillab_gil_sampler s

    def __cinit__(self, workers, double interval_s=0.0001, Py_ssize_t max_samples=2000000,
                  double budget=0.0, double max_interval_s=0.0, double start_interval_s=0.0):
        memset(&self.s, 0, sizeof(self.s))
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        if budget < 0:
            raise ValueError("budget must be >= 0")
        self.s.budget = budget
        self.s.max_interval_ns = <int64_t>(max(max_interval_s, interval_s) * 1e9)
        self.s.cur_interval_ns = <int64_t>(min(max(start_interval_s, interval_s), max(max_interval_s, interval_s)) * 1e9)
        workers = list(workers)
        if len(workers) > GILLAB_GIL_MAX_WORKERS:
            raise ValueError(f"at most {GILLAB_GIL_MAX_WORKERS} workers can be watched")
        self.s.interval_ns = <int64_t>(interval_s * 1e9)
        self.s.nworkers = len(workers)
        for j, (tstate, clock) in enumerate(workers):
            self.s.tstate[j] = <uintptr_t>tstate
            self.s.clock[j] = <clockid_t>clock
        self.s.cap = max_samples
        self.s.t_ns = <int64_t *>malloc(max_samples * sizeof(int64_t))
        self.s.locked = <int8_t *>malloc(max_samples * sizeof(int8_t))
        self.s.holder = <int8_t *>malloc(max_samples * sizeof(int8_t))
        self.s.switches = <uint64_t *>malloc(max_samples * sizeof(uint64_t))
        self.s.running = <uint64_t *>malloc(max_samples * sizeof(uint64_t))
        if not (self.s.t_ns and self.s.locked and self.s.holder and self.s.switches and self.s.running):
            raise MemoryError()

    def __dealloc__(self):
        gillab_gil_stop(&self.s)
        free(self.s.t_ns)
        free(self.s.locked)
        free(self.s.holder)
        free(self.s.switches)
        free(self.s.running)

    def start(self):
        """Start sampling; RuntimeError where the GIL state cannot be read here."""
        why = gil_state_unavailable()
        if why:
            raise RuntimeError(why)
        if gillab_gil_start(&self.s) != 0:
            raise RuntimeError("could not start the GIL-state sampler thread")

    def stop(self):
        """Stop sampling (waits for the sampler thread)."""
        with nogil:
            gillab_gil_stop(&self.s)

    @property
    def enabled(self):
        """False on a free-threaded build running without its GIL."""
        return bool(self.s.enabled)

    @property
    def cpu_s(self):
        """The sampler thread's own CPU time (valid after stop)."""
        return self.s.cpu_ns / 1e9

    @property
    def elapsed_s(self):
        """How long the sampler ran (valid after stop)."""
        return (self.s.t1_ns - self.s.t0_ns) / 1e9

    @property
    def interval_s(self):
        """The interval the governor settled on (the one asked for, without a budget)."""
        return self.s.cur_interval_ns / 1e9

    @property
    def wake_cost_s(self):
        """The sampler's CPU time per sample in its last governor window (0 before one ended)."""
        return self.s.wake_cost_ns / 1e9

    @property
    def slowed(self):
        """True where the governor had to sample more slowly than asked, to keep within its budget."""
        return bool(self.s.slowed)

    def samples(self):
        """Return one (t_ns, locked, holder index or -1, switch number, running bit mask) per sample."""
        return [
            (self.s.t_ns[i], self.s.locked[i], self.s.holder[i], self.s.switches[i], self.s.running[i])
            for i in range(self.s.n)
        ]
