"""The documentation is true: its commands print what it shows, its figures and links hold.

Every ```console block of README.md, SECURITY.md and docs/*.md is run, each ``$``
line as ``python -m dotnet ...`` in a scratch folder holding copies of the
repository's specs, docs and examples; the lines shown after it must be what the
command prints (``...`` stands for lines left out). A block that cannot run as
shown is listed in ``ILLUSTRATIONS`` with the reason, and the list itself is
checked, so a new block is either run or explained.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from dotnet.tools.summary import summarize
from tests.conftest import REPO, SEED_DOCUMENT, SPECS, run_cli

DOCS = sorted([REPO / "README.md", REPO / "SECURITY.md", *(REPO / "docs").glob("*.md")])

ILLUSTRATIONS = {
    ("docs/ci.md", "python -m dotnet check --format json specs/"): "a shell pipeline through jq; the JSON "
    "fields it reads are tested in tests/test_check.py",
    ("docs/diagnostics.md", "dotnet compile two.dot"): "two.dot is described, not shipped; tests/test_check.py",
    ("docs/diagnostics.md", "dotnet compile parts.dot --graph Head+Encoder"): "parts.dot is described, not shipped",
    ("docs/diagnostics.md", "dotnet compile example.dot --graph A"): "example.dot is the dot block above it",
    ("docs/diagnostics.md", "dotnet compile two.dot --graph C"): "as above",
    ("docs/diagnostics.md", "dotnet compile net.dot"): "net.dot is described in the comment; tests/test_naming.py",
    ("docs/diagnostics.md", "dotnet check net.dot"): "as above",
    ("docs/diagnostics.md", "dotnet check big.dot"): "a 20,001-character id; tests/test_limits.py",
    ("docs/diagnostics.md", "dotnet check specs/"): "shows the form of an internal error, which has no fixed cause",
    ("docs/diagnostics.md", "dotnet compile two.dot --graph A --param M=3"): "two.dot is described, not shipped",
    ("docs/diagnostics.md", "dotnet compile two.dot --graph A --device cuda"): "prints this only without CUDA",
    ("docs/diagnostics.md", "dotnet compile big.dot --memory-limit 1G"): "big.dot is described in the comment",
    ("docs/diagnostics.md", "dotnet render specs/ConvAutoEncoder.dot -o cae.svg"): "prints this only where "
    "Graphviz is missing; tests/test_shapes_and_render.py",
    ("docs/diagnostics.md", "dotnet render specs/LeNet.dot -o lenet.png"): "prints this only where no CJK "
    "font is installed; tests/test_shapes_and_render.py",
}
"""(document, start of its first command) -> why the block is not run as shown."""


@dataclass
class Transcript:
    """One ```console block: where it is, its commands and the output it shows."""

    doc: str
    line: int
    commands: list[str]
    shown: list[str]


def _fenced(text: str, language: str) -> list[tuple[int, str]]:
    """``(line, body)`` of each fenced block in ``language``."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        if lines[i].strip() == f"```{language}":
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            found.append((start, "\n".join(body)))
        i += 1
    return found


def transcripts() -> list[Transcript]:
    result = []
    for doc in DOCS:
        for line, body in _fenced(doc.read_text(encoding="utf-8"), "console"):
            commands = [
                ln[2:].split("  #")[0].split(" # ")[0].strip() for ln in body.splitlines() if ln.startswith("$ ")
            ]
            shown = [ln for ln in body.splitlines() if not ln.startswith("$ ")]
            result.append(Transcript(str(doc.relative_to(REPO)), line, commands, shown))
    return result


def _illustration(t: Transcript) -> str | None:
    return next((why for key, why in ILLUSTRATIONS.items() if _names(key, t)), None)


def _names(key: tuple[str, str], t: Transcript) -> bool:
    """Whether an ``ILLUSTRATIONS`` key is this block: same document, first command equal or begun."""
    doc, start = key
    return doc == t.doc and (t.commands[0] == start or t.commands[0].startswith(start + " |"))


