"""`gillab catalogue`: the GIL map of your Python. Which stdlib and numpy calls release the GIL, measured here.

Each entry names a callable, inputs sized so that one call takes about 1-50 ms on a small machine, what it
is expected to do with the GIL, and the source that proves it: the CPython or numpy function that wraps its
work in Py_BEGIN_ALLOW_THREADS / NPY_BEGIN_THREADS, or that builds Python objects throughout. Three entries
are size sweeps: a threshold below which the call keeps the GIL. Every entry is measured with the method of
`gillab check` on the interpreter that runs it; a measured verdict that disagrees with the expectation is
shown as a disagreement, never hidden: the catalogue is also the lab's self-test.

The whole catalogue runs in one child process (python -m gillab.checker.catalogue SPEC), which appends each
entry's row to its result file as soon as it is measured: a crash or Ctrl-C keeps the rows already made.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fnmatch
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

from gillab.childproc import last_line, signal_name

CPY = "CPython"
NPY = "numpy"


@dataclass(frozen=True)
class Entry:
    """One callable of the catalogue, its inputs, and what its source says it does with the GIL."""

    name: str
    target: str
    """module:attr, as for gillab check."""
    setup: str
    """Code defining the call's inputs, as gillab check's --setup ({n}: the size, in a sweep)."""
    expected: str
    """"releases" or "holds" (a sweep: "releases from N up")."""
    source: str
    trap: str = ""
    """What makes this entry a trap, if it is one."""
    sizes: tuple[int, ...] = ()
    threshold: int | None = None
    """A sweep's expected size from which the call releases the GIL."""


MIB = "bytes(range(256)) * 4096"

