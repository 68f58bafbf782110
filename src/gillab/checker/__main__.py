"""The child side of `gillab check`: load the target, measure, write JSON. Exit 3: target error; 4: it raised."""

from __future__ import annotations

import json
import pickle
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gillab.checker.measure import measure
from gillab.checker.target import TargetError, call_inputs, load_target

TARGET_ERROR = 3
CALL_ERROR = 4


def gil_on_import(load: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run load() and say whether it turned the GIL back on (a free-threaded build's readiness question).

    On a free-threaded build, CPython re-enables the GIL when it imports an extension module that does not
    declare itself free-threading compatible, and says so in a RuntimeWarning.
    """
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    before = is_enabled() if is_enabled is not None else True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = load()
    after = is_enabled() if is_enabled is not None else True
    said = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning) and "GIL" in str(w.message)]
    return value, {
        "free_threaded_build": is_enabled is not None,
        "gil_before": before,
        "gil_after": after,
        "reenabled": before is False and after is True,
        "warning": said[0] if said else "",
    }


def main(spec_path: str) -> int:
    """Run one check as described by the JSON spec file; write the result next to it."""
    spec = json.loads(Path(spec_path).read_text())
    out = Path(spec["result_path"])
    readiness: dict[str, Any] = {}
    try:
        if spec.get("pickle_path"):
            func, args, kwargs = pickle.loads(Path(spec["pickle_path"]).read_bytes())
            if spec.get("target"):
                func, readiness = gil_on_import(lambda: load_target(spec["target"]))
        else:
            func, readiness = gil_on_import(lambda: load_target(spec["target"]))
            setup = spec.get("setup")
            if spec.get("sizes"):  # the first size's inputs, to prove the setup before any measuring
                setup = setup.replace("{n}", str(spec["sizes"][0]))
            args, kwargs = call_inputs(setup, spec.get("args"))
    except TargetError as exc:
        out.write_text(json.dumps({"error": str(exc)}))
        return TARGET_ERROR
    except Exception as exc:  # unpickling: a module the child cannot import
        out.write_text(json.dumps({"error": f"cannot load the callable in the child: {type(exc).__name__}: {exc}"}))
        return TARGET_ERROR
    try:
        if spec.get("sizes"):
            from gillab.checker.sweep import sweep

            template = spec["setup"]
            result = sweep(
                func, lambda n: call_inputs(template.replace("{n}", str(n)), spec.get("args")), spec["sizes"]
            )
        else:
            result = measure(func, args, kwargs, spec["threads"], spec["duration_s"])
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}", "where": f"{last.filename}:{last.lineno}"}))
        return CALL_ERROR
    result["gil_import"] = readiness
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
