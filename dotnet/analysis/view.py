"""The graph view: one digraph's nodes classified and their labels parsed, once, for every reader.

Which node is a tensor (``shape=Mrecord`` or ``record``), what its label says (the
label, or the node id when there is none), the located reason a label did not
parse, the edges in file order, and one rule for inputs and outputs. The IR
(:mod:`dotnet.analysis.frontend`), lint, render and name resolution all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dotnet.analysis.ir import Graph, TensorNode
from dotnet.analysis.slips import plainly_a_tensor, undeclared_only_sink, undeclared_output
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import FormulaLabel, LabelError, OpCall, TensorLabel, parse_op_label, parse_tensor_label

TENSOR_NODE_SHAPES = frozenset({"mrecord", "record"})


def is_tensor_node(attrs: Mapping[str, str]) -> bool:
    """A node drawn as a record is a tensor; every other node is an op."""
    return attrs.get("shape", "").lower() in TENSOR_NODE_SHAPES


def label_text(attrs: Mapping[str, str], node_id: str) -> str:
    """A node's label, or its id when it has none (as Graphviz draws it)."""
    return attrs.get("label", node_id)


@dataclass
class GraphView:
    """A raw digraph with every label parsed that parses, and why each other one did not."""

    dot: DotGraph
    tensors: dict[str, TensorLabel]
    ops: dict[str, OpCall | FormulaLabel]
    failures: dict[str, LabelError]
    """The nodes whose label did not parse, with the parser's reason."""
    preds: dict[str, list[str]]
    succs: dict[str, list[str]]
    """Edge ends of every node, in the order the file writes the edges."""
    boxed: tuple[str, ...] = ()
    """Tensors not drawn as records whose label is plainly a tensor (``[BatchSize, W=56, ...]``)."""
    undeclared: str | None = None
    """A node only named in edges that is the only sink: the output, its shape what flows in."""

    @staticmethod
    def of(dot: DotGraph, graph: Graph | None = None) -> GraphView:
        """The view of ``dot``; ``graph``, its IR where it was built, spares parsing the labels again."""
        tensors: dict[str, TensorLabel] = {}
        ops: dict[str, OpCall | FormulaLabel] = {}
        failures: dict[str, LabelError] = {}
        boxed: list[str] = []
        undeclared = undeclared_only_sink(dot)
        if graph is not None:
            for node in graph.nodes.values():
                if isinstance(node, TensorNode):
                    tensors[node.id] = node.label
                else:
                    ops[node.id] = node.call
        else:
            for raw in dot.nodes.values():
                label = label_text(raw.attrs, raw.id)
                try:
                    if is_tensor_node(raw.attrs):
                        tensors[raw.id] = parse_tensor_label(label)
                    elif plainly_a_tensor(label):
                        tensors[raw.id] = parse_tensor_label(label)
                        boxed.append(raw.id)
                    elif raw.id == undeclared:
                        tensors[raw.id] = undeclared_output(raw.id)
                    else:
                        ops[raw.id] = parse_op_label(label)
                except LabelError as exc:
                    failures[raw.id] = exc
        preds: dict[str, list[str]] = {n: [] for n in dot.nodes}
        succs: dict[str, list[str]] = {n: [] for n in dot.nodes}
        for e in dot.edges:
            preds[e.dst].append(e.src)
            succs[e.src].append(e.dst)
        if undeclared is not None and undeclared not in tensors:
            undeclared = None  # the IR read it some other way
        return GraphView(dot, tensors, ops, failures, preds, succs, tuple(boxed), undeclared)

    def inputs(self) -> list[str]:
        """Tensor nodes, not parameters, that nothing flows into: the graph's inputs, in file order."""
        return [n for n, t in self.tensors.items() if not self.preds[n] and "param" not in t.roles]

    def outputs(self) -> list[str]:
        """Tensor nodes that something flows into and nothing leaves."""
        return [n for n, t in self.tensors.items() if self.preds[n] and not self.succs[n] and "param" not in t.roles]

    def primary_output(self) -> str | None:
        """The output a call of this graph yields: the only one, or the one with the output role."""
        outputs = self.outputs()
        tagged = [o for o in outputs if "output" in self.tensors[o].roles]
        return outputs[0] if len(outputs) == 1 else tagged[0] if len(tagged) == 1 else None
