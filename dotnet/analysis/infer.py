"""Shape inference: prove that every edge of a spec carries the shape the diagram declares.

The pass walks a graph in topological order (ties broken by file order). Op
nodes compute their output shape from their inputs; tensor nodes assert the
shape that flows through them. Sizes are symbolic (:class:`~dotnet.reading.symbolic.Dim`);
block calls bind the block's symbols by unification (see :mod:`dotnet.analysis.blocks`).
Errors are collected per node, so one run reports every independent problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from dotnet import codes
from dotnet.analysis.cells import Cell, find_cell
from dotnet.analysis.ir import Edge, Graph, OpNode, TensorNode
from dotnet.diagnostics import Diagnostic, Location, Report, SpecError, error
from dotnet.limits import MAX_REPEAT
from dotnet.ops.base import Inferred, Op, OpResolver, normalize_name
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import TORCH_AXIS_ORDER, Axis, Shape, diagram_text, from_declared, same
from dotnet.reading.symbolic import Dim, ExprError, SizeLimitError


@dataclass(frozen=True)
class Constraint:
    """A size the shapes assume; recorded where a symbolic size makes it, checked when values are given."""

    expr: Dim
    node: str
    location: Location

    def describe(self) -> str:
        raise NotImplementedError

    def symbols(self) -> set[str]:
        """The symbols whose values decide whether it holds."""
        return self.expr.symbols()

    def holds(self, bindings: Mapping[str, Dim]) -> bool:
        """False only when ``bindings`` fix every symbol and the values break it."""
        raise NotImplementedError


@dataclass(frozen=True)
class Divisible(Constraint):
    """``expr`` is a multiple of ``divisor``."""

    divisor: int | Dim
    """A number, or a symbol when a stride is a block argument (``BlockW divisible by Stride``)."""

    def describe(self) -> str:
        subject = str(self.expr)
        return f"{subject} even" if self.divisor == 2 else f"{subject} divisible by {self.divisor}"

    def symbols(self) -> set[str]:
        return self.expr.symbols() | (set() if isinstance(self.divisor, int) else self.divisor.symbols())

    def holds(self, bindings: Mapping[str, Dim]) -> bool:
        number = self.expr.substitute(bindings).int_value()
        divisor = self.divisor if isinstance(self.divisor, int) else self.divisor.substitute(bindings).int_value()
        return number is None or not divisor or number % divisor == 0


@dataclass(frozen=True)
class AtLeast(Constraint):
    """Symbol ``expr`` is at least ``minimum``, so that a size computed from it is at least 1."""

    minimum: int

    def describe(self) -> str:
        return f"{self.expr} at least {self.minimum}"

    def holds(self, bindings: Mapping[str, Dim]) -> bool:
        number = self.expr.substitute(bindings).int_value()
        return number is None or number >= self.minimum


def least_value(size: Dim) -> tuple[str, int] | None:
    """``(S, m)`` when ``size`` is ``a*S + b`` with ``a > 0`` and is at least 1 only for ``S >= m > 1``."""
    symbols = size.symbols()
    if len(symbols) != 1:
        return None
    (symbol,) = symbols
    coefficients = dict(size.terms)
    if set(coefficients) - {(), (symbol,)} or coefficients[(symbol,)] <= 0:
        return None
    minimum = math.ceil((1 - coefficients.get((), Fraction(0))) / coefficients[(symbol,)])
    return (symbol, minimum) if minimum > 1 else None


def _implies(known: Constraint, new: Constraint) -> bool:
    """Whether ``known`` already says what ``new`` says (a minimum from a larger minimum or a divisor)."""
    if not isinstance(new, AtLeast) or known.expr != new.expr:
        return False
    if isinstance(known, AtLeast):
        return known.minimum >= new.minimum
    return isinstance(known, Divisible) and isinstance(known.divisor, int) and known.divisor >= new.minimum


@dataclass
class Analysis:
    """What the shape pass proved about one graph."""

    graph: Graph
    ops: dict[str, Op[Any]]
    """Each op node's op, as parsed: never changed by the analysis."""
    results: dict[str, Inferred[Any]]
    """What each op node's shape rule returned in this run; its ``facts`` go back to the op for costs and code."""
    shapes: dict[str, Shape]
    order: list[str]
    inputs: list[str]
    outputs: list[str]
    params: list[str]
    constraints: list[Constraint] = field(default_factory=list)
    cell: Cell | None = None
    """The recurrent structure, when the graph is a cell (section 5 of the spec language)."""
    constructor_symbols: list[str] = field(default_factory=list)
    """Symbols that size parameters, in order of first appearance: constructor arguments."""
    rates: dict[str, Dim] = field(default_factory=dict)
    """Rates applied while compiling (``CompRate=0.5``): values, not constructor arguments."""
    repeated_costs: dict[str, tuple[Dim, Dim]] = field(default_factory=dict)
    """For ``OP x N`` whose copies differ (``#Layer``): parameters and multiply-adds of all N."""
    ports: dict[str, dict[str, Shape]] = field(default_factory=dict)
    """For each node with several outputs, every output's shape by name."""

    def facts(self, node_id: str) -> Any:
        """The facts op node ``node_id``'s shape rule resolved (see :class:`~dotnet.ops.base.Inferred`)."""
        return self.results[node_id].facts

    def takes_ids(self, name: str) -> bool:
        """Whether graph input ``name`` holds integer ids: its label says so (``单词ID``) or an op that
        reads ids (an embedding) reads it."""
        node = self.graph.nodes[name]
        assert isinstance(node, TensorNode)
        readers = (self.ops.get(e.dst) for e in self.graph.succs(name))
        return "ids" in node.label.roles or any(op is not None and op.declaration.reads_ids for op in readers)

    def edge_output(self, edge: Edge) -> str | None:
        """The output of its source that ``edge`` carries, or ``None`` when the source has one."""
        return _edge_output(edge, self.results)

    def edge_shape(self, edge: Edge) -> Shape:
        """The shape that flows along ``edge``."""
        output = self.edge_output(edge)
        return self.shapes[edge.src] if output is None else self.ports[edge.src][output]