ENTRIES: tuple[Entry, ...] = (
    Entry(
        "hashlib.sha256, 1 MiB",
        "hashlib:sha256",
        "data = bytes(1 << 20)",
        "releases",
        f"{CPY} Modules/_hashopenssl.c py_evp_fromname()/EVP_update(): EVP_hash() runs between "
        "Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS when the buffer holds at least HASHLIB_GIL_MINSIZE "
        "bytes (Modules/hashlib.h)",
    ),
    Entry(
        "hashlib.sha256 below and above its threshold",
        "hashlib:sha256",
        "data = bytes({n})",
        "releases from 2048 up",
        f"{CPY} Modules/hashlib.h: #define HASHLIB_GIL_MINSIZE 2048; Modules/_hashopenssl.c hashes a smaller "
        "buffer without releasing the GIL",
        trap="size threshold: a short buffer is hashed holding the GIL",
        sizes=(1024, 2047, 2048, 4096),
        threshold=2048,
    ),
    Entry(
        "hashlib.blake2b, 1 MiB",
        "hashlib:blake2b",
        "data = bytes(1 << 20)",
        "releases",
        f"{CPY} Modules/_blake2/blake2b_impl.c py_blake2b_new_impl(): blake2b_update() between "
        "Py_BEGIN_ALLOW_THREADS/Py_END_ALLOW_THREADS when buf.len >= HASHLIB_GIL_MINSIZE",
    ),
    Entry(
        "hashlib.pbkdf2_hmac, 20,000 rounds",
        "hashlib:pbkdf2_hmac",
        "args = ('sha256', b'password', b'salt', 20000)",
        "releases",
        f"{CPY} Modules/_hashopenssl.c pbkdf2_hmac_impl(): PKCS5_PBKDF2_HMAC() between "
        "Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS",
    ),
    Entry(
        "zlib.compress, 1 MiB",
        "zlib:compress",
        f"data = {MIB}",
        "releases",
        f"{CPY} Modules/zlibmodule.c zlib_compress_impl(): deflate() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS",
    ),
    Entry(
        "zlib.decompress of 4 MiB stored (raw deflate, level 0)",
        "zlib:decompress",
        "import random, zlib; _c = zlib.compressobj(0, zlib.DEFLATED, -15); "
        "args = (_c.compress(random.Random(1).randbytes(4 << 20)) + _c.flush(), -15)",
        "partly",
        f"{CPY} Modules/zlibmodule.c zlib_decompress_impl(): inflate() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS, but the output grows (OutputBuffer_Grow) and is joined into one bytes object "
        "(_BlocksOutputBuffer_Finish, Include/internal/pycore_blocks_output_buffer.h) holding the GIL; stored "
        "blocks without a checksum inflate as a plain copy, as fast as the joining",
        trap="a large output: joining it into the result holds the GIL",
    ),
    Entry(
        "zlib.crc32, 1 MiB",
        "zlib:crc32",
        "data = bytes(1 << 20)",
        "releases",
        f"{CPY} Modules/zlibmodule.c zlib_crc32_impl(): crc32() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS when data->len > 1024*5",
    ),
    Entry(
        "zlib.crc32 below and above its threshold",
        "zlib:crc32",
        "data = bytes({n})",
        "releases from 5121 up",
        f"{CPY} Modules/zlibmodule.c zlib_crc32_impl(): 'Releasing the GIL for very small buffers is "
        "inefficient': only if (data->len > 1024*5)",
        trap="size threshold: up to 5 KiB the checksum runs holding the GIL",
        sizes=(4096, 5120, 5121, 8192),
        threshold=5121,
    ),
    Entry(
        "bz2.compress, 128 KiB",
        "bz2:compress",
        f"data = ({MIB})[: 1 << 17]",
        "releases",
        f"{CPY} Modules/_bz2module.c compress(): BZ2_bzCompress() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS (bz2.compress is BZ2Compressor.compress and flush, Lib/bz2.py)",
    ),
    Entry(
        "lzma.compress, 128 KiB",
        "lzma:compress",
        f"data = ({MIB})[: 1 << 17]",
        "partly",
        f"{CPY} Modules/_lzmamodule.c: compress() runs lzma_code() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS, but Compressor_init_xz() sets up the encoder (lzma_easy_encoder, preset 6: a "
        "dictionary of several MiB) holding the GIL, once per lzma.compress call (Lib/lzma.py)",
        trap="set-up: the encoder is built holding the GIL, and a one-shot call pays for it every time",
    ),
    Entry(
        "time.sleep, 5 ms",
        "time:sleep",
        "seconds = 0.005",
        "releases",
        f"{CPY} Modules/timemodule.c pysleep(): clock_nanosleep()/select() between Py_BEGIN_ALLOW_THREADS "
        "and Py_END_ALLOW_THREADS",
    ),
    Entry(
        "select.select, 5 ms timeout",
        "select:select",
        "args = ([], [], [], 0.005)",
        "releases",
        f"{CPY} Modules/selectmodule.c select_select_impl(): select() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS",
    ),
    Entry(
        "os.urandom, 1 MiB",
        "os:urandom",
        "size = 1 << 20",
        "releases",
        f"{CPY} Python/bootstrap_hash.c py_getrandom(): getrandom() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS when it may raise (os.urandom)",
    ),
    Entry(
        "os.read of /dev/zero, 8 MiB",
        "gillab.checker.catalogue:read_dev_zero",
        "size = 8 << 20",
        "releases",
        f"{CPY} Modules/posixmodule.c os_read_impl() -> Python/fileutils.c _Py_read(): read() between "
        "Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS",
    ),
    Entry(
        "ctypes: libc usleep(2000) through CDLL",
        "gillab.checker.catalogue:cdll_usleep",
        "usec = 2000",
        "releases",
        f"{CPY} Modules/_ctypes/callproc.c _call_function_pointer(): "
        "if ((flags & FUNCFLAG_PYTHONAPI) == 0) Py_BEGIN_ALLOW_THREADS around the foreign call",
    ),
    Entry(
        "ctypes: libc usleep(2000) through PyDLL",
        "gillab.checker.catalogue:pydll_usleep",
        "usec = 2000",
        "holds",
        f"{CPY} Modules/_ctypes/callproc.c _call_function_pointer(): PyDLL functions carry FUNCFLAG_PYTHONAPI, "
        "so the foreign call runs holding the GIL (Lib/ctypes/__init__.py: class PyDLL)",
        trap="the same C function, loaded through PyDLL instead of CDLL, keeps the GIL",
    ),
    Entry(
        "sqlite3: a 100,000-row recursive query in memory",
        "gillab.checker.catalogue:sqlite_sum",
        "n = 100_000",
        "releases",
        f"{CPY} Modules/_sqlite/util.c pysqlite_step(): sqlite3_step() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS",
    ),
    Entry(
        "numpy.dot, 192×192 float64",
        "numpy:dot",
        "import numpy as np; a = np.random.default_rng(1).random((192, 192)); b = a.T.copy()",
        "releases",
        f"{NPY} numpy/_core/src/common/cblasfuncs.c cblas_matrixproduct(): gemm() between "
        "NPY_BEGIN_ALLOW_THREADS and NPY_END_ALLOW_THREADS",
    ),
    Entry(
        "numpy.add, 1,000,000 float64",
        "numpy:add",
        "import numpy as np; a = np.ones(1_000_000); b = np.ones(1_000_000)",
        "releases",
        f"{NPY} numpy/_core/src/umath/ufunc_object.c: the inner loop runs after "
        "NPY_BEGIN_THREADS_THRESHOLDED(count) unless the loop needs the Python API",
    ),
    Entry(
        "numpy.add below and above its threshold",
        "numpy:add",
        "import numpy as np; a = np.ones({n}); b = np.ones({n})",
        "releases from 501 up",
        f"{NPY} numpy/_core/include/numpy/ndarraytypes.h: NPY_BEGIN_THREADS_THRESHOLDED(loop_size) releases "
        "the GIL only if loop_size > 500",
        trap="size threshold: a ufunc over 500 elements or fewer keeps the GIL",
        sizes=(100, 500, 501, 1000),
        threshold=501,
    ),
    Entry(
        "numpy.argsort, 200,000 float64",
        "numpy:argsort",
        "import numpy as np; a = np.random.default_rng(1).random(200_000)",
        "releases",
        f"{NPY} numpy/_core/src/multiarray/item_selection.c _new_argsortlike(): "
        "NPY_BEGIN_THREADS_DESCR(PyArray_DESCR(op)) releases the GIL for dtypes that need no Python API",
    ),
    Entry(
        "numpy.argsort, 20,000 Python objects",
        "numpy:argsort",
        "import numpy as np; a = np.arange(20_000)[::-1].astype(object)",
        "holds",
        f"{NPY} numpy/_core/src/multiarray/item_selection.c _new_argsortlike(): NPY_BEGIN_THREADS_DESCR skips "
        "the release for a dtype flagged NPY_NEEDS_PYAPI (object: its compare calls Python)",
        trap="dtype: the same call on an object array keeps the GIL",
    ),
    Entry(
        "numpy.array from a list of 200,000 floats",
        "numpy:array",
        "obj = [float(i) for i in range(200_000)]",
        "holds",
        f"{NPY} numpy/_core/src/multiarray/ctors.c PyArray_FromAny() -> PyArray_DiscoverDTypeAndShape() and "
        "PyArray_AssignFromCache(): each element is a Python object read with the GIL held",
    ),
    Entry(
        "json.dumps of 100,000 numbers",
        "json:dumps",
        "obj = [list(range(50))] * 2000",
        "holds",
        f"{CPY} Modules/_json.c encoder_listencode_obj(): builds Python strings throughout, no "
        "Py_BEGIN_ALLOW_THREADS in the module",
    ),
    Entry(
        "json.loads of 100,000 numbers",
        "json:loads",
        "import json; s = json.dumps([list(range(50))] * 2000)",
        "holds",
        f"{CPY} Modules/_json.c scan_once_unicode(): builds Python objects throughout, no "
        "Py_BEGIN_ALLOW_THREADS in the module",
    ),
    Entry(
        "sorted, 100,000 floats",
        "builtins:sorted",
        "import random; random.seed(1); xs = [random.random() for _ in range(100_000)]",
        "holds",
        f"{CPY} Objects/listobject.c list_sort_impl(): compares Python objects, no Py_BEGIN_ALLOW_THREADS",
    ),
    Entry(
        "re.sub over 200 KB of text",
        "re:sub",
        "args = (r'[aeiou]', '_', 'the quick brown fox jumps over the lazy dog ' * 5000)",
        "holds",
        f"{CPY} Modules/_sre/sre.c pattern_subx(): the matcher (sre_lib.h) runs holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in _sre",
    ),
    Entry(
        "pickle.dumps of 100,000 numbers",
        "pickle:dumps",
        "obj = [list(range(50))] * 2000",
        "holds",
        f"{CPY} Modules/_pickle.c save(): walks Python objects throughout, no Py_BEGIN_ALLOW_THREADS",
    ),
    Entry(
        "math.factorial(20,000)",
        "math:factorial",
        "n = 20_000",
        "holds",
        f"{CPY} Modules/mathmodule.c math_factorial(): Python int products (Objects/longobject.c), no "
        "Py_BEGIN_ALLOW_THREADS",
    ),
    Entry(
        "decimal: a 2,000-digit square root",
        "gillab.checker.catalogue:decimal_sqrt",
        "digits = 2000",
        "holds",
        f"{CPY} Modules/_decimal/_decimal.c dec_mpd_qsqrt(): libmpdec runs holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in _decimal",
    ),
    Entry(
        "base64.b64encode, 1 MiB",
        "base64:b64encode",
        "s = bytes(1 << 20)",
        "holds",
        f"{CPY} Modules/binascii.c binascii_b2a_base64_impl(): encodes holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in the function",
    ),
    Entry(
        "str.encode('utf-8') of 1,000,000 characters",
        "builtins:str.encode",
        "args = ('é' * 1_000_000, 'utf-8')",
        "holds",
        f"{CPY} Objects/unicodeobject.c unicode_encode_utf8(): encodes holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in the codec",
    ),
    Entry(
        "unicodedata.normalize('NFD'), 200,000 characters",
        "unicodedata:normalize",
        "args = ('NFD', 'éèàùç' * 40_000)",
        "holds",
        f"{CPY} Modules/unicodedata.c nfd_nfkd(): builds the result holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in the module",
    ),
)


