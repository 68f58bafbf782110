"""A variant that is not built fails loudly and names the command that builds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gillab import _native, environment
from gillab.errors import CannotLoadError
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
    assert native["cython-nogil"].built is False
    assert "not built" in (native["cython-nogil"].error or "")
    assert native["cython-gil"].built is True
    assert native["cython-gil"].releases_gil is False


def test_built_but_not_loadable_is_a_different_fact(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A module that is there but refuses to load (as a module without subinterpreter support does in a
    subinterpreter) is named as such, never as "not built"."""
    (tmp_path / "gillab_refuses_to_load.py").write_text(
        "raise ImportError('does not support loading here')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(_native.NATIVE_MODULES, "cython-nogil", "gillab_refuses_to_load")
    with pytest.raises(
        CannotLoadError, match="built but cannot be loaded here: does not support loading here"
    ):
        _native.kernels("cython-nogil")
    assert environment.native_variants()["cython-nogil"].built is False
