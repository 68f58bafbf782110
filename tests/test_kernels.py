"""Every impl of every workload computes the same thing and rejects the same bad input."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gillab import _native
from gillab.workloads import exact_counters, impls, kernel, pure, resolve

FIB_IMPLS = impls("fib")
SUMSQ_IMPLS = impls("sumsq")


@pytest.mark.parametrize("impl", FIB_IMPLS)
def test_fib_agrees_with_python_for_0_to_30(impl: str) -> None:
    fib = resolve("fib", impl)
    assert [fib(n) for n in range(31)] == [pure.fib(n) for n in range(31)]


@pytest.mark.parametrize("variant", ["cython-gil", "cython-nogil"])
def test_native_kernels_stamp_where_their_work_ended_in_this_thread(variant: str) -> None:
    """A task's end is stamped inside the kernel, before it takes the GIL back, and per thread."""
    import time

    k = kernel("fib", variant)
    mod = _native.kernels(variant)
    t0 = time.monotonic_ns()
    k.func(20)
    t1 = time.monotonic_ns()
    assert t0 < mod.last_end_ns() <= t1
    other: list[int] = []
    th = threading.Thread(target=lambda: other.append(mod.last_end_ns()))
    th.start()
    th.join()
    assert other == [0]  # a thread that never called a kernel has no stamp


def test_fib_reference_matches_the_recursion() -> None:
    assert [pure.fib_reference(n) for n in range(25)] == [pure.fib(n) for n in range(25)]
    assert pure.fib_reference(92) == 7540113804746346429  # < 2**63
    assert pure.fib_reference(92) < 2**63 <= pure.fib_reference(91) + pure.fib_reference(92)


@pytest.mark.parametrize("bad", [-1, 93, 10**30])
def test_fib_domain_errors_are_identical(bad: int) -> None:
    messages = set()
    for impl in FIB_IMPLS:
        with pytest.raises(ValueError, match="0 <= n <= 92") as exc:
            resolve("fib", impl)(bad)
        messages.add(str(exc.value))
    assert len(messages) == 1


@pytest.mark.parametrize("bad", [5.0, "5", None, True, [5]])
def test_fib_rejects_non_ints_identically(bad: object) -> None:
    messages = set()
    for impl in FIB_IMPLS:
        with pytest.raises(TypeError, match="expects an int") as exc:
            resolve("fib", impl)(bad)
        messages.add(str(exc.value))
    assert len(messages) == 1


@pytest.mark.parametrize("impl", sorted(exact_counters()))
@pytest.mark.parametrize("threads", [2, 4])
def test_synchronised_counters_are_exact(impl: str, threads: int) -> None:
    k = kernel("counter", impl)
    assert k.reset is not None
    assert k.value is not None
    per_thread = 20_000 if impl.startswith("python") else 200_000
    k.reset()
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        k.func(per_thread)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert k.value() == threads * per_thread


@pytest.mark.parametrize("impl", impls("counter"))
def test_every_counter_counts_exactly_on_one_thread(impl: str) -> None:
    k = kernel("counter", impl)
    assert k.reset is not None
    assert k.value is not None
    k.reset()
    k.func(1000)
    k.func(0)
    assert k.value() == 1000


@pytest.mark.parametrize("impl", impls("counter"))
@pytest.mark.parametrize(("bad", "error"), [(-1, ValueError), (1.5, TypeError), ("3", TypeError)])
def test_counters_reject_bad_k(impl: str, bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="k must be"):
        resolve("counter", impl)(bad)


def test_python_desc_undoes_add() -> None:
    pure.reset()
    pure.add(500)
    pure.desc(200)
    assert pure.value() == 300


@pytest.mark.parametrize("impl", SUMSQ_IMPLS)
@pytest.mark.parametrize(("start", "stop"), [(0, 5000), (17, 4000), (3, 3)])
def test_sumsq_agrees_with_numpy(impl: str, start: int, stop: int) -> None:
    a = np.random.default_rng(7).standard_normal(5000)
    expected = float(np.sum(a[start:stop] ** 2))
    assert resolve("sumsq", impl)(a, start, stop) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("impl", SUMSQ_IMPLS)
@pytest.mark.parametrize(
    "bad",
    [
        np.arange(10, dtype=np.float32),
        np.arange(10, dtype=np.int64),
        np.zeros((2, 5)),
        np.zeros(20)[::2],
        [1.0, 2.0],
    ],
    ids=["float32", "int64", "2d", "strided", "list"],
)
def test_sumsq_rejects_other_dtypes_and_layouts(impl: str, bad: object) -> None:
    with pytest.raises(TypeError, match="1-D C-contiguous float64"):
        resolve("sumsq", impl)(bad, 0, 2)


@pytest.mark.parametrize("impl", SUMSQ_IMPLS)
@pytest.mark.parametrize(("start", "stop"), [(-1, 3), (4, 3), (0, 11)])
def test_sumsq_rejects_out_of_range_bounds(impl: str, start: int, stop: int) -> None:
    with pytest.raises(ValueError, match="start <= stop"):
        resolve("sumsq", impl)(np.zeros(10), start, stop)


def test_releases_gil_matches_the_build() -> None:
    assert _native.kernels("cython-nogil").RELEASES_GIL is True
    assert _native.kernels("cython-gil").RELEASES_GIL is False
    for workload in ("fib", "sumsq", "counter"):
        assert kernel(workload, "cython-nogil").releases_gil is True
        assert kernel(workload, "cython-gil").releases_gil is False
        assert kernel(workload, "python").releases_gil is None


def test_native_modules_declare_their_directives() -> None:
    for impl in ("cython-gil", "cython-nogil"):
        directives = _native.kernels(impl).DIRECTIVES
        assert directives["freethreading_compatible"] is True
        assert directives["language_level"] == 3
        assert directives["embedsignature"] is True


def test_unknown_names_list_the_choices() -> None:
    with pytest.raises(ValueError, match="choose from fib, counter, sumsq"):
        resolve("nope", "python")
    with pytest.raises(ValueError, match="choose from python, cython-gil, cython-nogil"):
        resolve("fib", "rust")