# --- the callables the catalogue defines itself (a C call needs a Python-level wrapper) -------------------

_LIBC: dict[str, Any] = {}
_ZERO: list[int] = []


def _libc(kind: str) -> Any:
    if kind not in _LIBC:
        name = ctypes.util.find_library("c") or None
        _LIBC[kind] = (ctypes.CDLL if kind == "cdll" else ctypes.PyDLL)(name)
    return _LIBC[kind]


def cdll_usleep(usec: int) -> int:
    """libc usleep(usec) through ctypes.CDLL: the GIL is released around the call."""
    result: int = _libc("cdll").usleep(usec)
    return result


def pydll_usleep(usec: int) -> int:
    """libc usleep(usec) through ctypes.PyDLL: the call keeps the GIL."""
    result: int = _libc("pydll").usleep(usec)
    return result


def read_dev_zero(size: int) -> int:
    """os.read size bytes of /dev/zero; return how many came."""
    if not _ZERO:
        _ZERO.append(os.open("/dev/zero", os.O_RDONLY))
    return len(os.read(_ZERO[0], size))


def sqlite_sum(n: int) -> int:
    """Sum 1..n with a recursive query in an in-memory database."""
    con = sqlite3.connect(":memory:")
    try:
        row = con.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT sum(x) FROM c", (n,)
        ).fetchone()
    finally:
        con.close()
    return int(row[0])


