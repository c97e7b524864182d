"""Hostile text in every field of every node kind never runs and never leaves comments or docstrings.

Each field of a diagram that a person could fill (graph and block names, node ids,
tensor titles and roles, op and formula labels, a recurrent cell's state and step
titles, graph attributes, DOT comments) gets text built from the pieces an attacker
would use: quotes of every kind, docstring breakouts with and without spaces,
backslash escapes, ``\\N{...}``, f-string braces, bidi and zero-width characters,
NUL, very long runs. Every piece of text carries a payload that creates a canary file
if it ever runs. For each, ``check`` and ``compile`` end in diagnostics or source;
source parses, passes the audit, imports (module code runs) and exposes its classes
through ``from m import *``; no canary file appears; and the canary's path, which
every hostile text contains, appears nowhere in the code outside docstrings.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dotnet.codegen.audit import audit
from dotnet.compiler import compile_spec
from dotnet.diagnostics import Diagnostic, SpecError
from dotnet.tools.check import check_source
from tests.conftest import SPECS

WORK = Path(tempfile.mkdtemp(prefix="dotnet-hostile-"))
CANARY = WORK / "CANARY"
PAYLOADS = [
    f'open("{CANARY}", "w")',
    f"__import__('os').system('touch {CANARY}')",
    f"exec(\"open('{CANARY}', 'w')\")",
]
PIECES = [
    '"""', "'''", '" " "', '"" "', "\\\"\\\"\\\"", '"', "'", "`", "\\", "\\\\", "\\n", "\\x41", "\\u0041",
    "\\N{BULLET}", "\\N{", "{", "}", "{x}", "{{x}}", 'f"{x}"', "#", "*/", "/*", ";", "\n", "\r", "\t",
    "\x00", "\x0b", "\u2028", "\u0085", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
    "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\u200c", "\u200d", "\ufeff",
    "\u00a0", "σ", "输入", "[", "]", "(", ")", "=", " ", "A" * 3000,
]  # fmt: skip
"""What hostile text is made of: breakouts, escapes, braces, invisible and control characters."""

hostile = st.tuples(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=6),
    st.sampled_from(PAYLOADS),
    st.lists(st.sampled_from(PIECES), max_size=3),
).map(lambda p: "".join(p[0]) + p[1] + "".join(p[2]))
"""A payload between hostile pieces: whatever the pieces do to their quoting, the payload tries to run."""


def dot_quoted(text: str) -> str:
    """``text`` inside a DOT quoted string: only its double quotes need escaping."""
    return text.replace('"', '\\"')


RNN_CELL = (SPECS / "RNNCell.dot").read_text(encoding="utf-8")
LSTM_CELL = (SPECS / "LSTMCell.dot").read_text(encoding="utf-8")
WITH_BLOCK = """\
digraph Net {
    N=4
    inp [label="输入\\n[BatchSize, N]", shape=Mrecord]
    blk [label="Inner"]
    oup [label="输出\\n[BatchSize, N]", shape=Mrecord]
    inp -> blk -> oup
}
digraph Inner {
    x [label="[BatchSize, N]", shape=Mrecord]
    act [label="Relu"]
    y [label="[BatchSize, N]", shape=Mrecord]
    x -> act -> y
}
"""

FIELDS: dict[str, Callable[[str], str]] = {
    "graph name": lambda h: RNN_CELL.replace("digraph RNNCell", f'digraph "{dot_quoted(h)}"'),
    "tensor node id": lambda h: RNN_CELL.replace("w_x", f'"{dot_quoted(h)}"'),
    "op node id": lambda h: RNN_CELL.replace("matmul1", f'"{dot_quoted(h)}"'),
    "tensor title": lambda h: RNN_CELL.replace('"W(参数)', f'"{dot_quoted(h)}(参数)'),
    "role": lambda h: RNN_CELL.replace("(参数)\\n[NIn", f"({dot_quoted(h)})\\n[NIn"),
    "op label": lambda h: RNN_CELL.replace('"Sigmoid"', f'"Sigmoid{dot_quoted(h)}"'),
    "formula label": lambda h: LSTM_CELL.replace('"O[t] * tanh(C[t])"', f'"O[t] * tanh(C[t]) {dot_quoted(h)}"'),
    "cell state title": lambda h: RNN_CELL.replace("H[t-1](", f"{dot_quoted(h)}[t-1](").replace(
        "H[t](", f"{dot_quoted(h)}[t]("
    ),
    "cell step title": lambda h: RNN_CELL.replace("X[t](", f"{dot_quoted(h)}[t]("),
    "block name": lambda h: WITH_BLOCK.replace("Inner", f"{dot_quoted(h)}"),
    "quoted block name": lambda h: WITH_BLOCK.replace('"Inner"', f'"{dot_quoted(h)}"').replace(
        "digraph Inner", f'digraph "{dot_quoted(h)}"'
    ),
    "graph attribute": lambda h: RNN_CELL.replace("rankdir=BT", f'rankdir=BT; label="{dot_quoted(h)}"'),
    "comment": lambda h: RNN_CELL.replace("// RNNCell:", f"// {h}\n/* {h} */\n# {h}\n// RNNCell:"),
}
"""Each field of a diagram, as a function putting hostile text into a spec that compiles without it."""

EXAMPLES_PER_FIELD = 40


@pytest.fixture(scope="module", autouse=True)
def _clean_up() -> Iterator[None]:
    yield
    shutil.rmtree(WORK, ignore_errors=True)


def code_outside_docstrings(tree: ast.Module) -> str:
    """The module's code with every docstring removed (comments are already gone in the tree)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def import_module(path: Path) -> dict[str, object]:
    """Import the written module under a fresh name and return what ``from m import *`` gives."""
    name = f"hostile_{len(sys.modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exported = {n: getattr(module, n) for n in module.__all__}
    assert all(isinstance(v, type) for v in exported.values()), exported
    return exported


def exercise(text: str, case: str) -> None:
    path = WORK / f"{case}.dot"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    assert all(isinstance(d, Diagnostic) for d in check_source(path, {}))
    try:
        compiled = compile_spec(path)
    except SpecError as exc:
        assert exc.diagnostics
        assert not CANARY.exists(), "label text ran"
        return
    audit(compiled.source)
    code = code_outside_docstrings(ast.parse(compiled.source))
    assert str(CANARY) not in code, "diagram text outside comments and docstrings"
    written = WORK / f"{case}.py"
    written.write_text(compiled.source, encoding="utf-8")
    assert compiled.class_name in import_module(written)
    assert not CANARY.exists(), "label text ran"


@pytest.mark.parametrize("field", FIELDS)
@settings(
    max_examples=EXAMPLES_PER_FIELD,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(text=hostile)
def test_hostile_text_never_runs_nor_reaches_code(field: str, text: str) -> None:
    exercise(FIELDS[field](text), re.sub(r"\W", "_", field))


PLAIN = {"op label": "", "formula label": "", "role": "参数", "cell state title": "H", "cell step title": "X"}
"""Text that leaves each field as the spec had it."""


@pytest.mark.parametrize("field", FIELDS)
def test_every_field_template_compiles_with_plain_text(field: str) -> None:
    """Without hostile text, each template compiles: the property test reaches the generator."""
    path = WORK / "plain.dot"
    path.write_text(FIELDS[field](PLAIN.get(field, "Plain")), encoding="utf-8")
    assert compile_spec(path).source
