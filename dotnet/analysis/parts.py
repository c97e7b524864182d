"""A model drawn in parts: digraphs that pass tensors on by node id, joined into one.

``--graph A+B+C`` names the parts in order. Each later part starts from tensors an
earlier part ends in, drawn with the same node id and the same declared shape
(part 1 ends in ``featmap1``, part 2 starts from ``featmap1``); every other node id
belongs to one part only. The joined digraph has every part's nodes and edges, in
order, and is named by ``--name`` or the parts' common prefix (``AlexNetPart1`` ...
``AlexNetPart5`` make ``AlexNet``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from dotnet import codes
from dotnet.analysis.ir import Graph, TensorNode
from dotnet.diagnostics import Location, SpecError, error
from dotnet.reading.dot import DotGraph

_PART_SUFFIX = re.compile(r"(?:_|\d|Part|part)+$")


def model_name(names: list[str], where: Location) -> str:
    """The parts' common prefix, cut back to a whole word, less a trailing ``Part``, digits or ``_``."""
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    while prefix and any(len(n) > len(prefix) and n[len(prefix)].islower() for n in names):
        prefix = prefix[:-1]  # never cut a word in two: 'Enc' of 'Encoder' and 'Encrypt'
    prefix = _PART_SUFFIX.sub("", prefix)
    if not prefix:
        raise error(
            codes.BAD_PARTS,
            f"--graph {'+'.join(names)}: the parts' names share no prefix to name the model by; "
            "name it with --name NAME",
            where,
        )
    return prefix


def join_parts(parts: list[tuple[DotGraph, Graph]], name: str | None, where: Location) -> DotGraph:
    """One digraph of the parts' nodes and edges, named ``name`` or by :func:`model_name`.

    An error where the parts do not pass tensors on.
    """
    owner: dict[str, tuple[DotGraph, Graph]] = {}
    problems: list[SpecError] = []
    for index, (dot, graph) in enumerate(parts):
        shared = 0
        for node_id in graph.nodes:
            if node_id not in owner:
                owner[node_id] = (dot, graph)
                continue
            problem = _handover_problem(node_id, owner[node_id], (dot, graph))
            if problem is None:
                shared += 1
            else:
                problems.append(error(codes.BAD_PARTS, problem, dot.nodes[node_id].location, node_id))
        if index > 0 and not shared:
            problems.append(
                error(
                    codes.BAD_PARTS,
                    f"part {dot.name} starts from no tensor an earlier part ends in: "
                    "a part goes on from an earlier part's output, drawn with the same node id and shape",
                    dot.location,
                )
            )
    if problems:
        raise SpecError([d for p in problems for d in p.diagnostics])
    name = name or model_name([dot.name for dot, _ in parts], where)
    joined = DotGraph(name=name, location=parts[0][0].location, span=parts[0][0].span, end=parts[-1][0].end)
    for dot, _ in parts:
        for key, value in dot.attrs.items():
            joined.attrs.setdefault(key, value)
        for node_id, node in dot.nodes.items():
            if node_id in joined.nodes:  # a tensor handed on: read as the later part declares it, not as an output
                joined.nodes[node_id].attrs.update(node.attrs)
            else:
                joined.nodes[node_id] = replace(node, attrs=dict(node.attrs))
        joined.edges.extend(dot.edges)
        joined.clusters.extend(dot.clusters)
    return joined


def _handover_problem(node_id: str, first: tuple[DotGraph, Graph], later: tuple[DotGraph, Graph]) -> str | None:
    """Why ``node_id``, drawn in both parts, is not a tensor the first passes to the later; None if it is."""
    (dot_a, graph_a), (dot_b, graph_b) = first, later
    a, b = graph_a.nodes[node_id], graph_b.nodes[node_id]
    both = f"node {node_id!r} is drawn in part {dot_a.name} (line {a.location.line}) and in part {dot_b.name}"
    if not isinstance(a, TensorNode) or not isinstance(b, TensorNode):
        return f"{both}; parts share only the tensors they pass on: rename one of them"
    if graph_a.succs(node_id) or graph_b.preds(node_id):
        return f"{both}; a shared tensor ends {dot_a.name} and starts {dot_b.name}, the parts in the order given"
    if a.label.shape_text() != b.label.shape_text():
        return (
            f"{both}, declared {a.label.shape_text()} there and {b.label.shape_text()} here; "
            "a tensor passed on keeps its shape"
        )
    return None