def decimal_sqrt(digits: int) -> Decimal:
    """The square root of 2 to `digits` digits."""
    return Decimal(2).sqrt(Context(prec=digits))


# --- running it --------------------------------------------------------------------------------------------


def select(pattern: str | None) -> list[Entry]:
    """Return the entries whose name or target matches the pattern (fnmatch, case-insensitive; a plain word
    matches anywhere)."""
    if not pattern:
        return list(ENTRIES)
    pat = pattern.lower() if any(c in pattern for c in "*?[") else f"*{pattern.lower()}*"
    return [e for e in ENTRIES if fnmatch.fnmatch(e.name.lower(), pat) or fnmatch.fnmatch(e.target.lower(), pat)]


DURATION_S = 0.3
"""Seconds per measured phase of each entry: the whole catalogue then takes about 1.5 minutes on 2 cores."""


def measure_entry(entry: Entry, duration_s: float = DURATION_S) -> dict[str, Any]:
    """Measure one entry in this process (the catalogue's child) and return its row."""
    from gillab import environment
    from gillab.checker.measure import measure
    from gillab.checker.run import decide, verdict
    from gillab.checker.sweep import releases_from, sweep
    from gillab.checker.target import call_inputs, load_target

    row: dict[str, Any] = asdict(entry)
    func = load_target(entry.target)
    if entry.sizes:
        got = sweep(func, lambda n: call_inputs(entry.setup.replace("{n}", str(n)), None), entry.sizes)
        rows = got["sizes"]
        start = releases_from(rows)
        measured = f"releases from {start} up" if start is not None else got["threshold"]
        if not environment.gil_enabled():
            measured = "no GIL"
        row |= {
            "measured": measured,
            "verdict": got["threshold"],
            "decided_by": rows[0]["method"] if rows else "",
            "sweep": rows,
            "fraction": None,
            "held_fraction": None,
            "speedup_2": None,
        }
    else:
        args, kwargs = call_inputs(entry.setup, None)
        data = measure(func, args, kwargs, [1, 2], duration_s)
        d = decide(data)
        row |= {
            "measured": d.releases,
            "verdict": verdict(data),
            "decided_by": d.decided_by,
            "fraction": data["gil_free_fraction"],
            "held_fraction": (data.get("gil_held") or {}).get("fraction"),
            "speedup_2": next((lv["speedup"] for lv in data["scaling"] if lv["threads"] == 2), None),
            "disturbed": data.get("disturbed") or [],
            "per_call_ms": 1e3 / data["scaling"][0]["calls_per_s"] if data["scaling"][0]["calls_per_s"] else None,
        }
    row["agrees"] = None if row["measured"] == "no GIL" else row["measured"] == entry.expected
    return row


