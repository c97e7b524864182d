"""Block calls: an op node that names another digraph runs it as a submodule.

A call binds the block's symbols by unifying the caller's input shapes with the
block's declared inputs, then by the call's arguments (``In=3`` binds ``In`` or
``BlockIn``; positional args bind the block's constructor symbols in order of
first appearance). Arguments that contradict unification are errors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Protocol

from dotnet import codes
from dotnet.analysis.costs import Totals, total_cost
from dotnet.analysis.infer import Analysis, Env
from dotnet.analysis.ir import OpNode, TensorNode
from dotnet.analysis.view import primary_output as view_primary_output
from dotnet.diagnostics import Report, SpecError, error
from dotnet.limits import MAX_BLOCK_DEPTH
from dotnet.ops.base import CodeWriter, Inferred, Op, OpEnv, OpResolver, known_names
from dotnet.ops.declaration import Declaration
from dotnet.reading.labels import ArgValue, OpCall, format_arg, tensor_hint
from dotnet.reading.shape import Axis, Shape, diagram_text, from_declared, same
from dotnet.reading.symbolic import Dim, ExprError


class BlockLibrary(OpResolver, Protocol):
    """The digraphs a call can reach (implemented by ``analysis.resolve.Library``)."""

    def analysis(self, name: str) -> Analysis:
        """The shape analysis of digraph ``name`` on its own symbols."""

    def call_analysis(self, name: str, bindings: dict[str, Dim], report: Report, trail: tuple[str, ...]) -> Analysis:
        """The analysis of digraph ``name`` with its symbols bound as a call binds them."""

    def nesting(self) -> int:
        """How many analyses of digraphs on their own symbols are under way, one inside the other."""

    def bind_by_shape(self, caller: str, name: str, target: str) -> None:
        """Remember that calls of ``name`` in ``caller`` run ``target``, found by their shapes."""


@dataclass(frozen=True)
class CallFacts:
    """What a block call's shape rule resolves: which digraph it runs, and how."""

    callee: str
    """The digraph called (for a call found by its shapes, the one found)."""
    bound: Mapping[str, Dim]
    """The callee's constructor symbols, valued in the caller's terms."""
    run: Analysis
    """The callee's analysis for this call's input shapes (read by ``dotnet summary``)."""
    bindings: Mapping[str, Dim]
    """Every callee symbol this call binds, in the caller's terms."""
    scans: bool
    """The callee is a recurrent cell, run over a sequence from a zero state."""

    @cached_property
    def totals(self) -> Totals:
        """The callee's costs for this call, summed once: calls that share a run share these."""
        return total_cost(self.run, self.bindings)


def _run_env(env: OpEnv) -> Env:
    """The inference run itself: a block call, part of the analysis, runs the callee's inference in it."""
    assert isinstance(env, Env)
    return env


