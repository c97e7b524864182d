"""The ``scan`` method of a recurrent cell: run it over a whole sequence from a zero state.

Written for speed, as a careful engineer would by hand. A *gate* is a node whose
value is ``act(X[t] @ W + S @ U + b + ...)``; for all gates at once the scan

- computes the input projections ``X[t] @ W + b`` of every time step in one matmul
  before the time loop (the per-gate ``W`` and ``b`` concatenated at call time, so
  each gate keeps its own ``nn.Parameter``), and
- computes the recurrent projections ``S @ U`` of a step in one matmul, fused with
  the input part by ``torch.addmm``, then splits the result per gate.

Everything else is the cell's own code, once per step. A cell with ops this
does not understand scans by calling its own ``forward`` once per step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from dotnet import codes
from dotnet.analysis.blocks import BlockCall
from dotnet.analysis.cells import Cell
from dotnet.analysis.infer import Analysis
from dotnet.analysis.ir import OpNode, TensorNode
from dotnet.codegen.naming import Namespace
from dotnet.diagnostics import error
from dotnet.ops.formula import FormulaOp, to_python
from dotnet.ops.operators import Add, MatMul, Mul, Sub
from dotnet.reading.formulas import BinOp, Call, Expr, Name, Neg, Num
from dotnet.reading.symbolic import Dim

_OPERATORS = {Add: "+", Sub: "-", Mul: "*", MatMul: "@"}


@dataclass
class ScanPlan:
    """The body of ``scan`` (lines, unindented) and the constructor args it reads from ``self``."""

    lines: list[str]
    keep: list[str] = field(default_factory=list)
    sequence: str = "xs"
    """The name of scan's argument."""


class _Unsupported(Exception):
    """The cell holds an op the fused scan cannot express; scan by calling forward."""


@dataclass
class _Gate:
    node: str
    act: str | None
    x: str | None = None
    """Attribute of the input weight, ``W_f``."""
    u: str | None = None
    """Attribute of the recurrent weight, ``U_f``."""
    state: str | None = None
    """The state node the recurrent weight multiplies, ``his_h``."""
    biases: list[str] = field(default_factory=list)
    others: list[Expr] = field(default_factory=list)
    cols: Dim | None = None


def plan_scan(
    analysis: Analysis, attrs: dict[str, str], implicit: dict[str, str], symbols: dict[str, str], names: Namespace
) -> ScanPlan | None:
    """The scan of a cell over ``xs: [BatchSize, SeqLen, ...]``; ``None`` unless it reads one input per step.

    ``attrs`` name the cell's nodes, ``implicit`` its formula parameters, ``symbols`` its
    constructor arguments; ``names`` hands out the scan's own variable names.
    """
    cell = analysis.cell
    if cell is None or len(cell.steps) != 1:
        return None
    return _Builder(analysis, cell, attrs, implicit, symbols, names).build()


