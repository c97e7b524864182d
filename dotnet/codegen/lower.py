"""Lowering: from analysed graphs to plans of the classes the template writes.

A plan holds code the generator built itself (identifiers from :mod:`dotnet.codegen.naming`,
sizes rendered from :class:`~dotnet.reading.symbolic.Dim`, op code from the op registry)
and text for comments and docstrings (summaries, shapes, node ids, spec origins),
which the renderer passes through :func:`dotnet.codegen.safe_text.doc_text`: no label
text reaches the generated file any other way.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from dotnet import codes
from dotnet.analysis.infer import Analysis, repetition_index
from dotnet.analysis.ir import Edge, Graph, OpNode, TensorNode
from dotnet.codegen.naming import Namespace, class_name, identifier, snake_case
from dotnet.codegen.scan import ScanPlan, plan_scan
from dotnet.diagnostics import error
from dotnet.ops.base import CodeWriter, Op
from dotnet.reading.labels import OpCall, ParamInit
from dotnet.reading.shape import Axis, torch_text
from dotnet.reading.symbolic import Dim

METHOD_NAMES = frozenset({"forward", "reset_parameters", "scan", "_step", "_loop", "_gate_weights"})
"""Methods a generated class may have; no node's attribute takes their names."""


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
    reset: bool = True
    """A parameter that ``reset_parameters`` initialises (one whose node says no initialisation)."""
    empty: tuple[str, ...] = ()
    """The sizes of a parameter made as ``torch.empty(...)``, filled by ``reset_parameters``; else none."""


@dataclass
class Statement:
    target: str
    expr: str
    comment: str
    frees: list[str] = field(default_factory=list)
    """Variables read for the last time here, deleted after it so their memory can go."""
    loop: Loop | None = None
    """For ``OP x N`` run copy by copy: the loop around the statement, which rebinds ``target``."""


@dataclass
class Loop:
    """``for VARIABLE in ITERABLE:`` around one statement: the copies of a repetition, one after another."""

    variable: str
    iterable: str
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
    """For a recurrent cell: its step, and the methods that run it over a whole sequence."""
    images: bool = False
    """Some tensor has height or width axes, so the layout note applies."""
    kept: list[str] = field(default_factory=list)
    """Constructor arguments kept as attributes because ``forward`` needs them (random tensor sizes)."""
    summary_more: str = ""
    """The summary's second line, where a long name leaves no room for the place on the first."""


_SUMMARY_WIDTH = 88 - len('    """')
"""Room for the class docstring's first line in a generated file 88 columns wide."""


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
        self.rates: dict[str, Dim] = {}
        """Rates of the analysis (``CompRate=0.5``), applied to every size written."""

    def knows(self, value: Dim) -> bool:
        return not (value.substitute(self.rates).symbols() - self.symbols.keys())

    def formula_name(self, name: str) -> str:
        tensor = self.graph.titles.get(name)
        return self.values[tensor] if tensor is not None else f"self.{self.implicit[name]}"

    def node_attr(self, node_id: str) -> str:
        return self.attrs[node_id]

    def dim(self, value: Dim) -> str:
        value = value.substitute(self.rates)
        missing = value.symbols() - self.symbols.keys()
        if missing:
            raise AssertionError(f"symbols {sorted(missing)} are not constructor arguments")
        return value.render(lambda s: self.symbols[s], python=True)

    def use(self, import_name: str) -> None:
        self.imports.add(import_name)

    def block_constructor(self, block: str, values: Mapping[str, Dim]) -> str:
        plan = self.plans[block]
        args = ", ".join(f"{a.name}={self.dim(values[a.symbol])}" for a in plan.args)
        return f"{block}({args})"


