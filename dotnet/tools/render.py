"""``dotnet render``: draw a spec with Graphviz, every edge labelled with its inferred shape.

The picture is built with pydot from the raw digraph (so a spec with errors is still
drawn) and laid out by Graphviz's ``dot`` program. A call of a block is drawn as a
cluster holding the block's own nodes, down to ``depth`` levels of calls; edges
inside it carry the block's symbolic shapes. Deeper calls are single boxes labelled
with the call and the shape it returns, concrete at the call site. Nodes with errors
are red, nodes with warnings amber; hovering one in the SVG shows the messages. A
PNG of labels in a script that no installed font draws gets a ``missing-font`` warning.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pydot

from dotnet import codes
from dotnet.analysis.infer import infer_graph
from dotnet.analysis.resolve import Library
from dotnet.analysis.view import is_tensor_node
from dotnet.compiler import select_graph
from dotnet.diagnostics import Diagnostic, Location, Report, SpecError, error
from dotnet.limits import MAX_BLOCK_DEPTH
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import FormulaLabel, LabelError, OpCall, normalize
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.sources import read_source
from dotnet.tools.check import check_source
from dotnet.tools.fonts import install_hint, missing_scripts
from dotnet.tools.silence import graph_at
from dotnet.writing import write_atomically

FORMATS = ("svg", "png")
DEFAULT_DEPTH = 0
"""Levels of block calls drawn open by default: none, so every spec's picture stays small."""
LONG_SIDE_PX = 2000
"""A picture whose long side would pass this many pixels (PNG, 96 dpi) gets compact edge labels."""
PNG_DPI = 96
COMPACT_RANKSEP = 0.1
"""Inches between ranks when xlabels alone leave the picture over ``LONG_SIDE_PX`` (else 0.2)."""
RASTER_FORMATS = ("png",)
"""Formats whose glyphs Graphviz draws itself (an SVG leaves them to its viewer's fonts)."""
INSTALL_HINT = (
    "Graphviz's 'dot' program is not installed; dotnet render needs it. "
    "Install it with 'apt-get install graphviz' (Debian, Ubuntu), 'brew install graphviz' (macOS) "
    "or see https://graphviz.org/download/"
)
_STYLE = {
    "error": {"color": "#c0392b", "fillcolor": "#f9d6d2", "penwidth": "2.5"},
    "warning": {"color": "#b9770e", "fillcolor": "#fdebd0", "penwidth": "2"},
}


@dataclass
class _Drawing:
    """The pydot graph being built, and the diagnostics to mark on it."""

    dot: pydot.Dot
    library: Library
    marks: dict[tuple[str, int, int], list[Diagnostic]]
    depth: int = DEFAULT_DEPTH
    counter: int = 0
    drawn: list[DotGraph] = field(default_factory=list)
    labels: list[tuple[str, Location, str]] = field(default_factory=list)
    """Every label drawn, with its node's location and id, for the font check."""

    def new_id(self) -> str:
        self.counter += 1
        return f"n{self.counter}"


def render_spec(
    spec: Path, out: Path, graph: str | None, blocks: dict[str, str], depth: int = DEFAULT_DEPTH
) -> list[Diagnostic]:
    """Draw ``spec`` to ``out`` (``.svg`` or ``.png``); returns the diagnostics of the graphs drawn.

    The picture is written as ``compile`` writes a module (:func:`dotnet.writing.write_atomically`).

    Block calls are drawn open ``depth`` levels deep (0: every call is one box).
    """
    fmt = out.suffix.lower().lstrip(".")
    executable = shutil.which("dot")
    if executable is None:
        raise error(codes.GRAPHVIZ_MISSING, INSTALL_HINT)
    library = Library(read_source(spec), blocks, Report())
    chosen = select_graph(library, graph)
    diagnostics = check_source(spec, blocks)
    marks: dict[tuple[str, int, int], list[Diagnostic]] = {}
    for d in diagnostics:
        if d.node is not None and d.location is not None and d.severity != "note":
            marks.setdefault((d.location.file, d.location.line, d.location.col), []).append(d)
    drawing = _Drawing(pydot.Dot("G", graph_type="digraph"), library, marks, depth)  # any name: ids are ours
    rankdir = chosen.attrs.get("rankdir", "TB").upper()
    drawing.dot.set("rankdir", rankdir if rankdir in ("TB", "BT", "LR", "RL") else "TB")
    drawing.dot.set("ranksep", "0.2")
    drawing.dot.set_node_defaults(fontname="sans-serif", fontsize="11", height="0.3", margin="0.08,0.04")
    drawing.dot.set_edge_defaults(fontname="monospace", fontsize="9")
    _draw_graph(drawing, drawing.dot, chosen, (chosen.name,))
    if max(_layout_inches(executable, drawing.dot)) * PNG_DPI > LONG_SIDE_PX:
        _compact_edge_labels(drawing.dot)
        if max(_layout_inches(executable, drawing.dot)) * PNG_DPI > LONG_SIDE_PX:
            drawing.dot.set("ranksep", str(COMPACT_RANKSEP))  # a long chain (MobileNetV2): closer ranks too
    write_atomically(out, _run_dot(executable, drawing.dot, ["-T" + fmt]), "-o")
    drawn = [d for d in diagnostics if graph_at(drawing.drawn, d.location) is not None]
    return drawn + (_font_warnings(drawing) if fmt in RASTER_FORMATS else [])


