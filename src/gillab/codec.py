"""Frozen dataclasses to JSON and back, driven by their type hints: the one codec every result file uses.

- ``encode`` turns a dataclass (and the tuples, dicts and enums inside it) into plain JSON data, field by
  field in declaration order. A field declared with ``omit_if_none()`` is left out while it is None, so
  that optional blocks (an engine, an error) appear only where they were measured.
- ``decode`` rebuilds a dataclass from such data by its type hints: tuples, unions with None, nested
  dataclasses, dicts, enums and Literals. A missing field takes its default; an unknown key, a wrong type or
  a Literal outside its values is a :class:`~gillab.errors.ResultsError` naming the field.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class P:
...     x: int
...     tags: tuple[str, ...] = ()
>>> encode(P(1, ("a",)))
{'x': 1, 'tags': ['a']}
>>> decode(P, {"x": 2})
P(x=2, tags=())
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from gillab.errors import ResultsError

T = TypeVar("T")
R = TypeVar("R", bound="Record")
OMIT = "omit_if_none"


def omit_if_none(default: Any = None) -> Any:
    """A dataclass field left out of the JSON while it is None."""
    return dataclasses.field(default=default, metadata={OMIT: True})


def encode_fields(value: Any) -> dict[str, Any]:
    """Return a dataclass instance as a JSON-ready dict (see :func:`encode`)."""
    out: dict[str, Any] = encode(value)
    return out


def encode(value: Any) -> Any:
    """Return value as JSON-ready data (dataclasses as dicts in field order, tuples as lists, enums by value)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None and f.metadata.get(OMIT):
                continue
            out[f.name] = encode(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


DISPLAYS: dict[type, Callable[[Any], str]] = {}
"""Result class -> its HTML, registered by gillab.notebook.display (a layer above the results themselves)."""


class Displayable:
    """A result a notebook shows as HTML (``_repr_html_``), once gillab.notebook.display has registered how
    (``%load_ext gillab`` does); before that, IPython shows its repr."""

    def _repr_html_(self) -> str | None:
        for cls in type(self).__mro__:
            if cls in DISPLAYS:
                return DISPLAYS[cls](self)
        return None


class Record(Displayable):
    """A frozen dataclass that is its own JSON document: ``to_json()`` and ``from_json()`` through this codec."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form, field by field."""
        return encode_fields(self)

    @classmethod
    def from_json(cls: type[R], doc: dict[str, Any]) -> R:
        """Read the JSON form back; ResultsError names what does not fit."""
        return decode(cls, doc, cls.__name__)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls, vars(module))


def decode(cls: type[T], data: Any, where: str = "") -> T:
    """Rebuild a cls (a dataclass) from JSON data by its type hints; ResultsError names what does not fit."""
    value: T = _decode(cls, data, where or cls.__name__)
    return value


def _decode(tp: Any, data: Any, where: str) -> Any:  # noqa: PLR0911 - one return per kind of type
    if tp is Any:
        return data
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _union(tp, data, where)
    if origin is Literal:
        if data not in get_args(tp):
            raise ResultsError(
                f"{where}: {data!r} is not one of {', '.join(map(repr, get_args(tp)))}"
            )
        return data
    if origin is tuple:
        return _tuple(tp, data, where)
    if origin in (dict, Mapping):
        _expect(data, dict, where)
        _, value_tp = get_args(tp)
        return {k: _decode(value_tp, v, f"{where}.{k}") for k, v in data.items()}
    if origin is list:
        _expect(data, list, where)
        return [_decode(get_args(tp)[0], v, f"{where}[{i}]") for i, v in enumerate(data)]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp, data, where)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise ResultsError(f"{where}: {data!r} is not a {tp.__name__}") from None
    return _scalar(tp, data, where)


def _union(tp: Any, data: Any, where: str) -> Any:
    args = get_args(tp)
    if data is None:
        if type(None) in args:
            return None
        raise ResultsError(f"{where}: null where a value was expected")
    failures = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return _decode(arg, data, where)
        except ResultsError as exc:
            failures.append(str(exc))
    raise ResultsError(failures[-1] if failures else f"{where}: {data!r} fits none of its types")


def _tuple(tp: Any, data: Any, where: str) -> tuple[Any, ...]:
    _expect(data, list, where)
    args = get_args(tp)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
    if len(args) != len(data):
        raise ResultsError(f"{where}: {len(data)} items where {len(args)} were expected")
    return tuple(
        _decode(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
    )


def _dataclass(cls: type, data: Any, where: str) -> Any:
    _expect(data, dict, where)
    hints = _hints(cls)
    fields = dataclasses.fields(cls)
    names = {f.name for f in fields if f.init}
    derived = {
        f.name for f in fields if not f.init
    }  # computed from the others: recomputed, not read
    unknown = sorted(set(data) - names - derived)
    if unknown:
        raise ResultsError(f"{where}: unknown field {unknown[0]!r}")
    kwargs = {k: _decode(hints[k], v, f"{where}.{k}") for k, v in data.items() if k in names}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ResultsError(f"{where}: {exc}") from None


def _scalar(tp: Any, data: Any, where: str) -> Any:
    if tp is float and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    if tp is int and isinstance(data, int) and not isinstance(data, bool):
        return data
    if tp in (str, bool) and isinstance(data, tp):
        return data
    if tp is type(None) and data is None:
        return None
    if tp is object:
        return data
    raise ResultsError(f"{where}: {data!r} is not a {getattr(tp, '__name__', tp)}")


def _expect(data: Any, kind: type, where: str) -> None:
    if not isinstance(data, kind):
        raise ResultsError(f"{where}: {type(data).__name__} where a {kind.__name__} was expected")
