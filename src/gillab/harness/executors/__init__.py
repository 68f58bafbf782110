"""The executors: one registry of classes, each carrying its own facts.

Each module below defines executor classes and registers them with ``@register``: the standard library's
(local), subinterpreters (interpreter) and dask.distributed's (dask). Adding an executor is one class in one
of them; `gillab run --executor`, the harness, the outputs and bench/ then know it.

>>> names()[:4]
('serial', 'thread', 'process', 'asyncio')
>>> get("process").gil_per_worker, get("thread").shares_gil
(True, True)
"""

from __future__ import annotations

from gillab.harness.executors import dask, interpreter, local
from gillab.harness.executors.base import REGISTRY, Executor, Family, register

__all__ = [
    "Executor",
    "Family",
    "baseline",
    "demo",
    "family",
    "get",
    "having",
    "lookup",
    "make",
    "names",
    "register",
    "unavailable",
    "workers_word",
]

MODULES = (local, interpreter, dask)
"""The modules that register executors, in the order their executors are listed (each in its own order)."""
_RANK = {m.__name__: i for i, m in enumerate(MODULES)}
_LISTED = sorted(REGISTRY.values(), key=lambda cls: _RANK[cls.__module__])
REGISTRY.clear()
REGISTRY.update((cls.name, cls) for cls in _LISTED)


def names() -> tuple[str, ...]:
    """Every executor's name, in the order registered."""
    return tuple(REGISTRY)


def get(name: str) -> type[Executor]:
    """Return the executor class of that name; ValueError listing the names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown executor {name!r}; choose from {', '.join(REGISTRY)}") from None


def having(fact: str) -> tuple[str, ...]:
    """The names of the executors whose class has that fact set ("engine", "in_demo", ...).

    >>> having("baseline")
    ('serial',)
    """
    return tuple(n for n, cls in REGISTRY.items() if getattr(cls, fact))


def lookup(name: str) -> type[Executor]:
    """The executor class of that name, or the base class (its default facts) for a name this gillab does
    not know (a results file from another version)."""
    return REGISTRY.get(name, Executor)


def demo() -> tuple[str, ...]:
    """The default run's executors: those in the demo that can run here (interpreters on 3.12+ only)."""
    return tuple(n for n, cls in REGISTRY.items() if cls.in_demo and cls.unavailable() is None)


def family(name: str) -> Family:
    """What kind of workers an executor has, from its facts (its class's family())."""
    return lookup(name).family()


def workers_word(name: str) -> str:
    """An executor's workers in a sentence: "threads", "processes", "dask-threads workers"."""
    return lookup(name).plural or f"{name} workers"


def unavailable(name: str) -> str | None:
    """Return why an executor cannot run here, or None when it can."""
    return get(name).unavailable()


def make(name: str, workers: int, scheduler: str | None = None) -> Executor:
    """Return an executor by name (not yet started); scheduler: an existing cluster's address, for an engine."""
    return get(name)(workers, scheduler)


def baseline() -> str:
    """The name of the serial baseline every speedup is taken against."""
    return next(n for n, cls in REGISTRY.items() if cls.baseline)