def lower(analysis: Analysis, plans: dict[str, ClassPlan], defaults: dict[str, int], is_block: bool) -> ClassPlan:
    """Plan the class for one analysed graph; ``plans`` must already hold its blocks."""
    graph = analysis.graph
    name = class_name(graph.name, graph.location)
    names = Namespace({name, *plans, *METHOD_NAMES})
    args = [ConstructorArg(names.claim(snake_case(s)), s, defaults.get(s)) for s in analysis.constructor_symbols]
    where = file_label(graph.file)
    attrs = {node_id: names.claim(identifier(node_id)) for node_id in graph.nodes}
    writer = _Writer({a.symbol: a.name for a in args}, plans, graph, attrs)
    writer.rates = analysis.rates
    parameters = _parameters(analysis, writer, names, where)
    submodules: list[Submodule] = []
    for node_id, op in analysis.ops.items():
        node = graph.nodes[node_id]
        facts = analysis.facts(node_id)
        times = op.repeat_count()
        index = repetition_index(op.call) if times is not None else None
        variable = "_"
        if index is not None:  # the copies' args use their index: it is the loop variable
            variable = writer.symbols[index] = names.claim(snake_case(index.lstrip("#")))
        expr = op.module(writer, facts)
        writer.symbols.pop(index or "", None)
        if expr is None:
            continue
        if times is not None:
            expr = op.repeated_module(expr, writer.dim(times), facts, variable)
        submodules.append(Submodule(attrs[node_id], expr, _origin(node, where, attrs[node_id])))

    values = writer.values
    values.update({n: attrs[n] for n in analysis.inputs})
    values.update({p: f"self.{attrs[p]}" for p in analysis.params})
    statements: list[Statement] = []
    kept: list[str] = []
    port_values: dict[tuple[str, str], str] = {}
    """The variable of each output of the nodes that have several."""
    op_statements: dict[int, tuple[str, list[str]]] = {}
    """The node and input variables of each statement that assigns one op's one result."""

    def carried(edge: Edge) -> str:
        output = analysis.edge_output(edge)
        return values[edge.src] if output is None else port_values[(edge.src, output)]

    for node_id in analysis.order:
        node = graph.nodes[node_id]
        in_edges = graph.preds(node_id)
        if isinstance(node, TensorNode):
            if in_edges:
                values[node_id] = carried(in_edges[0])
            elif node.is_random:
                expr = _random_tensor(analysis, node_id, attrs, writer, kept)
                statements.append(Statement(attrs[node_id], expr, torch_text(analysis.shapes[node_id])))
                values[node_id] = attrs[node_id]
            continue
        op = analysis.ops[node_id]
        operands = [carried(e) for e in in_edges]
        expr = op.forward(writer, operands, attrs[node_id], analysis.facts(node_id))
        if node_id in analysis.ports:
            targets = _port_targets(analysis, node_id, attrs, names)
            port_values.update({(node_id, port): var for port, var in targets.items()})
            comment = ", ".join(f"{port} {torch_text(shape)}" for port, shape in analysis.ports[node_id].items())
            statements.append(Statement(op.unpack(targets), expr, comment))
            values[node_id] = targets[next(iter(analysis.ports[node_id]))]
            continue
        target = _target(analysis, node_id, attrs)
        op_statements[len(statements)] = (node_id, operands)
        statements.append(Statement(target, expr, torch_text(analysis.shapes[node_id])))
        values[node_id] = target
        for e in graph.succs(node_id):
            if attrs[e.dst] == target:
                values[e.dst] = target

    inputs = [Port(attrs[n], n, torch_text(analysis.shapes[n]), analysis.takes_ids(n)) for n in analysis.inputs]
    outputs = [Port(values[n], n, torch_text(analysis.shapes[n])) for n in analysis.outputs]
    kept_alive = {p.name for p in inputs} | {p.name for p in outputs}
    _loop_repetitions(analysis, writer, statements, op_statements, kept_alive, names, where)
    _free_after_last_use(statements, {p.name for p in outputs})
    in_place = _in_place_nodes(analysis, statements, op_statements, {p.name for p in outputs})
    for submodule in submodules:
        in_place_id = next((n for n in in_place if attrs[n] == submodule.attr), None)
        if in_place_id is not None:
            op = analysis.ops[in_place_id]
            submodule.expr = op.in_place_module(writer, analysis.facts(in_place_id)) or submodule.expr
    kind = "Block" if is_block else "Model"
    if analysis.cell is not None:
        kind = "Recurrent cell"
    summary, summary_more = f"{kind} {graph.name}, drawn in {where}:{graph.location.line}.", ""
    if len(summary) > _SUMMARY_WIDTH:  # a long name: the place goes on a line of its own
        summary, summary_more = f"{kind} {graph.name},", f"drawn in {where}:{graph.location.line}."
    constraints = [c.describe() for c in analysis.constraints if c.expr.symbols()]
    writer.use("nn")  # the class is an nn.Module
    writer.use("torch")  # forward's arguments and result are torch.Tensor
    if any(p.reset for p in parameters):
        writer.use("math")  # reset_parameters draws them with math.sqrt
    plan = ClassPlan(
        name, summary, args, submodules, parameters, inputs, outputs, statements, constraints, writer.imports
    )
    plan.images = any(a.name in ("H", "W") for shape in analysis.shapes.values() for a in shape)
    if analysis.cell is not None:
        plan.scan = plan_scan(analysis, attrs, writer.implicit, writer.symbols, names, _scan_doc(analysis))
    if plan.scan is not None:
        plan.imports.add("scan_cell")
        if plan.scan.backward:
            plan.imports.add("RecurrentScan")
        if plan.scan.projects:
            plan.imports.add("ScanProjection")
        if plan.scan.kernel:
            plan.imports.add("library_kernel_runs")
            plan.parameters = [_transposed(s) if s.attr in plan.scan.transposed else s for s in plan.parameters]
        plan.submodules = [s for s in plan.submodules if s.attr not in plan.scan.replaced]
    plan.kept = kept
    plan.summary_more = summary_more
    return plan


