"""A recurrent cell's step, written once, and the methods that run it over a sequence.

A *gate* is a node whose value is ``act(X[t] @ W + S @ U + b + ...)``. For a cell
made of gates, formulas, ``@ + - *`` and activations the plan is

- ``_gate_weights``: the gates' input weights, biases and recurrent weights, each
  concatenated side by side at call time (so each gate keeps its own ``nn.Parameter``);
- ``_step(xp, rec, *states)``: the cell's maths after its two matmuls, ``xp = x @ xw + xb``
  and ``rec = S @ uw``, written once; ``forward`` is ``_step`` of one step's matmuls;
- ``_loop``: the scan one step at a time under autograd (TorchScript, tracing, ``torch.compile``);
- ``scan(xs)``: every step's input projection in one matmul before the time loop, then
  ``scan_cell`` (in the generated file) picks the path: the custom-backward
  ``RecurrentScan`` in training, torch's scan operator under ``torch.export``, a loop into
  one preallocated output in inference, else ``_loop``.

A cell holding other ops keeps the diagram's ``forward`` and scans by calling it once per step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from dotnet import codes
from dotnet.analysis.blocks import BlockCall
from dotnet.analysis.cells import Cell
from dotnet.analysis.infer import Analysis
from dotnet.analysis.ir import OpNode, TensorNode
from dotnet.codegen.fuse import fused
from dotnet.codegen.methods import TENSOR, Assign, Method
from dotnet.codegen.naming import Namespace
from dotnet.codegen.scan_backward import NoDerivative, Piece, StepForm, derive_backward
from dotnet.codegen.scan_library import CellForm, Recurrence, recognise
from dotnet.diagnostics import error
from dotnet.ops.formula import FormulaOp, to_python
from dotnet.reading.formulas import BinOp, Call, Expr, Name, Neg, Num, operands
from dotnet.reading.formulas import names as leaves
from dotnet.reading.shape import torch_text
from dotnet.reading.symbolic import Dim


@dataclass
class ScanPlan:
    """What a recurrent cell's class gets beyond its constructor."""

    methods: list[Method]
    forward: list[str] = field(default_factory=list)
    """``forward``'s body when it calls the step; empty: the diagram's code as usual."""
    keep: list[str] = field(default_factory=list)
    """Constructor arguments the methods read from ``self``."""
    replaced: set[str] = field(default_factory=set)
    """Submodules the step calls as functions instead (activations), so the class has none."""
    backward: bool = False
    """Whether the cell has a derived ``_step_backward`` (training runs ``RecurrentScan``)."""
    kernel: bool = False
    """Whether the cell is one of torch's recurrences, scanned in eager mode by torch's kernel."""
    transposed: set[str] = field(default_factory=set)
    """Weights stored transposed (their shape as drawn): those torch's kernel reads as ``[gates * H, In]``."""
    projects: bool = False
    """Whether ``scan`` forms the input projection by the template's ``scan_project`` (products by oneDNN)."""


