"""The child side of `gillab check` and `gillab catalogue`: load the target, measure, write JSON lines.

Run as ``python -m gillab.checker.child SPEC`` (gillab.childproc.run_spec). The spec's ``job`` says what:

- ``check``: one target, measured (threads) or swept (sizes); one line {"measurement" or "sweep",
  "gil_import"};
- ``catalogue``: the named entries, one line {"row"} each, written as soon as it is measured.

Exit status EXIT_BAD_INPUT when the target cannot be loaded, EXIT_RAISED when it raised; the last line
then holds {"error"}.
"""

from __future__ import annotations

import json
import pickle
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from gillab import environment
from gillab.callables import call_inputs, load_target
from gillab.childproc import EXIT_BAD_INPUT, EXIT_RAISED
from gillab.codec import encode
from gillab.errors import TargetError


def gil_on_import(load: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run load() and say whether it turned the GIL back on (a free-threaded build's readiness question)."""
    value, before, after, warning = environment.watch_gil(load)
    return value, {
        "free_threaded_build": getattr(sys, "_is_gil_enabled", None) is not None,
        "gil_before": before,
        "gil_after": after,
        "reenabled": before is False and after is True,
        "warning": warning,
    }


def _write(out: IO[str], doc: dict[str, Any]) -> None:
    out.write(json.dumps(doc) + "\n")
    out.flush()


def _load(spec: dict[str, Any]) -> tuple[Any, tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """The callable, its first inputs, and whether importing it turned the GIL back on."""
    readiness: dict[str, Any] = {}
    if spec.get("pickle_path"):
        func, args, kwargs = pickle.loads(Path(spec["pickle_path"]).read_bytes())
        if spec.get("target"):
            func, readiness = gil_on_import(lambda: load_target(spec["target"]))
        return func, args, kwargs, readiness
    func, readiness = gil_on_import(lambda: load_target(spec["target"]))
    setup: str | None = spec.get("setup")
    if (
        spec.get("sizes") and setup is not None
    ):  # the first size's inputs, to prove the setup before measuring
        setup = setup.replace("{n}", str(spec["sizes"][0]))
    args, kwargs = call_inputs(setup, spec.get("args"))
    return func, args, kwargs, readiness


def check(spec: dict[str, Any], out: IO[str]) -> int:
    """Measure (or sweep) one target; write its figures as one line."""
    try:
        func, args, kwargs, readiness = _load(spec)
    except TargetError as exc:
        _write(out, {"error": str(exc)})
        return EXIT_BAD_INPUT
    except Exception as exc:  # unpickling: a module the child cannot import
        _write(
            out, {"error": f"cannot load the callable in the child: {type(exc).__name__}: {exc}"}
        )
        return EXIT_BAD_INPUT
    try:
        if spec.get("on_interpreters"):
            from gillab.checker.interpreters import measure_interpreters

            scaled = measure_interpreters(
                spec["target"],
                spec.get("setup"),
                spec.get("args"),
                spec["threads"],
                spec["duration_s"],
            )
            doc = {"interpreters": encode(scaled)}
        elif spec.get("sizes"):
            from gillab.checker.sweep import sweep

            template, given = spec["setup"], spec.get("args")
            got = sweep(
                func, lambda n: call_inputs(template.replace("{n}", str(n)), given), spec["sizes"]
            )
            doc = {"sweep": got.to_json()}
        else:
            from gillab.checker.measure import measure

            def after_alone(
                so_far: Any,
            ) -> None:  # the figures of one calling thread, kept; then the trial
                _write(out, {"serial": encode(so_far), "gil_import": readiness})
                _safety_trial(
                    func, args, kwargs, spec, out, so_far.scaling[0].calls if so_far.scaling else 0
                )

            doc = {
                "measurement": encode(
                    measure(func, args, kwargs, spec["threads"], spec["duration_s"], after_alone)
                )
            }
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        _write(
            out,
            {"error": f"{type(exc).__name__}: {exc}", "where": f"{last.filename}:{last.lineno}"},
        )
        return EXIT_RAISED
    _write(out, doc | {"gil_import": readiness})
    return 0


def _safety_trial(
    func: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    spec: dict[str, Any],
    out: IO[str],
    alone_calls: int,
) -> None:
    """The safety trial, where the spec asks for it: its start line (the parent's deadline), then its verdict."""
    asked = spec.get("safety")
    if not asked:
        return
    from gillab.checker.safety import threads_trial

    got = threads_trial(
        func,
        args,
        kwargs,
        alone_calls,
        asked["seconds"],
        asked.get("counts_path"),
        lambda d: _write(out, d),
    )
    _write(out, {"safety": encode(got)})


def _load_again(
    spec: dict[str, Any], out: IO[str]
) -> tuple[Any, tuple[Any, ...], dict[str, Any]] | None:
    """The callable and its inputs, loaded once already in the check itself; None where it cannot be loaded
    here (its error line written)."""
    try:
        func, args, kwargs, _ = _load(spec)
    except Exception as exc:
        _write(
            out, {"error": f"cannot load the callable in the child: {type(exc).__name__}: {exc}"}
        )
        return None
    return func, args, kwargs


def safety(spec: dict[str, Any], out: IO[str]) -> int:
    """The safety trial alone (a free-threaded build's second trial, with PYTHON_GIL=1)."""
    loaded = _load_again(spec, out)
    if loaded is None:
        return EXIT_BAD_INPUT
    func, args, kwargs = loaded
    try:
        func(*args, **kwargs)
        _safety_trial(func, args, kwargs, spec, out, 1)
    except Exception as exc:
        _write(out, {"error": f"{type(exc).__name__}: {exc}"})
        return EXIT_RAISED
    return 0


def where(spec: dict[str, Any], out: IO[str]) -> int:
    """The line profile's calls (gillab.checker.where.calls): alone, then on N threads, while the sampler that
    started this child reads its stacks."""
    from gillab.checker.where.calls import run_phases

    loaded = _load_again(spec, out)
    if loaded is None:
        return EXIT_BAD_INPUT
    func, args, kwargs = loaded
    attached, pause = spec.get("attached_path"), spec.get("pause_path")
    try:
        run_phases(
            func,
            args,
            kwargs,
            max(spec["threads"]),
            spec["duration_s"],
            lambda d: _write(out, d),
            (Path(attached), Path(pause) if pause else None) if attached else None,
        )
    except Exception as exc:
        _write(out, {"error": f"{type(exc).__name__}: {exc}"})
        return EXIT_RAISED
    return 0


def catalogue(spec: dict[str, Any], out: IO[str]) -> int:
    """Measure every entry the spec names, writing each row as soon as it is measured."""
    from gillab.checker.catalogue import measure_entry
    from gillab.checker.entries import ENTRIES
    from gillab.harness.pools import pin_to_one

    pin_to_one()  # numpy's BLAS pool: one thread, so that the threads measured are the check's own
    names = set(spec["names"])
    for entry in ENTRIES:
        if entry.name in names:
            _write(out, {"row": measure_entry(entry, spec["duration_s"]).to_json()})
    return 0


JOBS = {"check": check, "catalogue": catalogue, "safety": safety, "where": where}


def main(spec_path: str) -> int:
    """Run the job the JSON spec file describes, appending its lines to the spec's result file."""
    spec = json.loads(Path(spec_path).read_text())
    with Path(spec["result_path"]).open("a") as out:
        return JOBS[spec["job"]](spec, out)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