class Env:
    """The context one inference run shares with the ops it calls (:class:`~dotnet.ops.base.OpEnv`)."""

    def __init__(
        self, graph: Graph, library: OpResolver, report: Report, bindings: Mapping[str, Dim], trail: tuple[str, ...]
    ) -> None:
        self.graph = graph
        self.library = library
        self.report = report
        self.bindings = dict(bindings)
        self.trail = trail
        self.constraints: list[Constraint] = []
        self.repeated_costs: dict[str, tuple[Dim, Dim]] = {}
        """Parameters and multiply-adds of every copy of ``OP x N`` over ``#Layer``, summed."""
        self.rates: dict[str, Dim] = {}
        """Rates this run applies (``CompRate=0.5``), also in ``bindings``."""
        self.shapes: dict[str, Shape] = {}
        """Shapes proved so far in this run, by node id (formulas read the tensors they name)."""
        self.implicits: dict[str, Shape] = {}
        """Shapes of the implicit parameters formulas have named so far (``W[f]``)."""

    def value(self, dim: Dim) -> Dim:
        """A size of this graph, in the terms of the run (bound symbols replaced)."""
        return dim.substitute(self.bindings)

    def floordiv(self, numerator: Dim, divisor: int, node: OpNode, what: str) -> Dim:
        """``floor(numerator / divisor)``, recording the divisibility a symbolic size needs."""
        try:
            quotient, remainder = numerator.floordiv(divisor)
        except ExprError as exc:
            raise error(codes.BAD_EXPR, f"node {node.id!r}: {exc}", node.location, node.id) from None
        if remainder is not None:
            self.require_divisible(remainder, divisor, node.id, node.location)
        return quotient

    def require_divisible(self, expr: Dim, divisor: int | Dim, node_id: str, location: Location) -> None:
        """Record that ``expr`` is a multiple of ``divisor``, stated over whole coefficients.

        ``BlockH/2`` divisible by 1 is recorded as ``BlockH`` divisible by 2 (even); a whole
        polynomial divisible by 1 needs nothing. A symbolic divisor (a block's stride) stays as it is.
        """
        if isinstance(divisor, int):
            scale = math.lcm(*(c.denominator for _, c in expr.terms))
            expr, divisor = expr * scale, divisor * scale
            if divisor == 1:
                return
        self.require(Divisible(expr, node_id, location, divisor))

    def require(self, constraint: Constraint) -> None:
        """Record ``constraint`` unless one already recorded says as much.

        A minimum is kept only where it says more than the minima and the divisibility
        recorded for the same symbol (a size divisible by 4 is at least 4).
        """
        said = (replace(c, node=constraint.node, location=constraint.location) for c in self.constraints)
        if constraint in said or any(_implies(c, constraint) for c in self.constraints):
            return
        self.constraints[:] = [c for c in self.constraints if not _implies(constraint, c)]
        self.constraints.append(constraint)

    def positive(self, size: Dim, node: OpNode, what: str) -> Dim:
        """``size`` unchanged, or an error when it is a number below 1.

        A symbolic size that is at least 1 only from some value of its symbol on
        (``SeqLen-4``) records that minimum (``SeqLen at least 5``).
        """
        least = least_value(size)
        if least is not None:
            self.require(AtLeast(Dim.sym(least[0]), node.id, node.location, least[1]))
        value = size.constant_value()
        if value is not None and value < 1:
            raise error(
                codes.NOT_INTEGRAL,
                f"node {node.id!r}: {what} would be {value}{self.where()}",
                node.location,
                node.id,
            )
        return size

    def where(self) -> str:
        """`` (in call ...)`` when inside a block call, for messages."""
        return "".join(f" (in {t})" for t in reversed(self.trail))

    def tensor(self, title: str) -> Shape | None:
        """The shape of the tensor node a formula name refers to, or ``None`` when no tensor has that name."""
        node_id = self.graph.titles.get(title)
        return None if node_id is None else self.shapes[node_id]

    def flows_into(self, node: OpNode) -> list[TensorNode]:
        """The tensor nodes ``node``'s out-edges enter (a formula's declared target)."""
        targets = [self.graph.nodes[e.dst] for e in self.graph.succs(node.id)]
        return [t for t in targets if isinstance(t, TensorNode)]

    def implicit(self, name: str) -> Shape | None:
        """The shape an earlier formula gave implicit parameter ``name`` (``W[f]``), or ``None``."""
        return self.implicits.get(name)

    def name_implicit(self, name: str, shape: Shape) -> None:
        """Record the shape of implicit parameter ``name`` for the formulas after this one."""
        self.implicits[name] = shape

    def nodes_named(self, owner: str) -> list[OpNode]:
        """The op nodes whose id is ``owner`` or whose op is named ``owner`` (``Embedding`` for ``Embedding2``)."""
        key = normalize_name(owner)
        return [
            n
            for n in self.graph.nodes.values()
            if isinstance(n, OpNode)
            and isinstance(n.call, OpCall)
            and (n.id == owner or normalize_name(n.call.name).rstrip("0123456789") == key)
        ]

    def weight_of(self, node: OpNode) -> tuple[Dim, Dim] | None:
        """The weight shape of the op that ``node`` runs, for ops that share it (``Embedding.w.T``)."""
        return self.library.make_op(node, self.graph).weight_shape()