RUNNABLE = [t for t in transcripts() if _illustration(t) is None]


def test_every_listed_illustration_is_still_in_the_docs() -> None:
    found = transcripts()
    assert [k for k in ILLUSTRATIONS if not any(_names(k, t) for t in found)] == []


def _matches(shown: list[str], printed: list[str]) -> bool:
    """``printed`` is ``shown``, with each ``...`` line standing for any lines."""
    pattern = "\n".join(".*" if ln.strip() == "..." else re.escape(ln) for ln in shown)
    return re.fullmatch(pattern, "\n".join(printed), re.DOTALL) is not None


@pytest.mark.parametrize("t", RUNNABLE, ids=lambda t: f"{t.doc}:{t.line}")
def test_console_blocks_print_what_they_show(t: Transcript, tmp_path: Path) -> None:
    for folder in ("specs", "docs", "examples"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    printed: list[str] = []
    for command in t.commands:
        words = shlex.split(command)
        words = words[2:] if words[:3] == ["python", "-m", "dotnet"] else words
        assert words[0] in ("dotnet", "check", "compile", "shapes", "summary", "extract", "render"), command
        result = run_cli(*(words[1:] if words[0] == "dotnet" else words), cwd=tmp_path)
        expected_code = 1 if any(": error: " in ln for ln in t.shown) else 0
        assert result.code == expected_code, f"{command}\n{result.stdout}{result.stderr}"
        printed += (result.stdout + result.stderr).splitlines()
    if t.shown:
        assert _matches(t.shown, printed), "\n".join(printed)


def _readme_spec_rows() -> list[tuple[str, str]]:
    """(first cell, parameters cell) of each row of the README's table of specs."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## The specs", 1)[1].split("\n\n")[2]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in table.splitlines()[2:]]
    return [(r[0], r[-1]) for r in rows]


def _claims() -> list[tuple[str, dict[str, str], int]]:
    """(spec, --block bindings, parameter count) for every figure in the README's table."""
    claims = []
    for names_cell, counts_cell in _readme_spec_rows():
        names = [n.strip() for n in names_cell.split("(")[0].split(",")]
        parts = [p.strip() for p in counts_cell.split(" / ")]
        for i, part in enumerate(parts):
            count, _, cell = part.partition(" (")
            spec = names[i] if len(names) == len(parts) else names[0]
            blocks = {"RNNCell": cell.rstrip(")")} if cell and cell.rstrip(")") != "RNNCell" else {}
            claims.append((spec, blocks, int(count.replace(",", ""))))
    return claims


def test_the_readme_states_a_figure_for_every_spec() -> None:
    stated = {spec for spec, _, _ in _claims()}
    top_level = {"ConvAutoEncoder", "RNNCell", "LSTMCell", "GRUCell", "TimeRNN", "NLPRNN", "LeNet", "AlexNet"}
    assert top_level | {"VGG11", "NiN", "GoogLeNet", "ResNet18"} <= stated


@pytest.mark.parametrize("spec,blocks,count", _claims(), ids=lambda v: str(v))
def test_readme_parameter_counts(spec: str, blocks: dict[str, str], count: int) -> None:
    """The counts come from the shapes alone; tests/test_summary.py proves them equal to built modules'."""
    assert str(summarize(SPECS / f"{spec}.dot", blocks=blocks).parameters) == str(count)


_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _headings(doc: Path) -> list[str]:
    text = _CODE.sub("", doc.read_text(encoding="utf-8"))
    return [m.group(1).strip().strip("`") for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)]


def _prose(doc: Path) -> str:
    return _CODE.sub("", doc.read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(REPO)))
