"""The child side of `gillab compare`'s single-thread cost: one interpreter runs each impl's task alone.

Run as ``python -m gillab.harness.pythons.serial SPEC`` (gillab.childproc.run_spec), under the interpreter being
measured. The spec names the workload, each impl's size and how many calls to time. For each impl it warms
the task once, then times `reps` calls one after another on this one thread, and writes one line
{"impl", "walls_s", "interpreter"} (or {"impl", "error"} where the impl cannot run here).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Any

from gillab.childproc import EXIT_BAD_INPUT
from gillab.environment import interpreter_label
from gillab.errors import GillabError


def _write(out: IO[str], doc: dict[str, Any]) -> None:
    out.write(json.dumps(doc) + "\n")
    out.flush()


def measure(spec: dict[str, Any], out: IO[str]) -> int:
    """Time each impl's task, alone on this thread; one line per impl."""
    from gillab.workloads.jobs import job

    label = interpreter_label()
    for impl in spec["impls"]:
        try:
            run = job(spec["workload"], impl, int(spec["sizes"][impl]))
            run()  # warm: imports, caches, the specialising interpreter's first pass
        except (GillabError, ValueError) as exc:
            _write(out, {"impl": impl, "error": str(exc)})
            continue
        walls = []
        for _ in range(int(spec["reps"])):
            t0 = time.perf_counter()
            run()
            walls.append(time.perf_counter() - t0)
        _write(out, {"impl": impl, "walls_s": walls, "interpreter": label})
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m gillab.harness.pythons.serial SPEC", file=sys.stderr)
        return EXIT_BAD_INPUT
    spec = json.loads(Path(argv[0]).read_text())
    with open(spec["result_path"], "a") as out:
        return measure(spec, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
