/* The interpreter's own GIL state, read from C: who holds the GIL, and how often it changed hands.
 *
 * CPython keeps, in struct _gil_runtime_state, `locked`, `last_holder` (the holder's PyThreadState*) and
 * `switch_number` ("number of GIL switches since the beginning"). gillab's extension is compiled for the
 * interpreter it runs under, so it reads them with that interpreter's own internal headers. The version
 * gates are here and nowhere else:
 *   3.11       _PyRuntime.ceval.gil (a struct), atomics _Py_atomic_*;
 *   3.12       the main interpreter's ceval.gil (a pointer), atomics _Py_atomic_*;
 *   3.13, 13t  the same pointer, plain fields read atomically; a free-threaded build also has `enabled`.
 * Any other version reports why it cannot be read, and the rest of gillab works without it.
 * The sampler never dereferences last_holder: it only compares it with the pointers workers registered.
 */
#define Py_BUILD_CORE_MODULE 1
#include "Python.h"
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
#define GILLAB_GIL_KNOWN 1
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_pystate.h"
#else
#define GILLAB_GIL_KNOWN 0
#endif

#include "_gil.h"

static char gillab_gil_why[200];

#if GILLAB_GIL_KNOWN
static struct _gil_runtime_state *gillab_gil_struct(void) {
#if PY_VERSION_HEX >= 0x030C0000
    PyInterpreterState *interp = _PyInterpreterState_Main();
    return interp == NULL ? NULL : interp->ceval.gil;
#else
    return &_PyRuntime.ceval.gil;
#endif
}
#endif

const char *gillab_gil_reason(void) {
#if GILLAB_GIL_KNOWN
    return "";
#else
    snprintf(gillab_gil_why, sizeof gillab_gil_why,
             "GIL state sampling is not available on %d.%d: this gillab knows the GIL's layout on 3.11-3.13 only",
             PY_MAJOR_VERSION, PY_MINOR_VERSION);
    return gillab_gil_why;
#endif
}

int gillab_gil_read(gillab_gil_reading *out) {
#if GILLAB_GIL_KNOWN
    struct _gil_runtime_state *g = gillab_gil_struct();
    if (g == NULL) return -1;
#if PY_VERSION_HEX >= 0x030D0000
    out->locked = __atomic_load_n(&g->locked, __ATOMIC_RELAXED);
    out->holder = (uintptr_t)__atomic_load_n(&g->last_holder, __ATOMIC_RELAXED);
#else
    out->locked = _Py_atomic_load_relaxed(&g->locked);
    out->holder = (uintptr_t)_Py_atomic_load_relaxed(&g->last_holder);
#endif
    out->switches = (uint64_t)__atomic_load_n(&g->switch_number, __ATOMIC_RELAXED);
#ifdef Py_GIL_DISABLED
    out->enabled = __atomic_load_n(&g->enabled, __ATOMIC_RELAXED);
#else
    out->enabled = 1;
#endif
    return 0;
#else
    (void)out;
    return -1;
#endif
}
