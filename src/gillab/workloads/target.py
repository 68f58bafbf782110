"""The user's own callable as a workload: `gillab run --target T` and `gillab advise T`.

A target workload is named by its spec, so that any worker (a thread, a process, an interpreter, a dask
worker) rebuilds it from the name alone: ``target:`` and the spec as JSON (the callable, --setup, --args,
--inputs). Each task's input travels with its call, as it would with the user's own pool
(``executor.map(func, inputs)``): threads share it, processes and interpreters receive it pickled, so their
transfer cost is measured, not assumed. Without --inputs every task calls the callable `size` times on the
same input (size is calibrated, as for any workload); with --inputs there is one task per input, one call
each. A task's result is checked against the serial result for the same input, computed here once.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from gillab.callables import call_inputs, load_target, task_inputs
from gillab.errors import TargetError
from gillab.workloads.base import Impl, Workload

PREFIX = "target:"
Call = tuple[tuple[Any, ...], dict[str, Any]]
"""One call's (args, kwargs)."""


@dataclass(frozen=True)
class TargetSpec:
    """What the user named: the callable, its inputs' code, and the list of per-task inputs."""

    target: str
    setup: str | None = None
    args: tuple[Any, ...] | None = None
    inputs: str | None = None
    path: str | None = None
    """A folder put on sys.path before the callable's module is imported (where the user ran gillab): a worker
    process or interpreter does not inherit the folder a console script was started in."""
    title: str | None = None
    """What a reader calls it (a notebook cell's code), where the callable's own name says little."""

    @property
    def name(self) -> str:
        """The workload's name: every worker rebuilds the workload from it."""
        doc = {
            "target": self.target,
            "setup": self.setup,
            "args": list(self.args) if self.args else None,
            "inputs": self.inputs,
            "path": self.path,
        }
        if self.title:
            doc["title"] = self.title
        return PREFIX + json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @property
    def label(self) -> str:
        """How a reader sees it: its title, or the callable (a file by its name alone), and its inputs expression."""
        where, sep, attr = self.target.rpartition(":")
        name = self.title or (
            f"{Path(where).name}:{attr}" if sep and where.endswith(".py") else self.target
        )
        return name + (f" over {self.inputs}" if self.inputs else "")


def spec_of(name: str) -> TargetSpec:
    """The spec a target workload's name holds."""
    doc = json.loads(name[len(PREFIX) :])
    args = tuple(doc["args"]) if doc.get("args") is not None else None
    return TargetSpec(
        doc["target"], doc.get("setup"), args, doc.get("inputs"), doc.get("path"), doc.get("title")
    )


@dataclass(frozen=True)
class Target(Workload):
    """A task calls the user's callable: `size` times on one input, or once on its own input (--inputs)."""

    spec: TargetSpec = field(default_factory=lambda: TargetSpec(""))

    @property
    def label(self) -> str:
        return self.spec.label

    def calls(self, tasks: int) -> list[Call]:
        """Each task's call (args, kwargs), in task order: the same objects every time in this process (its setup
        runs once), so that every cell's tasks get what the serial baseline got."""
        return list(_calls(self.name, tasks))

    @property
    def fixed_tasks(self) -> int | None:
        """With --inputs, one task per input."""
        return (
            len(_inputs(self.spec.setup, self.spec.inputs))
            if self.spec.inputs is not None
            else None
        )

    def payloads(self, size: int, tasks: int) -> list[Any] | None:
        return list(self.calls(tasks))

    def task_with(
        self, func: Callable[..., Any], module: ModuleType, size: int, payload: Any
    ) -> Callable[[], Any]:
        args, kwargs = payload

        def run() -> Any:
            result = None
            for _ in range(max(1, size)):
                result = func(*args, **kwargs)
            return result

        return run

    def task(self, func: Callable[..., Any], module: ModuleType, size: int) -> Callable[[], Any]:
        return self.task_with(func, module, size, self.calls(1)[0])

    def expected(self, size: int) -> Any:
        raise NotImplementedError(
            "a target's tasks are checked against its serial baseline's results"
        )

    def agrees(self, result: Any, want: Any) -> bool:
        return bool(result == want)

    def mismatch(self, index: int, result: Any, want: Any) -> str:
        return f"results differ from serial for input {index}: not safe to run in threads?"


def comparable(value: Any) -> str:
    """Return "" where a result can be compared with itself; else why not (no __eq__ of its own, a NaN)."""
    if getattr(type(value), "__eq__", None) is object.__eq__ and value is not None:  # identity only
        return f"its results cannot be compared ({type(value).__name__} has no __eq__ of its own)"
    try:
        ok = bool(value == value)  # noqa: PLR0124 - the question is whether a value equals itself
    except Exception as exc:
        return f"its results cannot be compared ({type(exc).__name__}: {exc})"
    if (isinstance(value, float) and math.isnan(value)) or not ok:
        return "its results cannot be compared (a result is not equal to itself, a NaN say)"
    return ""


@cache
def _calls(name: str, tasks: int) -> tuple[Call, ...]:
    spec = spec_of(name)
    if spec.inputs is not None:
        return tuple(((x,), {}) for x in _inputs(spec.setup, spec.inputs))
    return (_one_call(name),) * tasks


@cache
def _one_call(name: str) -> Call:
    spec = spec_of(name)
    return call_inputs(spec.setup, list(spec.args) if spec.args is not None else None)


@cache
def _inputs(setup: str | None, expr: str) -> tuple[Any, ...]:
    return tuple(task_inputs(setup, expr))


@cache
def _func(target: str, path: str | None = None) -> Callable[..., Any]:
    if path is not None and path not in sys.path:
        sys.path.insert(0, path)
    func: Callable[..., Any] = load_target(target)
    return func


def _module(target: str, path: str | None) -> Callable[[], ModuleType]:
    def load() -> ModuleType:
        return SimpleNamespace(call=_func(target, path))  # type: ignore[return-value]

    return load


@cache
def workload(name: str) -> Target:
    """The target workload of that name (built once per process and interpreter)."""
    spec = spec_of(name)
    impl = spec.target.rpartition(":")[2].rsplit(".", 1)[-1] or "target"
    return Target(
        name=name,
        impls=(Impl(impl, _module(spec.target, spec.path), "call"),),
        default_impls=(impl,),
        calibration_start=1,
        size_limits=(1, 10**7),
        spec=spec,
    )


def prepare(
    target: str,
    setup: str | None = None,
    args: list[Any] | None = None,
    inputs: str | None = None,
    title: str | None = None,
) -> str:
    """Return the target workload's name for the user's callable, once it loads, its inputs are made and its
    first call returns; TargetError (one line) otherwise. A file's path is made absolute, and the folder gillab
    runs in is kept for importing a module, so that every worker finds the callable where this process did."""
    where, sep, attr = target.rpartition(":")
    path = None
    if sep and where.endswith(".py"):
        target = f"{Path(where).resolve()}:{attr}"
    else:
        path = os.getcwd()
    spec = TargetSpec(target, setup, tuple(args) if args is not None else None, inputs, path, title)
    func = _func(spec.target, spec.path)
    w = workload(spec.name)
    call_args, kwargs = w.calls(1)[0]
    try:
        func(*call_args, **kwargs)
    except Exception as exc:
        first = str(exc).strip().splitlines()
        raise TargetError(
            f"{target} raises on its first call: {type(exc).__name__}"
            + (f": {first[0]}" if first else "")
        ) from None
    return spec.name