class _Unsupported(Exception):
    """The cell holds an op the fused step cannot express; scan by calling forward."""


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
    analysis: Analysis,
    attrs: dict[str, str],
    implicit: dict[str, str],
    symbols: dict[str, str],
    names: Namespace,
    scan_doc: str,
) -> ScanPlan | None:
    """The step and scan of a cell over ``xs: [BatchSize, SeqLen, ...]``; ``None`` unless it reads one input.

    ``attrs`` name the cell's nodes, ``implicit`` its formula parameters, ``symbols`` its
    constructor arguments; ``names`` hands out the methods' own variable names.
    """
    cell = analysis.cell
    if cell is None or len(cell.steps) != 1:
        return None
    return _Builder(analysis, cell, attrs, implicit, symbols, names).build(scan_doc)


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
        self.v = {k: names.claim(k) for k in ("xs", "batch", "xw", "xb", "uw", "xp", "xt", "rec", "hs", "t")}
        self.names = names
        self.input = attrs[cell.steps[0]]
        self.prev = {s.prev: attrs[s.prev] for s in cell.states}
        self.states = [self.prev[s.prev] for s in cell.states]
        self.vars: dict[str, str] = {}
        """Variables of the op nodes computed once per step (see :meth:`materialized`)."""
        self.step_params: list[str] = []
        """Parameters the step reads itself, in order of first use."""
        self.raw_input = False
        """Whether the step reads the input itself, not only through the input projection."""
        self.backward = False
        """Whether ``_step_backward`` was derived."""
        self.no_backward = ""
        """Why not, when the step is fused but has none."""
        self.products: dict[str, int] = {}
        """Step parameters whose gradient the scan forms after the loop (see ``Derived.products``)."""
        self.rec_in: int | None = None
        """The step input whose gradient holds ``rec``'s (see ``Derived.rec_in``)."""
        self.adds = False
        """Whether the step takes ``xp + rec`` as one argument, formed by one ``addmm`` per step."""

    # -- sizes -----------------------------------------------------------
    def dim(self, value: Dim, batch_size: str = "") -> str:
        """``value`` as Python in ``scan``; the batch size is ``batch_size``, else its variable."""
        step = self.analysis.shapes[self.cell.steps[0]]
        batch = step[0].size

        def name(symbol: str) -> str:
            if Dim.sym(symbol) == batch:
                return batch_size or self.v["batch"]
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
    def build(self, scan_doc: str) -> ScanPlan:
        try:
            return self.fused(scan_doc)
        except _Unsupported:
            return self.unfused(scan_doc)

    def start(self) -> list[str | Assign]:
        """The first lines of ``scan``: the batch size and the zero states."""
        v = self.v
        lines: list[str | Assign] = [f"{v['batch']} = {v['xs']}.shape[0]"]
        for s in self.cell.states:
            sizes = ", ".join(self.dim(a.size) for a in self.analysis.shapes[s.prev])
            lines.append(f"{self.prev[s.prev]} = {v['xs']}.new_zeros({sizes})")
        return lines

    def empty_sequence(self) -> list[str]:
        """The first lines of ``scan``: a sequence of no steps has an output of no steps."""
        xs = self.v["xs"]
        output = self.cell.states[self.cell.output]
        batch, *rest = (self.dim(a.size, f"{xs}.shape[0]") for a in self.analysis.shapes[output.prev])
        return [
            f"if {xs}.shape[1] == 0:  # no step to run",
            f"    return {xs}.new_zeros({', '.join([batch, '0', *rest])})",
        ]

    def step_returns(self) -> str:
        return f"tuple[{', '.join([TENSOR] * len(self.states))}]"

    def loop(self, inputs: list[str], weight: str | None) -> Method:
        """``_loop``: the scan one step at a time, into a preallocated output."""
        v = self.v
        output = self.states[self.cell.output]
        args = [f"{x}[{v['t']}]" for x in inputs]
        if weight is not None and self.adds:
            args = [f"torch.addmm({args[0]}, {self.states[self.recurrent]}, {weight})"]
        elif weight is not None:
            args.append(f"{self.states[self.recurrent]} @ {weight}")
        call = f"self._step({', '.join(args + self.states)})"
        update = f"{self.states[0]} = {call}[0]" if len(self.states) == 1 else f"{', '.join(self.states)} = {call}"
        params = [f"{p}: {TENSOR}" for p in inputs + ([weight] if weight else []) + self.states]
        return Method(
            "_loop",
            params,
            TENSOR,
            "One step at a time under autograd: for TorchScript, tracing, torch.compile.",
            [
                f"{v['hs']} = []",
                f"for {v['t']} in range({inputs[0]}.shape[0]):",
                f"    {update}",
                f"    {v['hs']}.append({output})",
                f"return torch.stack({v['hs']})",
            ],
        )

    def scan(
        self, doc: str, head: list[str | Assign], inputs: list[str], weight: str | None, kernel: str = ""
    ) -> Method:
        """``scan``: TorchScript runs ``_loop``; eager mode torch's ``kernel`` if any; else ``scan_cell`` chooses."""
        library = (
            [
                "if not torch.jit.is_scripting():",
                "    if library_kernel_runs():",
                f"        # the cell's formulas are torch.{kernel}'s recurrence (see _torch_scan)",
                f"        return self._torch_scan({self.v['xs']})",
            ]
            if kernel
            else []
        )
        args = inputs + ([weight] if weight else []) + self.states
        options = [weight] if weight else []
        if weight and self.recurrent:
            options.append(f"multiplies={self.recurrent}")
        if self.cell.output:
            options.append(f"output={self.cell.output}")
        if self.step_params:
            options.append(f"params=[{', '.join(f'self.{p}' for p in self.step_params)}]")
        if self.backward:
            options += ["keeping=self._step_keeping", "backward=self._step_backward"]
        if self.products:
            options.append(f"products=[{', '.join(repr(self.products.get(p)) for p in self.step_params)}]")
        if self.rec_in is not None:
            options.append(f"rec_in={self.rec_in}")
        if self.adds:
            options.append("adds=True")
        call = f"scan_cell(self._step, self._loop, [{', '.join(inputs)}], [{', '.join(self.states)}]"
        call += "".join(f", {o}" for o in options) + ")"
        why = [f"# training runs _loop under autograd: {self.no_backward}"] if self.no_backward else []
        lines = [
            *self.empty_sequence(),
            *library,
            *head,
            "if torch.jit.is_scripting():",
            f"    return self._loop({', '.join(args)}).transpose(0, 1)",
            *why,
            Assign(self.v["hs"], call),
            f"return {self.v['hs']}.transpose(0, 1)",
        ]
        return Method("scan", [f"{self.v['xs']}: {TENSOR}"], TENSOR, doc, lines)

    def unfused(self, doc: str) -> ScanPlan:
        """A cell with other ops: its step is ``forward``, the scan calls it once per step."""
        self.recurrent, self.step_params = 0, []
        v = self.v
        params = [f"{self.input}: {TENSOR}"] + [f"{s}: {TENSOR}" for s in self.states]
        call = f"self({', '.join([self.input, *self.states])})"
        step = Method(
            "_step",
            params,
            self.step_returns(),
            "One step, its new states as a tuple.",
            [f"return {call}" if len(self.states) > 1 else f"return ({call},)"],
        )
        head = [*self.start(), f"{v['xt']} = {v['xs']}.transpose(0, 1)"]
        methods = [step, self.loop([v["xt"]], None), self.scan(doc, head, [v["xt"]], None)]
        return ScanPlan(methods, keep=self.keep)

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
        activation = op.declaration.activation
        if activation is not None:
            return Call(activation.formula, args[0])
        symbol = op.declaration.operator
        if symbol is not None:
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
        for node_id, op in self.analysis.ops.items():
            for name, shape, _ in op.implicit_parameters(self.analysis.facts(node_id)):
                cols[self.implicit[name]] = shape[-1].size
        return cols

    # -- the fused step ------------------------------------------------------
    def fused(self, doc: str) -> ScanPlan:
        v = self.v
        self.vars = self.materialized()
        exprs = {n: self.expression(n) for n in self.vars}
        gates = [g for n, e in exprs.items() if (g := _gate(n, e)) is not None]
        recurrence = recognise(self.cell_form(exprs, gates))  # before the gates are fused below
        recurrent = Counter(g.state for g in gates if g.state)
        if not recurrent:
            raise _Unsupported("no recurrent matmul to fuse")
        state = recurrent.most_common(1)[0][0]
        self.recurrent = [s.prev for s in self.cell.states].index(state)
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
        both = _by_activation([g for g in gates if g.x and g.u])
        in_only = [g for g in gates if g.x and not g.u]
        rec_only = [g for g in gates if g.u and not g.x]
        xgates, ugates = both + in_only, both + rec_only
        # every gate reads x @ W and h @ U, and nothing else reads x: the step takes their sum
        new_values = [self.value(s.new) for s in self.cell.states]
        self.adds = bool(both) and not in_only and not rec_only and not _reads_input(exprs, gates, new_values)
        rec = self.names.claim("pre") if self.adds else v["rec"]

        body: list[str | Assign] = []
        pieces: dict[str, str] = {}
        grouped: set[str] = set()
        """Gate variables the split lines compute, one activation call per run of gates."""
        x_both = v["xp"]
        if in_only:
            parts = ([self.names.claim("x_both")] if both else []) + [self.piece(g, pieces) for g in in_only]
            sizes = ([_sum(g.cols for g in both)] if both else []) + [g.cols for g in in_only if g.cols]
            body += self.split(v["xp"], parts, sizes)
            x_both = parts[0] if both else ""
        u_both = v["rec"]
        if rec_only:
            parts = ([self.names.claim("u_both")] if both else []) + [self.piece(g, pieces) for g in rec_only]
            sizes = ([_sum(g.cols for g in both)] if both else []) + [g.cols for g in rec_only if g.cols]
            body += self.split(v["rec"], parts, sizes)
            u_both = parts[0] if both else ""
        total = rec if self.adds else f"{x_both} + {u_both}"
        if len(both) == 1:
            pieces[both[0].node] = total
        elif both:
            body += self.activated(both, total if self.adds else f"({total})", pieces, grouped)
        splits: list[str | Assign] = [line for line in body if isinstance(line, str)]
        assigns: list[tuple[str, Expr, str]] = []
        by_node = {g.node: g for g in gates}
        for node_id, expr in exprs.items():
            gate = by_node.get(node_id)
            if gate is not None:
                expr = Name("var:" + pieces[node_id], 0)
                for other in gate.others:
                    expr = BinOp("+", expr, other)
                if gate.act:
                    expr = Call(gate.act, expr)
            shape = torch_text(self.analysis.shapes[node_id])
            assigns.append((self.vars[node_id], expr, shape))
            if self.vars[node_id] not in grouped:
                body.append(Assign(self.vars[node_id], to_python(expr, self.python_name), shape))
        news = [self.python_value(s.new) for s in self.cell.states]
        body.append(f"return {', '.join(news)}" if len(news) > 1 else f"return ({news[0]},)")

        weights = []
        if xgates:
            weights.append((v["xw"], _cat([g.x for g in xgates if g.x])))
            if fold:
                weights.append((v["xb"], _cat([g.biases[0] for g in xgates])))
        weights.append((v["uw"], _cat([g.u for g in ugates if g.u])))
        names = [w for w, _ in weights]
        columns = f"{v['uw']}: recurrent weights of {_names(self.vars, ugates)}."
        if xgates:
            kind = "weights and biases" if fold else "weights"
            columns = f"{', '.join(names[:-1])}: input {kind} of {_names(self.vars, xgates)}; {columns}"
        gate_weights = Method(
            "_gate_weights",
            [],
            TENSOR if len(weights) == 1 else f"tuple[{', '.join([TENSOR] * len(weights))}]",
            "The gates' weights side by side, each gate keeping its own parameter.\n\n" + columns,
            [
                *(Assign(w, e) for w, e in weights if e.startswith("torch.cat")),
                "return " + ", ".join(w if e.startswith("torch.cat") else e for w, e in weights),
            ],
        )
        inputs = ([v["xp"]] if xgates else []) + ([v["xt"]] if self.raw_input else [])
        if not inputs:  # the step never reads its input: only forward knows the sequence's length
            raise _Unsupported
        projection = {v["xp"]: f"{self.input} @ {v['xw']}" + (f" + {v['xb']}" if fold else ""), v["xt"]: self.input}
        product = f"{self.states[self.recurrent]} @ {v['uw']}"
        step_inputs = [] if self.adds else inputs
        if self.adds:
            step_args = [f"{projection[v['xp']]} + {product}", *self.states]
            step_doc = f"{rec} = {projection[v['xp']]} + {product}"
        else:
            step_args = [projection[x] for x in inputs] + [product] + self.states
            step_doc = ", ".join(f"{x} = {projection[x]}" for x in inputs if x == v["xp"])
            step_doc += f"{', ' if xgates else ''}{rec} = {product}"
        call = f"self._step({', '.join(step_args)})"
        forward = [
            f"{', '.join(names)} = self._gate_weights()",
            f"return {call}" if len(self.states) > 1 else f"return {call}[0]",
        ]
        step = Method(
            "_step",
            [f"{p}: {TENSOR}" for p in step_inputs + [rec] + self.states],
            self.step_returns(),
            f"One step after its matmuls: {step_doc}.",
            body,
        )
        head: list[str | Assign] = [f"{', '.join(names)} = self._gate_weights()", *self.start()]
        time_major = f"{v['xs']}.transpose(0, 1)"
        if self.raw_input:
            head.append(f"{v['xt']} = {time_major}")
            time_major = v["xt"]
        if xgates and fold:  # the bias added by the product itself: one pass over the projection, not two
            head.append("# every step's input projection, for all gates at once, time-major")
            head.append(f"{v['xp']} = scan_project({v['xb']}, {time_major}.flatten(0, 1), {v['xw']})")
            head.append(f"{v['xp']} = {v['xp']}.unflatten(0, ({v['xs']}.shape[1], {v['batch']}))")
        elif xgates:
            head.append("# every step's input projection, for all gates at once")
            head.append(f"{v['xp']} = {time_major} @ {v['xw']}")
        methods = [gate_weights, step]
        form = StepForm(
            step_inputs,
            rec,
            self.states,
            self.states[self.recurrent],
            new_values,
            [self.names.claim(f"d_{self.attrs[s.new]}") for s in self.cell.states],
            splits,
            assigns,
            [] if self.adds else [self.gate_piece(g, pieces) for g in xgates],
            [self.gate_piece(g, pieces) for g in ugates],
            list(self.step_params),
            self.python_name,
            grouped,
        )
        try:
            methods += self.step_backward(form)
            self.backward = True
            step.lines = self.step_through_keeping(step, len(self.states))
        except NoDerivative as reason:
            self.no_backward = str(reason)
        methods += [self.loop(inputs, v["uw"])]
        if recurrence is not None:
            methods.append(self.torch_scan(recurrence))
        methods.append(self.scan(doc, head, inputs, v["uw"], recurrence.function if recurrence else ""))
        replaced = {self.attrs[n] for n, op in self.analysis.ops.items() if op.declaration.activation is not None}
        transposed = {w for g in recurrence.gates for w in (g.w, g.u)} if recurrence else set()
        kernel = recurrence is not None
        return ScanPlan(methods, forward, self.keep, replaced, self.backward, kernel, transposed, bool(xgates and fold))

    # -- torch's own recurrences -----------------------------------------------
    def cell_form(self, exprs: dict[str, Expr], gates: list[_Gate]) -> CellForm:
        """What :func:`~dotnet.codegen.scan_library.recognise` reads of the cell."""
        node_of = {var: node for node, var in self.vars.items()}
        gate_nodes = {g.node for g in gates}

        def expand(expr: Expr) -> Expr:
            def name(text: str) -> Expr:
                if not text.startswith("var:"):
                    return Name(text, 0)
                node = node_of[text[4:]]
                return Name("gate:" + node, 0) if node in gate_nodes else expand(exprs[node])

            return _rename(expr, name)

        shapes = self.param_shapes()
        return CellForm(
            gates,
            [s.prev for s in self.cell.states],
            [expand(self.value(s.new)) for s in self.cell.states],
            self.cell.output,
            expand,
            lambda node: tuple(a.size for a in self.analysis.shapes[node]),
            lambda attr: shapes.get(attr, ()),
        )

    def param_shapes(self) -> dict[str, tuple[Dim, ...]]:
        found = {self.attrs[p]: tuple(a.size for a in self.analysis.shapes[p]) for p in self.analysis.params}
        for node_id, op in self.analysis.ops.items():
            for name, shape, _ in op.implicit_parameters(self.analysis.facts(node_id)):
                found[self.implicit[name]] = tuple(a.size for a in shape)
        return found

    def torch_scan(self, recurrence: Recurrence) -> Method:
        """``_torch_scan``: the cell's parameters in torch's layout, and one call of its kernel."""
        v, gates = self.v, recurrence.gates
        weights = {"w_ih": [g.w for g in gates], "w_hh": [g.u for g in gates]}
        names = {k: self.names.claim(k) for k in ("w_ih", "w_hh", "b_ih", "b_hh", "weights", "scanned")}
        lines: list[str | Assign] = [*self.start()]
        lines += [Assign(names[k], f"torch.cat([{', '.join(f'self.{w}.T' for w in ws)}])") for k, ws in weights.items()]
        biases = {"b_ih": [g.b_ih for g in gates], "b_hh": [g.b_hh for g in gates]}
        present = [b for bs in biases.values() for b in bs if b]
        zeros = [key for key, bs in biases.items() if present and not any(bs)]
        params = [names["w_ih"], names["w_hh"]] + ([names["b_ih"], names["b_hh"]] if present else [])
        for key, bs in biases.items():
            if any(bs):  # a gate without this bias gets zeros in its place
                parts = [f"self.{b}" if b else f"torch.zeros_like(self.{present[0]})" for b in bs]
                lines.append(Assign(names[key], f"torch.cat([{', '.join(parts)}], dim=1)[0]"))
        for key in zeros:
            lines.append(Assign(names[key], f"torch.zeros_like({names['b_hh' if key == 'b_ih' else 'b_ih']})"))
        lines.append(Assign(names["weights"], f"[{', '.join(params)}]"))
        h = self.states[self.recurrent]
        hx = f"({h}[None], {self.states[1 - self.recurrent]}[None])" if len(self.states) == 2 else f"{h}[None]"
        call = (
            f"torch.{recurrence.function}({v['xs']}, {hx}, {names['weights']}, has_biases={bool(present)}, "
            "num_layers=1, dropout=0.0, train=self.training, bidirectional=False, batch_first=True)"
        )
        lines += [Assign(names["scanned"], call), f"return {names['scanned']}[0]"]
        letters = ", ".join(g.letter for g in gates)
        ours = ", ".join(self.vars[g.node] for g in gates)
        module = {"lstm": "nn.LSTM", "gru": "nn.GRU"}.get(recurrence.function, "nn.RNN")
        doc = (
            f"The scan by torch.{recurrence.function}, {module}'s kernel (oneDNN on CPU, cuDNN on CUDA).\n\n"
            f"torch.{recurrence.function} computes {recurrence.formulas}. This cell's formulas are"
            f" these, up to the order of terms and factors, with {ours} as torch's {letters}. Its"
            " parameters are put in torch's layout at each call (each gate's W: [In, H], stored"
            " transposed, stacked by gate into [gates * H, In]), so their gradients flow back through"
            " the stacking"
            + ("; one bias per gate, so torch's second bias is zeros" if zeros else "")
            + ". _step stays the per-step reference."
        )
        return Method("_torch_scan", [f"{v['xs']}: {TENSOR}"], TENSOR, doc, lines)

    def step_through_keeping(self, step: Method, states: int) -> list[str | Assign]:
        """``_step``'s body when ``_step_keeping`` exists: the gate maths stay written once."""
        args = ", ".join(p.split(":")[0] for p in step.params)
        kept = self.names.claim("kept")
        news = ", ".join(f"{kept}[{k}]" for k in range(states))
        return [
            "# the maths are _step_keeping's; it also returns what _step_backward reads",
            Assign(kept, f"self._step_keeping({args})"),
            f"return {news}" if states > 1 else f"return ({news},)",
        ]

    def activated(
        self, gates: list[_Gate], total: str, pieces: dict[str, str], grouped: set[str]
    ) -> list[str | Assign]:
        """``total`` cut into the gates' pre-activations; adjacent gates sharing an activation get one call."""
        runs: list[list[_Gate]] = []
        for g in gates:
            if runs and _groupable(g) and _groupable(runs[-1][0]) and g.act == runs[-1][0].act:
                runs[-1].append(g)
            else:
                runs.append([g])
        if all(len(run) == 1 for run in runs):
            return self.split(total, [self.piece(g, pieces) for g in gates], [g.cols for g in gates if g.cols])
        names = [
            self.piece(run[0], pieces) if len(run) == 1 else self.names.claim("_".join(["pre", *self.gate_vars(run)]))
            for run in runs
        ]
        lines = self.split(total, names, [_sum(g.cols for g in run) for run in runs]) if len(runs) > 1 else []
        for run, name in zip(runs, names):
            if len(run) == 1:
                continue
            whole = total[1:-1] if total.startswith("(") and total.endswith(")") else total
            source = to_python(Call(run[0].act or "", Name(name if len(runs) > 1 else whole, 0)), str)
            lines.append(f"# {', '.join(self.gate_vars(run))}: one {run[0].act} over their adjacent columns")
            lines += self.split(source, self.gate_vars(run), [g.cols for g in run if g.cols])
            for g in run:
                self.piece(g, pieces)  # the pre-activation's name, for its gradient
                grouped.add(self.vars[g.node])
        return lines

    def gate_vars(self, gates: list[_Gate]) -> list[str]:
        return [self.vars[g.node] for g in gates]

    def gate_piece(self, gate: _Gate, pieces: dict[str, str]) -> Piece:
        return Piece("var:" + pieces[gate.node], self.vars[gate.node], self.dim(gate.cols or Dim.const(0)))

    def step_backward(self, form: StepForm) -> list[Method]:
        """``_step_keeping`` and ``_step_backward``, derived from the formulas (see scan_backward)."""
        if self.raw_input:
            raise NoDerivative("the step reads its input outside the gates")
        if any(len(self.analysis.shapes[n]) != 2 for n in [*self.vars, *self.prev]):
            raise NoDerivative("a tensor of the step is not (batch, features)")
        derived = derive_backward(form, self.names)
        self.products, self.rec_in = derived.products, derived.rec_in
        derived.keeping, derived.backward = _fewer_kernels(derived.keeping), _fewer_kernels(derived.backward)
        args = [*form.inputs, form.rec, *form.states]
        keeping = Method(
            "_step_keeping",
            [f"{p}: {TENSOR}" for p in args],
            f"tuple[{', '.join([TENSOR] * (len(form.states) + len(derived.kept)))}]",
            "The step for training: its new states, then what _step_backward reads"
            + (f" ({', '.join(derived.kept)})." if derived.kept else ": nothing else."),
            derived.keeping,
        )
        backward = Method(
            "_step_backward",
            [*(f"{p}: {TENSOR}" for p in [*args, *derived.kept, *form.seeds]), f"out: {TENSOR} | None = None"],
            f"tuple[{TENSOR} | None, ...]",
            "One step's gradients, derived from its formulas: from those of the new states "
            f"({', '.join(form.seeds)}) to those of {', '.join(args)}"
            + _params_doc(form.params, derived.products, derived.kept)
            + " The gates' gradients side by side go into out when given (a slot of RecurrentScan's buffer).",
            derived.backward,
        )
        return [keeping, backward]

    def piece(self, gate: _Gate, pieces: dict[str, str]) -> str:
        pieces[gate.node] = self.names.claim(f"{self.vars[gate.node]}_gate")
        return pieces[gate.node]

    def split(self, tensor: str, parts: list[str], sizes: list[Dim]) -> list[str | Assign]:
        """``tensor`` cut into ``parts`` of these column counts, once a step.

        By ``split_with_sizes``, the op itself: ``Tensor.split`` is a Python-level wrapper
        around it, which cost 3.5-4.5% of a small GRU or seed LSTM training step.
        """
        if len(parts) == 1:
            return [f"{parts[0]} = {tensor}"]
        if len(set(sizes)) == 1:
            return [f"{', '.join(parts)} = {tensor}.chunk({len(parts)}, dim=-1)"]
        widths = ", ".join(self.dim(s) for s in sizes)
        return [f"{', '.join(parts)} = {tensor}.split_with_sizes([{widths}], dim=-1)"]

    def python_value(self, node_id: str) -> str:
        return to_python(self.value(node_id), self.python_name)

    def python_name(self, key: str) -> str:
        kind, _, rest = key.partition(":")
        if kind == "input":  # the step's own argument: this step's slice of the sequence
            self.raw_input = True
            return self.v["xt"]
        if kind == "state":
            return self.prev[rest]
        if kind == "param":
            if rest not in self.step_params:
                self.step_params.append(rest)
            return f"self.{rest}"
        return rest


