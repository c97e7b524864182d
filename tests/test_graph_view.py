"""The graph view's one topological order and one rule for inputs and outputs, and who reads them."""

from __future__ import annotations

from pathlib import Path

from dotnet.analysis.frontend import build_graph
from dotnet.analysis.view import GraphView
from dotnet.diagnostics import Report
from dotnet.reading.dot import parse_dot
from dotnet.tools.check import check_source


def view_of(text: str) -> GraphView:
    return GraphView.of(parse_dot(text, "v.dot")[0])


def test_ready_nodes_come_in_file_order_after_what_they_need() -> None:
    view = view_of(
        "digraph G {\n"
        '  out [label="[BatchSize, 4]", shape=Mrecord]\n'
        '  b [label="Tanh"]\n'
        '  a [label="Relu"]\n'
        '  inp [label="[BatchSize, 4]", shape=Mrecord]\n'
        "  inp -> a -> b -> out\n"
        "}\n"
    )
    assert view.order() == ["inp", "a", "b", "out"]


def test_a_cycle_leaves_its_nodes_out_of_the_order() -> None:
    view = view_of('digraph G {\n  inp [label="[BatchSize, 4]", shape=Mrecord]\n  inp -> a -> b -> a\n}\n')
    assert view.order() == ["inp"]


def test_formula_references_order_like_edges() -> None:
    text = (
        "digraph G {\n"
        '  f [label="H + X"]\n'
        '  h [label="H\\n[BatchSize, 4]", shape=Mrecord]\n'
        '  x [label="X\\n[BatchSize, 4]", shape=Mrecord]\n'
        '  out [label="[BatchSize, 4]", shape=Mrecord]\n'
        "  x -> f -> out\n"
        "}\n"
    )
    graph = build_graph(parse_dot(text, "v.dot")[0], Report())
    assert graph.view.refs == {"f": ["h", "x"]}
    assert graph.view.order() == ["h", "x", "f", "out"]


def test_inputs_parameters_and_outputs_follow_the_spec_language() -> None:
    view = view_of(
        "digraph G {\n"
        '  w [label="W(param)\\n[4, 4]", shape=Mrecord]\n'
        '  inp [label="[BatchSize, 4]", shape=Mrecord]\n'
        '  lone [label="[BatchSize, 2]", shape=Mrecord]\n'
        '  mm [label="@"]\n'
        '  act [label="Tanh"]\n'
        "  inp -> mm\n  w -> mm\n  mm -> act\n"
        "}\n"
    )
    assert view.inputs() == ["inp", "lone"]  # a tensor no edge enters, not a parameter
    assert view.params() == ["w"]
    assert view.outputs() == ["act"]  # an op that no edge leaves is an output too
    assert view.primary_output() == "act"


def test_of_two_outputs_the_one_with_the_output_role_is_what_a_call_yields() -> None:
    view = view_of(
        "digraph G {\n"
        '  inp [label="[BatchSize, 4]", shape=Mrecord]\n'
        '  a [label="A(output)\\n[BatchSize, 4]", shape=Mrecord]\n'
        '  b [label="[BatchSize, 4]", shape=Mrecord]\n'
        "  inp -> r -> a\n  r -> b\n"
        "}\n"
    )
    assert view.outputs() == ["a", "b"]
    assert view.primary_output() == "a"


def test_lint_checks_an_activation_drawn_as_the_output(tmp_path: Path) -> None:
    """The op node ``sig`` is the digraph's output (no tensor node after it), so the range check reads it."""
    spec = tmp_path / "OpOut.dot"
    spec.write_text(
        "digraph OpOut {\n"
        '    inp [label="[BatchSize, 4]", shape="Mrecord"]\n'
        '    relu [label="Relu"]\n'
        '    sig [label="Sigmoid"]\n'
        "    inp -> relu -> sig\n"
        "}\n",
        encoding="utf-8",
    )
    messages = [d.message for d in check_source(spec, {})]
    assert messages == ["node 'sig': Sigmoid follows the Relu 'relu', so output 'sig' lies in [0.5, 1), not in (0, 1)"]