class BlockCall(Op[CallFacts]):
    """A call of the block ``callee``; its submodule is an instance of the block's class."""

    declaration = Declaration("block call", max_inputs=None)
    """Unregistered: a call is found by its digraph's name; the callee checks the number of inputs."""

    def __init__(self, node: OpNode, call: OpCall, callee: str, library: BlockLibrary) -> None:
        super().__init__(node, call)
        self.name = callee  # type: ignore[misc]
        self.callee = callee
        """The digraph the call names; empty for an :class:`UnresolvedCall`, which finds it by shape."""
        self.library = library

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[CallFacts]:
        return self.call_block(self.callee, inputs, _run_env(env))

    def call_block(self, name: str, inputs: list[Shape], env: Env) -> Inferred[CallFacts]:
        """The shape a call of digraph ``name`` yields for these inputs, and what the call binds."""
        if max(len(env.trail), self.library.nesting()) >= MAX_BLOCK_DEPTH:
            raise error(
                codes.TOO_LARGE,
                f"node {self.node.id!r}: calling {name} here nests block calls more than "
                f"{MAX_BLOCK_DEPTH} deep{env.where()}",
                self.node.location,
                self.node.id,
            )
        callee = self.library.analysis(name)
        scans = callee.cell is not None
        steps = [_step_shape(self, shape) for shape in inputs] if scans else inputs
        bindings = self._unify_inputs(name, callee, steps)
        self._bind_args(name, callee, bindings, env)
        _bind_from_caller(callee, bindings, env)
        missing = [s for s in callee.constructor_symbols if s not in bindings]
        if missing:
            raise error(
                codes.UNBOUND_SYMBOL,
                f"node {self.node.id!r}: nothing gives {name}'s {', '.join(missing)} a value: the call "
                f"does not pass {'it' if len(missing) == 1 else 'them'}, {env.graph.name} has no symbol of that "
                f"name and {name} sets no default; pass {' and '.join(_arg_hint(s) for s in missing)} "
                f"in the call{env.where()}",
                self.node.location,
                self.node.id,
            )
        bound = {s: bindings[s] for s in callee.constructor_symbols}
        trail = env.trail + (f"call {self.node.id!r} at {self.node.location}",)
        run = self.library.call_analysis(name, bindings, env.report, trail)
        facts = CallFacts(name, bound, run, bindings, scans)
        for c in run.constraints:
            if c.expr.symbols():
                env.require(replace(c, node=self.node.id, location=self.node.location))
        if run.cell is not None:
            step = run.shapes[run.cell.states[run.cell.output].new]
            return Inferred(step[:1] + (inputs[0][1],) + step[1:], facts)  # [BatchSize, SeqLen, ...]
        if len(run.outputs) > 1:  # each edge names the output it carries, or takes the tagged one
            outputs = {name: run.shapes[name] for name in run.outputs}
            return Inferred(run.shapes[run.outputs[0]], facts, outputs, _tagged_output(run))
        return Inferred(run.shapes[run.outputs[0]], facts)

    def _unify_inputs(self, name: str, callee: Analysis, inputs: list[Shape]) -> dict[str, Dim]:
        if callee.cell is not None:
            return self._unify_cell_inputs(name, callee, inputs)
        if len(inputs) != len(callee.inputs):
            raise error(
                codes.BAD_EDGE,
                f"node {self.node.id!r}: block {name} takes {len(callee.inputs)} input(s) "
                f"({', '.join(callee.inputs)}), got {len(inputs)}",
                self.node.location,
                self.node.id,
            )
        bindings: dict[str, Dim] = {}
        for given, input_id in zip(inputs, callee.inputs):
            node = callee.graph.nodes[input_id]
            assert isinstance(node, TensorNode)
            if not unify(from_declared(node.label.dims), given, bindings):
                raise error(
                    codes.SHAPE_MISMATCH,
                    f"node {self.node.id!r}: {name}'s input {input_id!r} is declared "
                    f"{node.label.shape_text()} but gets {diagram_text(given, node.label.dims)}",
                    self.node.location,
                    self.node.id,
                )
        return bindings

    def _unify_cell_inputs(self, name: str, callee: Analysis, inputs: list[Shape]) -> dict[str, Dim]:
        cell = callee.cell
        assert cell is not None
        if len(inputs) != 1 or len(cell.steps) != 1:
            raise error(
                codes.BAD_CELL,
                f"node {self.node.id!r}: cell {name} runs over one sequence; it reads "
                f"{len(cell.steps)} input(s) per step ({', '.join(cell.steps)}) and gets {len(inputs)} edge(s)",
                self.node.location,
                self.node.id,
            )
        bindings: dict[str, Dim] = {}
        node = callee.graph.nodes[cell.steps[0]]
        assert isinstance(node, TensorNode)
        if not unify(from_declared(node.label.dims), inputs[0], bindings):
            raise error(
                codes.SHAPE_MISMATCH,
                f"node {self.node.id!r}: cell {name} reads {node.label.shape_text()} per step, "
                f"so it runs over [BatchSize, SeqLen, ...] of that; it gets a sequence of {diagram_text(inputs[0])}",
                self.node.location,
                self.node.id,
            )
        return bindings

    def _bind_args(self, name: str, callee: Analysis, bindings: dict[str, Dim], env: OpEnv) -> None:
        symbols = callee.constructor_symbols
        if len(self.call.positional) > len(symbols):
            raise self.arg_error(
                f"takes at most {len(symbols)} positional argument(s) ({', '.join(symbols)}), "
                f"got {len(self.call.positional)}"
            )
        pairs: list[tuple[str, str, ArgValue]] = [(s, format_arg(v), v) for s, v in zip(symbols, self.call.positional)]
        all_symbols = set(callee.graph.symbol_order)
        for key, value in self.call.keywords:
            symbol = next((s for s in (key, "Block" + key) if s in all_symbols), None)
            if symbol is None:
                raise self.arg_error(
                    f"{name} has no symbol {key!r} (nor 'Block{key}'); "
                    f"its parameters are {', '.join(symbols) or 'none'}"
                )
            pairs.append((symbol, f"{key}={format_arg(value)}", value))
        for symbol, text, value in pairs:
            if isinstance(value, float):
                raise self.arg_error(f"{text} must be a whole number or a size symbol")
            actual = env.value(value)
            if symbol in bindings and bindings[symbol] != actual:
                raise self.mismatch(
                    f"{text} contradicts the input shape, which gives {symbol}={bindings[symbol]}{env.where()}"
                )
            bindings[symbol] = actual

    def constructor_dims(self, facts: CallFacts) -> list[Dim]:
        return list(facts.bound.values())

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: CallFacts) -> Dim:
        return facts.totals.parameters

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: CallFacts) -> Dim:
        return facts.totals.mult_adds

    def module(self, w: CodeWriter, facts: CallFacts) -> str:
        return w.block_constructor(facts.callee, facts.bound)

    def repeated_module(self, expr: str, count: str, facts: CallFacts, index: str = "_") -> str:
        if facts.scans:
            return f"CellStack({expr} for {index} in range({count}))"
        return super().repeated_module(expr, count, facts, index)

    copy_name = "block"

    def copy_forward(self, w: CodeWriter, arg: str, copy: str, facts: CallFacts) -> str | None:
        return None if facts.scans else f"{copy}({arg})"  # a stack of recurrent cells runs by ``CellStack.scan``

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: CallFacts) -> str:
        if facts.scans and self.call.times is not None:
            w.use("CellStack")
        if facts.scans:
            return f"self.{attr}.scan({args[0]})"
        return f"self.{attr}({', '.join(args)})"