def infer_graph(
    graph: Graph,
    library: OpResolver,
    report: Report,
    bindings: Mapping[str, Dim] | None = None,
    trail: tuple[str, ...] = (),
    partial: dict[str, Shape] | None = None,
    partial_ports: dict[str, dict[str, Shape]] | None = None,
    rates: Mapping[str, Dim] | None = None,
) -> Analysis:
    """Infer every node's shape; raise one :class:`SpecError` with all errors found.

    ``partial`` (and ``partial_ports``, the outputs of nodes with several), when given,
    receives every shape inferred, even when errors follow
    (``dotnet render`` draws them on a diagram that has errors). ``rates`` (``CompRate=0.5``)
    are applied here, so the sizes they make are numbers, never constructor arguments.
    """
    env = Env(graph, library, report, {**(rates or {}), **(bindings or {})}, trail)
    env.rates = dict(rates or {})
    errors: list[Diagnostic] = []
    order = _topological_order(graph)
    view = graph.view
    ops: dict[str, Op[Any]] = {}
    results: dict[str, Inferred[Any]] = {}
    for node in graph.nodes.values():
        if isinstance(node, OpNode):
            try:
                ops[node.id] = library.make_op(node, graph)
            except SpecError as exc:
                errors.extend(d for d in exc.diagnostics if d not in errors)  # one bad --block, many calls
    if partial is not None:
        env.shapes = partial  # filled as the walk goes, kept even when errors follow
    shapes = env.shapes
    ports: dict[str, dict[str, Shape]] = partial_ports if partial_ports is not None else {}
    for node_id in order:
        node = graph.nodes[node_id]
        preds = [e.src for e in graph.preds(node_id)]
        try:
            if any(p not in shapes for p in graph.deps(node_id)) or (isinstance(node, OpNode) and node_id not in ops):
                # An upstream error was reported; a declared tensor lets the walk go on past it.
                if isinstance(node, TensorNode):
                    shapes[node_id] = _declared_shape(node, env)
                elif node_id in ops and (problem := ops[node_id].error_without_inputs()) is not None:
                    errors.extend(problem.diagnostics)
                continue
            carried = [_carried(e, results, shapes, ports) for e in graph.preds(node_id)]
            if isinstance(node, TensorNode):
                shapes[node_id] = _tensor(node, carried, preds, env, errors)
            else:
                result = results[node_id] = _apply(ops[node_id], node, carried, env)
                shapes[node_id] = result.shape
                if result.outputs:
                    ports[node_id] = dict(result.outputs)
        except SpecError as exc:
            errors.extend(exc.diagnostics)
        except ExprError as exc:  # a size grew past a limit while it was substituted or multiplied
            code = codes.TOO_LARGE if isinstance(exc, SizeLimitError) else codes.BAD_EXPR
            errors.append(Diagnostic("error", code, f"node {node_id!r}: {exc}{env.where()}", node.location, node_id))
    if errors:  # a block called from two nodes reports its problem once
        raise SpecError(sorted(dict.fromkeys(errors), key=_source_order))
    inputs, params, outputs = view.inputs(), view.params(), view.outputs()
    cell = find_cell(graph, inputs)
    if cell is not None:
        outputs = cell.new_states  # a cell's step yields every state it carries
    if not outputs:
        raise error(
            codes.NO_OUTPUT,
            f"digraph {graph.name!r} has no output: no node that an edge enters and none leaves{env.where()}",
            graph.location,
        )
    analysis = Analysis(
        graph,
        ops,
        results,
        shapes,
        order,
        inputs,
        outputs,
        params,
        env.constraints,
        cell=cell,
        ports=ports,
        rates=env.rates,
        repeated_costs=env.repeated_costs,
    )
    analysis.constructor_symbols = [s for s in _constructor_symbols(analysis) if s not in env.rates]
    return analysis


