"""`gillab check --where`: the line, and the object, that keep a callable's threads from scaling.

Three processes, and the user's code runs in one only:

- gillab's own (any Python): asks for the profile and reads it back (:func:`profile_where`);
- the sampler (gillab.checker.where.sampler), under the interpreter the check runs under: it starts the child
  and reads every thread's Python stack in it from outside, about a thousand times a second;
- the child (gillab.checker.where.calls): calls the callable alone, then on N threads, and says when.

The profile (gillab.checker.where.profile) sets each line's cost per call on N threads against its cost alone;
the object a contended line touches is read from its bytecode (gillab.checker.where.objects); the sentence and
the table are built once (gillab.checker.where.view).
"""

from __future__ import annotations

import sys
from dataclasses import replace

from gillab.checker.child_spec import ChildSpec
from gillab.checker.run import ChildFigures, child_env
from gillab.checker.safety import CRASHED, HUNG
from gillab.checker.verdict import scales
from gillab.checker.where import spy
from gillab.checker.where.profile import Where
from gillab.checker.where.sampler import unavailable
from gillab.childproc import run_spec
from gillab.codec import decode

SAMPLER = "gillab.checker.where.sampler"
PHASE_S = 1.0
"""Seconds the callable is called alone, then on N threads, while sampled: about a thousand samples each."""


def profile_where(
    spec: ChildSpec,
    files: dict[str, bytes],
    python: str | None,
    timeout_s: float,
    name: str,
    phase_s: float = PHASE_S,
    by_default: bool = False,
) -> Where:
    """The line profile of the callable spec names (its inputs, its thread counts): alone, then on the most
    threads asked for. A Where with no sampler, and a note, where none could run or the profile failed (the
    callable raised, crashed or hung): a check is whole without it."""
    job = replace(spec, job="where", duration_s=phase_s).to_json() | {
        "timeout_s": timeout_s,
        "spy": spy.binary(),  # before 3.14, the interpreter checked may have no py-spy of its own
        "by_default": by_default,  # not asked for: before 3.14 (py-spy's), none runs
    }
    ran = run_spec(
        SAMPLER,
        job,
        f"the line profile of {name}",
        python=python,
        timeout_s=timeout_s + 10,
        files=files,
        env=child_env(python),
    )
    if ran.interrupted:
        raise KeyboardInterrupt
    got = next((x["where"] for x in ran.lines if "where" in x), None)
    if got is not None:
        return decode(Where, got)
    error = next((x["error"] for x in ran.lines if "error" in x), "")
    why = f"it raised {error}" if error else ran.failure("the line profile", timeout_s)
    return Where(None, note=why or "the sampler wrote nothing")


def profile_if(
    spec: ChildSpec,
    files: dict[str, bytes],
    python: str | None,
    timeout_s: float,
    where: bool | None,
    got: ChildFigures,
    name: str,
) -> Where | None:
    """The line profile where asked for; by default (None) where threads do not speed it up and 3.14's sampler
    can run (py-spy's, before 3.14, doubles a check's time: it runs where asked for). Never where threads crashed
    or hung it in the safety trial: the profile calls it on threads too."""
    assert got.measurement is not None
    if where is False or (
        where is None
        and (
            scales(got.measurement)
            or (python is None and (sys.version_info < (3, 14) or bool(unavailable())))
        )
    ):
        return None
    if got.safety is not None and got.safety.verdict in (CRASHED, HUNG):
        why = f"the profile calls it on threads, and the safety trial found {got.safety.sentence}"
        return Where(None, note=why) if where else None
    found = profile_where(spec, files, python, timeout_s, name, by_default=where is None)
    return found if where or found.sampler is not None else None
