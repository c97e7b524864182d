"""Property tests: whatever the input, check and compile end in diagnostics, never a traceback.

Three generators, two thousand cases in all (under a minute on two cores):
- specs built from the spec language's own vocabulary, with random edges and hostile labels;
- the repository's specs and test cases with random characters cut, doubled and inserted;
- labels that carry code (``__import__('os').system(...)``, jinja ``{{ }}``, quotes) into
  every place a label can reach: the canary file must never appear, and generated
  source must parse and call nothing the label wrote.

Each case must finish well under a second; an alarm fails any case that hangs.
"""

from __future__ import annotations

import ast
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dotnet.compiler import compile_spec
from dotnet.diagnostics import Diagnostic, SpecError
from dotnet.tools.check import check_source
from tests.conftest import REPO

_RAM_DISK = Path("/dev/shm")
WORK = Path(tempfile.mkdtemp(prefix="dotnet-robustness-", dir=_RAM_DISK if _RAM_DISK.is_dir() else None))
CANARY = WORK / "CANARY"
PAYLOADS = (
    f"__import__('os').system('touch {CANARY}')",
    f"eval(\"open('{CANARY}', 'w')\")",
    f"{{{{ cycler.__init__.__globals__.os.system('touch {CANARY}') }}}}",
    f"'''\nimport os; os.system('touch {CANARY}')\n'''",
    f'"); import os; os.system("touch {CANARY}"); ("',
    f"exec('import os; os.system(\\'touch {CANARY}\\')')",
)
FORBIDDEN_CALLS = {"__import__", "eval", "exec", "compile", "open", "system", "getattr"}
CASE_LIMIT_S = 5
"""A case still running after this long is a hang."""
SETTINGS = settings(
    deadline=timedelta(milliseconds=750),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

symbols = st.sampled_from(["BatchSize", "SeqLen", "N", "NIn", "NOut", "BlockW", "C", "K", "t"])
atoms = st.one_of(symbols, st.integers(-3, 300).map(str))
exprs = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(" ".join),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=6,
)
dims = st.one_of(exprs, st.tuples(st.sampled_from(["W", "H", "C", "X"]), exprs).map("=".join))
shapes = st.lists(dims, min_size=0, max_size=5).map(lambda ds: "[" + ", ".join(ds) + "]")
titles = st.sampled_from(["", "输入", "输出", "X[t]", "H[t-1]", "C[t-1]", "W", "b", "Z[t]", "P", "H[t]"])
roles = st.sampled_from(
    ["", "(输入)", "(输出)", "(参数)", "(历史)", "(输出&短期记忆)", "(单词概率)", "(更新门)", "(遗忘门)"]
)
tensor_labels = st.one_of(
    st.tuples(titles, roles, shapes).map(lambda p: f"{p[0]}{p[1]}\\n{p[2]}"),
    shapes.map(lambda s: s[:-1]),  # the seed's unclosed bracket
    st.integers(4090, 4100).map(lambda n: "[" + "N" * n + "]"),  # around the label length limit
)
op_names = st.sampled_from(
    [
        "Relu",
        "Tanh",
        "Sigmoid",
        "σ",
        "Softmax",
        "Linear",
        "Conv2D",
        "MaxPool2D",
        "BatchNorm",
        "Embedding",
        "UpSample",
        "Block",
        "Block1",
        "Spec",
        "Nope",
    ]
)
args = st.lists(st.one_of(exprs, st.tuples(st.sampled_from(["K", "P", "S", "In", "Out"]), exprs).map("=".join)))
op_labels = st.one_of(
    st.tuples(op_names, args).map(lambda p: f"{p[0]}\\n[{', '.join(p[1])}]" if p[1] else p[0]),
    st.tuples(op_names, args).map(lambda p: f"{p[0]}({', '.join(p[1])})"),
    st.tuples(op_names, exprs).map(lambda p: f"{p[0]} x ({p[1]})"),
    st.sampled_from(["@", "+", "*", "-", "@ Embedding.w.T\\n[N, K]", "UpSample x2", "Dropout(0.5)"]),
    st.sampled_from(["σ(X[t] @ W[f] + H[t-1] @ U[f] + b[f])", "C[t] * tanh(O[t])", "(1 - Z[t]) * H[t-1]"]),
    st.sampled_from(PAYLOADS),
    st.integers(4000, 4200).map(lambda n: "Relu" + " " * n),  # around the label length limit
)


def dot_string(text: str) -> str:
    """``text`` as a DOT quoted string (its ``\\n`` escapes kept as layout escapes)."""
    return '"' + text.replace('"', '\\"') + '"'


@st.composite
def specs(draw: st.DrawFn) -> str:
    """A file of one to three digraphs named Spec, Block, ... with random nodes and edges."""
    graphs = []
    for name in draw(st.lists(st.sampled_from(["Spec", "Block", "LSTMCell", "GRUCell"]), min_size=1, unique=True)):
        count = draw(st.integers(1, 8))
        lines = [f"digraph {name} {{"]
        if draw(st.booleans()):
            lines.append(f"  dotnet_ignore={dot_string(draw(st.sampled_from(['isolated-node', 'x, y', ''])))}")
        for i in range(count):
            if draw(st.booleans()):
                lines.append(f"  n{i} [label={dot_string(draw(tensor_labels))}, shape=Mrecord]")
            else:
                lines.append(f"  n{i} [label={dot_string(draw(op_labels))}]")
        for a, b in draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=12)):
            lines.append(f"  n{a} -> n{b}")
        lines.append("}")
        graphs.append("\n".join(lines))
    return "\n".join(graphs) + "\n"


