"""Recurrent cells (spec language, section 5): which inputs are states, and what they become.

A graph whose inputs include tensors named ``NAME[t-1]`` is a cell. Each such
state becomes the tensor named ``NAME[t]``; the other inputs are read once per
time step from a sequence. The state whose new value has the output role
(``H[t](输出)``) is what a call of the cell on a sequence yields at each step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dotnet import codes
from dotnet.analysis.ir import Graph, TensorNode
from dotnet.diagnostics import error
from dotnet.reading.formulas import canonical_name

_PREVIOUS = re.compile(r"(?P<name>.+)\[t-1\]\Z")


@dataclass(frozen=True)
class State:
    """One carried state: ``H[t-1]`` (node ``prev``) becomes ``H[t]`` (node ``new``)."""

    name: str
    prev: str
    new: str


@dataclass(frozen=True)
class Cell:
    """The recurrent structure of a cell graph."""

    steps: tuple[str, ...]
    """Inputs read once per time step (``X[t]``), in file order."""
    states: tuple[State, ...]
    """Carried states, in file order of their ``[t-1]`` nodes."""
    output: int
    """Index of the state a sequence call yields."""

    @property
    def new_states(self) -> list[str]:
        return [s.new for s in self.states]


def find_cell(graph: Graph, inputs: list[str]) -> Cell | None:
    """The cell structure of ``graph``, or ``None`` when it carries no state."""
    states: list[State] = []
    steps: list[str] = []
    for node_id in inputs:
        node = graph.nodes[node_id]
        assert isinstance(node, TensorNode)
        m = _PREVIOUS.fullmatch(canonical_name(node.label.title))
        if m is None:
            steps.append(node_id)
            continue
        new = graph.titles.get(f"{m.group('name')}[t]")
        if new is None:
            raise error(
                codes.BAD_CELL,
                f"node {node_id!r}: state {node.label.title} has no tensor node {m.group('name')}[t] to become",
                node.location,
                node_id,
            )
        states.append(State(m.group("name"), node_id, new))
    if not states:
        return None
    tagged = [i for i, s in enumerate(states) if "output" in _roles(graph, s.new)]
    output = tagged[0] if tagged else 0
    return Cell(tuple(steps), tuple(states), output)


def _roles(graph: Graph, node_id: str) -> frozenset[str]:
    node = graph.nodes[node_id]
    return node.label.roles if isinstance(node, TensorNode) else frozenset()
