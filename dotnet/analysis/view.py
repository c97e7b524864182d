"""The graph view: one digraph's nodes classified and their labels parsed, once, for every reader.

Which node is a tensor (``shape=Mrecord`` or ``record``), what its label says (the
label, or the node id when there is none), the located reason a label did not
parse, the edges in file order, the one topological order and the one rule for
inputs and outputs (spec language, section 2). The IR
(:mod:`dotnet.analysis.frontend`) carries it; shape inference, blocks, lint,
render and name resolution all read it.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import (
    FormulaLabel,
    LabelError,
    OpCall,
    TensorLabel,
    normalize,
    parse_op_label,
    parse_tensor_label,
)

_TENSOR_TITLES = frozenset({"输入", "输出", "input", "output"})
"""Titles that, followed by dims, make a label plainly a tensor even on a box-shaped node."""


def plainly_a_tensor(label: str) -> bool:
    """A label such as ``[BatchSize, W=56, H=56, C=64]`` or ``输入\\n[BatchSize, 3]``: read as a
    tensor even on a node not drawn as a record (the frontend warns, ``tensor-shape``)."""
    text = normalize(label)
    head, bracket, _ = text.partition("[")
    title = re.sub(r"\(.*\)", "", head).strip().lower()
    if not bracket or not text.endswith("]") or (head.strip() and title not in _TENSOR_TITLES):
        return False
    try:
        parse_tensor_label(label)
    except LabelError:
        return False
    return True


def undeclared_only_sink(dot: DotGraph) -> str | None:
    """``oup`` in ``... -> relu2 -> oup`` with no ``oup`` statement, when no other node is a sink."""
    sources = {e.src for e in dot.edges}
    sinks = [n for n in dot.nodes if n not in sources]
    return sinks[0] if len(sinks) == 1 and not dot.nodes[sinks[0]].declared else None


def undeclared_output(node_id: str) -> TensorLabel:
    """The label of the graph's undeclared output: its shape is whatever flows in (the shape pass fills it in)."""
    return TensorLabel(node_id, frozenset({"output"}), "", (), inferred=True)


TENSOR_NODE_SHAPES = frozenset({"mrecord", "record"})


def is_tensor_node(attrs: Mapping[str, str]) -> bool:
    """A node drawn as a record is a tensor; every other node is an op."""
    return attrs.get("shape", "").lower() in TENSOR_NODE_SHAPES


FULL_WIDTH = {"，": ",", "（": "(", "）": ")", "［": "[", "］": "]", "【": "[", "】": "]"}
FULL_WIDTH.update({"：": ":", "＝": "=", "＋": "+", "－": "-", "＊": "*", "／": "/", "；": ";"})
"""Full-width punctuation a Chinese input method types for the ASCII the labels mean (``full-width``)."""
_FULL_WIDTH_TABLE = str.maketrans(FULL_WIDTH)
_RECORD_PORT = re.compile(r"(?:^|(?<=[{|]))\s*<\w*>")
_RECORD_BRACE = re.compile(r"(?<!\\)[{}]")
_RECORD_BAR = re.compile(r"(?<!\\)\|")


def full_width_marks(attrs: Mapping[str, str], node_id: str) -> list[str]:
    """The full-width punctuation in a node's label, each once, in the order written."""
    return list(dict.fromkeys(ch for ch in attrs.get("label", node_id) if ch in FULL_WIDTH))


def record_fields(label: str) -> str:
    """A record label's fields as lines: ``{输出|[BatchSize, 10]}`` reads as ``输出\\n[BatchSize, 10]``."""
    label = _RECORD_PORT.sub("", label)
    return _RECORD_BAR.sub(r"\\n", _RECORD_BRACE.sub("", label))


def label_text(attrs: Mapping[str, str], node_id: str) -> str:
    """A node's label as a reader reads it, or its id when it has none (as Graphviz draws it).

    Full-width punctuation is its ASCII (``，`` a comma); a record's fields are lines.
    """
    label = attrs.get("label", node_id).translate(_FULL_WIDTH_TABLE)
    return record_fields(label) if is_tensor_node(attrs) else label


