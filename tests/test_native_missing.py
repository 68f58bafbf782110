"""A variant that is not built fails loudly and names the command that builds it."""

from __future__ import annotations

import pytest

from gillab import _native, environment
from gillab.workloads import available, resolve


@pytest.fixture
def nogil_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_native.NATIVE_MODULES, "cython-nogil", "gillab._no_such_module")


@pytest.mark.usefixtures("nogil_missing")
def test_missing_variant_names_the_build_command() -> None:
    with pytest.raises(_native.NotBuiltError, match=r"not built.*pip install -e \."):
        resolve("fib", "cython-nogil")


@pytest.mark.usefixtures("nogil_missing")
def test_missing_variant_is_not_available_and_has_no_fallback() -> None:
    pairs = available()
    assert ("fib", "cython-nogil") not in pairs
    assert ("fib", "cython-gil") in pairs
    native = environment.native_variants()
    assert native["cython-nogil"]["built"] is False
    assert native["cython-gil"] == native["cython-gil"] | {"built": True, "releases_gil": False}
