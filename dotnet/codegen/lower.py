"""Lowering: from analysed graphs to plans of the classes the template writes.

A plan holds only strings the code generator built itself (identifiers, sizes
rendered from :class:`~dotnet.reading.symbolic.Dim`, op code from the op registry), so
no label text reaches the generated file except through :func:`comment_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dotnet.analysis.infer import Analysis
from dotnet.analysis.ir import Graph, OpNode, TensorNode
from dotnet.codegen.naming import Namespace, class_name, identifier, snake_case
from dotnet.codegen.scan import ScanPlan, plan_scan
from dotnet.ops.base import CodeWriter
from dotnet.reading.shape import Axis, torch_text
from dotnet.reading.symbolic import Dim


@dataclass
class ConstructorArg:
    name: str
    symbol: str
    default: int | None


@dataclass
class Submodule:
    attr: str
    expr: str
    comment: str


@dataclass
class Statement:
    target: str
    expr: str
    comment: str


@dataclass
class Port:
    """A forward input or output: its variable, node id and PyTorch-layout shape."""

    name: str
    node: str
    shape: str
    integer: bool = False


@dataclass
class ClassPlan:
    """Everything the template needs to write one ``nn.Module`` class."""

    name: str
    summary: str
    args: list[ConstructorArg]
    submodules: list[Submodule]
    parameters: list[Submodule]
    inputs: list[Port]
    outputs: list[Port]
    statements: list[Statement]
    constraints: list[str]
    imports: set[str] = field(default_factory=set)
    scan: ScanPlan | None = None
    """For a recurrent cell: the method that runs it over a whole sequence."""
    scan_doc: str = ""


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment or docstring: printable, one line, no quotes run."""
    cleaned = "".join(ch if ch.isprintable() else "?" for ch in text)
    return cleaned.replace('"""', "'''").replace("\\", "/")


def file_label(path: str) -> str:
    """A spec file's base name, reduced to characters that are safe in generated text."""
    base = re.split(r"[\\/]", path)[-1]
    return re.sub(r"[^\w.\-]", "_", base)


class _Writer(CodeWriter):
    def __init__(
        self, symbols: dict[str, str], plans: dict[str, ClassPlan], graph: Graph, attrs: dict[str, str]
    ) -> None:
        self.symbols = symbols
        self.plans = plans
        self.graph = graph
        self.attrs = attrs
        self.values: dict[str, str] = {}
        """Python expression of each node's value, filled while the forward is written."""
        self.implicit: dict[str, str] = {}
        """Attribute of each implicit parameter, by formula name."""
        self.imports: set[str] = set()

    def formula_name(self, name: str) -> str:
        tensor = self.graph.titles.get(name)
        return self.values[tensor] if tensor is not None else f"self.{self.implicit[name]}"

    def node_attr(self, node_id: str) -> str:
        return self.attrs[node_id]

    def dim(self, value: Dim) -> str:
        missing = value.symbols() - self.symbols.keys()
        if missing:
            raise AssertionError(f"symbols {sorted(missing)} are not constructor arguments")
        return value.render(lambda s: self.symbols[s], python=True)

    def use(self, import_name: str) -> None:
        self.imports.add(import_name)

    def block_constructor(self, block: str, values: dict[str, Dim]) -> str:
        plan = self.plans[block]
        args = ", ".join(f"{a.name}={self.dim(values[a.symbol])}" for a in plan.args)
        return f"{block}({args})"


