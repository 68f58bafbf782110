"""Docs that cannot rot: every `gillab ...` line of the README and docs/ parses with the command line's own
parser, every relative link and picture resolves, every option of every command is in docs/commands.md or the
page it points to, and the README stays a learner's page."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from gillab.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LINES = 200

if not (
    ROOT / "docs"
).is_dir():  # the installed package's tests, outside a checkout (CI's wheel leg)
    pytest.skip("the docs live in a source checkout", allow_module_level=True)


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """Each line inside a fenced code block, with its line number."""
    out, inside = [], False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if inside:
            out.append((n, line))
    return out


def gillab_commands(path: Path) -> list[tuple[int, list[str]]]:
    """Every gillab command in a page's code blocks (a `&&` chain's gillab parts too), its comment left out.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "p.md"
    >>> _ = page.write_text("```\\npip install -e . && gillab run  # the demo\\ngillab dis fib\\n```\\ngillab no\\n")
    >>> [argv for _, argv in gillab_commands(page)]
    [['run'], ['dis', 'fib']]
    """
    found = []
    for n, line in _code_lines(path):
        if "gillab " not in line:
            continue
        part: list[str] = []
        for word in [*shlex.split(line, comments=True), "&&"]:
            if word not in ("&&", "|", ";"):
                part.append(word)
                continue
            if part[:1] == ["gillab"]:
                found.append((n, part[1:]))
            part = []
    return found


CASES = [(p, n, argv) for p in DOCS for n, argv in gillab_commands(p)]


def test_the_docs_hold_commands() -> None:
    assert len(CASES) >= 30
    assert any(p.name == "README.md" for p, _, _ in CASES)


@pytest.mark.parametrize(
    ("page", "line", "argv"), CASES, ids=[f"{p.name}:{n}" for p, n, _ in CASES]
)
def test_every_gillab_line_parses(page: Path, line: int, argv: list[str]) -> None:
    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        pytest.fail(
            f"{page.name}:{line}: `gillab {shlex.join(argv)}` does not parse (exit {exc.code})"
        )


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return [m.group(1) for m in LINK.finditer(text)]


@pytest.mark.parametrize("page", DOCS, ids=[p.name for p in DOCS])
def test_every_relative_link_resolves(page: Path) -> None:
    relative = [link for link in _links(page) if not re.match(r"[a-z]+:|#", link)]
    missing = [link for link in relative if not (page.parent / link.split("#")[0]).exists()]
    assert not missing, f"{page.name} links to what is not there: {missing}"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_option_is_documented(command: str) -> None:
    reference = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    pages = {m.group(1) for m in re.finditer(r"\]\(([a-z-]+\.md)\)", reference)}
    text = reference + "".join((ROOT / "docs" / p).read_text(encoding="utf-8") for p in pages)
    assert f"gillab {command}" in text
    options = [
        o
        for a in _subcommands()[command]._actions
        for o in a.option_strings
        if o not in ("-h", "--help")
    ]
    missing = [o for o in options if not re.search(rf"`{re.escape(o)}[` =\]]", text)]
    assert not missing, f"gillab {command}: options not in docs/commands.md: {missing}"


def test_the_readme_leads_a_learner() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_LINES
    assert "pip install -e . && gillab run" in text
    course = text.index("## The course")
    steps = [
        "gillab info",
        "gillab states",
        "gillab dis",
        "gillab race",
        "gillab course fib",
        "gillab io",
        "gillab convoy",
        "gillab annotate",
        "gillab compare",
    ]
    where = [text.index(s, course) for s in steps]
    assert where == sorted(where), "the course is out of order"


def _refresh_script():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "refresh_docs", ROOT / "scripts" / "refresh-docs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_quoted_output_is_a_block_the_refresh_script_reruns() -> None:
    """The README's demo output and the docs' quoted outputs sit between refresh markers whose commands parse
    with the command line's own parser: scripts/refresh-docs.py can rerun every one."""
    refresh = _refresh_script()
    parser = build_parser()
    found = {
        page.name: refresh.blocks(page.read_text(encoding="utf-8")) for page in refresh.files()
    }
    assert found["README.md"] == ["gillab run"]
    said = {page.name: refresh.quotes(page.read_text(encoding="utf-8")) for page in refresh.files()}
    # the course's steps that run under this Python quote what their command printed, rerun by the script
    assert said["README.md"] == [
        "gillab info",
        "gillab states",
        "gillab dis counter",
        "gillab race",
        "gillab course fib",
        "gillab io",
        "gillab convoy",
        "gillab annotate",
    ]
    for cmds in [*found.values(), *said.values()]:
        for cmd in cmds:
            parser.parse_args(shlex.split(cmd)[1:])


def test_the_refresh_script_quotes_the_lessons_sentences_at_the_markers_indent() -> None:
    refresh = _refresh_script()
    printed = (
        "First sentence. In add_rcw a switch point lies between reading\n  and writing: lost.\n"
        "In add none does\n\nthe table\n"
    )
    page = (
        "1. **Step.** `gillab dis counter`:\n"
        "   <!-- quote: gillab dis counter | 2 from In add_rcw -->\n   old words\n   <!-- /quote -->\n"
        "2. `gillab info`:\n   <!-- quote: gillab info -->\n   <!-- /quote -->\n"
        "<!-- quoted -->\n<!-- /quoted -->\n"
    )
    ran: list[str] = []

    def runner(cmd: str) -> tuple[str, float]:
        ran.append(cmd)
        return printed, 12.4 if "info" in cmd else 2.0

    new = refresh.refresh(page, runner=runner, say=lambda _: None)
    assert "old words" not in new
    assert (
        '   <!-- quote: gillab dis counter | 2 from In add_rcw -->\n   "In add_rcw a switch point lies '
        'between reading and writing: lost. In add none does."\n   <!-- /quote -->'
    ) in new
    assert '"First sentence. In add_rcw' in new  # all of the lesson, where no count is given
    assert 'does." (12 s)' in new  # a command of 10 s or more says how long it took
    assert "The sentences quoted here were printed on " in new
    assert ran == ["gillab dis counter", "gillab info"]
    assert refresh.refresh(new, runner=runner, say=lambda _: None).count("<!-- quote:") == 2


def test_the_refresh_script_rewrites_a_block_with_when_where_and_how_long() -> None:
    refresh = _refresh_script()
    page = (
        "before\n<!-- refresh: gillab info -->\nold output\n<!-- /refresh -->\nbetween\n"
        "<!-- refresh: gillab check m:f --python /no/such/python -->\nkept\n<!-- /refresh -->\nafter\n"
    )
    said: list[str] = []
    new = refresh.refresh(page, runner=lambda cmd: (f"ran {cmd}", 1.4), say=said.append)
    assert "old output" not in new
    assert "```\nran gillab info\n```" in new
    assert "`gillab info` on " in new
    assert "in 1 s:" in new
    assert new.startswith("before\n<!-- refresh: gillab info -->\n")
    assert "kept" in new  # its --python is not here: left as it was, and named
    assert any("/no/such/python" in s for s in said)
    assert (
        refresh.refresh(new, only="nothing matches", runner=lambda cmd: ("x", 0.0), say=said.append)
        == new
    )