def _tagged_output(run: Analysis) -> str | None:
    """The block's tagged output, when exactly one is tagged (:func:`primary_output`)."""
    try:
        return primary_output(run)
    except SpecError:
        return None


def _bind_from_caller(callee: Analysis, bindings: dict[str, Dim], env: Env) -> None:
    """A block symbol the shapes and args leave free takes the caller's symbol of the same name.

    ``GrowthRate`` inside ``DenseLayer``, called from ``DenseBlock`` that has a ``GrowthRate``,
    is the caller's value (its own call's, a ``--param``, a rate): passed on level by level.
    A caller without that symbol leaves the block its own default (``GrowthRate(32)``), if any.
    """
    caller = set(env.graph.symbol_order) | env.bindings.keys()
    own = callee.graph.own_values()
    for symbol in callee.graph.symbol_order:
        if symbol in bindings:
            continue
        if symbol in caller:
            bindings[symbol] = env.value(Dim.sym(symbol))
        elif symbol in own:
            bindings[symbol] = Dim.const(own[symbol])


def _step_shape(op: Op[Any], sequence: Shape) -> Shape:
    """``[BatchSize, SeqLen, F...]`` without its time axis: what a cell reads per step."""
    if len(sequence) < 3:
        raise error(
            codes.BAD_CELL,
            f"node {op.node.id!r}: cell {op.name} runs over a sequence [BatchSize, SeqLen, ...], "
            f"but gets {diagram_text(sequence)}",
            op.node.location,
            op.node.id,
        )
    return sequence[:1] + sequence[2:]


def primary_output(analysis: Analysis) -> str:
    """The output a call of this graph yields (:func:`dotnet.analysis.view.primary_output`), or an error."""
    outputs = analysis.outputs
    found = view_primary_output(outputs, analysis.graph.view.tensors)
    if found is not None:
        return found
    raise error(
        codes.BAD_EDGE,
        f"block {analysis.graph.name} has {len(outputs)} outputs ({', '.join(outputs)}); "
        "mark the one a call yields with the output role, e.g. '(输出)' or '(output)'",
        analysis.graph.location,
    )