def symbol_word(symbol: str) -> re.Pattern[str]:
    """``symbol`` as a whole word of label text, not part of a longer name or of ``#Layer``."""
    return re.compile(rf"(?<![\w#]){re.escape(symbol)}(?!\w)")


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
    refs: dict[str, list[str]] = field(default_factory=dict)
    """For each formula node, the tensor nodes its names refer to, once resolved (drawn edge or not)."""
    boxed: tuple[str, ...] = ()
    """Tensors not drawn as records whose label is plainly a tensor (``[BatchSize, W=56, ...]``)."""
    undeclared: str | None = None
    """A node only named in edges that is the only sink: the output, its shape what flows in."""
    fixes: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Symbol slips fixed in a node's label (``BatchSise`` read as ``BatchSize``), once the IR is built:
    its labels above are then the fixed ones (:func:`dotnet.analysis.slips.mend_symbol_slips`)."""

    @staticmethod
    def of(dot: DotGraph) -> GraphView:
        """The view of ``dot``, every label parsed on its own."""
        tensors: dict[str, TensorLabel] = {}
        ops: dict[str, OpCall | FormulaLabel] = {}
        failures: dict[str, LabelError] = {}
        boxed: list[str] = []
        undeclared = undeclared_only_sink(dot)
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
        return GraphView(dot, tensors, ops, failures, preds, succs, boxed=tuple(boxed), undeclared=undeclared)

    def text_as_read(self, node_id: str) -> str:
        """The node's label as its parsed label reads it: symbol slips fixed, a missing last ``]`` added."""
        text = label_text(self.dot.nodes[node_id].attrs, node_id)
        for old, new in self.fixes.get(node_id, ()):
            text = symbol_word(old).sub(new, text)
        parsed = self.tensors.get(node_id) or self.ops.get(node_id)
        return text + "]" if getattr(parsed, "unclosed", False) else text

    def deps(self, node_id: str) -> list[str]:
        """Nodes whose value ``node_id`` needs: sources of its in-edges, then formula references."""
        return list(dict.fromkeys([*self.preds[node_id], *self.refs.get(node_id, ())]))

    def order(self) -> list[str]:
        """Every node after the nodes it needs, ties in file order; nodes on or after a cycle are left out.

        Kahn's algorithm, always taking the earliest ready node in file order.
        """
        names = list(self.dot.nodes)
        index = {n: i for i, n in enumerate(names)}
        users: dict[str, list[str]] = {n: [] for n in names}
        waiting: dict[str, int] = {}
        for n in names:
            deps = self.deps(n)
            waiting[n] = len(deps)
            for d in deps:
                users[d].append(n)
        ready = [index[n] for n, k in waiting.items() if k == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            node = names[heapq.heappop(ready)]
            order.append(node)
            for user in users[node]:
                waiting[user] -= 1
                if waiting[user] == 0:
                    heapq.heappush(ready, index[user])
        return order

    def inputs(self) -> list[str]:
        """Tensor nodes, not parameters, that no edge enters: the graph's inputs, in file order."""
        return [n for n, t in self.tensors.items() if not self.preds[n] and "param" not in t.roles and not t.random]

    def params(self) -> list[str]:
        """Tensor nodes with the parameter role, in file order."""
        return [n for n, t in self.tensors.items() if "param" in t.roles]

    def outputs(self) -> list[str]:
        """The graph's outputs, in file order: nodes that no edge leaves, and tensors declared an output
        (``输出``) that also feed other nodes; neither inputs nor parameters."""
        others = set(self.inputs()) | set(self.params())
        return [
            n
            for n in self.dot.nodes
            if n not in self.failures
            and n not in others
            and (not self.succs[n] or (n in self.tensors and "output" in self.tensors[n].roles))
        ]

    def primary_output(self) -> str | None:
        """The output a call of this graph yields (see :func:`primary_output`)."""
        return primary_output(self.outputs(), self.tensors)


def primary_output(outputs: list[str], tensors: Mapping[str, TensorLabel]) -> str | None:
    """Of ``outputs``, the only one, or the one tensor with the output role; None when neither fits."""
    tagged = [o for o in outputs if o in tensors and "output" in tensors[o].roles]
    return outputs[0] if len(outputs) == 1 else tagged[0] if len(tagged) == 1 else None
