# cython: language_level=3
"""The interpreter's own GIL state, read from C: who holds the GIL, how often it changes hands, and a
sampler thread that watches it without ever taking it (cext/_gil.h, the version gates in _gil_read.c).

This module lives in the main interpreter. Workers in subinterpreters with a GIL of their own are watched
from here too: each says which interpreter it runs in, and the sampler reads that interpreter's GIL."""

from libc.stdint cimport int8_t, int64_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memset
from cpython.pystate cimport PyThreadState_Get

from _clock cimport gillab_cpu_clock

from _gil cimport (
    GILLAB_GIL_MAX_WORKERS, gillab_gil_main, gillab_gil_of_interpreter, gillab_gil_reading, gillab_gil_read,
    gillab_gil_reason, gillab_gil_sampler, gillab_gil_start, gillab_gil_stop, gillab_gil_thread_clock,
    gillab_gil_tid,
)

MAX_WORKERS = GILLAB_GIL_MAX_WORKERS
"""The workers one GilStateSampler can watch."""


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
    cdef gillab_cpu_clock c = 0
    if gillab_gil_thread_clock(&c) != 0:
        c = -1
    return <uintptr_t>PyThreadState_Get(), <long long>c


def interpreter_gil(long long interpreter_id):
    """Return the address of the GIL the interpreter with this id takes (its own, or one it shares), 0 where
    there is no such interpreter or the GIL state cannot be read: to tell GILs apart, never to follow."""
    cdef void *g = gillab_gil_main() if interpreter_id == 0 else gillab_gil_of_interpreter(interpreter_id)
    return <uintptr_t>g


cdef class GilStateSampler:
    """Sample, on a pthread that never takes the GIL, who holds which GIL and which workers run.

    workers: (PyThreadState address, CPU clock id, interpreter id) each. A worker in the main interpreter
    holds the GIL when it is locked and its PyThreadState took it last; a worker with thread state 0 is the
    only thread of its interpreter, and holds that interpreter's GIL whenever it is locked. Each distinct GIL
    is watched once.

    Each sample holds the time, a bit per GIL that is locked, a bit per worker that holds its GIL, each GIL's
    switch count, and a bit per worker whose CPU clock advanced since the last sample.

    With a budget (a share of one core), the sampler reads its own CPU clock every few milliseconds and
    lengthens its interval, from interval_s up to max_interval_s, so that its cost stays within it.
    start_interval_s is where it begins (the interval an earlier sampler settled on).
    """

    cdef gillab_gil_sampler s
    cdef public list interpreters  # the interpreter id of each GIL watched, in GIL order (a sample's GIL bits)

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
        cdef void *g
        gils = []
        self.interpreters = []
        for j, (tstate, clock, interp) in enumerate(workers):
            self.s.tstate[j] = <uintptr_t>tstate
            self.s.clock[j] = <gillab_cpu_clock>clock
            g = gillab_gil_main() if interp == 0 else gillab_gil_of_interpreter(interp)
            if g == NULL and not gillab_gil_reason()[0]:
                raise ValueError(f"no interpreter {interp} to watch")
            if <uintptr_t>g not in gils:
                gils.append(<uintptr_t>g)
                self.interpreters.append(interp)
                self.s.gil[self.s.ngils] = g
                self.s.ngils += 1
            self.s.lane_gil[j] = gils.index(<uintptr_t>g)
        if self.s.ngils == 0:
            self.s.gil[0] = gillab_gil_main()
            self.s.ngils = 1
            self.interpreters.append(0)
        self.s.cap = max_samples
        self.s.t_ns = <int64_t *>malloc(max_samples * sizeof(int64_t))
        self.s.locked = <uint64_t *>malloc(max_samples * sizeof(uint64_t))
        self.s.holds = <uint64_t *>malloc(max_samples * sizeof(uint64_t))
        self.s.switches = <uint64_t *>malloc(max_samples * self.s.ngils * sizeof(uint64_t))
        self.s.running = <uint64_t *>malloc(max_samples * sizeof(uint64_t))
        if not (self.s.t_ns and self.s.locked and self.s.holds and self.s.switches and self.s.running):
            raise MemoryError()

    def __dealloc__(self):
        gillab_gil_stop(&self.s)
        free(self.s.t_ns)
        free(self.s.locked)
        free(self.s.holds)
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
    def tid(self):
        """The sampler thread's native id once it runs (0 before)."""
        return gillab_gil_tid(&self.s)

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
        """Return one (t_ns, locked GIL bits, holding worker bits, each GIL's switch number, running worker
        bits) per sample."""
        cdef int k, g = self.s.ngils
        return [
            (self.s.t_ns[i], self.s.locked[i], self.s.holds[i],
             tuple([self.s.switches[i * g + k] for k in range(g)]), self.s.running[i])
            for i in range(self.s.n)
        ]
