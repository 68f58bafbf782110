"""The catalogue's entries: stdlib and numpy callables, the inputs that make one call take about 1-50 ms on a
small machine, what each is expected to do with the GIL, and the source that proves it (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gillab.checker.verdict import Releases
from gillab.codec import encode_fields

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
    expected: Releases
    """What it does with the GIL (a sweep: from its threshold up)."""
    source: str
    trap: str = ""
    """What makes this entry a trap, if it is one."""
    sizes: tuple[int, ...] = ()
    threshold: int | None = None
    """A sweep's expected size from which the call releases the GIL."""

    @property
    def expected_text(self) -> str:
        """The expectation in words: "releases", "holds", "partly", or "releases from N up" for a sweep."""
        return (
            f"releases from {self.threshold} up"
            if self.threshold is not None
            else self.expected.value
        )

    def to_json(self) -> dict[str, Any]:
        """The entry as a catalogue row begins."""
        return encode_fields(self) | {"expected": self.expected_text}


MIB = "bytes(range(256)) * 4096"

ENTRIES: tuple[Entry, ...] = (
    Entry(
        "hashlib.sha256, 1 MiB",
        "hashlib:sha256",
        "data = bytes(1 << 20)",
        Releases.RELEASES,
        f"{CPY} Modules/_hashopenssl.c py_evp_fromname()/EVP_update(): EVP_hash() runs between "
        "Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS when the buffer holds at least HASHLIB_GIL_MINSIZE "
        "bytes (Modules/hashlib.h)",
    ),
    Entry(
        "hashlib.sha256 below and above its threshold",
        "hashlib:sha256",
        "data = bytes({n})",
        Releases.RELEASES,
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
        Releases.RELEASES,
        f"{CPY} Modules/_blake2/blake2b_impl.c py_blake2b_new_impl(): blake2b_update() between "
        "Py_BEGIN_ALLOW_THREADS/Py_END_ALLOW_THREADS when buf.len >= HASHLIB_GIL_MINSIZE",
    ),
    Entry(
        "hashlib.pbkdf2_hmac, 20,000 rounds",
        "hashlib:pbkdf2_hmac",
        "args = ('sha256', b'password', b'salt', 20000)",
        Releases.RELEASES,
        f"{CPY} Modules/_hashopenssl.c pbkdf2_hmac_impl(): PKCS5_PBKDF2_HMAC() between "
        "Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS",
    ),
    Entry(
        "zlib.compress, 1 MiB",
        "zlib:compress",
        f"data = {MIB}",
        Releases.RELEASES,
        f"{CPY} Modules/zlibmodule.c zlib_compress_impl(): deflate() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS",
    ),
    Entry(
        "zlib.decompress of 4 MiB stored (raw deflate, level 0)",
        "zlib:decompress",
        "import random, zlib; _c = zlib.compressobj(0, zlib.DEFLATED, -15); "
        "args = (_c.compress(random.Random(1).randbytes(4 << 20)) + _c.flush(), -15)",
        Releases.PARTLY,
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
        Releases.RELEASES,
        f"{CPY} Modules/zlibmodule.c zlib_crc32_impl(): crc32() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS when data->len > 1024*5",
    ),
    Entry(
        "zlib.crc32 below and above its threshold",
        "zlib:crc32",
        "data = bytes({n})",
        Releases.RELEASES,
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
        Releases.RELEASES,
        f"{CPY} Modules/_bz2module.c compress(): BZ2_bzCompress() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS (bz2.compress is BZ2Compressor.compress and flush, Lib/bz2.py)",
    ),
    Entry(
        "lzma.compress, 128 KiB",
        "lzma:compress",
        f"data = ({MIB})[: 1 << 17]",
        Releases.PARTLY,
        f"{CPY} Modules/_lzmamodule.c: compress() runs lzma_code() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS, but Compressor_init_xz() sets up the encoder (lzma_easy_encoder, preset 6: a "
        "dictionary of several MiB) holding the GIL, once per lzma.compress call (Lib/lzma.py)",
        trap="set-up: the encoder is built holding the GIL, and a one-shot call pays for it every time",
    ),
    Entry(
        "time.sleep, 5 ms",
        "time:sleep",
        "seconds = 0.005",
        Releases.RELEASES,
        f"{CPY} Modules/timemodule.c pysleep(): clock_nanosleep()/select() between Py_BEGIN_ALLOW_THREADS "
        "and Py_END_ALLOW_THREADS",
    ),
    Entry(
        "select.select, 5 ms timeout",
        "select:select",
        "args = ([], [], [], 0.005)",
        Releases.RELEASES,
        f"{CPY} Modules/selectmodule.c select_select_impl(): select() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS",
    ),
    Entry(
        "os.urandom, 1 MiB",
        "os:urandom",
        "size = 1 << 20",
        Releases.RELEASES,
        f"{CPY} Python/bootstrap_hash.c py_getrandom(): getrandom() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS when it may raise (os.urandom)",
    ),
    Entry(
        "os.read of /dev/zero, 8 MiB",
        "gillab.checker.targets:read_dev_zero",
        "size = 8 << 20",
        Releases.RELEASES,
        f"{CPY} Modules/posixmodule.c os_read_impl() -> Python/fileutils.c _Py_read(): read() between "
        "Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS",
    ),
    Entry(
        "ctypes: libc usleep(2000) through CDLL",
        "gillab.checker.targets:cdll_usleep",
        "usec = 2000",
        Releases.RELEASES,
        f"{CPY} Modules/_ctypes/callproc.c _call_function_pointer(): "
        "if ((flags & FUNCFLAG_PYTHONAPI) == 0) Py_BEGIN_ALLOW_THREADS around the foreign call",
    ),
    Entry(
        "ctypes: libc usleep(2000) through PyDLL",
        "gillab.checker.targets:pydll_usleep",
        "usec = 2000",
        Releases.HOLDS,
        f"{CPY} Modules/_ctypes/callproc.c _call_function_pointer(): PyDLL functions carry FUNCFLAG_PYTHONAPI, "
        "so the foreign call runs holding the GIL (Lib/ctypes/__init__.py: class PyDLL)",
        trap="the same C function, loaded through PyDLL instead of CDLL, keeps the GIL",
    ),
    Entry(
        "sqlite3: a 100,000-row recursive query in memory",
        "gillab.checker.targets:sqlite_sum",
        "n = 100_000",
        Releases.RELEASES,
        f"{CPY} Modules/_sqlite/util.c pysqlite_step(): sqlite3_step() between Py_BEGIN_ALLOW_THREADS and "
        "Py_END_ALLOW_THREADS",
    ),
    Entry(
        "numpy.dot, 192×192 float64",
        "numpy:dot",
        "import numpy as np; a = np.random.default_rng(1).random((192, 192)); b = a.T.copy()",
        Releases.RELEASES,
        f"{NPY} numpy/_core/src/common/cblasfuncs.c cblas_matrixproduct(): gemm() between "
        "NPY_BEGIN_ALLOW_THREADS and NPY_END_ALLOW_THREADS",
    ),
    Entry(
        "numpy.add, 1,000,000 float64",
        "numpy:add",
        "import numpy as np; a = np.ones(1_000_000); b = np.ones(1_000_000)",
        Releases.RELEASES,
        f"{NPY} numpy/_core/src/umath/ufunc_object.c: the inner loop runs after "
        "NPY_BEGIN_THREADS_THRESHOLDED(count) unless the loop needs the Python API",
    ),
    Entry(
        "numpy.add below and above its threshold",
        "numpy:add",
        "import numpy as np; a = np.ones({n}); b = np.ones({n})",
        Releases.RELEASES,
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
        Releases.RELEASES,
        f"{NPY} numpy/_core/src/multiarray/item_selection.c _new_argsortlike(): "
        "NPY_BEGIN_THREADS_DESCR(PyArray_DESCR(op)) releases the GIL for dtypes that need no Python API",
    ),
    Entry(
        "numpy.argsort, 20,000 Python objects",
        "numpy:argsort",
        "import numpy as np; a = np.arange(20_000)[::-1].astype(object)",
        Releases.HOLDS,
        f"{NPY} numpy/_core/src/multiarray/item_selection.c _new_argsortlike(): NPY_BEGIN_THREADS_DESCR skips "
        "the release for a dtype flagged NPY_NEEDS_PYAPI (object: its compare calls Python)",
        trap="dtype: the same call on an object array keeps the GIL",
    ),
    Entry(
        "numpy.array from a list of 200,000 floats",
        "numpy:array",
        "obj = [float(i) for i in range(200_000)]",
        Releases.HOLDS,
        f"{NPY} numpy/_core/src/multiarray/ctors.c PyArray_FromAny() -> PyArray_DiscoverDTypeAndShape() and "
        "PyArray_AssignFromCache(): each element is a Python object read with the GIL held",
    ),
    Entry(
        "json.dumps of 100,000 numbers",
        "json:dumps",
        "obj = [list(range(50))] * 2000",
        Releases.HOLDS,
        f"{CPY} Modules/_json.c encoder_listencode_obj(): builds Python strings throughout, no "
        "Py_BEGIN_ALLOW_THREADS in the module",
    ),
    Entry(
        "json.loads of 100,000 numbers",
        "json:loads",
        "import json; s = json.dumps([list(range(50))] * 2000)",
        Releases.HOLDS,
        f"{CPY} Modules/_json.c scan_once_unicode(): builds Python objects throughout, no "
        "Py_BEGIN_ALLOW_THREADS in the module",
    ),
    Entry(
        "sorted, 100,000 floats",
        "builtins:sorted",
        "import random; random.seed(1); xs = [random.random() for _ in range(100_000)]",
        Releases.HOLDS,
        f"{CPY} Objects/listobject.c list_sort_impl(): compares Python objects, no Py_BEGIN_ALLOW_THREADS",
    ),
    Entry(
        "re.sub over 200 KB of text",
        "re:sub",
        "args = (r'[aeiou]', '_', 'the quick brown fox jumps over the lazy dog ' * 5000)",
        Releases.HOLDS,
        f"{CPY} Modules/_sre/sre.c pattern_subx(): the matcher (sre_lib.h) runs holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in _sre",
    ),
    Entry(
        "pickle.dumps of 100,000 numbers",
        "pickle:dumps",
        "obj = [list(range(50))] * 2000",
        Releases.HOLDS,
        f"{CPY} Modules/_pickle.c save(): walks Python objects throughout, no Py_BEGIN_ALLOW_THREADS",
    ),
    Entry(
        "math.factorial(20,000)",
        "math:factorial",
        "n = 20_000",
        Releases.HOLDS,
        f"{CPY} Modules/mathmodule.c math_factorial(): Python int products (Objects/longobject.c), no "
        "Py_BEGIN_ALLOW_THREADS",
    ),
    Entry(
        "decimal: a 2,000-digit square root",
        "gillab.checker.targets:decimal_sqrt",
        "digits = 2000",
        Releases.HOLDS,
        f"{CPY} Modules/_decimal/_decimal.c dec_mpd_qsqrt(): libmpdec runs holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in _decimal",
    ),
    Entry(
        "base64.b64encode, 1 MiB",
        "base64:b64encode",
        "s = bytes(1 << 20)",
        Releases.HOLDS,
        f"{CPY} Modules/binascii.c binascii_b2a_base64_impl(): encodes holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in the function",
    ),
    Entry(
        "str.encode('utf-8') of 1,000,000 characters",
        "builtins:str.encode",
        "args = ('é' * 1_000_000, 'utf-8')",
        Releases.HOLDS,
        f"{CPY} Objects/unicodeobject.c unicode_encode_utf8(): encodes holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in the codec",
    ),
    Entry(
        "unicodedata.normalize('NFD'), 200,000 characters",
        "unicodedata:normalize",
        "args = ('NFD', 'éèàùç' * 40_000)",
        Releases.HOLDS,
        f"{CPY} Modules/unicodedata.c nfd_nfkd(): builds the result holding the GIL; no "
        "Py_BEGIN_ALLOW_THREADS in the module",
    ),
)