def _edge_output(edge: Edge, results: Mapping[str, Inferred[Any]]) -> str | None:
    """The output of ``edge.src`` the edge carries (``None`` for a one-output source), or an error."""
    result = results.get(edge.src)
    names = tuple(result.outputs) if result is not None else ()
    if result is None or not names:
        return None
    name = edge.output if edge.output is not None else result.default
    if name in names:
        return name
    listed = ", ".join(names)
    if name is None:
        problem = f"node {edge.src!r} has several outputs ({listed}): name the one this edge carries"
    else:
        problem = f"node {edge.src!r} has no output {name!r}: name one of {listed}"
    raise error(
        codes.BAD_EDGE,
        f"edge {edge.src} -> {edge.dst}: {problem} with the edge's label ({edge.src} -> {edge.dst} "
        f"[label={names[0]}]) or a port ({edge.src}:{names[0]} -> {edge.dst})",
        edge.location,
        edge.dst,
    )


def _carried(
    edge: Edge,
    results: Mapping[str, Inferred[Any]],
    shapes: Mapping[str, Shape],
    ports: Mapping[str, dict[str, Shape]],
) -> Shape:
    """The shape that flows along ``edge``: its source's, or the output of it the edge names."""
    output = _edge_output(edge, results)
    return shapes[edge.src] if output is None else ports[edge.src][output]


