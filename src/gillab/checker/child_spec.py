"""What the parent of `gillab check` asks of its child (gillab.checker.child): one ChildSpec, sent as JSON."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from gillab.codec import encode


@dataclass(frozen=True)
class ChildSpec:
    """What the parent asks of the child: the job, the callable by name (or pickled beside the spec, in
    pickle_path), its inputs and how long to measure; built once here, sent as JSON (gillab.childproc)."""

    job: Literal["check", "safety", "catalogue", "where"]
    target: str | None = None
    setup: str | None = None
    args: list[Any] | None = None
    """The call's positional arguments, as JSON gave them."""
    threads: tuple[int, ...] = ()
    duration_s: float = 0.0
    sizes: tuple[int, ...] | None = None
    on_interpreters: bool = False
    names: tuple[str, ...] = ()
    """The catalogue's entries to measure."""

    def to_json(self) -> dict[str, Any]:
        """The spec as the child reads it."""
        return dict(encode(self))

    def as_job(self, job: Literal["check", "safety", "catalogue", "where"]) -> ChildSpec:
        """The same callable and inputs, for another job (a check's safety trial, run again)."""
        return replace(self, job=job)