def _loop_repetitions(
    analysis: Analysis,
    writer: _Writer,
    statements: list[Statement],
    op_statements: dict[int, tuple[str, list[str]]],
    kept_alive: set[str],
    names: Namespace,
    where: str,
) -> None:
    """Run each ``OP x N`` whose input nothing else reads as a loop that rebinds one variable.

    ``down = self.down(x)`` then ``stage = self.stage(down)`` become ``stage = self.down(x)``
    then ``for block in self.stage: stage = block(stage)``: once the second copy runs, no
    name holds the first copy's input, as in torchvision's stages, where one call of the
    ``nn.Sequential`` would hold it for the whole repetition. The submodule stays the
    ``nn.Sequential`` it was (same names, same ``state_dict``). A repetition keeps its one
    call where its input is read again (a skip connection), is a ``forward`` argument or
    returned (held anyway), is one of several outputs, or where the op writes its own
    ``forward`` (a stack of recurrent cells).
    """
    readers: dict[str, int] = {}
    assigners: dict[str, list[int]] = {}
    for index, st in enumerate(statements):
        for name in _names(st.expr, ast.Load):
            readers[name] = readers.get(name, 0) + 1
        for name in _names(st.target, ast.Store):
            assigners.setdefault(name, []).append(index)
    variables: dict[str, str] = {}
    """The loop variable of each kind of copy (``block``, ``layer``), claimed once per ``forward``."""
    starts: dict[int, str] = {}
    """Loops whose input lives on: the statement index and the input the loop variable starts from."""
    for index, (node_id, operands) in op_statements.items():
        op = analysis.ops[node_id]
        if op.repeat_count() is None:
            continue
        (source,) = operands
        st, facts = statements[index], analysis.facts(node_id)
        defining = assigners.get(source, [])
        renamable = source not in kept_alive and readers.get(source) == 1 and len(defining) == 1
        if renamable and statements[defining[0]].target != source:  # one of several outputs
            renamable = False
        if not renamable and not op.copies_must_loop(facts):
            continue
        if op.copy_forward(writer, st.target, op.copy_name, facts) is None:
            continue  # an op that writes its own forward
        if op.copy_name not in variables:
            variables[op.copy_name] = names.claim(op.copy_name)
        variable = variables[op.copy_name]
        body = op.copy_forward(writer, st.target, variable, facts)
        assert body is not None
        node = analysis.graph.nodes[node_id]
        assert isinstance(node, OpNode) and isinstance(node.call, OpCall)  # a repetition is a call with ``x N``
        label = replace(node.call, positional=(), keywords=(), defaults=(), squares=()).describe()
        if renamable:
            statements[defining[0]].target = st.target
        else:
            starts[index] = source
        st.expr = body
        st.loop = Loop(variable, f"self.{writer.attrs[node_id]}", f"{label} ({where}:{node.location.line})")
    _start_loops(statements, op_statements, starts)