def child_main(spec_path: str) -> int:
    """Measure every entry the spec names, appending each row (one JSON line) to the result file."""
    from gillab.harness.pools import pin_to_one

    spec = json.loads(Path(spec_path).read_text())
    pin_to_one()  # numpy's BLAS pool: one thread, so that the threads measured are the check's own
    names = set(spec["names"])
    with Path(spec["result_path"]).open("a") as out:
        for entry in ENTRIES:
            if entry.name not in names:
                continue
            try:
                row = measure_entry(entry, spec["duration_s"])
            except Exception as exc:  # one entry's failure is its row; the rest go on
                row = asdict(entry) | {"measured": "error", "agrees": False, "error": f"{type(exc).__name__}: {exc}"}
            out.write(json.dumps(row) + "\n")
            out.flush()
    return 0


@dataclass(frozen=True)
class CatalogueRun:
    """Every row measured, and why the run stopped early if it did."""

    rows: tuple[dict[str, Any], ...]
    error: str = ""
    interrupted: bool = False


def run_catalogue(
    entries: list[Entry],
    duration_s: float = DURATION_S,
    python: str | None = None,
    progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    timeout_s: float = 900.0,
) -> CatalogueRun:
    """Measure the entries in one child process; return the rows, kept even when the child dies part-way.

    progress(done, total, row) is called as each row arrives. Ctrl-C stops the child and returns what was
    measured, with interrupted set.
    """
    with tempfile.TemporaryDirectory(prefix="gillab-catalogue-") as tmp:
        spec = Path(tmp) / "spec.json"
        result = Path(tmp) / "rows.jsonl"
        errors = Path(tmp) / "stderr.txt"
        result.touch()
        spec.write_text(
            json.dumps({"names": [e.name for e in entries], "duration_s": duration_s, "result_path": str(result)})
        )
        error, interrupted, seen = "", False, 0
        deadline = time.monotonic() + timeout_s

        def poll() -> None:
            nonlocal seen
            lines = [x for x in result.read_text().splitlines() if x.strip()]
            for line in lines[seen:]:
                seen += 1
                if progress is not None:
                    progress(seen, len(entries), json.loads(line))

        with errors.open("w") as err:
            try:
                proc = subprocess.Popen(
                    [python or sys.executable, "-m", "gillab.checker.catalogue", str(spec)],
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            except OSError as exc:
                return CatalogueRun((), f"cannot start {python or sys.executable}: {exc.strerror or exc}")
            try:
                while proc.poll() is None:
                    time.sleep(0.1)
                    poll()
                    if time.monotonic() > deadline:
                        proc.kill()
                        error = f"the catalogue did not finish within {timeout_s:g} s"
            except KeyboardInterrupt:
                proc.kill()
                error, interrupted = "interrupted", True
            proc.wait()
        poll()
        if proc.returncode and not error:
            if proc.returncode < 0:
                error = f"the catalogue's child process died ({signal_name(proc.returncode)})"
            else:
                error = (
                    f"the catalogue's child process failed (exit {proc.returncode}): {last_line(errors.read_text())}"
                )
        rows = tuple(json.loads(line) for line in result.read_text().splitlines() if line.strip())
    if error and len(rows) < len(entries):
        error += f": {len(rows)} of {len(entries)} entries were measured"
    return CatalogueRun(rows, error, interrupted)


def summary(rows: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    """Say how many entries agreed with their sources, and name those that did not."""
    judged = [r for r in rows if r.get("agrees") is not None]
    bad = [r for r in judged if not r["agrees"]]
    text = f"{len(judged) - len(bad)} of {len(judged)} entries agree with what their source says"
    if bad:
        text += "; DISAGREE: " + "; ".join(
            f"{r['name']} (expected {r['expected']}, measured {r['measured']})" for r in bad
        )
    skipped = len(rows) - len(judged)
    if skipped:
        text += f"; {skipped} not judged (no GIL on this interpreter)"
    return text


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv[1]))
