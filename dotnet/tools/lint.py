"""Review warnings: what a reviewer of a diagram would point out, though it compiles.

The checks read the raw digraph (labels parsed one by one, a bad label skipped), so
they still speak when the shape pass fails:

- ``isolated-node``: a node with no edge at all (a tensor a formula names is exempt:
  the formula's own warning covers it).
- ``cell-name``: a cell named LSTM that has the gates of a GRU, or the other way round.
- ``activation-range``: an activation fed by one that already bounded its input, so a
  declared output can never reach part of its range (ReLU then Tanh: [0, 1)).
- ``missing-softmax``: an output called probabilities (概率, probabilit*) with no
  softmax, log-softmax or sigmoid before it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dotnet import codes
from dotnet.analysis.resolve import candidate_names
from dotnet.analysis.view import GraphView
from dotnet.diagnostics import Diagnostic, SpecError
from dotnet.limits import MAX_BLOCK_DEPTH
from dotnet.ops.args import ArgProblem, bind
from dotnet.ops.base import declaration_of
from dotnet.ops.declaration import Activation, Declaration
from dotnet.reading.dot import DotGraph
from dotnet.reading.labels import (
    FormulaLabel,
    LabelError,
    OpCall,
    TensorLabel,
    normalize,
)

if TYPE_CHECKING:
    from dotnet.analysis.resolve import Library

_STATE_INPUT = re.compile(r"\w+\[t-1\]")
_LSTM_GATES = ("遗忘门", "forget")
_GRU_GATES = ("更新门", "复位门", "重置门", "update", "reset")
_PROBABILITY = re.compile(r"概率|probabilit", re.IGNORECASE)


@dataclass(frozen=True)
class Range:
    """An interval of values a tensor can hold, and what narrowed it, if anything did."""

    lo: float
    hi: float
    lo_closed: bool = False
    hi_closed: bool = False
    cause: str | None = None

    def text(self) -> str:
        return f"{'[' if self.lo_closed else '('}{_num(self.lo)}, {_num(self.hi)}{']' if self.hi_closed else ')'}"

    def narrower_than(self, other: Range) -> bool:
        return (self.lo, not self.lo_closed) > (other.lo, not other.lo_closed) or (self.hi, self.hi_closed) < (
            other.hi,
            other.hi_closed,
        )


ANY = Range(-math.inf, math.inf)


def _num(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


def _apply(activation: Activation, r: Range) -> Range:
    """The range of a (monotone) activation over inputs in ``r``."""
    f = activation.function
    lo, hi = f(r.lo), f(r.hi)
    # a value reached at a finite closed end stays reached; a limit at infinity is not
    flat = activation.flat_below
    lo_closed = (r.lo_closed and math.isfinite(r.lo)) or (flat is not None and r.lo < flat)
    hi_closed = (r.hi_closed and math.isfinite(r.hi)) or (flat is not None and r.hi <= flat)
    return Range(lo, hi, lo_closed, hi_closed, r.cause)


def _keeps_range(view: GraphView, node: str) -> bool:
    """The op node's outputs lie in the range of its inputs (``UpSample``, but not its bicubic mode)."""
    declaration = _declaration(view, node)
    if declaration is None or not declaration.keeps_range:
        return False
    if not declaration.range_breaking:
        return True
    call = view.ops[node]
    assert isinstance(call, OpCall)
    try:
        bound = bind(call, declaration.args)
    except ArgProblem:  # the shape pass reports it; assume the worst here
        return False
    return not any(bound.raw(arg) == choice for arg, choice in declaration.range_breaking)


def _keeps_probabilities(view: GraphView, node: str) -> bool:
    declaration = _declaration(view, node)
    return _keeps_range(view, node) or (declaration is not None and declaration.identity_in_eval)


def _title(label: TensorLabel) -> str:
    return label.title + (f"({label.role_text})" if label.role_text else "")


def _declaration(view: GraphView, node_id: str) -> Declaration | None:
    """The declaration of the built-in op node ``node_id`` runs, by the registry's name rules."""
    call = view.ops.get(node_id)
    if not isinstance(call, OpCall):
        return None
    return next(filter(None, map(declaration_of, candidate_names(call.name))), None)