def _fewer_kernels(lines: list[str | Assign]) -> list[str | Assign]:
    """A derived step's assignments with its multiply-adds fused (its tensors are all matrices)."""
    return [replace(line, expr=fused(line.expr, matrices=True)) if isinstance(line, Assign) else line for line in lines]


def _params_doc(params: list[str], products: dict[str, int], kept: list[str]) -> str:
    """The end of ``_step_backward``'s docstring: what it returns for each parameter the step reads."""
    summed = [p for p in params if p not in products]
    text = f" and of {', '.join(summed)}" if summed else ""
    for p in products:
        text += f"; for {p}, read as {kept[products[p]]} @ {p}, that product's gradient"
        text += f" (RecurrentScan forms {p}'s after the loop)"
    return text + "."


_GROUPED = ("sigmoid", "tanh", "relu")
"""Activations one call can apply to several gates' adjacent columns (their derivatives read the output)."""


def _groupable(gate: _Gate) -> bool:
    return gate.act in _GROUPED and not gate.others


def _by_activation(gates: list[_Gate]) -> list[_Gate]:
    """The gates reordered so that those sharing an activation are adjacent (else in their order)."""
    keys: list[object] = [g.act if _groupable(g) else k for k, g in enumerate(gates)]
    first: dict[object, int] = {}
    for k, key in enumerate(keys):
        first.setdefault(key, k)
    return [gates[k] for k in sorted(range(len(gates)), key=lambda k: first[keys[k]])]


