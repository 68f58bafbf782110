"""gillab's pytest plugin (entry point ``pytest11``): the fixture ``gil``, for extension authors' own tests.

    def test_my_kernel_releases_the_gil(gil):
        gil.assert_releases(mylib.kernel, big_input)

    def test_my_kernel_is_safe_in_threads(gil):
        assert gil.thread_safe(mylib.kernel, big_input)  # the verdict in words where it is not

    def test_my_loop_shares_nothing(gil):
        assert not gil.where(mylib.loop, data).contended  # the lines threads fight over, and what they share

Installing gillab is enough. Each check runs in a child process (``isolate=False`` to run it in the test's
own process); a failure says what was measured. With no GIL to hold (a free-threaded interpreter running
without one), assert_releases and assert_holds skip; on one usable core, assert_scales skips; where no sampler
can read the child's threads (before CPython 3.14), gil.where skips. The assertions on
the GIL leave the safety trial out (it is gil.thread_safe's); gil.check runs it, as gillab.check does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gillab import environment
from gillab.checker.api import CheckResult, Releases, check, thread_safe
from gillab.checker.safety import Safety
from gillab.checker.where.profile import Where
from gillab.checker.where.view import lesson


class GilFixture:
    """What the ``gil`` fixture gives a test: gillab.check and three assertions built on it."""

    def check(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> CheckResult:
        """Return gillab.check(func, *args, **kwargs): a CheckResult."""
        return check(func, *args, **kwargs)

    def thread_safe(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Safety:
        """Return gillab.thread_safe(func, *args, **kwargs): true where it is safe as far as tried; its repr says
        the verdict, so that `assert gil.thread_safe(f, x)` fails with it."""
        return thread_safe(func, *args, **kwargs)

    def where(self, func: Callable[..., Any], *args: Any, threads: int = 2, **kwargs: Any) -> Where:
        """The line profile of func on `threads` threads against alone (gillab.checker.where): its lines, the
        contended ones first, each with the object it touches that threads share. Its sentence is in its
        repr's lesson: `gillab.checker.where.view.lesson(w)`."""
        r = self.check(func, *args, threads=(1, threads), where=True, **{"safety": False, **kwargs})
        assert r.where is not None
        if r.where.sampler is None:
            pytest.skip(f"no line profile: {r.where.note}")
        return r.where

    def _result(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> CheckResult:
        if not environment.gil_enabled():
            pytest.skip("no GIL to hold: this free-threaded interpreter runs without one")
        return self.check(func, *args, **{"safety": False, **kwargs})

    def assert_releases(
        self, func: Callable[..., Any], *args: Any, min_fraction: float = 0.8, **kwargs: Any
    ) -> CheckResult:
        """Fail unless func releases the GIL: other threads get at least min_fraction of their progress beside
        it, or the interpreter's own GIL state shows the calling thread letting go of it."""
        r = self._result(func, args, kwargs)
        if r.releases is Releases.RELEASES and (
            r.decided_by == "GIL state" or r.gil_free_fraction >= min_fraction
        ):
            return r
        pytest.fail(f"expected {r.target} to release the GIL; {_measured(r)}", pytrace=False)

    def assert_holds(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> CheckResult:
        """Fail unless func holds the GIL while it runs."""
        r = self._result(func, args, kwargs)
        if r.releases is Releases.HOLDS:
            return r
        pytest.fail(f"expected {r.target} to hold the GIL; {_measured(r)}", pytrace=False)

    def assert_scales(
        self,
        func: Callable[..., Any],
        *args: Any,
        threads: int = 2,
        min_efficiency: float = 0.8,
        **kwargs: Any,
    ) -> CheckResult:
        """Fail unless `threads` threads calling func at once do at least min_efficiency of ideal scaling."""
        cores = environment.usable_cores()
        if cores < 2:
            pytest.skip(f"{cores} usable core: threads cannot scale here")
        r = self.check(func, *args, threads=(1, threads), **{"safety": False, **kwargs})
        level = next(lv for lv in r.scaling if lv.threads == threads)
        if level.efficiency is not None and level.efficiency >= min_efficiency:
            return r
        eff = "not measured" if level.efficiency is None else f"{level.efficiency:.2f}"
        where = self.check(
            func, *args, threads=(1, threads), where=True, **{"safety": False, **kwargs}
        ).where
        said = f" {lesson(where)[0]}" if where is not None and where.sampler is not None else ""
        pytest.fail(
            f"expected {threads} threads calling {r.target} to scale with efficiency >= {min_efficiency:g}; measured "
            f"{eff} (speedup {level.speedup or 0:.2f} on {min(threads, cores)} cores); {_measured(r)}.{said}",
            pytrace=False,
        )


def _measured(r: CheckResult) -> str:
    parts = [f"other threads got {r.gil_free_fraction:.0%} of their progress"]
    if r.held_fraction is not None:
        parts.append(
            f"the calling thread held the GIL {r.held_fraction:.0%} of its time inside calls"
        )
    if r.steps_during_calls is not None:
        parts.append(
            f"another thread made {r.steps_during_calls} steps during calls with no forced switch"
        )
    text = ", ".join(parts) + f" (gillab's verdict: {r.verdict})"
    return text


@pytest.fixture
def gil() -> GilFixture:
    """gillab's GIL checks: gil.check, gil.assert_releases, gil.assert_holds, gil.assert_scales, gil.thread_safe,
    gil.where."""
    return GilFixture()
