#!/usr/bin/env python3
"""Each line's GIL-held share as `gillab check --where` gives it, beside py-spy's own, before CPython 3.14.

    python scripts/where-vs-py-spy.py [--runs 3] [--seconds 6]

py-spy's figure: a plain script calls tests/where_targets.py's compress_then_loop on 2 threads, and two plain
py-spy processes read it at once (raw output): one with `--gil --idle`, one with `--idle`. A line's share is the
first's samples on it over the second's. gillab's: `gillab check ... --where --json`, each line's `gil_held`.
Both under this interpreter, with py-spy beside it or on PATH. Prints, per run, the share of each line, then of
the issue's two: the compress line (12) and the loop's line (15, `x += i * i`), as tests/test_where.py asserts
them. Line 14, the `for`, is where the eval loop hands the GIL over: a thread that let it go waits there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "where_targets.py"
N = 20000
PLAIN = """
import ctypes, os, sys, threading, time
sys.path.insert(0, {folder!r})
from where_targets import compress_then_loop
ctypes.CDLL(None).prctl(0x59616D61, os.getppid(), 0, 0, 0)  # Yama: the parent's children may read this one
end = time.monotonic() + {seconds}
def work():
    while time.monotonic() < end:
        compress_then_loop({n})
ts = [threading.Thread(target=work) for _ in range(2)]
[t.start() for t in ts]
[t.join() for t in ts]
"""
FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


def spy_path() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("where-vs-py-spy: no py-spy beside this Python or on PATH")
    return found


LOOP = (15,)


def plain(seconds: float, tmp: Path) -> dict[int | str, float]:
    """Each line of where_targets.py, and the loop: py-spy's GIL holder's samples on it over every thread's."""
    script = tmp / "plain.py"
    script.write_text(PLAIN.format(folder=str(TARGETS.parent), seconds=seconds, n=N))
    target = subprocess.Popen([sys.executable, str(script)])
    time.sleep(0.5)
    readers = []
    for name, extra in (("every", []), ("holder", ["--gil"])):
        out = tmp / f"{name}.txt"
        cmd = [spy_path(), "record", "-p", str(target.pid), "-r", "100", "--nonblocking", "--idle"]
        cmd += ["--full-filenames", "-f", "raw", "-o", str(out), *extra]
        readers.append(
            (out, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        )
    target.wait()
    counts = []
    for out, proc in readers:
        proc.wait()
        c: Counter[int] = Counter()
        for line in out.read_text().splitlines():
            stack, n = line.rsplit(" ", 1)
            m = FRAME.match(stack.split(";")[-1])
            if m and m.group(2).endswith("where_targets.py"):
                c[int(m.group(3))] += int(n)
        counts.append(c)
    every, holder = counts
    got: dict[int | str, float] = {
        line: min(1.0, holder[line] / n) for line, n in every.items() if n >= 20
    }
    got["loop"] = min(1.0, sum(holder[x] for x in LOOP) / max(1, sum(every[x] for x in LOOP)))
    return got


def gillab(tmp: Path) -> dict[int | str, float]:
    out = tmp / "check.json"
    cmd = [
        sys.executable,
        "-m",
        "gillab",
        "check",
        f"{TARGETS}:compress_then_loop",
        "--args",
        str(N),
    ]
    cmd += ["--no-safety", "--where", "--json", str(out)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    where = json.loads(out.read_text())["where"]
    if where["sampler"] is None:
        raise SystemExit(f"where-vs-py-spy: gillab did not profile: {where['note']}")
    lines = [ln for ln in where["lines"] if ln["gil_held"] is not None]
    got: dict[int | str, float] = {ln["line"]: ln["gil_held"] for ln in lines}
    loop = [ln for ln in lines if ln["line"] in LOOP]
    time_on = sum(ln["threads"] for ln in loop)
    if time_on > 0:
        got["loop"] = sum(ln["threads"] * ln["gil_held"] for ln in loop) / time_on
    return got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6.0)
    opts = ap.parse_args()
    if sys.version_info >= (3, 14):
        print(
            "where-vs-py-spy: run it under a CPython before 3.14 (3.14 profiles with RemoteUnwinder)"
        )
        return 2
    for run in range(1, opts.runs + 1):
        with tempfile.TemporaryDirectory(prefix="gillab-vs-spy-") as tmp:
            theirs, ours = plain(opts.seconds, Path(tmp)), gillab(Path(tmp))
        lines = sorted(x for x in set(theirs) & set(ours) if isinstance(x, int))
        said = ", ".join(f"line {ln}: {ours[ln]:.2f} against {theirs[ln]:.2f}" for ln in lines)
        parts = [x for x in (12, "loop") if x in ours and x in theirs]
        told = ", ".join(f"{x}: {ours[x]:.2f} against {theirs[x]:.2f}" for x in parts)
        worst = max((abs(ours[x] - theirs[x]) for x in parts), default=float("nan"))
        print(
            f"run {run}: GIL held, gillab against py-spy: {said}; the compress line and the loop, "
            f"{told}: largest difference {worst:.2f}"
        )
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
