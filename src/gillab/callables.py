"""A callable named by the user, and its inputs: 'module:attr' or 'file.py:attr', and --setup code (check, advise, the
target workload)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gillab.errors import TargetError


def load_target(target: str) -> Any:
    """Return the object named by 'package.module:attr' or 'path/to/file.py:attr' (attr may be dotted)."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise TargetError(
            f"target must look like package.module:attr or path/file.py:attr, got {target!r}"
        )
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise TargetError(f"no such file: {where}")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise TargetError(f"cannot load {where} as a module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except TargetError:
        raise
    except Exception as exc:
        raise TargetError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"{where} has no attribute {attr!r}") from None
    if not callable(obj):
        raise TargetError(f"{target} is a {type(obj).__name__}, not a callable")
    return obj


def call_inputs(
    setup: str | None, args: list[Any] | None
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Return the call's (args, kwargs): from --args, else from the names --setup defines.

    If the setup code defines ``args`` and/or ``kwargs`` they are used as such; otherwise every name it
    defines (modules it imports and names starting with _ aside) is passed positionally, in the order defined.
    """
    if setup is None:
        return tuple(args or ()), {}
    namespace: dict[str, Any] = {}
    try:
        exec(compile(setup, "<--setup>", "exec"), namespace)
    except Exception as exc:
        raise TargetError(f"--setup failed: {type(exc).__name__}: {exc}") from None
    namespace.pop("__builtins__", None)
    if "args" in namespace or "kwargs" in namespace:
        return tuple(namespace.get("args", ())), dict(namespace.get("kwargs", {}))
    values = (
        v
        for k, v in namespace.items()
        if not k.startswith("_") and not isinstance(v, types.ModuleType)
    )
    return (*values, *(args or ())), {}


def task_inputs(setup: str | None, expr: str) -> list[Any]:
    """Return the list --inputs EXPR makes, one input per task (EXPR sees the names --setup defines)."""
    namespace: dict[str, Any] = {}
    if setup is not None:
        try:
            exec(compile(setup, "<--setup>", "exec"), namespace)
        except Exception as exc:
            raise TargetError(f"--setup failed: {type(exc).__name__}: {exc}") from None
    try:
        value = eval(compile(expr, "<--inputs>", "eval"), namespace)
        items = list(value)
    except TypeError:
        raise TargetError(f"--inputs {expr!r} is not an iterable expression") from None
    except Exception as exc:
        raise TargetError(f"--inputs {expr!r} failed: {type(exc).__name__}: {exc}") from None
    if not items:
        raise TargetError(f"--inputs {expr!r} is empty: give at least one input")
    return items


def reference(func: Callable[..., Any]) -> str | None:
    """Return 'module:qualname' where importing it gives back this very object, else None."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if obj is func else None


def name_of(func: Callable[..., Any]) -> str:
    """A readable name for a callable: module.qualname where it has them."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if qualname:
        return f"{module}.{qualname}" if module and module != "builtins" else qualname
    return repr(func)