def _run_dot(executable: str, dot: pydot.Dot, args: list[str]) -> bytes:
    """Graphviz's output for ``dot`` with ``args``, or an error saying why it failed."""
    try:
        proc = subprocess.run(
            [executable, *args], input=dot.to_string().encode("utf-8"), capture_output=True, timeout=300
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(codes.IO_ERROR, f"Graphviz's dot failed: {exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise error(codes.IO_ERROR, f"Graphviz's dot failed: {message[-1] if message else proc.returncode}")
    return proc.stdout


def _layout_inches(executable: str, dot: pydot.Dot) -> tuple[float, float]:
    """Width and height of the laid-out picture, from ``dot -Tplain`` (``graph SCALE W H``)."""
    first = _run_dot(executable, dot, ["-Tplain"]).decode("utf-8", "replace").split("\n", 1)[0].split()
    return float(first[2]), float(first[3])


def _compact_edge_labels(graph: pydot.Dot | pydot.Subgraph) -> None:
    """Turn edge labels into xlabels, which take no rank of their own: about half the height.

    They are padded on the right, where Graphviz places them against the edge.
    """
    for edge in graph.get_edges():
        attributes = edge.get_attributes()
        label = attributes.pop("label", None)
        if label:
            edge.set("xlabel", label + "    ")
    for subgraph in graph.get_subgraphs():
        _compact_edge_labels(subgraph)


def _font_warnings(drawing: _Drawing) -> list[Diagnostic]:
    """A warning for each script of the labels that no installed font draws, at its first node."""
    warnings: dict[str, Diagnostic] = {}
    for text, location, node_id in drawing.labels:
        for script, chars in missing_scripts(text).items():
            if script not in warnings:
                warnings[script] = Diagnostic(
                    "warning",
                    codes.MISSING_FONT,
                    f"node {node_id!r}: no installed font draws the {script} characters of its label "
                    f"({chars!r}), so the picture shows them as empty boxes: install {install_hint(script)}",
                    location,
                    node_id,
                )
    return list(warnings.values())


def _shapes(library: Library, dot: DotGraph) -> dict[tuple[str, str | None], Shape]:
    """The shapes the pass could infer, up to the first errors, by node and output (``None``: its only one)."""
    shapes: dict[str, Shape] = {}
    ports: dict[str, dict[str, Shape]] = {}
    try:
        infer_graph(library.graph(dot.name), library, Report(), partial=shapes, partial_ports=ports)
    except SpecError:
        pass  # drawn anyway: the errors are marked on the nodes
    found: dict[tuple[str, str | None], Shape] = {(n, None): shape for n, shape in shapes.items()}
    found.update({(n, port): shape for n, outputs in ports.items() for port, shape in outputs.items()})
    return found


def _draw_graph(
    drawing: _Drawing, target: pydot.Dot | pydot.Subgraph, dot: DotGraph, chain: tuple[str, ...]
) -> dict[str, str]:
    """Add ``dot``'s nodes and edges to ``target``; calls of blocks become clusters.

    Returns the drawn id of each node drawn as a node (block calls are not).
    """
    shapes = _shapes(drawing.library, dot)
    drawing.drawn.append(dot)
    ids: dict[str, str] = {}
    ports: dict[str, tuple[list[str], str]] = {}
    view = drawing.library.view(dot)
    for node in dot.nodes.values():
        callee = _callee(drawing, view.ops.get(node.id), chain)
        if callee is not None and len(chain) <= min(drawing.depth, MAX_BLOCK_DEPTH):
            cluster = pydot.Subgraph(f"cluster_{drawing.new_id()}")
            cluster.set("label", _escape(f"{node.id}: {_text(view.text_as_read(node.id))}"))
            drawing.labels.append((cluster.get("label"), node.location, node.id))
            cluster.set("style", "rounded,dashed")
            cluster.set("labeljust", "l")  # clear of the edges, which run down the middle
            cluster.set("fontname", "sans-serif")
            cluster.set("fontsize", "11")
            cluster.set("color", "#5d6d7e")
            found = _draw_block(drawing, cluster, callee, chain + (callee,))
            if found is not None:
                target.add_subgraph(cluster)
                ports[node.id] = found
                continue
        ids[node.id] = drawing.new_id()
        returned = shapes.get((node.id, None)) if callee is not None else None
        returns = diagram_text(returned) if returned is not None else None
        text = view.text_as_read(node.id)
        target.add_node(_node(drawing, ids[node.id], text, node.attrs, node.id, node.location, returns))
    inputs_used: dict[str, int] = {}
    for e in dot.edges:
        shape = shapes.get((e.src, e.output), shapes.get((e.src, None)))
        label = diagram_text(shape) if shape is not None else ""
        src = ports[e.src][1] if e.src in ports else ids[e.src]
        if e.dst in ports:
            k = inputs_used.get(e.dst, 0)
            inputs_used[e.dst] = k + 1
            entries = ports[e.dst][0]
            dst = entries[min(k, len(entries) - 1)]
        else:
            dst = ids[e.dst]
        target.add_edge(pydot.Edge(src, dst, label=_escape(label)))
    return ids


def _draw_block(
    drawing: _Drawing, cluster: pydot.Subgraph, callee: str, chain: tuple[str, ...]
) -> tuple[list[str], str] | None:
    """Draw block ``callee`` inside ``cluster``; the drawn ids of its inputs and its output.

    None when the block has no clear inputs and output to connect the caller's edges to.
    """
    inner = drawing.library.dot_graph(callee)
    assert inner is not None
    view = drawing.library.view(inner)
    inputs, output = view.inputs(), view.primary_output()
    if not inputs or output is None:
        return None
    ids = _draw_graph(drawing, cluster, inner, chain)
    if output not in ids or any(i not in ids for i in inputs):
        return None
    return [ids[i] for i in inputs], ids[output]


def _callee(drawing: _Drawing, call: OpCall | FormulaLabel | None, chain: tuple[str, ...]) -> str | None:
    """The block an op node (its parsed label ``call``) calls, when it is one that can be drawn (not recursively)."""
    if not isinstance(call, OpCall):
        return None
    try:
        callee = drawing.library.block_name(call.name, chain[-1])
        found = callee is not None and drawing.library.dot_graph(callee) is not None
    except SpecError:
        return None
    return callee if found and callee not in chain else None


def _node(
    drawing: _Drawing,
    name: str,
    text: str,
    attrs: dict[str, str],
    node_id: str,
    location: Location,
    returns: str | None,
) -> pydot.Node:
    """One drawn node labelled ``text`` (as read: slips fixed); ``returns`` is the shape a block call
    drawn closed returns."""
    label = _text(text)
    drawing.labels.append((label, location, node_id))
    tensor = is_tensor_node(attrs)
    style = {"shape": "box", "style": "rounded,filled" if tensor else "filled"}
    style["fillcolor"] = "#ffffff" if tensor else "#d6e4f0"
    if returns is not None:
        label += f"\n-> {returns}"
        style.update(peripheries="2", fillcolor="#e8daef")
    found = drawing.marks.get((location.file, location.line, location.col), [])
    tooltip = node_id
    if found:
        worst = "error" if any(d.severity == "error" for d in found) else "warning"
        style.update(_STYLE[worst])
        label += "\n" + ", ".join(dict.fromkeys(f"{d.severity}: {d.code}" for d in found))
        tooltip = "\n".join(d.format_text() for d in found)
    node = pydot.Node(name, label=_escape(label), tooltip=_escape(tooltip))
    for key, value in style.items():
        node.set(key, value)
    return node


def _text(label: str) -> str:
    """A label with its layout escapes turned into line breaks, tidied, never over-long.

    A line break inside brackets (``[K=3, P=1,\\n In=64]``) is joined up: the diagram's
    author broke the line for its own box sizes, and one line per bracket keeps boxes low.
    """
    try:
        parts = [normalize(part) for part in label.replace("\\n", "\n").split("\n")]
    except LabelError:
        return label[:200] + "..."
    lines: list[str] = []
    for part in filter(None, parts):
        inside = lines and lines[-1].count("[") > lines[-1].count("]")
        if inside:
            lines[-1] += " " + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Text as a DOT string body: backslashes kept literal, line breaks as ``\\n``."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")