SEED_TEXTS = [p.read_text(encoding="utf-8") for p in sorted((REPO / "specs").glob("*.dot"))] + [
    p.read_text(encoding="utf-8") for p in sorted((REPO / "tests" / "data" / "check").glob("*.dot"))
]
NOISE = st.text(alphabet='{}[]()";=-><#/*\\\n x1σ输@,.', max_size=8)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A real spec with a few random cuts, copies and insertions."""
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        action = draw(st.sampled_from(["cut", "copy", "insert", "replace"]))
        if action == "cut":
            text = text[:i] + text[j:]
        elif action == "copy":
            text = text[:j] + text[i:j] + text[j:]
        elif action == "insert":
            text = text[:i] + draw(NOISE) + text[i:]
        else:
            text = text[:i] + draw(NOISE) + text[j:]
    return text


@pytest.fixture(scope="module", autouse=True)
def _clean_up() -> Iterator[None]:
    yield
    shutil.rmtree(WORK, ignore_errors=True)


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail the case with TimeoutError if it runs longer than ``seconds`` (where SIGALRM exists)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"a case ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def exercise(text: str, suffix: str = ".dot") -> None:
    """Check and compile ``text``: diagnostics or source, nothing else; no label text run."""
    path = WORK / f"Spec{suffix}"
    path.write_text(text, encoding="utf-8")
    with time_limit(CASE_LIMIT_S):
        found = check_source(path, {})
        assert all(isinstance(d, Diagnostic) for d in found)
        try:
            source = compile_spec(path, "Spec" if "digraph Spec" in text else None).source
        except SpecError as exc:
            assert exc.diagnostics, "a SpecError must carry at least one diagnostic"
            source = None
    if source is not None:
        tree = ast.parse(source)  # label text that broke out of its string would not parse, or would call
        called = {
            node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        assert not called & FORBIDDEN_CALLS, called & FORBIDDEN_CALLS
    assert not CANARY.exists(), "label text was executed"


@settings(SETTINGS, max_examples=1000)
@given(specs())
def test_generated_specs_end_in_diagnostics(text: str) -> None:
    exercise(text)


@settings(SETTINGS, max_examples=800)
@given(mutated())
def test_mutated_specs_end_in_diagnostics(text: str) -> None:
    exercise(text)


@settings(SETTINGS, max_examples=200)
@given(specs(), st.sampled_from(["Intro.\n", "", "digraph in prose, then "]))
def test_documents_end_in_diagnostics(text: str, prose: str) -> None:
    exercise(prose + text.replace("\n", " ") + "\nThe end.", suffix=".txt")


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("where", ["op", "title", "dim", "graph-name", "attribute"])
def test_label_payloads_are_never_run(payload: str, where: str) -> None:
    label = {
        "op": dot_string(payload),
        "title": dot_string(f"{payload}(输入)\\n[N]"),
        "dim": dot_string(f"[N, {payload}]"),
        "graph-name": dot_string("[N]"),
        "attribute": dot_string("[N]"),
    }[where]
    shape = "" if where == "op" else ", shape=Mrecord"
    name = dot_string(payload) if where == "graph-name" else "Spec"
    extra = f"  N={dot_string(payload)}\n" if where == "attribute" else ""
    nodes = f"  a [label={dot_string('[N]')}, shape=Mrecord]\n  b [label={label}{shape}]\n"
    text = f"digraph {name} {{\n{extra}{nodes}  a -> b\n}}\n"
    exercise(text)


@pytest.mark.parametrize(
    "text",
    [
        "digraph Spec { " + "subgraph { " * 3000 + "a" + " }" * 3000 + " }",
        "digraph Spec { " + "{ " * 101 + "a" + " }" * 101 + " }",
        'digraph Spec { a [label="[' + "(" * 500 + "N" + ")" * 500 + ']", shape=Mrecord] }',
        "digraph Spec { " + " -> ".join(f"n{i}" for i in range(3000)) + " }",
    ],
    ids=["deep-subgraphs", "just-too-deep", "deep-parentheses", "long-chain-of-unknown-ops"],
)
def test_deep_and_long_inputs_end_in_diagnostics(text: str) -> None:
    exercise(text)
    assert check_source(WORK / "Spec.dot", {})[0].severity == "error"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@settings(SETTINGS, max_examples=100, deadline=timedelta(seconds=5))
@given(st.one_of(specs(), mutated()))
def test_render_draws_or_reports_whatever_the_spec(text: str) -> None:
    from dotnet.tools.render import render_spec

    path = WORK / "Spec.dot"
    path.write_text(text, encoding="utf-8")
    out = WORK / "Spec.svg"
    out.unlink(missing_ok=True)
    with time_limit(30):
        try:
            render_spec(path, out, "Spec" if "digraph Spec" in text else None, {})
        except SpecError as exc:
            assert exc.diagnostics
            return
    assert out.read_bytes().startswith(b"<?xml")
    assert not CANARY.exists()