def _start_loops(
    statements: list[Statement], op_statements: dict[int, tuple[str, list[str]]], starts: dict[int, str]
) -> None:
    """``target = source`` before each loop whose input is read again, the op statements' indices shifted."""
    for index in sorted(starts, reverse=True):
        statements.insert(index, Statement(statements[index].target, starts[index], ""))
    shifted = {index + sum(1 for s in starts if s <= index): value for index, value in op_statements.items()}
    op_statements.clear()
    op_statements.update(shifted)


def _free_after_last_use(statements: list[Statement], returned: set[str]) -> None:
    """Mark each intermediate for deletion after the statement that reads it last.

    As torch.fx's code generator does, so that inference holds no more activations
    than a hand-written ``nn.Sequential``. Inputs (the caller holds them), returned
    values, and whatever the last statement reads (``return`` frees it) are left alone.
    A statement that rebinds what it reads (a repetition's loop) does not end its life.
    """
    defined = {name for st in statements for name in _names(st.target, ast.Store)}
    last_read: dict[str, int] = {}
    for index, st in enumerate(statements):
        rebound = set(_names(st.target, ast.Store))
        for name in _names(st.expr, ast.Load):
            if name in defined and name not in rebound:
                last_read[name] = index
    for name, index in last_read.items():
        if name not in returned and index < len(statements) - 1:
            statements[index].frees.append(name)


def _in_place_nodes(
    analysis: Analysis,
    statements: list[Statement],
    op_statements: dict[int, tuple[str, list[str]]],
    returned: set[str],
) -> list[str]:
    """The activations that may overwrite their input, as torchvision's ``nn.ReLU(inplace=True)`` does.

    An activation with an in-place form (its declaration's ``in_place``), not repeated, whose
    input is a value that one statement assigns from an op with a ``fresh_output`` (a new
    tensor its backward does not read), that no other statement reads, and that ``forward``
    does not return. So the overwritten tensor is nobody else's: not an argument (the caller
    holds it), not a view of a live tensor, not an output that some backward needs. Values,
    not names, are counted: a repetition's loop rebinds its variable to a new value.
    """
    readers: dict[tuple[str, int], int] = {}
    read: dict[int, dict[str, int]] = {}
    """What each statement reads: each name's value, as the index of the statement that assigned it (-1: none)."""
    fresh: set[tuple[str, int]] = set()
    current: dict[str, int] = {}
    for index, st in enumerate(statements):
        read[index] = {name: current.get(name, -1) for name in _names(st.expr, ast.Load)}
        for value in read[index].items():
            readers[value] = readers.get(value, 0) + 1
        for name in _names(st.target, ast.Store):
            current[name] = index
        if index in op_statements and _makes_fresh(analysis.ops[op_statements[index][0]]):
            fresh.add((st.target, index))
    found = []
    for index, (node_id, args) in op_statements.items():
        op = analysis.ops[node_id]
        if not op.declaration.in_place or op.repeat_count() is not None:
            continue
        (name,) = args
        source = (name, read[index].get(name, -1))
        if source in fresh and readers[source] == 1 and source[0] not in returned:
            found.append(node_id)
    return found