def _source_order(d: Diagnostic) -> tuple[str, int, int]:
    loc = d.location
    return (loc.file, loc.line, loc.col) if loc else ("", 0, 0)


def _topological_order(graph: Graph) -> list[str]:
    """The view's topological order, or a located error naming a cycle when some node is on one.

    A node depends on the sources of its in-edges and on the tensors its formula names.
    """
    order = graph.view.order()
    names = list(graph.nodes)
    if len(order) < len(names):
        placed = set(order)
        stuck = [n for n in names if n not in placed]
        cycle = _find_cycle(graph, set(stuck))
        first = graph.nodes[cycle[0]]
        what = "the edges and formula references" if any(graph.refs.get(n) for n in cycle) else "the edges"
        raise error(
            codes.CYCLE,
            f"node {cycle[0]!r}: {what} form a cycle: {' -> '.join(cycle + [cycle[0]])}",
            first.location,
            cycle[0],
        )
    return order


def _find_cycle(graph: Graph, stuck: set[str]) -> list[str]:
    """One cycle among the nodes Kahn's algorithm could not order."""
    start = next(n for n in graph.nodes if n in stuck)
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(d for d in graph.deps(node) if d in stuck)
    cycle = path[seen[node] :]
    cycle.reverse()
    return cycle


def _tensor(node: TensorNode, inputs: list[Shape], preds: list[str], env: Env, errors: list[Diagnostic]) -> Shape:
    if node.label.inferred and len(inputs) == 1:
        if not env.trail:
            env.report.warn(
                codes.UNDECLARED_OUTPUT,
                f"node {node.id!r} is used in an edge but never declared; as the graph's only sink it is read "
                f"as the output, of shape {diagram_text(inputs[0])}",
                node.location,
                node.id,
            )
        return inputs[0]
    declared = _declared_shape(node, env)
    if (node.is_param or node.is_random) and inputs:
        what = "a parameter" if node.is_param else "a random tensor (randn)"
        raise error(codes.BAD_EDGE, f"node {node.id!r}: {what} cannot have incoming edges", node.location, node.id)
    if len(inputs) > 1:
        names = ", ".join(repr(p) for p in preds)
        raise error(
            codes.BAD_EDGE,
            f"node {node.id!r}: a tensor node takes one incoming edge, got {len(inputs)} ({names})",
            node.location,
            node.id,
        )
    if inputs and not same(inputs[0], declared):
        errors.append(
            Diagnostic(
                "error",
                codes.SHAPE_MISMATCH,
                f"node {node.id!r}: declared {node.label.shape_text()} but {preds[0]!r} produces "
                f"{diagram_text(inputs[0], node.label.dims)}{_rate_note(node, declared, inputs[0], preds[0], env)}"
                f"{env.where()}",
                node.location,
                node.id,
            )
        )
    return declared  # later nodes see the declared shape, so their errors are still found