class _Builder:
    def __init__(
        self,
        analysis: Analysis,
        cell: Cell,
        attrs: dict[str, str],
        implicit: dict[str, str],
        symbols: dict[str, str],
        names: Namespace,
    ) -> None:
        self.analysis = analysis
        self.graph = analysis.graph
        self.cell = cell
        self.attrs = attrs
        self.implicit = implicit
        self.symbols = symbols
        self.keep: list[str] = []
        self.v = {k: names.claim(k) for k in ("xs", "batch", "steps", "outputs", "t", "xw", "xb", "xp", "uw", "gates")}
        self.names = names
        self.prev = {s.prev: attrs[s.prev] for s in cell.states}
        self.vars: dict[str, str] = {}
        """Variables of the op nodes computed once per step (see :meth:`materialized`)."""

    # -- sizes -----------------------------------------------------------
    def dim(self, value: Dim) -> str:
        step = self.analysis.shapes[self.cell.steps[0]]
        batch = step[0].size

        def name(symbol: str) -> str:
            if Dim.sym(symbol) == batch:
                return self.v["batch"]
            if symbol not in self.symbols:  # a run-time size: read it off the sequence (batch, time, ...)
                axes = [i for i, a in enumerate(step) if a.size == Dim.sym(symbol)]
                if not axes:
                    raise error(
                        codes.BAD_CELL,
                        f"a state of cell {self.graph.name} is sized by {symbol}, which is neither a size of "
                        f"its sequence input nor a constructor argument: scan cannot make its zero state",
                        self.graph.location,
                    )
                return f"{self.v['xs']}.shape[{axes[0] + 1}]"
            arg = self.symbols[symbol]
            if arg not in self.keep:
                self.keep.append(arg)
            return f"self.{arg}"

        return value.render(name, python=True)

    # -- the plan ----------------------------------------------------------
    def build(self) -> ScanPlan:
        v = self.v
        lines = [f"{v['batch']}, {v['steps']} = {v['xs']}.shape[0], {v['xs']}.shape[1]"]
        for s in self.cell.states:
            sizes = ", ".join(self.dim(a.size) for a in self.analysis.shapes[s.prev])
            lines.append(f"{self.prev[s.prev]} = {v['xs']}.new_zeros({sizes})")
        try:
            body, before = self.fused_step()
        except _Unsupported:
            body, before = self.forward_step(), []
        lines += before
        lines.append(f"{v['outputs']} = []")
        lines.append(f"for {v['t']} in range({v['steps']}):")
        lines += ["    " + line for line in body]
        lines.append(f"return torch.stack({v['outputs']}, dim=1)")
        return ScanPlan(lines, self.keep, v["xs"])

    def forward_step(self) -> list[str]:
        v = self.v
        args = [f"{v['xs']}[:, {v['t']}]" if n in self.cell.steps else self.prev[n] for n in self.analysis.inputs]
        carried = ", ".join(self.prev[s.prev] for s in self.cell.states)
        output = self.prev[self.cell.states[self.cell.output].prev]
        return [f"{carried} = self({', '.join(args)})", f"{v['outputs']}.append({output})"]

    # -- expressions over the cell's nodes -----------------------------------
    def materialized(self) -> dict[str, str]:
        """Op nodes computed into a variable: named by the tensor they feed, or used twice."""
        found: dict[str, str] = {}
        for node_id in self.analysis.order:
            node = self.graph.nodes[node_id]
            if not isinstance(node, OpNode):
                continue
            succs = self.graph.succs(node_id)
            if len(succs) == 1 and isinstance(self.graph.nodes[succs[0].dst], TensorNode):
                found[node_id] = self.attrs[succs[0].dst]
            elif len(succs) != 1:
                found[node_id] = self.attrs[node_id]
        return found

    def value(self, node_id: str) -> Expr:
        node = self.graph.nodes[node_id]
        if isinstance(node, TensorNode):
            if node.is_param:
                return Name("param:" + self.attrs[node_id], 0)
            if node_id in self.cell.steps:
                return Name("input", 0)
            if node_id in self.prev:
                return Name("state:" + node_id, 0)
            return self.value(self.graph.preds(node_id)[0].src)
        if node_id in self.vars:
            return Name("var:" + self.vars[node_id], 0)
        return self.expression(node_id)

    def expression(self, node_id: str) -> Expr:
        op = self.analysis.ops[node_id]
        args = [self.value(e.src) for e in self.graph.preds(node_id)]
        if isinstance(op, FormulaOp):
            return _rename(op.expr, self.formula_name)
        if isinstance(op, BlockCall) or op.call.times is not None or op.call.operand is not None:
            raise _Unsupported(node_id)
        activation = op.declaration.activation if op.declaration else None
        if activation is not None:
            return Call(activation.formula, args[0])
        for cls, symbol in _OPERATORS.items():
            if isinstance(op, cls):
                tree = args[0]
                for arg in args[1:]:
                    tree = BinOp(symbol, tree, arg)
                return tree
        raise _Unsupported(node_id)

    def formula_name(self, name: str) -> Expr:
        tensor = self.graph.titles.get(name)
        return self.value(tensor) if tensor is not None else Name("param:" + self.implicit[name], 0)

    def param_cols(self) -> dict[str, Dim]:
        cols = {self.attrs[p]: self.analysis.shapes[p][-1].size for p in self.analysis.params}
        for op in self.analysis.ops.values():
            for name, shape, _ in op.implicit_parameters():
                cols[self.implicit[name]] = shape[-1].size
        return cols

    # -- the fused step ------------------------------------------------------
    def fused_step(self) -> tuple[list[str], list[str]]:
        self.vars = self.materialized()
        exprs = {n: self.expression(n) for n in self.vars}
        gates = [g for n, e in exprs.items() if (g := _gate(n, e)) is not None]
        recurrent = Counter(g.state for g in gates if g.state)
        state = recurrent.most_common(1)[0][0] if recurrent else None
        cols = self.param_cols()
        for g in gates:
            if g.u and g.state != state:  # fuse the state most gates share; others stay as they are
                g.others.append(BinOp("@", Name("state:" + (g.state or ""), 0), Name("param:" + g.u, 0)))
                g.u = g.state = None
            g.cols = cols[g.x or g.u or ""]
        gates = [g for g in gates if g.x or g.u]
        fold = all(len(g.biases) == 1 for g in gates if g.x)
        for g in gates:
            if not (g.x and fold):
                g.others += [Name("param:" + b, 0) for b in g.biases]
        both = [g for g in gates if g.x and g.u]
        in_only = [g for g in gates if g.x and not g.u]
        rec_only = [g for g in gates if g.u and not g.x]
        v = self.v
        before: list[str] = []
        xgates, ugates = both + in_only, both + rec_only
        if xgates:
            before.append(f"{v['xw']} = {_cat([g.x for g in xgates if g.x])}")
            projection = f"{v['xs']}.transpose(0, 1) @ {v['xw']}"
            if fold:
                before.append(f"{v['xb']} = {_cat([g.biases[0] for g in xgates])}")
                projection += f" + {v['xb']}"
            # Time-major and unbound: step t's slice is contiguous, and backward stacks one gradient.
            before.append("# every step's input projection, for all gates at once")
            before.append(f"{v['xp']} = ({projection}).unbind(0)")
        if ugates:
            before.append(f"{v['uw']} = {_cat([g.u for g in ugates if g.u])}")
        body: list[str] = []
        pieces: dict[str, str] = {}
        x_t = f"{v['xp']}[{v['t']}]"
        state_var = self.prev[state] if state else ""
        x_both = x_t
        if in_only:
            parts = ([self.names.claim("x_both")] if both else []) + [self.piece(g, pieces) for g in in_only]
            sizes = ([sum((g.cols for g in both if g.cols), Dim.const(0))] if both else []) + [
                g.cols for g in in_only if g.cols
            ]
            body += self.split(x_t, parts, sizes)
            x_both = parts[0] if both else ""
        if both and not rec_only:
            body.append(f"{v['gates']} = torch.addmm({x_both}, {state_var}, {v['uw']})")
        elif ugates:
            parts = ([self.names.claim("u_both")] if both else []) + [self.piece(g, pieces) for g in rec_only]
            sizes = ([sum((g.cols for g in both if g.cols), Dim.const(0))] if both else []) + [
                g.cols for g in rec_only if g.cols
            ]
            body += self.split(f"{state_var} @ {v['uw']}", parts, sizes)
            if both:
                body.append(f"{v['gates']} = {x_both} + {parts[0]}")
        if len(both) == 1:
            pieces[both[0].node] = v["gates"]
        elif both:
            body += self.split(v["gates"], [self.piece(g, pieces) for g in both], [g.cols for g in both if g.cols])
        by_node = {g.node: g for g in gates}
        for node_id, expr in exprs.items():
            gate = by_node.get(node_id)
            if gate is not None:
                expr = Name("var:" + pieces[node_id], 0)
                for other in gate.others:
                    expr = BinOp("+", expr, other)
                if gate.act:
                    expr = Call(gate.act, expr)
            body.append(f"{self.vars[node_id]} = {to_python(expr, self.python_name)}")
        news = [self.python_value(s.new) for s in self.cell.states]
        body.append(f"{', '.join(self.prev[s.prev] for s in self.cell.states)} = {', '.join(news)}")
        body.append(f"{v['outputs']}.append({self.prev[self.cell.states[self.cell.output].prev]})")
        return body, before

    def piece(self, gate: _Gate, pieces: dict[str, str]) -> str:
        pieces[gate.node] = self.names.claim(f"{self.vars[gate.node]}_gate")
        return pieces[gate.node]

    def split(self, tensor: str, parts: list[str], sizes: list[Dim]) -> list[str]:
        if len(parts) == 1:
            return [f"{parts[0]} = {tensor}"]
        if len(set(sizes)) == 1:
            return [f"{', '.join(parts)} = {tensor}.chunk({len(parts)}, dim=-1)"]
        return [f"{', '.join(parts)} = {tensor}.split([{', '.join(self.dim(s) for s in sizes)}], dim=-1)"]

    def python_value(self, node_id: str) -> str:
        return to_python(self.value(node_id), self.python_name)

    def python_name(self, key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind == "input":
            return f"{self.v['xs']}[:, {self.v['t']}]"
        if kind == "state":
            return self.prev[rest]
        if kind == "param":
            return f"self.{rest}"
        return rest


def _cat(attrs: list[str]) -> str:
    if len(attrs) == 1:
        return f"self.{attrs[0]}"
    return f"torch.cat([{', '.join(f'self.{a}' for a in attrs)}], dim=1)"


def _terms(expr: Expr) -> list[Expr]:
    if isinstance(expr, BinOp) and expr.op == "+":
        return _terms(expr.left) + _terms(expr.right)
    return [expr]


def _gate(node_id: str, expr: Expr) -> _Gate | None:
    """``act(X @ W + S @ U + b + ...)`` split into its parts, or ``None`` for any other form."""
    act = expr.fn if isinstance(expr, Call) else None
    inner = expr.arg if isinstance(expr, Call) else expr
    gate = _Gate(node_id, act)
    for term in _terms(inner):
        if isinstance(term, Name) and term.text.startswith("param:"):
            gate.biases.append(term.text[6:])
            continue
        if (
            isinstance(term, BinOp)
            and term.op == "@"
            and isinstance(term.left, Name)
            and isinstance(term.right, Name)
            and term.right.text.startswith("param:")
        ):
            weight = term.right.text[6:]
            if term.left.text == "input" and gate.x is None:
                gate.x = weight
                continue
            if term.left.text.startswith("state:") and gate.u is None:
                gate.u, gate.state = weight, term.left.text[6:]
                continue
        gate.others.append(term)
    return gate if gate.x or gate.u else None


def _rename(expr: Expr, name: Callable[[str], Expr]) -> Expr:
    """The tree with every name replaced by ``name(text)``."""
    if isinstance(expr, Name):
        return name(expr.text)
    if isinstance(expr, Call):
        return Call(expr.fn, _rename(expr.arg, name))
    if isinstance(expr, Neg):
        return Neg(_rename(expr.arg, name))
    if isinstance(expr, BinOp):
        return BinOp(expr.op, _rename(expr.left, name), _rename(expr.right, name))
    assert isinstance(expr, Num)
    return expr
