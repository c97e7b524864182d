"""From an analysed digraph to the source of its module: the one place generated source is produced.

Shared by ``dotnet compile`` (which then writes and runs the source) and ``dotnet
check`` (which discards it), so that every error generation can find (a digraph
name that cannot name a class, a bad digraph attribute) is reported by both, with
the same code and location. The source is audited (:mod:`dotnet.codegen.audit`) as it is
rendered.
"""

from __future__ import annotations

from dotnet.analysis.blocks import BlockCall
from dotnet.analysis.infer import Analysis
from dotnet.analysis.resolve import Library
from dotnet.codegen.lower import ClassPlan, file_label, lower
from dotnet.codegen.source import render_module


def generate_source(library: Library, analysis: Analysis, values: dict[str, int]) -> str:
    """The audited module for ``analysis``, its blocks' classes first; ``values`` size the top graph."""
    plans: dict[str, ClassPlan] = {}
    for block in blocks_in_order(library, analysis):
        callee = library.analysis(block)
        plans[block] = lower(callee, plans, graph_defaults(callee), is_block=True)
    top = lower(analysis, plans, values, is_block=False)
    return render_module(
        f"{analysis.graph.name}: a PyTorch module compiled from its diagram.",
        file_label(library.source.display),
        [*plans.values(), top],
    )


def blocks_in_order(library: Library, analysis: Analysis) -> list[str]:
    """Every block the graph calls, callees before callers."""
    order: list[str] = []

    def visit(a: Analysis) -> None:
        for node_id, op in a.ops.items():
            callee = a.facts(node_id).callee if isinstance(op, BlockCall) else None
            if callee is not None and callee not in order:
                visit(library.analysis(callee))
                if callee not in order:
                    order.append(callee)

    visit(analysis)
    return order


def graph_defaults(analysis: Analysis) -> dict[str, int]:
    """Symbol values the digraph itself sets: defaults in labels (``NFeature(768)``), attributes (``NHidden=128;``).

    An attribute with a decimal value (``CompRate=0.5``) is a rate, which the analysis applied.
    """
    return analysis.graph.own_values()
