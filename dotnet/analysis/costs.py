"""Parameter counts and multiply-adds per node, from inferred shapes alone (no torch).

Each op reports its own costs (:meth:`~dotnet.ops.base.Op.parameter_count`,
:meth:`~dotnet.ops.base.Op.mult_adds`); a parameter tensor node counts its
elements. Sizes stay symbolic where the spec leaves them so (``9*BlockIn*BlockOut``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dotnet.analysis.infer import Analysis
from dotnet.analysis.ir import OpNode, TensorNode
from dotnet.reading.shape import Shape, numel
from dotnet.reading.symbolic import Dim


@dataclass(frozen=True)
class NodeCost:
    """One node's output shape (PyTorch layout), trainable parameters and multiply-adds."""

    node: str
    label: str
    shape: Shape
    parameters: Dim
    mult_adds: Dim


def node_costs(analysis: Analysis, bindings: Mapping[str, Dim] | None = None) -> list[NodeCost]:
    """Costs of the op and parameter nodes of one analysed graph, in topological order.

    ``bindings`` values the graph's symbols as a block call does; an ``x N``
    repetition counts its op N times at the shapes it was inferred with.
    """
    graph = analysis.graph
    rows: list[NodeCost] = []
    for node_id in analysis.order:
        node = graph.nodes[node_id]
        shape = analysis.shapes[node_id]
        if isinstance(node, TensorNode):
            if node.is_param:
                rows.append(NodeCost(node_id, node.label.shape_text(), shape, numel(shape), Dim.const(0)))
            continue
        assert isinstance(node, OpNode)
        op = analysis.ops[node_id]
        if node_id in analysis.repeated_costs:  # copies that differ (``#Layer``) were summed one by one
            parameters, mult_adds = analysis.repeated_costs[node_id]
            rows.append(NodeCost(node_id, node.describe(), shape, parameters, mult_adds))
            continue
        inputs = [analysis.edge_shape(e) for e in graph.preds(node_id)]
        repeated = op.repeat_count()
        times = Dim.const(1) if repeated is None else repeated
        count = times.substitute(bindings or {})
        if count.int_value() == 0:  # ``x 0`` is the identity: the op never ran, so it has no costs
            rows.append(NodeCost(node_id, node.describe(), shape, Dim.const(0), Dim.const(0)))
            continue
        facts = analysis.facts(node_id)
        parameters, mult_adds = op.parameter_count(inputs, shape, facts), op.mult_adds(inputs, shape, facts)
        rows.append(NodeCost(node_id, node.describe(), shape, parameters * count, mult_adds * count))
    return rows


@dataclass(frozen=True)
class Totals:
    parameters: Dim
    mult_adds: Dim


def total_cost(analysis: Analysis, bindings: Mapping[str, Dim] | None = None) -> Totals:
    """The sums of :func:`node_costs` over one graph."""
    parameters, mult_adds = Dim.const(0), Dim.const(0)
    for row in node_costs(analysis, bindings):
        parameters = parameters + row.parameters
        mult_adds = mult_adds + row.mult_adds
    return Totals(parameters, mult_adds)
