"""What a line touches that threads could share, read from its bytecode (the lesson of `gillab dis`).

Runs in the check's child, where the callable is loaded: a line's loads are resolved against the function's
own globals and closure, so "`d`" becomes "the module-level dict `SHARED_DICT`" when `d = SHARED_DICT` came
first. Kinds of shared object: a module global (dict, list, set, a Lock, an instance), a closure cell, an
attribute of the instance a method is called on. A local built in the function (`d = {}`) is its own.

>>> import threading
>>> TABLE = {}
>>> def put(n):
...     d = TABLE
...     for i in range(n):
...         d[i] = i
>>> touched(put)[put.__code__.co_filename, put.__code__.co_firstlineno + 3].shared
'the module-level dict `TABLE` (as `d`)'
"""

from __future__ import annotations

import dis
import functools
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_IMMUTABLE = (int, float, complex, str, bytes, tuple, frozenset, bool, range, type(None))
_NOT_DATA = (
    types.ModuleType,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    functools.partial,
)
_LOCKS = ("lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "Lock")


@dataclass(frozen=True)
class Touched:
    """The object a line touches that threads can share, in words."""

    shared: str
    """e.g. "the module-level dict `SHARED_DICT` (as `d`)"."""
    verb: str
    """What the line does to it: "stores into", "takes", "calls `append` on", "writes", "reads"."""
    kind: str
    """dict, list, set, lock, instance, attribute, closure or object."""
    name: str
    """The name it has in the module (or the attribute's), e.g. SHARED_DICT."""
    type_name: str = ""
    """The class of an instance (for an attribute of `self`, the class whose method the line is in)."""


def function_of(func: Any) -> types.FunctionType | None:
    """The Python function a callable runs (through partials, bound methods and __call__), or None (C code)."""
    for _ in range(5):
        if isinstance(func, types.FunctionType):
            return func
        if isinstance(func, functools.partial):
            func = func.func
        elif isinstance(func, types.MethodType):
            func = func.__func__
        elif isinstance(vars(type(func)).get("__call__"), types.FunctionType):
            func = vars(type(func))["__call__"]
        else:
            return None
    return None


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def _module_functions(func: types.FunctionType) -> Iterator[types.FunctionType]:
    """The callable itself, then every function and method of its module defined in the same file."""
    yield func
    file = func.__code__.co_filename
    for value in list(func.__globals__.values()):
        members = vars(value).values() if isinstance(value, type) else (value,)
        for member in members:
            m = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if isinstance(m, types.FunctionType) and m.__code__.co_filename == file:
                yield m


def touched(func: Any) -> dict[tuple[str, int], Touched]:
    """(file, line) -> the shared object each line of the callable's module touches (lines that touch none are
    left out); empty for C code."""
    root = function_of(func)
    if root is None:
        return {}
    out: dict[tuple[str, int], Touched] = {}
    seen: set[types.CodeType] = set()
    for f in _module_functions(root):
        for code in _codes(f.__code__):
            if code in seen:
                continue
            seen.add(code)
            for line, t in _lines(code, f).items():
                out.setdefault((code.co_filename, line), t)
    return out


def _lines(code: types.CodeType, func: types.FunctionType) -> dict[int, Touched]:
    """Line -> what it touches, in one code object."""
    by_line: dict[int, list[dis.Instruction]] = {}
    for ins in dis.get_instructions(code):
        if ins.positions is not None and ins.positions.lineno is not None:
            by_line.setdefault(ins.positions.lineno, []).append(ins)
    origins = _origins(by_line)
    method_of = _method_class(code, func)
    out: dict[int, Touched] = {}
    for line, instructions in by_line.items():
        t = _line(instructions, origins, func, method_of)
        if t is not None:
            out[line] = t
    return out


def _names(ins: dis.Instruction) -> tuple[str, ...]:
    v = ins.argval
    return tuple(v) if isinstance(v, tuple) else (v,) if isinstance(v, str) else ()


def _origins(by_line: dict[int, list[dis.Instruction]]) -> dict[str, tuple[str, str]]:
    """Local name -> where its value came from: ("global", NAME), ("closure", NAME) or ("own", "")."""
    out: dict[str, tuple[str, str]] = {}
    for ins in by_line.values():
        loads = [i for i in ins if i.opname in ("LOAD_GLOBAL", "LOAD_DEREF", "LOAD_NAME")]
        stores = [n for i in ins if i.opname.startswith("STORE_FAST") for n in _names(i)]
        if not stores:
            continue
        builds = any(i.opname.startswith(("BUILD_", "CALL", "LIST_", "MAP_", "DICT_")) for i in ins)
        if len(loads) == len(stores) and not builds:  # d = X, or a, b = X, Y: stored in reverse
            for name, load in zip(stores, reversed(loads), strict=True):
                kind = "closure" if load.opname == "LOAD_DEREF" else "global"
                out.setdefault(name, (kind, str(load.argval)))
        else:
            for name in stores:
                out.setdefault(name, ("own", ""))
    return out


def _method_class(code: types.CodeType, func: types.FunctionType) -> str:
    """The class whose method this code is (by its qualified name), where its first argument is `self`."""
    parts = code.co_qualname.split(".") if hasattr(code, "co_qualname") else []
    if len(parts) >= 2 and code.co_argcount >= 1 and code.co_varnames[0] == "self":
        return parts[-2]
    return ""


def _value(kind: str, name: str, func: types.FunctionType) -> tuple[bool, Any]:
    if kind == "global":
        return (name in func.__globals__), func.__globals__.get(name)
    if kind == "closure" and func.__closure__ is not None:
        names = func.__code__.co_freevars
        if name in names:
            try:
                return True, func.__closure__[names.index(name)].cell_contents
            except ValueError:  # an empty cell
                return False, None
    return False, None


def _kind(value: Any) -> str | None:
    """The kind of a shared value in one word, or None where threads cannot fight over it."""
    if isinstance(value, (_IMMUTABLE, _NOT_DATA)) or callable(value):
        return None
    if type(value).__name__ in _LOCKS:
        return "lock"
    for kind in (dict, list, set, bytearray):
        if isinstance(value, kind):
            return kind.__name__
    return "instance"


def _verb(ins: list[dis.Instruction], local: str, kind: str) -> str:
    ops = [i.opname for i in ins]
    if kind == "lock" or "BEFORE_WITH" in ops or "LOAD_SPECIAL" in ops:
        return "takes"
    for k, i in enumerate(ins):
        called = any(o.startswith("CALL") for o in ops[k:])
        if (
            i.opname in ("LOAD_ATTR", "LOAD_METHOD")
            and k
            and local in _names(ins[k - 1])
            and called
        ):
            return f"calls `{i.argval}` on"
    if "STORE_SUBSCR" in ops or "DELETE_SUBSCR" in ops:
        return "stores into"
    if "STORE_ATTR" in ops:
        return "writes"
    return "reads"


def _line(
    ins: list[dis.Instruction],
    origins: dict[str, tuple[str, str]],
    func: types.FunctionType,
    method_of: str,
) -> Touched | None:
    """The first object a line touches that threads can share: a Lock before a container before an instance;
    else a cycle it makes (a local made to refer to itself)."""
    found: list[Touched] = []
    cycle = _cycle(ins)
    for i in ins:
        for local in _names(i):
            if i.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                where, name = "global", local
            elif i.opname == "LOAD_DEREF":
                where, name = "closure", local
            elif i.opname.startswith("LOAD_FAST") and local in origins:
                where, name = origins[local]
            elif i.opname.startswith("LOAD_FAST") and local == "self" and method_of:
                found.extend(_of_self(ins, method_of))
                continue
            else:
                continue
            if where == "own":
                continue
            ok, value = _value(where, name, func)
            kind = _kind(value) if ok else None
            if kind is None:
                continue
            alias = f" (as `{local}`)" if local != name else ""
            type_name = type(value).__name__
            if where == "closure":
                what = f"the closure variable `{name}`{alias}, a {type_name}"
            elif kind == "lock":
                what = f"the Lock `{name}`{alias}"
            elif kind == "instance":
                what = f"the `{type_name}` `{name}`{alias}"
            else:
                what = f"the module-level {kind} `{name}`{alias}"
            found.append(Touched(what, _verb(ins, local, kind), kind, name, type_name))
    if not found and cycle:
        return Touched(
            f"`{cycle}`, which it makes refer to itself (garbage only the cycle collector can free)",
            "makes a cycle of",
            "cycle",
            cycle,
        )
    if not found:
        return None
    order = ("lock", "dict", "list", "set", "bytearray", "instance", "attribute")
    return min(found, key=lambda t: order.index(t.kind) if t.kind in order else len(order))


def _self_attr(ins: list[dis.Instruction]) -> str:
    """The attribute of `self` a line stores (else loads), or ""."""
    for op in ("STORE_ATTR", "LOAD_ATTR"):
        for i in ins:
            if i.opname == op and isinstance(i.argval, str):
                return i.argval
    return ""


def _cycle(ins: list[dis.Instruction]) -> str:
    """The local a line makes refer to itself, or "": `a.append(a)` (a method of it called with it), or
    `a[0] = a` and `a.x = a` (it stored into itself)."""
    flat: list[tuple[str, str]] = []  # (opname, local name or "")
    for i in ins:
        if i.opname.startswith("LOAD_FAST"):
            flat.extend(("LOAD_FAST", n) for n in _names(i))
        else:
            flat.append((i.opname, ""))
    for k in range(len(flat) - 3):
        (o1, r), (o2, _), (o3, a), (o4, _) = flat[k : k + 4]
        if (
            o1 == o3 == "LOAD_FAST"
            and r == a
            and o2 in ("LOAD_ATTR", "LOAD_METHOD")
            and o4.startswith(("CALL", "PRECALL"))
        ):
            return r
    for k in range(len(flat) - 1):
        (o1, v), (o2, c) = flat[k : k + 2]
        if o1 == o2 == "LOAD_FAST" and v == c and v:
            rest = [o for o, _ in flat[k + 2 : k + 4]]
            if "STORE_ATTR" in rest or "STORE_SUBSCR" in rest[1:] or rest[:1] == ["STORE_ATTR"]:
                return v
    return ""


def _of_self(ins: list[dis.Instruction], method_of: str) -> list[Touched]:
    """The attribute of `self` a method's line writes (else reads): the instance it is called on may be shared."""
    attr = _self_attr(ins)
    if not attr:
        return []
    verb = "writes" if any(x.opname == "STORE_ATTR" for x in ins) else "reads"
    what = f"`self.{attr}`, an attribute of the `{method_of}` it is called on"
    return [Touched(what, verb, "attribute", attr, method_of)]