def _rate_note(node: TensorNode, declared: Shape, produced: Shape, pred: str, env: Env) -> str:
    """``; C=128 is written as a number, but Out=256*CompRate makes it 64 with CompRate=0.25``.

    Said when the node before the tensor sizes it with a rate and a declared size differs
    from one the rate made: the declared size holds only at some other rate.
    """
    source = env.graph.nodes[pred]
    if not env.rates or not isinstance(source, OpNode) or not isinstance(source.call, OpCall):
        return ""
    made: dict[Dim, tuple[str, Dim]] = {}
    for key, value in [("", v) for v in source.call.positional] + [(f"{k}=", v) for k, v in source.call.keywords]:
        if isinstance(value, Dim) and value.symbols() & env.rates.keys():
            made.setdefault(env.value(value), (key, value))
    written = [d for d in node.label.dims if d.axis is None]
    named = {d.axis: d for d in node.label.dims if d.axis is not None}
    written += [named[a] for a in TORCH_AXIS_ORDER if a in named]  # in PyTorch layout, as shapes are
    notes = []
    for dim, want, have in zip(written, declared, produced):
        if want.size == have.size or have.size not in made:
            continue
        text = f"{dim.axis}={dim.text}" if dim.axis and "=" not in dim.text else dim.text
        key, value = made[have.size]
        used = ", ".join(f"{s}={_decimal(env.rates[s])}" for s in sorted(value.symbols() & env.rates.keys()))
        notes.append(f"{text} does not follow the rate: {key}{value} makes it {have.size} with {used}")
    return "; " + "; ".join(notes) if notes else ""


def _declared_shape(node: TensorNode, env: Env) -> Shape:
    for d in node.label.dims:  # in the order written, so the message quotes the right one
        size = env.value(d.size)
        value = size.constant_value()
        if value is not None and (value.denominator != 1 or value < 1):
            rated = sorted(d.size.symbols() & env.rates.keys())
            used = f" with {', '.join(f'{s}={_decimal(env.rates[s])}' for s in rated)}" if rated else ""
            shown = _decimal(size) if rated else str(value)
            raise error(
                codes.NOT_INTEGRAL,
                f"node {node.id!r}: {d.text} is {shown}{used}, not a whole positive size{env.where()}",
                node.location,
                node.id,
            )
        if not size.is_integral():
            denominator = max(c.denominator for _, c in size.terms)
            env.require_divisible(size * denominator, denominator, node.id, node.location)
    return tuple(Axis(a.name, env.value(a.size)) for a in from_declared(node.label.dims))


def _apply(op: Op[Any], node: OpNode, inputs: list[Shape], env: Env) -> Inferred[Any]:
    """What ``op`` makes of ``inputs``; for ``OP x N``, of N copies, with the facts of the last copy inferred."""
    low, high = op.arity()
    if len(inputs) < low or (high is not None and len(inputs) > high):
        wanted = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
        raise error(
            codes.BAD_EDGE,
            f"node {node.id!r}: {op.name} takes {wanted} incoming edge{'s' if wanted != '1' else ''}, "
            f"got {len(inputs)}",
            node.location,
            node.id,
        )
    _check_rated_args(op, node, env)
    times = op.repeat_count()
    if times is None:
        return op.infer(inputs, env)
    if op.output_names():
        raise error(
            codes.BAD_ARG,
            f"node {node.id!r}: {op.name} has several outputs, so it cannot be repeated with x {times}",
            node.location,
            node.id,
        )
    count = env.value(times)
    number = count.int_value()
    if len(inputs) != 1:
        raise error(codes.BAD_EDGE, f"node {node.id!r}: a repeated op takes one input", node.location, node.id)
    if number is not None and number < 0:
        raise error(codes.BAD_ARG, f"node {node.id!r}: repeat count {times} is {number}", node.location, node.id)
    if number is not None:
        check_repeat(number, times, node)
    index = repetition_index(op.call)
    if index is not None:
        return _induction(op, node, inputs[0], env, index, count)
    if number == 0:  # the identity; the facts of one copy still write its (unused) submodule
        return replace(op.infer(inputs, env), shape=inputs[0])
    if number is not None:
        shape, result = inputs[0], None
        for _ in range(number):
            result = op.infer([shape], env)
            if result.shape == shape:  # a fixed point: every further copy keeps the shape too
                break
            shape = result.shape
        assert result is not None
        return result
    out = op.infer(inputs, env)
    if not same(out.shape, inputs[0]):
        raise error(
            codes.ARG_MISMATCH,
            f"node {node.id!r}: repeating {op.name} x ({times}) needs it to keep its input shape, "
            f"but it turns {diagram_text(inputs[0])} into {diagram_text(out.shape)}",
            node.location,
            node.id,
        )
    return out


