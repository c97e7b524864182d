"""The DOT reader: positions, defaults, documents; agrees with pydot on what the graphs hold."""

from __future__ import annotations

import pydot
import pytest

from dotnet.diagnostics import SpecError
from dotnet.reading.dot import find_digraphs, parse_dot


def test_node_defaults_attributes_and_edge_order():
    (g,) = parse_dot(
        'digraph G {\n  node [shape="box", color=red,]\n  a [label="A\\nx", shape=Mrecord]\n  a -> b -> c\n  c -> a\n}',
        "g.dot",
    )
    assert list(g.nodes) == ["a", "b", "c"]
    assert g.nodes["a"].attrs == {"shape": "Mrecord", "color": "red", "label": "A\\nx"}
    assert g.nodes["b"].attrs == {"shape": "box", "color": "red"}
    assert [(e.src, e.dst, e.location.line, e.location.col) for e in g.edges] == [
        ("a", "b", 4, 5),
        ("b", "c", 4, 10),
        ("c", "a", 5, 5),
    ]
    assert (g.nodes["a"].location.line, g.nodes["a"].location.col) == (3, 3)


def test_comments_subgraphs_ports_and_graph_attributes():
    (g,) = parse_dot(
        "/* c */ digraph G { // line\n# pre\n NHidden=64; subgraph cluster_x { a; b } a:p -> {b c} }", "g.dot"
    )
    assert g.attrs == {"NHidden": "64"}
    assert g.clusters == [("cluster_x", ["a", "b"])]
    assert [(e.src, e.dst) for e in g.edges] == [("a", "b"), ("a", "c")]


def test_string_escapes_and_concatenation():
    (g,) = parse_dot('digraph G { a [label="say \\"hi\\"" + " there"] }', "g.dot")
    assert g.nodes["a"].attrs["label"] == 'say "hi" there'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("digraph G { a -> }", "g.dot:1:18: error: expected a node id, found '}' [syntax-error]"),
        ('digraph G { a [label="x }', "g.dot:1:22: error: unterminated string [syntax-error]"),
        ("digraph G { a -- b }", "g.dot:1:15: error: '--' is an undirected edge: a digraph uses '->' [syntax-error]"),
        ("digraph G { a $ }", "g.dot:1:15: error: unexpected character '$' [syntax-error]"),
        ("digraph G {", "g.dot:1:12: error: expected '}', found end of input [syntax-error]"),
    ],
)
def test_syntax_errors_name_line_and_column(text, message):
    with pytest.raises(SpecError) as info:
        parse_dot(text, "g.dot")
    assert [d.format_text() for d in info.value.diagnostics] == [message]


def test_digraphs_in_prose_keep_document_lines(seed_document):
    graphs = find_digraphs(seed_document.read_text(encoding="utf-8"), "seed.txt")
    assert [(g.name, g.location.line) for g in graphs] == [
        ("ConvAutoEncoder", 4),
        ("CAEConvBlock", 6),
        ("CAEDeconvBlock", 8),
        ("TimeRNN", 11),
        ("NLPRNN", 13),
        ("RNNCell", 15),
        ("GRUCell", 17),
        ("LSTMCell", 19),
    ]


def test_prose_that_mentions_digraph_is_not_a_graph():
    text = "Each digraph below is a model.\nA digraph, in short, is directed.\ndigraph Net { a -> b }\n"
    assert [g.name for g in find_digraphs(text, "doc.md")] == ["Net"]


def test_agrees_with_pydot_on_the_seed_document(seed_document):
    text = seed_document.read_text(encoding="utf-8")
    for ours in find_digraphs(text, "seed.txt"):
        (theirs,) = pydot.graph_from_dot_data(text[ours.span[0] : ours.span[1]])
        their_edges = [(e.get_source(), e.get_destination()) for e in theirs.get_edges()]
        assert [(e.src, e.dst) for e in ours.edges] == their_edges, ours.name
        for node in theirs.get_nodes():
            name = node.get_name().strip('"')
            if name in ("node", "edge", "graph"):
                continue
            label = node.get("label")
            if label is not None:
                assert ours.nodes[name].attrs["label"] == label.strip('"'), (ours.name, name)