class Linter:
    """Runs the review checks over the digraphs of one library."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._block_ranges: dict[str, Range | None] = {}
        """The output range of each block called, by block name (None: unknown or in progress)."""
        self._depth = 0
        """How many block ranges are being found, one inside the other."""

    def view(self, dot: DotGraph) -> GraphView:
        """``dot``'s view as the IR read it (:meth:`~dotnet.analysis.resolve.Library.view`)."""
        return self.library.view(dot)

    def lint(self, dot: DotGraph) -> list[Diagnostic]:
        """Every review warning for one digraph, in source order."""
        view = self.view(dot)
        found = self._isolated(view) + self._cell_name(view) + self._activation_range(view) + self._softmax(view)
        return sorted(found, key=lambda d: (d.location.line, d.location.col) if d.location else (0, 0))

    # -- isolated-node ---------------------------------------------------
    def _isolated(self, view: GraphView) -> list[Diagnostic]:
        # every op label's text, parsed or not: a formula that fails to parse still names its tensors
        formulas = [
            _layout_free(n.attrs.get("label", n.id)) for n in view.dot.nodes.values() if n.id not in view.tensors
        ]
        found = []
        for node in view.dot.nodes.values():
            if view.preds[node.id] or view.succs[node.id]:
                continue
            tensor = view.tensors.get(node.id)
            if tensor and tensor.title and any(_mentions(f, tensor.title) for f in formulas):
                continue
            found.append(
                _warn(
                    codes.ISOLATED_NODE,
                    f"node {node.id!r} is connected to nothing: no edge enters or leaves it",
                    view,
                    node.id,
                )
            )
        return found

    # -- cell-name -------------------------------------------------------
    def _cell_name(self, view: GraphView) -> list[Diagnostic]:
        states = [t.title for n, t in view.tensors.items() if _STATE_INPUT.fullmatch(t.title) and not view.preds[n]]
        if not states:
            return []
        gates = [(_title(t), f"{t.title} {t.role_text}".lower()) for t in view.tensors.values()]
        lstm = [f"gate {title}" for title, words in gates if any(g in words for g in _LSTM_GATES)]
        gru = [f"gate {title}" for title, words in gates if any(g in words for g in _GRU_GATES)]
        if len(states) >= 2:
            lstm.insert(0, f"two state inputs {' and '.join(states)}")
        name = view.dot.name.lower()
        claims, evidence, kind = (
            ("an LSTM", gru, "a GRU")
            if "lstm" in name and gru and not lstm
            else ("a GRU", lstm, "an LSTM")
            if "gru" in name and lstm and not gru
            else ("", [], "")
        )
        if not claims:
            return []
        message = f"digraph {view.dot.name!r} is named like {claims} but computes {kind}: {', '.join(evidence)}"
        return [Diagnostic("warning", codes.CELL_NAME, message, view.dot.location)]

    # -- activation-range --------------------------------------------------
    def _activation_range(self, view: GraphView) -> list[Diagnostic]:
        ranges = self._ranges_of(view)
        found = []
        for out in view.outputs():
            last = _walk_back(view, out, _keeps_range)
            declaration = _declaration(view, last) if last else None
            activation = declaration.activation if declaration else None
            if last is None or declaration is None or activation is None or len(view.preds[last]) != 1:
                continue
            given = ranges.get(view.preds[last][0], ANY)
            natural, actual = _apply(activation, ANY), _apply(activation, given)
            if given.cause and actual.narrower_than(natural):
                found.append(
                    _warn(
                        codes.ACTIVATION_RANGE,
                        f"node {last!r}: {declaration.name} follows {given.cause}, so output {out!r} "
                        f"lies in {actual.text()}, not in {natural.text()}",
                        view,
                        last,
                    )
                )
        return found

    def _ranges_of(self, view: GraphView) -> dict[str, Range]:
        """The value range of every node's output, in the view's order (nodes on cycles get none)."""
        ranges: dict[str, Range] = {}
        for node in view.order():
            ranges[node] = self._range_at(view, node, [ranges[p] for p in view.preds[node]])
        return ranges

    def _range_at(self, view: GraphView, node: str, inputs: list[Range]) -> Range:
        if node in view.tensors:
            return inputs[0] if len(inputs) == 1 else ANY
        call = view.ops.get(node)
        if not isinstance(call, OpCall) or not inputs:
            return ANY
        declaration = _declaration(view, node)
        if declaration is not None and declaration.activation is not None and len(inputs) == 1:
            out = _apply(declaration.activation, inputs[0])
            return out if out.cause else replace(out, cause=f"the {declaration.name} {node!r}")
        if _keeps_range(view, node):
            return Range(
                min(r.lo for r in inputs),
                max(r.hi for r in inputs),
                all(r.lo_closed for r in inputs),
                all(r.hi_closed for r in inputs),
                next((r.cause for r in inputs if r.cause), None),
            )
        block = self._block_output_range(view, node)
        return block or ANY

    def _block_output_range(self, view: GraphView, node: str) -> Range | None:
        call = view.ops[node]
        assert isinstance(call, OpCall)
        try:
            callee = self.library.block_name(call.name, view.dot.name)
            dot = self.library.dot_graph(callee) if callee else None
        except SpecError:
            return None
        if callee is None or dot is None:
            return None
        if callee not in self._block_ranges:
            self._block_ranges[callee] = None  # a block that calls itself gets no range
            if self._depth >= MAX_BLOCK_DEPTH:  # too deep to follow (an error says so); no range
                return None
            inner = self.view(dot)
            out = inner.primary_output()
            self._depth += 1
            try:
                self._block_ranges[callee] = self._ranges_of(inner).get(out) if out else None
            finally:
                self._depth -= 1
        inner_range = self._block_ranges[callee]
        if inner_range is None or inner_range.cause is None:
            return None
        return replace(inner_range, cause=f"{inner_range.cause} at the end of block {callee} (called by {node!r})")

    # -- missing-softmax ---------------------------------------------------
    def _softmax(self, view: GraphView) -> list[Diagnostic]:
        found = []
        for out in view.outputs():
            label = view.tensors.get(out)
            if label is None or not _PROBABILITY.search(f"{label.title} {label.role_text}"):
                continue
            last = _walk_back(view, out, _keeps_probabilities)
            if last is not None and self._yields_probabilities(view, last, set()):
                continue
            source = f": {last!r} yields logits" if last else ""
            found.append(
                _warn(
                    codes.MISSING_SOFTMAX,
                    f"node {out!r}: output {_title(label)!r} is called probabilities, "
                    f"but no Softmax or Sigmoid is drawn before it{source}",
                    view,
                    out,
                )
            )
        return found

    def _yields_probabilities(self, view: GraphView, node: str, seen: set[str]) -> bool:
        call = view.ops.get(node)
        if isinstance(call, FormulaLabel):
            return bool(re.match(r"\s*(softmax|σ|sigmoid)\s*\(", call.text, re.IGNORECASE))
        if call is None:
            return False
        declaration = _declaration(view, node)
        if declaration is not None and (declaration.yields_probabilities or declaration.yields_log_probabilities):
            return True
        try:
            callee = self.library.block_name(call.name, view.dot.name)
            dot = self.library.dot_graph(callee) if callee else None
        except SpecError:
            return False
        if callee is None or dot is None or callee in seen or len(seen) >= MAX_BLOCK_DEPTH:
            return False
        inner = self.view(dot)
        out = inner.primary_output()
        last = _walk_back(inner, out, _keeps_probabilities) if out else None
        return last is not None and self._yields_probabilities(inner, last, seen | {callee})


def _walk_back(view: GraphView, node: str, through: Callable[[GraphView, str], bool]) -> str | None:
    """The op node that computes ``node``'s value, looking through tensor nodes and ``through`` ops."""
    if node in view.ops and not through(view, node):
        return node  # an op drawn as the output
    seen: set[str] = set()
    current = node
    while current not in seen:
        seen.add(current)
        preds = view.preds[current]
        if len(preds) != 1:
            return None
        current = preds[0]
        if current in view.ops and not through(view, current):
            return current
        if current not in view.ops and current not in view.tensors:
            return None  # its label did not parse
    return None


def _layout_free(label: str) -> str:
    try:
        return normalize(label)
    except LabelError:  # too long to be a label
        return ""


def _mentions(formula: str, name: str) -> bool:
    return re.search(rf"(?<![\w\]]){re.escape(name)}(?![\w\[])", formula) is not None


def _warn(code: str, message: str, view: GraphView, node: str) -> Diagnostic:
    return Diagnostic("warning", code, message, view.dot.nodes[node].location, node)
