"""The code's shape, checked: imports run one way, the command line is a leaf, the stubs match the modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import gillab

SRC = Path(gillab.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def imports_of(name: str) -> set[str]:
    """Return the gillab modules a module imports (anywhere in it, functions included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_gillab_modules() -> None:
    assert len(MODULES) > 30
    assert cycles(GRAPH) == []


def test_only_the_entry_points_import_the_command_line() -> None:
    users = {
        m
        for m, deps in GRAPH.items()
        if any(d == "gillab.cli" or d.startswith("gillab.cli.") for d in deps)
    }
    assert {m for m in users if not m.startswith("gillab.cli")} == {"gillab.__main__"}


@pytest.mark.parametrize("layer", ["gillab.outputs", "gillab.harness", "gillab.workloads"])
def test_lower_layers_never_import_the_layers_above(layer: str) -> None:
    above = ("gillab.labs", "gillab.checker", "gillab.compare", "gillab.cli")
    for name, deps in GRAPH.items():
        if name == layer or name.startswith(layer + "."):
            assert not [d for d in deps if d.startswith(above)], name


@pytest.mark.parametrize("stub", sorted(p.stem for p in SRC.glob("_*.pyi")))
def test_each_stub_names_what_its_compiled_module_has(stub: str) -> None:
    try:
        module = importlib.import_module(f"gillab.{stub}")
    except ImportError as exc:
        pytest.skip(f"gillab.{stub} is not built: {exc}")
    declared = _declared(stub)
    public = {m for m in dir(module) if not m.startswith("_")}
    assert declared == public
    for cls_name, members in _classes(stub).items():
        cls = getattr(module, cls_name)
        assert {m for m in dir(cls) if not m.startswith("_")} == {
            m for m in members if not m.startswith("_")
        }, cls_name


def _classes(stub: str) -> dict[str, set[str]]:
    """Return each class the stub declares, with the names it gives its members."""
    tree = ast.parse((SRC / f"{stub}.pyi").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)} | {
                n.target.id
                for n in node.body
                if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
            }
    return out


def _declared(stub: str) -> set[str]:
    """Return the public names a stub declares, following re-exports from gillab's other stubs."""
    tree = ast.parse((SRC / f"{stub}.pyi").read_text())
    declared: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            declared.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            declared.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gillab."):
            for a in node.names:
                if a.name == "*":
                    declared |= _declared(node.module.rpartition(".")[2]) if node.module else set()
                else:
                    declared.add(a.asname or a.name)
    return {n for n in declared if not n.startswith("_")}


# A table: one layer a line reads as the chain it documents.
# fmt: off
LAYERS = (
    ("leaves", ("gillab._native", "gillab._variants", "gillab._domain", "gillab.errors", "gillab.codec",
                "gillab.environment", "gillab.stats", "gillab.files", "gillab.childproc", "gillab.checkout",
                "gillab.interpreters", "gillab.callables", "gillab.aio")),
    ("presentation kit", ("gillab.present",)),
    ("workloads", ("gillab.workloads",)),
    ("harness", ("gillab.harness",)),
    ("outputs", ("gillab.outputs",)),
    ("features", ("gillab.labs", "gillab.checker", "gillab.compare", "gillab.advice")),
    ("registry of kinds", ("gillab.kinds",)),
    ("cli", ("gillab.cli", "gillab.__main__", "gillab.notebook")),
)
# fmt: on
"""The documented chain, lowest first: a module imports only from its own layer and the layers below it."""


def layer(name: str) -> int:
    """The rank of a module's layer in LAYERS."""
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{name} belongs to no layer of the documented chain")


def test_every_module_has_a_layer_and_imports_run_down_the_chain() -> None:
    for name, deps in GRAPH.items():
        if name == "gillab":  # the package's own __init__ re-exports the public API from above
            continue
        up = sorted(d for d in deps if d != "gillab" and layer(d) > layer(name))
        assert not up, f"{name} ({LAYERS[layer(name)][0]}) imports from above: {up}"


MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60
DATA_MODULES = {"gillab.checker.entries"}
"""Modules that are data (the catalogue's entries): long by nature."""


def test_modules_and_functions_stay_small() -> None:
    for name, path in MODULES.items():
        text = path.read_text()
        if name not in DATA_MODULES:
            assert len(text.splitlines()) <= MAX_MODULE_LINES, name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= MAX_FUNCTION_LINES, f"{name}.{node.name}: {length} lines"


EDGE = {"gillab.childproc"}
"""Where a child's JSON lines are read, before the caller turns them into objects."""


def test_no_result_dataclass_holds_untyped_json() -> None:
    """Figures travel as dataclasses: no dataclass field is Any or a dict of Any."""
    for name, path in MODULES.items():
        if name in EDGE:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                "dataclass" in ast.unparse(d) for d in node.decorator_list
            ):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign):
                        ann = ast.unparse(item.annotation)
                        if ann.startswith("Callable["):  # a function, not a figure
                            continue
                        assert ann != "Any", f"{name}.{node.name}: {ann}"
                        assert "dict[str, Any]" not in ann, f"{name}.{node.name}: {ann}"


def test_only_an_executors_class_knows_its_name() -> None:
    """Nothing outside gillab.harness.executors compares a name with an executor's (its facts are the class's)."""
    from gillab.harness import executors

    names = set(executors.names())
    for name, path in MODULES.items():
        if name.startswith("gillab.harness.executors"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and "ex" in ast.unparse(
                node
            ):  # an executor, by its name
                consts = [
                    c.value for c in (node.left, *node.comparators) if isinstance(c, ast.Constant)
                ]
                assert not names & set(consts), (
                    f"{name}:{node.lineno} compares with an executor's name"
                )


FEATURES = ("gillab.labs", "gillab.checker", "gillab.compare", "gillab.advice")
REGISTRY = {"gillab.kinds", "gillab.cli", "gillab.notebook.magics"}
"""The registry of kinds, the command-line dispatch and the notebook's magics (its commands): the modules that
import several features."""


def test_no_module_imports_more_than_one_feature() -> None:
    for name, deps in GRAPH.items():
        if name in REGISTRY or name == "gillab":
            continue
        own = next((f for f in FEATURES if name == f or name.startswith(f + ".")), None)
        used = {f for f in FEATURES for d in deps if (d == f or d.startswith(f + ".")) and f != own}
        assert len(used) <= 1, f"{name} imports {sorted(used)}"


COMMANDS = {
    "gillab.cli.advise",
    "gillab.cli.check",
    "gillab.cli.compare",
    "gillab.cli.diff",
    "gillab.cli.info",
    "gillab.cli.labs",
    "gillab.cli.run",
    "gillab.cli.show",
}


def test_no_command_imports_another() -> None:
    for name in COMMANDS:
        assert not GRAPH[name] & (COMMANDS - {name}), name


def test_the_presentation_kit_knows_no_feature() -> None:
    for name, deps in GRAPH.items():
        if name.startswith("gillab.present"):
            assert all(d.startswith("gillab.present") for d in deps), name


def test_formatting_is_skipped_almost_nowhere() -> None:
    skips = sum(p.read_text().count("# fmt: skip") for p in MODULES.values())
    assert skips <= 5