def _makes_fresh(op: Op[object]) -> bool:
    """Whether the op's result is a new tensor: its declaration says ``fresh_output`` and, for
    ``OP x N``, N is a number of at least one (zero copies, ``x (N-1)`` with N=1, return the input)."""
    times = op.repeat_count()
    copies = 1 if times is None else times.int_value()
    return op.declaration.fresh_output and copies is not None and copies >= 1


def _names(code: str, context: type[ast.expr_context]) -> list[str]:
    """The variables a target or expression binds (``ast.Store``) or reads (``ast.Load``)."""
    tree = ast.parse(f"{code} = None" if context is ast.Store else code)
    found = (n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, context))
    return list(dict.fromkeys(found))


def _scan_doc(analysis: Analysis) -> str:
    """The docstring of a cell's ``scan``: what it reads and what it returns (text, escaped when written)."""
    cell = analysis.cell
    assert cell is not None
    step = analysis.shapes[cell.steps[0]]
    out = analysis.shapes[cell.states[cell.output].new]
    seq = Axis(None, Dim.sym("SeqLen"))
    return (
        f"Run over {torch_text(step[:1] + (seq,) + step[1:])} from a zero state.\n\n"
        f"Returns {torch_text(out[:1] + (seq,) + out[1:])}: the cell's "
        f"{cell.states[cell.output].name} at every step."
    )


def _random_tensor(analysis: Analysis, node_id: str, attrs: dict[str, str], writer: _Writer, kept: list[str]) -> str:
    """``torch.randn(...)`` of a ``randn(...)`` node, on the first input's device and dtype.

    Run-time sizes (``BatchSize``) are read from the inputs' shapes; constructor sizes from
    attributes the constructor keeps.
    """
    names: dict[str, str] = {}
    for n in analysis.inputs:
        for i, axis in enumerate(analysis.shapes[n]):
            for symbol in axis.size.symbols():
                if axis.size == Dim.sym(symbol):
                    names.setdefault(symbol, f"{attrs[n]}.shape[{i}]")
    for symbol, arg in writer.symbols.items():
        names[symbol] = f"self.{arg}"
    sizes = []
    for axis in analysis.shapes[node_id]:
        size = axis.size.substitute(writer.rates)
        missing = size.symbols() - names.keys()
        if missing:
            node = analysis.graph.nodes[node_id]
            raise error(
                codes.UNBOUND_SYMBOL,
                f"node {node_id!r}: the random tensor's size {size} cannot be told from the inputs' shapes "
                "or the constructor's arguments",
                node.location,
                node_id,
            )
        for symbol in size.symbols():
            if symbol in writer.symbols and writer.symbols[symbol] not in kept:
                kept.append(writer.symbols[symbol])
        sizes.append(size.render(lambda s: names[s], python=True))
    first = attrs[analysis.inputs[0]] if analysis.inputs else None
    where = f", device={first}.device, dtype={first}.dtype" if first else ""
    return f"torch.randn({', '.join(sizes)}{where})"


def _port_targets(analysis: Analysis, node_id: str, attrs: dict[str, str], names: Namespace) -> dict[str, str]:
    """A variable for each output, in order: the tensor node it alone feeds, else ``NODE_OUTPUT``; ``_`` when unused."""
    graph = analysis.graph
    ports = list(analysis.ports[node_id])
    users: dict[str, list[str]] = {port: [] for port in ports}
    for e in graph.succs(node_id):
        users[analysis.edge_output(e) or ports[0]].append(e.dst)
    targets: dict[str, str] = {}
    for port, dsts in users.items():
        if not dsts and node_id not in analysis.outputs:
            targets[port] = "_"
        elif len(dsts) == 1 and isinstance(graph.nodes[dsts[0]], TensorNode) and len(graph.preds(dsts[0])) == 1:
            targets[port] = attrs[dsts[0]]
        else:
            targets[port] = names.claim(identifier(f"{node_id}_{port}"))
    return targets