def repetition_index(call: OpCall) -> str | None:
    """The index symbol (``#Layer``) the args of ``OP x N`` use, if they depend on the copy."""
    values = list(call.positional) + [v for _, v in call.keywords]
    found = {s for v in values if isinstance(v, Dim) for s in v.symbols() if s.startswith("#")}
    return min(found) if found else None


def _copy(op: Op[Any], shape: Shape, env: Env, index: str, value: Dim) -> Inferred[Any]:
    """One copy of a repeated op, its index symbol bound to ``value``."""
    saved = env.bindings.get(index)
    env.bindings[index] = value
    try:
        return op.infer([shape], env)
    finally:
        if saved is None:
            del env.bindings[index]
        else:
            env.bindings[index] = saved


PROBED_COPIES = 4
"""Copies of ``OP x N`` over ``#Layer`` run on numbers first: enough for sizes of degree 4 in ``#Layer``."""
MAX_COST_DEGREE = 12
"""The highest power of ``#Layer`` in a copy's cost that is summed over the copies."""


def _induction(op: Op[Any], node: OpNode, first: Shape, env: Env, index: str, count: Dim) -> Inferred[Any]:
    """``OP x N`` with args that depend on ``#Layer``, proved by induction for any N.

    The first copies run on numbers (all of them when N is a number up to
    :data:`PROBED_COPIES`), each checked. Through the shapes they make goes one polynomial
    in ``#Layer`` per size (Newton's interpolation): the shape copy ``#Layer`` reads. If
    copy ``#Layer`` of that shape makes the shape for ``#Layer + 1``, every copy chains, for
    any N. A progression no such polynomial follows is an error saying so. The facts are
    copy ``#Layer``'s, which is what its generated loop writes.
    """
    number = count.int_value()
    shapes = [first]
    for copy_number in range(PROBED_COPIES if number is None else min(number, PROBED_COPIES)):
        shapes.append(_numbered_copy(op, shapes[-1], env, index, copy_number))
        if len(shapes[-1]) != len(first):
            raise op.mismatch(f"repeating it changes the rank of {diagram_text(first)} into {diagram_text(shapes[-1])}")
    k = Dim.sym(index)

    def reads(copy: Dim) -> Shape:
        """The shape copy ``copy`` reads: each size's polynomial through the copies run on numbers."""
        return tuple(Axis(a.name, newton(copy, [s[i].size for s in shapes])) for i, a in enumerate(first))

    try:
        copy: Inferred[Any] | None = _copy(op, reads(k), env, index, k)
    except SpecError:
        copy = None  # copy #Layer does not even take the shape the polynomial gives
    if copy is None or not same(copy.shape, reads(k + 1)):
        found = (
            f"makes {diagram_text(copy.shape)} but copy {index}+1 reads {diagram_text(reads(k + 1))}"
            if copy is not None
            else f"does not take {diagram_text(reads(k))}, the shape its first copies follow"
        )
        raise error(
            codes.ARG_MISMATCH,
            f"node {node.id!r}: repeating {op.name} x ({op.call.times}): copy {index} {found}: the sizes of a "
            f"repetition over {index} must follow one polynomial in {index} of degree at most "
            f"{PROBED_COPIES}{env.where()}",
            node.location,
            node.id,
        )
    env.repeated_costs[node.id] = (
        sum_over_index(op.parameter_count([reads(k)], copy.shape, copy.facts), index, count),
        sum_over_index(op.mult_adds([reads(k)], copy.shape, copy.facts), index, count),
    )
    return replace(copy, shape=reads(count))


def _numbered_copy(op: Op[Any], shape: Shape, env: Env, index: str, copy: int) -> Shape:
    """The shape copy number ``copy`` makes; its errors say which copy it was."""
    try:
        return _copy(op, shape, env, index, Dim.const(copy)).shape
    except SpecError as exc:
        raise SpecError([replace(d, message=f"{d.message} (copy {index}={copy})") for d in exc.diagnostics]) from None