def _sum(cols: Iterable[Dim | None]) -> Dim:
    return sum((c for c in cols if c is not None), Dim.const(0))


def _names(variables: dict[str, str], gates: list[_Gate]) -> str:
    return ", ".join(variables[g.node] for g in gates)


def _cat(attrs: list[str]) -> str:
    if len(attrs) == 1:
        return f"self.{attrs[0]}"
    return f"torch.cat([{', '.join(f'self.{a}' for a in attrs)}], dim=1)"


def _gate(node_id: str, expr: Expr) -> _Gate | None:
    """``act(X @ W + S @ U + b + ...)`` split into its parts, or ``None`` for any other form."""
    act = expr.fn if isinstance(expr, Call) else None
    inner = expr.arg if isinstance(expr, Call) else expr
    gate = _Gate(node_id, act)
    for term in operands(inner, "+"):
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


def _reads_input(exprs: dict[str, Expr], gates: list[_Gate], news: list[Expr]) -> bool:
    """Whether a formula or a new state reads the step's input other than as a gate's ``X @ W``."""
    gate_nodes = {g.node for g in gates}
    rest = [e for n, e in exprs.items() if n not in gate_nodes] + [e for g in gates for e in g.others] + news
    return any(leaf.text == "input" for e in rest for leaf in leaves(e))


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
