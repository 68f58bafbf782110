"""Run `gillab run` under each interpreter, in a venv of its own, and merge what they measured."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gillab.harness import results


def cache_dir() -> Path:
    """Return gillab's cache folder (GILLAB_CACHE, else XDG_CACHE_HOME/gillab, else ~/.cache/gillab)."""
    env = os.environ.get("GILLAB_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gillab"


def source_root() -> Path:
    """Return the source checkout gillab was installed from (compare installs it into each venv)."""
    from gillab.labs.annotate import source_dir

    return source_dir().parent


@dataclass(frozen=True)
class Condition:
    """One interpreter, possibly with PYTHON_GIL forced on."""

    python: str
    gil_forced: bool = False

    def env(self) -> dict[str, str]:
        """Return the environment the run gets."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
        if self.gil_forced:
            env["PYTHON_GIL"] = "1"
        return env


class InterpreterError(Exception):
    """This interpreter could not be prepared or could not run gillab; the message is one line."""


def _one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"


def describe(python: str) -> dict[str, Any]:
    """Return the interpreter's version and whether it is a free-threaded build."""
    code = (
        "import json, platform, sys, sysconfig; print(json.dumps({'version': platform.python_version(), "
        "'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), 'executable': sys.executable}))"
    )
    try:
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InterpreterError(f"{python}: cannot run it ({exc})") from None
    if proc.returncode != 0:
        raise InterpreterError(f"{python}: {_one_line(proc.stderr)}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def venv_for(python: str, info: dict[str, Any], log: Path) -> Path:
    """Create (once) a venv for the interpreter under the cache and pip install -e the checkout into it."""
    key = hashlib.sha256(f"{Path(info['executable']).resolve()} {info['version']}".encode()).hexdigest()[:12]
    venv = cache_dir() / "venvs" / f"{info['version']}{'t' if info['free_threaded'] else ''}-{key}"
    vpy = venv / "bin" / "python"
    with log.open("a") as fh:
        if not vpy.exists():
            proc = subprocess.run([python, "-m", "venv", str(venv)], stdout=fh, stderr=subprocess.STDOUT, check=False)
            if proc.returncode != 0:
                raise InterpreterError(f"{python}: could not create a venv (see {log})")
        proc = subprocess.run(
            [str(vpy), "-m", "pip", "install", "-q", "--prefer-binary", "-e", str(source_root())],
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        raise InterpreterError(f"{python}: pip install -e . failed in {venv} (see {log})")
    return vpy


def run_one(vpy: Path, cond: Condition, run_args: list[str], out: Path, log: Path) -> dict[str, Any]:
    """Run the matrix under one condition; return its results.json."""
    with log.open("a") as fh:
        proc = subprocess.run(
            [str(vpy), "-m", "gillab", "run", *run_args, "--out", str(out)],
            env=cond.env(),
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if not (out / "results.json").exists():
        raise InterpreterError(f"{cond.python}: gillab run failed (exit {proc.returncode}; see {log})")
    return results.load(out / "results.json")


def slowdowns(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return, per free-threaded interpreter, its serial wall over the GIL build's for each impl of equal size."""
    serial = [c for c in cells if c["executor"] == "serial" and c["status"] == "ok"]
    gil_builds = [c for c in serial if not c["interpreter"].split()[0].endswith("t")]
    out = []
    for ft in (c for c in serial if c["interpreter"].endswith("t")):
        for base in gil_builds:
            if base["impl"] == ft["impl"] and base["size"] == ft["size"]:
                out.append(
                    {
                        "impl": ft["impl"],
                        "free_threaded": ft["interpreter"],
                        "gil_build": base["interpreter"],
                        "slowdown": ft["median_wall_s"] / base["median_wall_s"],
                    }
                )
    return out


def compare(
    pythons: list[str], run_args: list[str], sizes_flag: str | None, out: Path, progress: Any = print
) -> dict[str, Any]:
    """Run the matrix under each interpreter (and each free-threaded one again with PYTHON_GIL=1); merge."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "compare.log"
    log.write_text("")
    conditions: list[Condition] = []
    errors: list[str] = []
    venvs: dict[str, Path] = {}
    for python in pythons:
        try:
            info = describe(python)
            progress(f"preparing {python} ({info['version']}{'t' if info['free_threaded'] else ''})")
            venvs[python] = venv_for(python, info, log)
        except InterpreterError as exc:
            errors.append(str(exc))
            progress(f"skipped: {exc}")
            continue
        conditions.append(Condition(python))
        if info["free_threaded"]:
            conditions.append(Condition(python, gil_forced=True))
    cells: list[dict[str, Any]] = []
    environments = []
    for i, cond in enumerate(conditions):
        label = f"run{i}"
        args = list(run_args)
        if sizes_flag:
            args += ["--size", sizes_flag]
        progress(f"running under {cond.python}{' with PYTHON_GIL=1' if cond.gil_forced else ''}")
        try:
            data = run_one(venvs[cond.python], cond, args, out / label, log)
        except InterpreterError as exc:
            errors.append(str(exc))
            progress(f"failed: {exc}")
            continue
        if sizes_flag is None:  # the first run's calibrated sizes serve every later run: equal work everywhere
            sizes_flag = ",".join(f"{k}={v}" for k, v in data["config"]["sizes"].items())
        environments.append(data["environment"])
        cells.extend(data["cells"])
    merged = {
        "schema_version": results.SCHEMA_VERSION,
        "environment": environments[0] if environments else {},
        "environments": environments,
        "interrupted": False,
        "config": {"pythons": pythons, "run": run_args, "sizes": sizes_flag},
        "cells": cells,
        "errors": errors,
        "slowdowns": slowdowns(cells),
        "load_before": None,
        "load_after": None,
        "load_competing": False,
    }
    results.write_atomic(out / "results.json", json.dumps(merged, indent=1) + "\n")
    return merged


def compare_png(merged: dict[str, Any], path: Path) -> bool:
    """Draw, per interpreter, each impl × executor's speedup at the largest worker count, side by side."""
    from gillab.outputs.plots import plt

    cells = [c for c in merged["cells"] if c["status"] == "ok" and c["executor"] != "serial" and c["speedup"]]
    if not cells:
        return False
    top = max(c["workers"] for c in cells)
    cells = [c for c in cells if c["workers"] == top]
    interps = list(dict.fromkeys(c["interpreter"] for c in cells))
    series = list(dict.fromkeys(f"{c['impl']} / {c['executor']}" for c in cells))
    fig, ax = plt.subplots(figsize=(max(8, 2 + 1.6 * len(interps) * len(series) / 3), 4.5))
    width = 0.8 / max(1, len(series))
    for j, s in enumerate(series):
        ys = [
            next((c["speedup"] for c in cells if c["interpreter"] == it and f"{c['impl']} / {c['executor']}" == s), 0.0)
            for it in interps
        ]
        ax.bar([i + j * width for i in range(len(interps))], ys, width, label=s)
    cores = merged["environment"].get("usable_cores", top)
    ax.axhline(min(top, cores), color="grey", ls=":", label=f"ideal ({min(top, cores)})")
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(interps))])
    ax.set_xticklabels(interps)
    ax.set_ylabel(f"speedup at {top} workers")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("the same matrix under each interpreter", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def compare_report(merged: dict[str, Any], out: Path) -> None:
    """Write out/report.html: each interpreter, the slowdowns, compare.png and every cell."""
    import html

    from gillab.outputs.report import CSS, _cell_rows, img_tag

    parts = [
        f"<!doctype html><meta charset='utf-8'><title>gillab compare</title><style>{CSS}</style>",
        "<h1>gillab compare</h1><ul>",
    ]
    for env in merged["environments"]:
        parts.append(
            f"<li>{html.escape(env['interpreter'])}: {html.escape(env['executable'])}, GIL on: "
            f"{env['gil_enabled']}, {env['usable_cores']} usable cores</li>"
        )
    parts.append("</ul>")
    parts += [f"<p class='flag'>{html.escape(e)}</p>" for e in merged["errors"]]
    for s in merged["slowdowns"]:
        parts.append(
            f"<p>Single-thread cost of free threading: {html.escape(s['impl'])} serial took "
            f"{s['slowdown']:.2f}× as long on {html.escape(s['free_threaded'])} as on "
            f"{html.escape(s['gil_build'])} (same size).</p>"
        )
    parts.append(
        "<p>Each bar is one impl run by one executor at the largest worker count, under each interpreter. "
        "On a free-threaded build Python threads run at once; PYTHON_GIL=1 puts the GIL back.</p>"
    )
    parts.append(img_tag(out / "compare.png"))
    rows = [{**c, "impl": f"{c['interpreter']} {c['impl']}"} for c in merged["cells"]]
    parts.append("<h2>Every cell</h2>" + _cell_rows(rows))
    results.write_atomic(out / "report.html", "\n".join(parts) + "\n")