def test_relative_links_name_files_and_sections_that_exist(doc: Path) -> None:
    broken = []
    for target in _LINK.findall(_prose(doc)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if REPO not in file.parents or not file.exists():
            broken.append(target)
        elif anchor and anchor not in {_slug(h) for h in _headings(file)}:
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(REPO)))
def test_sections_cited_by_name_exist(doc: Path) -> None:
    """'see "Limits" in [spec-language.md](spec-language.md)' names a heading of that page."""
    cited = re.findall(r'"([^"]+)" in \[[^\]]*\]\(([^)#]+)\)', _prose(doc))
    assert [(s, f) for s, f in cited if s not in _headings(doc.parent / f)] == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(REPO)))
def test_no_doc_points_outside_the_repository(doc: Path) -> None:
    """Paths in commands and prose (links aside) are read from the repository's root; none leaves it."""
    text = _LINK.sub("", doc.read_text(encoding="utf-8"))
    outside = [m for m in re.findall(r"(?:\.\./)+[\w./-]+", text) if REPO not in (REPO / m).resolve().parents]
    assert outside == []


def test_the_pre_commit_example_names_the_hook_the_repository_ships() -> None:
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    ci = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    (config,) = [body for _, body in _fenced(ci, "yaml") if "pre-commit-config" in body]
    assert re.findall(r"- id: ([\w-]+)", config) == re.findall(r"^- id: ([\w-]+)", hooks, re.MULTILINE)
    (rev,) = re.findall(r"rev: (\S+)", config)
    tags = subprocess.run(["git", "tag"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    assert rev in [*tags, "COMMIT"], f"rev {rev} is neither a tag of this repository nor the COMMIT placeholder"


def _cnn_rows() -> list[tuple[str, int, int]]:
    """(spec, parameters, mult-adds per image) of each row of docs/cnn.md's table of specs."""
    text = (REPO / "docs" / "cnn.md").read_text(encoding="utf-8")
    table = text.split("| spec | blocks it calls |", 1)[1].split("\n\n", 1)[0]
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in table.splitlines()[2:]]
    return [
        (r[0].strip("`").removesuffix(".dot"), int(r[3].replace(",", "")), int(r[4].replace(",", ""))) for r in rows
    ]


def test_the_cnn_page_lists_every_cnn_spec() -> None:
    listed = [spec for spec, _, _ in _cnn_rows()]
    assert {"LeNet", "AlexNet", "VGG11", "NiN", "GoogLeNet", "ResNet18"} <= set(listed)
    assert [spec for spec in listed if not (SPECS / f"{spec}.dot").is_file()] == []


@pytest.mark.parametrize("spec,parameters,mult_adds", _cnn_rows(), ids=lambda v: str(v))
def test_cnn_page_figures(spec: str, parameters: int, mult_adds: int) -> None:
    summary = summarize(SPECS / f"{spec}.dot")  # BatchSize 1: per image
    assert (str(summary.parameters), str(summary.mult_adds)) == (str(parameters), str(mult_adds))


def _shell_commands() -> list[tuple[str, str]]:
    """(document, command) for each ``dotnet`` command in a ```sh block, continuation lines joined."""
    found = []
    for doc in DOCS:
        for _, body in _fenced(doc.read_text(encoding="utf-8"), "sh"):
            for command in body.replace("\\\n", " ").splitlines():
                if command.startswith("dotnet "):
                    found.append((str(doc.relative_to(REPO)), " ".join(command.split())))
    return found


def test_shell_blocks_hold_the_commands_checked_here() -> None:
    assert ("README.md", "dotnet check --strict --format github specs/") in _shell_commands()


@pytest.mark.parametrize("doc,command", _shell_commands(), ids=lambda v: str(v))
def test_shell_block_commands_succeed(doc: str, command: str, tmp_path: Path) -> None:
    """Every ``dotnet`` command of a ```sh block exits 0 on the repository's files, SEED.txt on the seed's."""
    if "SEED.txt" in command:
        if not SEED_DOCUMENT.is_file():
            pytest.skip("the seed documents (../shared/seeds) are not beside this checkout")
        shutil.copy(SEED_DOCUMENT, tmp_path / "SEED.txt")
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    result = run_cli(*shlex.split(command)[1:], cwd=tmp_path)
    assert result.code == 0, result.stdout + result.stderr