def newton(at: Dim, values: list[Dim]) -> Dim:
    """The polynomial through ``(0, values[0]), (1, values[1]), ...``, evaluated at ``at`` (Newton's form)."""
    differences, total, term = list(values), Dim.const(0), Dim.const(1)
    for j in range(len(values)):
        total = total + differences[0] * term
        term = (term * (at - j)).divide(j + 1)  # binomial(at, j + 1)
        differences = [b - a for a, b in zip(differences, differences[1:])]
    return total


def sum_over_index(term: Dim, index: str, count: Dim) -> Dim:
    """``sum(term for index in range(count))`` for a polynomial ``term`` in ``index``, exactly.

    The sum of each power ``index**d`` over ``range(count)`` is a polynomial of degree
    ``d + 1`` in ``count``: the one through its values at 0, 1, ..., d + 1.
    """
    powers: dict[int, Dim] = {}
    for monomial, coefficient in term.terms:
        degree = monomial.count(index)
        rest = Dim._from({tuple(s for s in monomial if s != index): coefficient})
        powers[degree] = powers.get(degree, Dim.const(0)) + rest
    if max(powers, default=0) > MAX_COST_DEGREE:
        raise ExprError(f"a cost of degree {max(powers)} in {index} cannot be summed")

    def power_sum(degree: int) -> Dim:
        values = [Dim.const(sum(i**degree for i in range(n))) for n in range(degree + 2)]
        return newton(count, values)

    return sum((rest * power_sum(degree) for degree, rest in powers.items()), Dim.const(0))


def _check_rated_args(op: Op[Any], node: OpNode, env: Env) -> None:
    """Every size a rate makes (``Out=256*CompRate``) must be whole: an error naming it otherwise."""
    rates = env.rates
    if not rates:
        return
    pairs = [("", v) for v in op.call.positional] + [(f"{k}=", v) for k, v in op.call.keywords]
    for key, value in pairs:
        if not isinstance(value, Dim) or not value.symbols() & rates.keys():
            continue
        size = env.value(value)
        number = size.constant_value()
        used = ", ".join(f"{s}={_decimal(rates[s])}" for s in sorted(value.symbols() & rates.keys()))
        if number is not None and (number.denominator != 1 or number < 1):
            raise error(
                codes.NOT_INTEGRAL,
                f"node {node.id!r}: {key}{value} is {_decimal(size)} with {used}, not a whole size{env.where()}",
                node.location,
                node.id,
            )
        if number is None and not size.is_integral():
            denominator = max(c.denominator for _, c in size.terms)
            env.require_divisible(size * denominator, denominator, node.id, node.location)


def _decimal(value: Dim) -> str:
    """``76.8`` for 384/5: rates and what they make read as decimals."""
    number = value.constant_value()
    if number is None:
        return str(value)
    return str(int(number)) if number.denominator == 1 else f"{float(number):g}"


def check_repeat(number: int, times: Dim, node: OpNode) -> None:
    """An error when ``x N`` asks for more copies than :data:`~dotnet.limits.MAX_REPEAT`."""
    if number > MAX_REPEAT:
        shown = f"{times} = {number:,}" if times.int_value() is None else f"{number:,}"
        raise error(
            codes.TOO_LARGE,
            f"node {node.id!r}: repeat count {shown} exceeds the limit of {MAX_REPEAT:,}",
            node.location,
            node.id,
        )


def _constructor_symbols(analysis: Analysis) -> list[str]:
    """Symbols that size parameters or count layers, in order of first appearance."""
    graph = analysis.graph
    found: set[str] = set()
    for node_id, op in analysis.ops.items():
        for dim in op.constructor_dims(analysis.facts(node_id)):
            found |= {s for s in dim.symbols() if not s.startswith("#")}
        if (times := op.repeat_count()) is not None:
            found |= times.symbols()
    for node_id in analysis.params:
        node = graph.nodes[node_id]
        assert isinstance(node, TensorNode)
        for d in node.label.dims:
            found |= d.size.symbols()
    ordered = [s for s in graph.symbol_order if s in found]
    return ordered + sorted(found - set(ordered))
