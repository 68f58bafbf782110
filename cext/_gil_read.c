/* The interpreter's own GIL state, read from C: who holds a GIL, and how often it changed hands.
 *
 * CPython keeps, in struct _gil_runtime_state, `locked`, `last_holder` (the holder's PyThreadState*) and
 * `switch_number` ("number of GIL switches since the beginning"). gillab's extension is compiled for the
 * interpreter it runs under, so it reads them with that interpreter's own internal headers. The version
 * gates are here and nowhere else:
 *   3.11       one GIL for every interpreter, _PyRuntime.ceval.gil (a struct), atomics _Py_atomic_*;
 *   3.12       each interpreter's ceval.gil (a pointer: its own GIL, or the main one's), atomics _Py_atomic_*;
 *   3.13, 13t  the same pointer, plain fields read atomically; a free-threaded build also has `enabled`;
 *   3.14, 14t  the same fields and pointer, with the interpreter's structs in pycore_interp_structs.h
 *              (pycore_pystate.h no longer pulls them in).
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
#elif PY_VERSION_HEX >= 0x030E0000 && PY_VERSION_HEX < 0x030F0000
#define GILLAB_GIL_KNOWN 1
#include "internal/pycore_interp_structs.h"
#include "internal/pycore_runtime_structs.h"
#else
#define GILLAB_GIL_KNOWN 0
#endif

#include "_gil.h"

static char gillab_gil_why[200];

#if GILLAB_GIL_KNOWN
static struct _gil_runtime_state *gillab_gil_of(PyInterpreterState *interp) {
    if (interp == NULL) return NULL;
#if PY_VERSION_HEX >= 0x030C0000
    return interp->ceval.gil;
#else
    (void)interp;
    return &_PyRuntime.ceval.gil;  /* 3.11: one GIL for the whole runtime */
#endif
}
#endif

const char *gillab_gil_reason(void) {
#if GILLAB_GIL_KNOWN
    return "";
#else
    snprintf(gillab_gil_why, sizeof gillab_gil_why,
             "GIL state sampling is not available on %d.%d: this gillab knows the GIL's layout on 3.11-3.14 only",
             PY_MAJOR_VERSION, PY_MINOR_VERSION);
    return gillab_gil_why;
#endif
}

void *gillab_gil_main(void) {
#if GILLAB_GIL_KNOWN
    return gillab_gil_of(PyInterpreterState_Main());
#else
    return NULL;
#endif
}

void *gillab_gil_of_interpreter(int64_t id) {
#if GILLAB_GIL_KNOWN
    /* Called with this interpreter's GIL held, while the pool keeps its interpreters alive. */
    for (PyInterpreterState *i = PyInterpreterState_Head(); i != NULL; i = PyInterpreterState_Next(i)) {
        if (PyInterpreterState_GetID(i) == id) return gillab_gil_of(i);
    }
#else
    (void)id;
#endif
    return NULL;
}

int gillab_gil_read_at(void *gil, gillab_gil_reading *out) {
#if GILLAB_GIL_KNOWN
    struct _gil_runtime_state *g = (struct _gil_runtime_state *)gil;
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
    (void)gil;
    (void)out;
    return -1;
#endif
}

int gillab_gil_read(gillab_gil_reading *out) { return gillab_gil_read_at(gillab_gil_main(), out); }
