"""What the names in formula labels refer to, and the slips a reader can see in them.

A name that a tensor node carries (``F[t]`` is node ``f``'s name) refers to that
node, whether or not an edge is drawn from it; any other name is an implicit
parameter. Edges and references are compared both ways and every difference is
a warning naming both nodes.
"""

from __future__ import annotations

import re

from dotnet import codes
from dotnet.analysis.ir import Graph, OpNode, TensorNode
from dotnet.diagnostics import Diagnostic, Report, SpecError
from dotnet.reading.formulas import BinOp, Call, Expr, Input, Name, contains, names
from dotnet.reading.labels import FormulaLabel

_TIME_INDEX = re.compile(r".*\[t(?:[-+]\d+)?\]\Z")
_SUBSCRIPT = re.compile(r"(?P<base>.*)\[(?P<sub>[^\[\]]*)\]\Z")


def formulas(graph: Graph) -> list[tuple[OpNode, FormulaLabel]]:
    """The formula nodes of a graph, in file order."""
    return [(n, n.call) for n in graph.nodes.values() if isinstance(n, OpNode) and isinstance(n.call, FormulaLabel)]


_PARAMETER_LIKE = re.compile(r"[A-Za-z]\d*|weight|bias", re.IGNORECASE)
"""Unsubscripted names written like weights: ``W``, ``U2``, ``b``; anything longer names a tensor."""


def looks_like_a_tensor(graph: Graph, name: str) -> bool:
    """``X[t]``, or ``mu`` beside tensors titled ``μ``, ``ε``: a name no tensor carries that means one.

    A name with a time index means a tensor. So does a name without a subscript in a graph whose
    tensors have such titles (``μ``, ``logσ²``), unless it is written like a weight (``W``, ``b``,
    ``U2``). Elsewhere (cells, whose tensors are ``X[t]``, ``H[t-1]``) other names are parameters.
    """
    if _TIME_INDEX.fullmatch(name):
        return True
    plain_titles = any(not _SUBSCRIPT.fullmatch(title) for title in graph.titles)
    return plain_titles and not _SUBSCRIPT.fullmatch(name) and not _PARAMETER_LIKE.fullmatch(name)


def is_parameter_name(graph: Graph, name: str) -> bool:
    """True for a formula name that no tensor node carries: an implicit parameter."""
    return name not in graph.titles


def resolve_references(graph: Graph, report: Report) -> dict[str, list[str]]:
    """For each formula node, the tensor nodes it names; warnings for edges and names that disagree."""
    errors: list[Diagnostic] = []
    refs: dict[str, list[str]] = {}
    for node, formula in formulas(graph):
        used: dict[str, None] = {}
        for name in names(formula.expr):
            target = graph.titles.get(name.text)
            if target is not None:
                used.setdefault(target, None)
            elif looks_like_a_tensor(graph, name.text):
                errors.append(
                    Diagnostic(
                        "error",
                        codes.UNKNOWN_TENSOR,
                        f"node {node.id!r}: the formula names {name.text}, but no tensor node is called that "
                        f"(tensor names here: {', '.join(sorted(graph.titles)) or 'none'})",
                        node.location,
                        node.id,
                    )
                )
        refs[node.id] = list(used)
        drawn = [e.src for e in graph.preds(node.id)]
        if contains(formula.expr, Input) and drawn:
            used.setdefault(drawn[0], None)  # ``AddNoise\n+ ...`` reads its input
        for target in used:
            if target not in drawn:
                title = _title(graph, target)
                report.warn(
                    codes.FORMULA_NO_EDGE,
                    f"node {node.id!r}: the formula uses {title} (node {target!r}) but no edge is drawn "
                    f"from {target!r} to {node.id!r}; the use counts",
                    node.location,
                    node.id,
                )
        for source in dict.fromkeys(drawn):
            if source not in used:
                what = _title(graph, source) if isinstance(graph.nodes[source], TensorNode) else "its value"
                report.warn(
                    codes.FORMULA_UNUSED_EDGE,
                    f"node {node.id!r}: an edge comes from {source!r} but the formula never uses {what}",
                    node.location,
                    node.id,
                )
        _lint_subscripts(graph, node, formula.expr, report)
    if errors:
        raise SpecError(errors)
    _lint_squashed_gates(graph, report)
    return refs


def _title(graph: Graph, node_id: str) -> str:
    node = graph.nodes[node_id]
    return node.label.title if isinstance(node, TensorNode) and node.label.title else node_id


def _lint_subscripts(graph: Graph, node: OpNode, expr: Expr, report: Report) -> None:
    """``U[x]`` among ``W[z]`` and ``b[z]``: a parameter subscript unlike all the others."""
    subs: dict[str, str] = {}
    for name in names(expr):
        m = _SUBSCRIPT.fullmatch(name.text)
        if m and is_parameter_name(graph, name.text):
            subs.setdefault(name.text, m.group("sub"))
    values = list(subs.values())
    for text, sub in subs.items():
        others = [v for v in values if v != sub]
        if len(others) >= 2 and len(set(others)) == 1 and values.count(sub) == 1:
            base = _SUBSCRIPT.fullmatch(text)
            assert base is not None
            report.warn(
                codes.PARAM_NAME,
                f"node {node.id!r}: parameter {text} stands among parameters subscripted [{others[0]}]; "
                f"did you mean {base.group('base')}[{others[0]}]? (compiled as written: its own parameter)",
                node.location,
                node.id,
            )


def _gate_of(graph: Graph, tensor_id: str) -> bool:
    """True when the tensor is the output of a formula that ends in σ: a gate in (0, 1)."""
    preds = graph.preds(tensor_id)
    if len(preds) != 1:
        return False
    source = graph.nodes[preds[0].src]
    return isinstance(source, OpNode) and isinstance(source.call, FormulaLabel) and _top_sigmoid(source.call.expr)


def _top_sigmoid(expr: Expr) -> bool:
    return isinstance(expr, Call) and expr.fn == "sigmoid"


def _lint_squashed_gates(graph: Graph, report: Report) -> None:
    """``C[t] * tanh(O[t])``: tanh of a gate, where the textbook writes ``O[t] * tanh(C[t])``."""
    for node, formula in formulas(graph):
        expr = formula.expr
        if not (isinstance(expr, BinOp) and expr.op == "*"):
            continue
        for outer, inner in ((expr.left, expr.right), (expr.right, expr.left)):
            if (
                isinstance(outer, Name)
                and isinstance(inner, Call)
                and inner.fn in ("tanh", "sigmoid")
                and isinstance(inner.arg, Name)
                and (gate := graph.titles.get(inner.arg.text)) is not None
                and _gate_of(graph, gate)
                and not (outer.text in graph.titles and _gate_of(graph, graph.titles[outer.text]))
            ):
                report.warn(
                    codes.SUSPICIOUS_FORMULA,
                    f"node {node.id!r}: {inner.fn}({inner.arg.text}) squashes the gate {inner.arg.text}, "
                    f"already in (0, 1); did you mean {inner.arg.text} * {inner.fn}({outer.text})? "
                    "(compiled as written)",
                    node.location,
                    node.id,
                )
