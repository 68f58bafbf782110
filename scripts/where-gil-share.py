"""A line's GIL share, profiled again and again: the check behind issue 39's "does this line let go?".

usage: python scripts/where-gil-share.py [PROFILES]   (run from the repository root; default 10 profiles)

Each profile is `check --where` of two callables from tests/where_targets.py on 1 and 2 threads, under the
interpreter that runs this script (3.14 or newer: RemoteUnwinder; before: py-spy). It prints, per profile,
each line's GIL held share (read alone) and its wait for the GIL on 2 threads, then the ranges:
- compress_then_loop: the zlib line lets go (held 0.2 or less), the loop line holds (0.9 or more);
- loop: two pure-Python threads take turns, so each waits for the GIL about half its time on the loop line.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from gillab.checker.api import check_target

LINES = {
    "compress_then_loop": ("zlib.compress(DATA, 6)", "x += i * i"),
    "loop": ("x += i * i",),
}


def main() -> None:
    profiles = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    got: dict[tuple[str, str], list[tuple[float | None, float | None]]] = {}
    for i in range(profiles):
        for func, lines in LINES.items():
            where = check_target(
                f"where_targets:{func}",
                args=[20000],
                threads=(1, 2),
                duration_s=1.0,
                safety_s=None,
                where=True,
            ).where
            assert where is not None
            by = {ln.source: ln for ln in where.lines}
            for text in lines:
                ln = by.get(text)
                pair = (ln.gil_held, ln.gil_wait) if ln is not None else (None, None)
                got.setdefault((func, text), []).append(pair)
                print(f"{i + 1:2d} {func:19s} {text:24s} held {pair[0]} wait {pair[1]}", flush=True)
    print(f"{sys.version.split()[0]}, {where.sampler}, {profiles} profiles:")
    for (func, text), pairs in got.items():
        held = [h for h, _ in pairs if h is not None]
        wait = [w for _, w in pairs if w is not None]
        print(
            f"  {func} `{text}`: held {min(held, default=0):.2f}-{max(held, default=0):.2f}, wait on 2 "
            f"threads {min(wait, default=0):.2f}-{max(wait, default=0):.2f} ({len(pairs) - len(held)} unseen)"
        )


if __name__ == "__main__":
    main()