def _target(analysis: Analysis, node_id: str, attrs: dict[str, str]) -> str:
    """Name an op's result after the tensor node it feeds, when it feeds exactly one."""
    succs = analysis.graph.succs(node_id)
    if len(succs) == 1:
        succ = analysis.graph.nodes[succs[0].dst]
        if isinstance(succ, TensorNode) and len(analysis.graph.preds(succ.id)) == 1:
            return attrs[succ.id]
    return attrs[node_id]


def _origin(node: OpNode | TensorNode, where: str, attr: str) -> str:
    """The spec reference above a submodule, with only what its line does not already say.

    The node id is left out when it is the attribute's name, and an op label without
    arguments (``Relu``) when the constructor says the same.
    """
    reference = f"{where}:{node.location.line}"
    if isinstance(node, OpNode):
        call = node.call
        bare = isinstance(call, OpCall) and not (call.positional or call.keywords or call.times or call.operand)
        text = "" if bare else node.describe()
    else:
        text = f"{node.label.title} {node.label.shape_text()}".strip()
    if attr != node.id:
        text = f"{node.id}: {text}" if text else node.id
    return f"{text} ({reference})" if text else reference


def _initial_value(init: ParamInit | None, sizes: str) -> tuple[str, bool]:
    """The tensor a parameter node starts as, and whether ``reset_parameters`` still has to fill it."""
    if init is None:
        return f"torch.empty({sizes})", True
    if init.kind == "normal":
        scale = "" if init.std == 1.0 else f" * {init.std!r}"
        return f"torch.randn({sizes}){scale}", False
    return f"torch.{init.kind}({sizes})", False


def _transposed(parameter: Submodule) -> Submodule:
    """A matrix parameter of shape ``(a, b)`` as drawn, its memory laid out as ``(b, a)``.

    torch's recurrent kernels read a gate's weight as ``[H, In]``: from this layout the
    stacking is a plain copy at each call, and the gradient comes back in the parameter's
    own strides (no copy). Anything but an empty ``(a, b)`` parameter stays as it is.
    """
    if len(parameter.empty) != 2:
        return parameter
    rows, cols = parameter.empty
    comment = f"{parameter.comment}, stored transposed"
    return replace(parameter, expr=f"nn.Parameter(torch.empty({cols}, {rows}).T)", comment=comment)


def _parameters(analysis: Analysis, writer: _Writer, names: Namespace, where: str) -> list[Submodule]:
    """Explicit parameter nodes and the parameters formulas name, in order of first appearance."""
    graph = analysis.graph
    found: list[tuple[tuple[int, int, int], Submodule]] = []
    for p in analysis.params:
        node = graph.nodes[p]
        assert isinstance(node, TensorNode)
        dims = tuple(writer.dim(d.size) for d in node.label.dims)
        key = (node.location.line, node.location.col, 0)
        expr, reset = _initial_value(node.label.init, ", ".join(dims))
        origin = _origin(node, where, writer.attrs[p])
        empty = dims if node.label.init is None else ()
        found.append((key, Submodule(writer.attrs[p], f"nn.Parameter({expr})", origin, reset, empty)))
    for node_id, op in analysis.ops.items():
        node = graph.nodes[node_id]
        for name, shape, offset in op.implicit_parameters(analysis.facts(node_id)):
            if name in writer.implicit:
                continue
            attr = writer.implicit[name] = names.claim(identifier(name))
            empty = tuple(writer.dim(a.size) for a in shape)
            comment = f"{name}: used by {node_id} ({where}:{node.location.line})"
            key = (node.location.line, node.location.col, offset + 1)
            found.append((key, Submodule(attr, f"nn.Parameter(torch.empty({', '.join(empty)}))", comment, empty=empty)))
    return [s for _, s in sorted(found, key=lambda item: item[0])]