def lower(analysis: Analysis, plans: dict[str, ClassPlan], defaults: dict[str, int], is_block: bool) -> ClassPlan:
    """Plan the class for one analysed graph; ``plans`` must already hold its blocks."""
    graph = analysis.graph
    name = class_name(graph.name, graph.location)
    names = Namespace({name, *plans})
    args = [ConstructorArg(names.claim(snake_case(s)), s, defaults.get(s)) for s in analysis.constructor_symbols]
    where = file_label(graph.file)
    attrs = {node_id: names.claim(identifier(node_id)) for node_id in graph.nodes}
    writer = _Writer({a.symbol: a.name for a in args}, plans, graph, attrs)
    parameters = _parameters(analysis, writer, names, where)
    submodules: list[Submodule] = []
    for node_id, op in analysis.ops.items():
        node = graph.nodes[node_id]
        expr = op.module(writer)
        if expr is None:
            continue
        times = op.call.times if not op.times_is_factor else None
        if times is not None:
            expr = op.repeated_module(expr, writer.dim(times))
        submodules.append(Submodule(attrs[node_id], expr, _origin(node, where)))

    values = writer.values
    values.update({n: attrs[n] for n in analysis.inputs})
    values.update({p: f"self.{attrs[p]}" for p in analysis.params})
    statements: list[Statement] = []
    for node_id in analysis.order:
        node = graph.nodes[node_id]
        preds = [e.src for e in graph.preds(node_id)]
        if isinstance(node, TensorNode):
            if preds:
                values[node_id] = values[preds[0]]
            continue
        target = _target(analysis, node_id, attrs)
        expr = analysis.ops[node_id].forward(writer, [values[p] for p in preds], attrs[node_id])
        statements.append(Statement(target, expr, torch_text(analysis.shapes[node_id])))
        values[node_id] = target
        for e in graph.succs(node_id):
            if attrs[e.dst] == target:
                values[e.dst] = target

    inputs = [
        Port(attrs[n], n, torch_text(analysis.shapes[n]), "ids" in _tensor(analysis, n).label.roles)
        for n in analysis.inputs
    ]
    outputs = [Port(values[n], comment_text(n), torch_text(analysis.shapes[n])) for n in analysis.outputs]
    kind = "Block" if is_block else "Model"
    if analysis.cell is not None:
        kind = "Recurrent cell"
    summary = f"{kind} {graph.name}, drawn in {where}:{graph.location.line}."
    constraints = [c.describe() for c in analysis.constraints if c.expr.symbols()]
    plan = ClassPlan(
        name, summary, args, submodules, parameters, inputs, outputs, statements, constraints, writer.imports
    )
    plan.scan = plan_scan(analysis, attrs, writer.implicit, writer.symbols, names)
    if plan.scan is not None and analysis.cell is not None:
        cell = analysis.cell
        step = analysis.shapes[cell.steps[0]]
        out = analysis.shapes[cell.states[cell.output].new]
        seq = Axis(None, Dim.sym("SeqLen"))
        plan.scan_doc = (
            f"Run over {torch_text(step[:1] + (seq,) + step[1:])} from a zero state.\n\n"
            f"        Returns {torch_text(out[:1] + (seq,) + out[1:])}: the cell's {cell.states[cell.output].name} "
            "at every step.\n        "
        )
    return plan


def _tensor(analysis: Analysis, node_id: str) -> TensorNode:
    node = analysis.graph.nodes[node_id]
    assert isinstance(node, TensorNode)
    return node


def _target(analysis: Analysis, node_id: str, attrs: dict[str, str]) -> str:
    """Name an op's result after the tensor node it feeds, when it feeds exactly one."""
    succs = analysis.graph.succs(node_id)
    if len(succs) == 1:
        succ = analysis.graph.nodes[succs[0].dst]
        if isinstance(succ, TensorNode) and len(analysis.graph.preds(succ.id)) == 1:
            return attrs[succ.id]
    return attrs[node_id]


def _origin(node: OpNode | TensorNode, where: str) -> str:
    text = node.describe() if isinstance(node, OpNode) else f"{node.label.title} {node.label.shape_text()}".strip()
    return comment_text(f"{node.id}: {text} ({where}:{node.location.line})")


def _parameters(analysis: Analysis, writer: _Writer, names: Namespace, where: str) -> list[Submodule]:
    """Explicit parameter nodes and the parameters formulas name, in order of first appearance."""
    graph = analysis.graph
    found: list[tuple[tuple[int, int, int], Submodule]] = []
    for p in analysis.params:
        node = graph.nodes[p]
        assert isinstance(node, TensorNode)
        sizes = ", ".join(writer.dim(d.size) for d in node.label.dims)
        key = (node.location.line, node.location.col, 0)
        found.append((key, Submodule(writer.attrs[p], f"nn.Parameter(torch.empty({sizes}))", _origin(node, where))))
    for node_id, op in analysis.ops.items():
        node = graph.nodes[node_id]
        for name, shape, offset in op.implicit_parameters():
            if name in writer.implicit:
                continue
            attr = writer.implicit[name] = names.claim(identifier(name))
            sizes = ", ".join(writer.dim(a.size) for a in shape)
            comment = comment_text(f"{name}: used by {node_id} ({where}:{node.location.line})")
            key = (node.location.line, node.location.col, offset + 1)
            found.append((key, Submodule(attr, f"nn.Parameter(torch.empty({sizes}))", comment)))
    return [s for _, s in sorted(found, key=lambda item: item[0])]