def unify(declared: Shape, given: Shape, bindings: dict[str, Dim]) -> bool:
    """Bind the declared shape's symbols so it equals ``given``; False when it cannot."""
    if len(declared) != len(given):
        return False
    pending = list(zip(declared, given))
    while pending:
        deferred = []
        for d, g in pending:
            free = d.size.symbols() - bindings.keys()
            if not free:
                if d.size.substitute(bindings) != g.size:
                    return False
                continue
            if len(free) > 1:
                deferred.append((d, g))
                continue
            (symbol,) = free
            with_symbol = Dim._from({m: c for m, c in d.size.terms if symbol in m})
            known = Dim._from({m: c for m, c in d.size.terms if symbol not in m}).substitute(bindings)
            try:
                solution = with_symbol.solve(symbol, g.size - known)
            except ExprError:
                return False
            value = solution.constant_value() if solution is not None else None
            if solution is None or (value is not None and (value.denominator != 1 or value < 1)):
                return False
            bindings[symbol] = solution
        if len(deferred) == len(pending):
            return False
        pending = deferred
    return True


def _arg_hint(symbol: str) -> str:
    short = symbol[5:] if symbol.startswith("Block") and len(symbol) > 5 else symbol
    return f"{short}=..."


class UnresolvedCall(BlockCall):
    """A call whose name no rule finds: it binds by shape, or reports the best suggestion.

    Inference decides, once the node's input shapes are known: the one digraph of the
    document whose name ends in the call's last word (``Block`` for ``UpConvBlock``)
    and that fits the call's shapes and args is called, with a warning naming the
    binding; two that fit are an error listing both; none is an error suggesting the
    closest digraph by name and those that fit by shape.
    """

    declaration = Declaration("unresolved block call", min_inputs=0, max_inputs=None)

    def __init__(
        self,
        node: OpNode,
        call: OpCall,
        names: list[str],
        candidates: list[str],
        document: list[str],
        library: BlockLibrary,
    ) -> None:
        super().__init__(node, call, "", library)
        self.name = names[-1]  # type: ignore[misc]
        self.names = names
        self.candidates = candidates
        """Every digraph a call could mean: the document's and those beside the spec."""
        self.document = document
        """The document's own digraphs: the only ones a call binds to by shape."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[CallFacts]:
        run = _run_env(env)
        return self.call_block(self.callee or self._bind_by_shape(inputs, run), inputs, run)

    def _bind_by_shape(self, inputs: list[Shape], env: Env) -> str:
        word = last_word(self.name)
        same_word = [c for c in self.document if last_word(c).lower() == word.lower()]
        fits = [c for c in same_word if self._fits_every_call(c, inputs, env)]
        wanted = " or ".join(repr(n) for n in self.names)
        if len(fits) == 1:
            self.library.bind_by_shape(env.graph.name, self.name, fits[0])
            env.report.warn(
                codes.BLOCK_BY_SHAPE,
                f"node {self.node.id!r}: no digraph is named {wanted}; called {fits[0]!r}, the only digraph "
                f"ending in {word!r} that fits here{env.where()} (say so with --block {self.name}={fits[0]})",
                self.node.location,
                self.node.id,
            )
            return fits[0]
        if fits:
            raise error(
                codes.AMBIGUOUS_BLOCK,
                f"node {self.node.id!r}: no digraph is named {wanted}, and {len(fits)} ending in {word!r} fit "
                f"here: {', '.join(repr(c) for c in fits)}; bind one with --block {self.name}=GRAPH",
                self.node.location,
                self.node.id,
            )
        raise self._not_found(inputs, env, wanted)

    def error_without_inputs(self) -> SpecError:
        """Unknown whatever flows in: reported even where an upstream error left no shapes."""
        return self._unknown(" or ".join(repr(n) for n in self.names), self._close_by_name())

    def _close_by_name(self) -> list[str]:
        known = {n.lower(): n for n in known_names() + self.candidates}
        return [known[c] for c in difflib.get_close_matches(self.name.lower(), list(known), n=3, cutoff=0.6)]

    def _not_found(self, inputs: list[Shape], env: Env, wanted: str) -> SpecError:
        by_name = self._close_by_name()
        by_shape = [c for c in self.candidates if self._fits(c, inputs, env)]
        by_shape.sort(key=lambda c: -difflib.SequenceMatcher(None, self.name.lower(), c.lower()).ratio())
        names = ", ".join(repr(c) for c in by_name)
        if by_shape:
            best = by_shape[0]
            also = f" (so do {', '.join(repr(c) for c in by_shape[1:3])})" if len(by_shape) > 1 else ""
            closest = " and is the closest by name" if by_name and by_name[0] == best else f"; closest by name: {names}"
            return error(
                codes.UNKNOWN_BLOCK,
                f"node {self.node.id!r}: no op or block named {wanted}; digraph {best!r} fits here{also}"
                f"{closest if by_name else ''}: bind it with --block {self.name}={best}",
                self.node.location,
                self.node.id,
            )
        return self._unknown(wanted, by_name)

    def _unknown(self, wanted: str, by_name: list[str]) -> SpecError:
        hint = f"; did you mean {' or '.join(repr(c) for c in by_name)}?" if by_name else ""
        return error(
            codes.UNKNOWN_OP,
            f"node {self.node.id!r}: no op or block named {wanted}{hint} "
            f"(a block is a digraph in the same document, a file {self.name}.dot next to the spec, "
            f"or one bound with --block {self.name}=GRAPH){tensor_hint(self.node.describe())}",
            self.node.location,
            self.node.id,
        )

    def _fits(self, candidate: str, inputs: list[Shape], env: Env) -> bool:
        return _call_fits(candidate, self.node, self.call, inputs, env, self.library)

    def _fits_every_call(self, candidate: str, inputs: list[Shape], env: Env) -> bool:
        """Whether ``candidate`` fits this call and every other call of the same name in the graph.

        A name means one digraph throughout its caller; a call whose input shapes are not
        known yet (not inferred, nor declared on a tensor node) does not count.
        """
        if not self._fits(candidate, inputs, env):
            return False
        for other in env.graph.nodes.values():
            if other is self.node or not isinstance(other, OpNode) or not isinstance(other.call, OpCall):
                continue
            if _base_name(other.call.name) != self.name:
                continue
            shapes = [_known_shape(e.src, env) for e in env.graph.preds(other.id)]
            known = [s for s in shapes if s is not None]
            if len(known) == len(shapes) and not _call_fits(candidate, other, other.call, known, env, self.library):
                return False
        return True


def _base_name(name: str) -> str:
    m = re.match(r"^(.*?\D)\d+$", name)
    return m.group(1) if m else name


def _known_shape(node_id: str, env: Env) -> Shape | None:
    """A node's shape in this run: inferred already, or declared by its tensor node."""
    if node_id in env.shapes:
        return env.shapes[node_id]
    node = env.graph.nodes[node_id]
    if isinstance(node, TensorNode) and not node.is_param:
        return tuple(Axis(a.name, env.value(a.size)) for a in from_declared(node.label.dims))
    return None


def _call_fits(
    candidate: str, node: OpNode, call: OpCall, inputs: list[Shape], env: Env, library: BlockLibrary
) -> bool:
    """Whether calling ``candidate`` at ``node`` takes ``inputs`` and gives the shape declared after it."""
    probe = Env(env.graph, library, Report(), env.bindings, env.trail)
    try:
        shape = BlockCall(node, call, candidate, library).infer(inputs, probe).shape
    except SpecError:
        return False
    for e in env.graph.succs(node.id):
        succ = env.graph.nodes[e.dst]
        if isinstance(succ, TensorNode) and not same(shape, from_declared(succ.label.dims)):
            return False
    return True


def last_word(name: str) -> str:
    """``Block`` for ``UpConvBlock``: the last capitalised word of a name (the name if it has none)."""
    words = re.findall(r"[A-Z][a-z]*|[a-z]+", name)
    return words[-1] if words else name
