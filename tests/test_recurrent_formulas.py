"""Formula labels: the parser, the Python written from its tree, and the diagnostics around them."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import dotnet
from dotnet import codes
from dotnet.compiler import compile_spec
from dotnet.diagnostics import SpecError
from dotnet.ops.formula import to_python
from dotnet.reading.formulas import (
    MAX_FORMULA_DEPTH,
    BinOp,
    Call,
    FormulaError,
    Name,
    Neg,
    Num,
    names,
    parse_formula,
)
from tests.conftest import run_cli


def test_precedence_and_functions():
    tree = parse_formula("σ(X[t] @ W[f] + H[t - 1] @ U[f] + b[f])")
    x_w = BinOp("@", Name("X[t]", 2), Name("W[f]", 9))
    h_u = BinOp("@", Name("H[t-1]", 16), Name("U[f]", 27))
    assert tree == Call("sigmoid", BinOp("+", BinOp("+", x_w, h_u), Name("b[f]", 34)))
    assert parse_formula("(1 - Z[t]) * H[t-1] + 0.5 * -x") == BinOp(
        "+",
        BinOp("*", BinOp("-", Num(1), Name("Z[t]", 5)), Name("H[t-1]", 13)),
        BinOp("*", Num(0.5), Neg(Name("x", 29))),
    )
    assert [n.text for n in names(parse_formula("C[t] * tanh(O[t])"))] == ["C[t]", "O[t]"]


@pytest.mark.parametrize(
    "text",
    ["", "X[t] +", "(X[t]", "tanh(X[t]", "X[t] $ W", "__import__('os')", "2 3", "exp()"],
)
def test_malformed_formulas_are_errors(text):
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_depth_limit():
    parse_formula("(" * MAX_FORMULA_DEPTH + "x" + ")" * MAX_FORMULA_DEPTH)
    with pytest.raises(FormulaError, match="nested deeper"):
        parse_formula("(" * (MAX_FORMULA_DEPTH + 1) + "x" + ")" * (MAX_FORMULA_DEPTH + 1))
    with pytest.raises(FormulaError, match="nested deeper"):
        parse_formula("-" * 10_000 + "x")


_leaves = st.one_of(st.integers(0, 9).map(Num), st.sampled_from("abc").map(lambda n: Name(n, 0)))
_trees = st.recursive(
    _leaves,
    lambda sub: st.one_of(
        st.tuples(st.sampled_from("+-*"), sub, sub).map(lambda t: BinOp(*t)),
        sub.map(Neg),
        sub.map(lambda e: Call("tanh", e)),
    ),
    max_leaves=12,
)


def _value(tree, env):
    if isinstance(tree, Num):
        return float(tree.value)
    if isinstance(tree, Name):
        return env[tree.text]
    if isinstance(tree, Neg):
        return -_value(tree.arg, env)
    if isinstance(tree, Call):
        return math.tanh(_value(tree.arg, env))
    a, b = _value(tree.left, env), _value(tree.right, env)
    return a + b if tree.op == "+" else a - b if tree.op == "-" else a * b


@settings(max_examples=200, deadline=None)
@given(_trees)
def test_python_from_the_tree_keeps_its_meaning(tree):
    env = {"a": 0.3, "b": -1.7, "c": 2.2}
    source = to_python(tree, lambda n: n)
    shim = SimpleNamespace(tanh=lambda v: torch.tanh(torch.as_tensor(v, dtype=torch.float64)))
    got = eval(source, {"torch": shim}, {k: torch.tensor(v, dtype=torch.float64) for k, v in env.items()})
    assert float(got) == pytest.approx(_value(tree, env), rel=1e-9, abs=1e-9)


CELL = """digraph C {{
    x [label="X[t](输入)\\n[BatchSize, NIn]", shape="Mrecord"]
    his [label="H[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    calc [label="{formula}"]
    h [label="H[t](输出)\\n[BatchSize, NOut]", shape="Mrecord"]
    x -> calc
    his -> calc
    calc -> h
}}
"""


def _compile(tmp_path, formula, **kwargs):
    spec = tmp_path / "C.dot"
    spec.write_text(CELL.format(formula=formula), encoding="utf-8")
    return compile_spec(spec, params={"NIn": 3, "NOut": 4}, **kwargs)


def test_unused_edge_and_unknown_time_step(tmp_path):
    report = _compile(tmp_path, "tanh(X[t] @ W)").report.diagnostics
    assert [d.code for d in report] == [codes.FORMULA_UNUSED_EDGE]
    assert "'his'" in report[0].message and "'calc'" in report[0].message
    with pytest.raises(SpecError) as info:
        _compile(tmp_path, "tanh(X[t] @ W + R[t] @ U)")
    assert info.value.diagnostics[0].code == codes.UNKNOWN_TENSOR


def test_parameter_shapes_come_from_unification(tmp_path):
    source = _compile(tmp_path, "relu(X[t] @ W + H[t-1] @ U + 0.5 * b)").source
    assert "self.W = nn.Parameter(torch.empty(n_in, n_out))" in source
    assert "self.U = nn.Parameter(torch.empty(n_out, n_out))" in source
    assert "self.b = nn.Parameter(torch.empty(1, n_out))" in source
    with pytest.raises(SpecError) as info:
        _compile(tmp_path, "tanh(X[t] @ W + H[t-1] @ W)")
    assert info.value.diagnostics[0].code == codes.ARG_MISMATCH


def test_bad_formula_label_is_a_diagnostic_not_a_traceback(tmp_path):
    spec = tmp_path / "C.dot"
    spec.write_text(CELL.format(formula="tanh(X[t] @ W"), encoding="utf-8")
    result = run_cli("check", spec)
    assert result.code == 1
    assert "C.dot:4:" in result.stderr and "'calc'" in result.stderr and "[bad-label]" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("label", "offset"),
    [("evil(X[t] @ W + H[t-1] @ U + b)", 0), ("σ(X[t]) + evil(X[t] @ W)", 10), ("tanh(evil(X[t]))", 5)],
)
def test_a_formula_calling_an_unknown_function_names_it_and_the_known_ones(tmp_path, label, offset):
    spec = tmp_path / "Cell.dot"
    spec.write_text(
        "digraph Cell {\n  NIn=8; NOut=16\n"
        '  x [label="X[t](输入)\\n[BatchSize, NIn]", shape=Mrecord]\n'
        '  his [label="H[t-1](历史)\\n[BatchSize, NOut]", shape=Mrecord]\n'
        f'  calc [label="{label}"]\n'
        '  h [label="H[t](输出)\\n[BatchSize, NOut]", shape=Mrecord]\n'
        "  x -> calc\n  his -> calc\n  calc -> h\n}\n",
        encoding="utf-8",
    )
    result = run_cli("check", spec)
    assert result.code == 1
    assert result.stderr.splitlines()[0] == (
        f"{spec}:5:3: error: node 'calc': formula '{label}': unknown function 'evil' at offset {offset}; "
        "the known functions are σ, sigmoid, tanh, relu, exp, log, sqrt, softmax [bad-label]"
    )


def test_a_function_of_numbers_is_its_value(tmp_path):
    """``σ(0.5)`` is a number in the generated code: ``torch.sigmoid(0.5)`` fails, torch's functions take tensors."""
    formula = "σ(0.5) * tanh(X[t] @ W + H[t-1] @ U) + relu(0 - 2) + sqrt(4) * exp(-1)"
    source = _compile(tmp_path, formula).source
    assert "torch.sigmoid(0.5)" not in source and "0.6224593312018546" in source
    cell = dotnet.build(tmp_path / "C.dot", params={"NIn": 3, "NOut": 4}).double()
    x, his = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    want = torch.sigmoid(torch.tensor(0.5, dtype=torch.float64)) * torch.tanh(x @ cell.W + his @ cell.U)
    want = want + 2 * math.exp(-1)
    torch.testing.assert_close(cell(x, his), want, rtol=0, atol=1e-12)
    assert cell.scan(torch.randn(2, 5, 3, dtype=torch.float64)).shape == (2, 5, 4)
