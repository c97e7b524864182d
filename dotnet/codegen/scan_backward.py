"""A cell step's backward pass, derived from its formulas when the code is generated.

Reverse-mode differentiation over the step's expression trees: each operator and
function of the formula language has a local rule (``σ' = s * (1 - s)`` from the
saved output, ``tanh' = 1 - t * t``, products, quotients, matrix products, ...).
The result is ``_step_backward``: it runs the step again (no autograd: the forward
kept only the states), keeping the values the rules read, then walks the
formulas last first, from the gradients of the new states to those of the
step's pre-activations (``xp``, ``rec``), its previous states and the parameters
the step reads itself. A formula no rule covers raises :class:`NoDerivative`
with the reason; the scan then trains by autograd instead.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from dotnet.codegen.methods import Assign
from dotnet.codegen.naming import Namespace
from dotnet.ops.formula import to_python
from dotnet.reading.formulas import BinOp, Call, Expr, Name, Neg, Num


class NoDerivative(Exception):
    """The step holds something no derivative rule covers; the message says what."""


@dataclass
class Piece:
    """A gate's pre-activation: its columns of ``xp`` and/or ``rec``; ``key`` is its leaf in the formulas."""

    key: str
    gate: str
    """The gate's variable (same shape), for a zero gradient when nothing reads the gate."""
    cols: str
    """Its number of columns, as Python."""


@dataclass
class StepForm:
    """A fused step as the derivation reads it."""

    inputs: list[str]
    """The step's per-step inputs before ``rec``: ``xp`` and/or the raw input."""
    rec: str
    states: list[str]
    """The previous states, in the cell's order."""
    recurrent: str
    """The state ``rec`` is the product of (``rec = recurrent @ uw``). Its gradient through ``rec``
    is the scan's to add (``d_rec @ uw.T``); when the step reads it nowhere else, ``None`` stands
    for it, so the scan's product is its whole gradient (no zeros to add it to)."""
    news: list[Expr]
    """The new states' values over the leaves."""
    seeds: list[str]
    """Names for the new states' gradients, the backward's last parameters."""
    splits: list[str | Assign]
    """The step's lines that cut ``xp`` and ``rec`` into the gates' pre-activations."""
    assigns: list[tuple[str, Expr, str]]
    """``(variable, formula, shape)`` in the step's order."""
    x_pieces: list[Piece]
    """The gates in ``xp``'s column order (empty: the step has no ``xp``)."""
    u_pieces: list[Piece]
    """The gates in ``rec``'s column order."""
    params: list[str]
    """The attributes of the parameters the step reads itself, in its order."""
    name: Callable[[str], str] = field(repr=False, default=str)
    """Python for a leaf key (``var:f``, ``state:his_h``, ``param:U_h``, ``input``)."""
    grouped: set[str] = field(default_factory=set)
    """Gate variables ``splits`` computes (one activation over adjacent gates), so no assignment of their own."""


@dataclass(frozen=True)
class _Text:
    """Python source with how tightly it binds: 3 an atom, 2 a product, 1 a sum."""

    text: str
    level: int
    op: str = ""

    def at_least(self, level: int, op: str = "") -> str:
        if self.level > level or (self.level == level and (not op or self.op == op)):
            return self.text
        return f"({self.text})"


def _mul(a: _Text, b: _Text, op: str = "*") -> _Text:
    return _Text(f"{a.at_least(2, op)} {op} {b.at_least(3)}", 2, op)


def _neg(a: _Text) -> _Text:
    return _Text(f"-{a.at_least(3)}", 2, "-")


def _sub(a: _Text, b: _Text) -> _Text:
    return _Text(f"{a.text} - {b.at_least(2)}", 1)


_COMMENT = 64
"""The longest formula a comment repeats."""
_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "over", "@": "at"}


def _derivative(fn: str, grad: _Text, out: _Text, arg: _Text) -> _Text:
    """The gradient of ``fn``'s argument from that of its output ``out``."""
    if fn in ("sigmoid", "tanh"):  # g * s * (1 - s), g * (1 - t * t): torch's one-kernel forms
        return _Text(f"torch.ops.aten.{fn}_backward({grad.text}, {out.text})", 3)
    if fn == "relu":  # g where the output is positive, else 0
        return _Text(f"torch.ops.aten.threshold_backward({grad.text}, {out.text}, 0)", 3)
    if fn == "exp":
        return _mul(grad, out)
    if fn == "log":
        return _mul(grad, arg, "/")
    if fn == "sqrt":
        return _mul(grad, _Text(f"(2 * {out.at_least(3)})", 3), "/")
    if fn == "softmax":
        total = _Text(f"{_mul(grad, out).at_least(3)}.sum(dim=-1, keepdim=True)", 3)
        return _mul(out, _Text(_sub(grad, total).text, 1))
    raise NoDerivative(f"no derivative rule for {fn}")


def _values_read(expr: Expr) -> list[Expr]:
    """The subformulas whose values the rule at ``expr`` reads."""
    if isinstance(expr, Call):
        return [expr.arg] if expr.fn == "log" else [expr]
    if isinstance(expr, BinOp) and expr.op in ("*", "@"):
        return [expr.left, expr.right]
    if isinstance(expr, BinOp) and expr.op == "/":
        return [expr.right, expr]
    return []


def _constant(expr: Expr) -> bool:
    """Whether the subformula reads no tensor (numbers only)."""
    if isinstance(expr, Num):
        return True
    if isinstance(expr, Call | Neg):
        return _constant(expr.arg)
    if isinstance(expr, BinOp):
        return _constant(expr.left) and _constant(expr.right)
    return False


class _Derivation:
    def __init__(self, form: StepForm, names: Namespace) -> None:
        self.form = form
        self.names = names
        self.held: dict[Expr, str] = {}
        """Subformulas the backward keeps in a variable: the variable's name."""
        self.lines: list[str | Assign] = []
        self.grads: dict[str, list[str]] = {}
        """Leaf key -> the terms of its gradient."""
        self.full: set[str] = {"state", "input", "var"}
        self.products: dict[str, list[tuple[Expr, str]]] = {}
        """Parameter key -> ``(A, gradient of A @ P)`` for each product ``A @ P`` it is the right operand of."""
        self.operands: dict[str, str] = {}
        """Parameter attribute -> the kept value ``A`` when the step returns the gradient of ``A @ P``."""
        self.rec_in: int | None = None
        """The input whose gradient's first columns are ``rec``'s (see ``Derived.rec_in``)."""

    # -- the step again, keeping what the rules read ---------------------------
    def replay(self) -> None:
        self.lines += self.form.splits
        for var, expr, shape in self.form.assigns:
            self.held[expr] = var
            self.keep(expr, root=expr)
            if var not in self.form.grouped:
                self.lines.append(Assign(var, self.source(expr, root=expr), shape))
        for new in self.form.news:
            self.keep(new, root=None)

    def keep(self, expr: Expr, root: Expr | None) -> None:
        """Assign each value the rules inside ``expr`` read to a variable, innermost first."""
        if _constant(expr) or not isinstance(expr, BinOp | Call | Neg):
            return
        for child in (expr.left, expr.right) if isinstance(expr, BinOp) else (expr.arg,):
            self.keep(child, root)
        for value in _values_read(expr):
            if value in self.held or value is root or _constant(value) or isinstance(value, Name):
                continue
            hint = self.hint(value)
            text = self.source(value)
            self.held[value] = self.names.claim(hint)
            self.lines.append(Assign(self.held[value], text))

    def hint(self, value: Expr) -> str:
        """A name for a kept value: ``tanh_c``, ``his_h_times_r``, else ``value``."""
        if isinstance(value, Call) and isinstance(value.arg, Name):
            return f"{value.fn}_{self.leaf(value.arg.text)}"
        if isinstance(value, BinOp):
            words = [_word(value.left, self.leaf), _word(value.right, self.leaf)]
            if all(words):
                return f"{words[0]}_{_WORDS[value.op]}_{words[1]}"
        return "value"

    def source(self, expr: Expr, root: Expr | None = None) -> str:
        """Python for ``expr``, reading held subformulas from their variables."""

        def swap(e: Expr) -> Expr:
            if e is not root and e in self.held:
                return Name("held:" + self.held[e], 0)
            if isinstance(e, BinOp):
                return BinOp(e.op, swap(e.left), swap(e.right))
            if isinstance(e, Call):
                return Call(e.fn, swap(e.arg))
            if isinstance(e, Neg):
                return Neg(swap(e.arg))
            return e

        return to_python(swap(expr), self.leaf)

    def leaf(self, key: str) -> str:
        kind, _, rest = key.partition(":")
        return rest if kind == "held" else self.form.name(key)

    def value(self, expr: Expr) -> _Text:
        if expr in self.held:
            return _Text(self.held[expr], 3)
        if isinstance(expr, Name):
            return _Text(self.leaf(expr.text), 3)
        text = self.source(expr)
        return _Text(text, 3 if isinstance(expr, Num) and not text.startswith("-") else 1)

    # -- back through the formulas ---------------------------------------------
    def back(self, expr: Expr, grad: _Text) -> None:
        """Add ``expr``'s share of the gradient ``grad`` to the leaves it reads."""
        if _constant(expr):
            return
        if isinstance(expr, Name):
            self.add(expr.text, grad)
        elif isinstance(expr, Neg):
            self.back(expr.arg, _neg(grad))
        elif isinstance(expr, Call):
            self.back(expr.arg, _derivative(expr.fn, grad, self.value(expr), self.value(expr.arg)))
        elif isinstance(expr, BinOp):
            self.back_binary(expr, grad)
        else:
            raise NoDerivative(f"no derivative rule for {type(expr).__name__}")

    def back_binary(self, expr: BinOp, grad: _Text) -> None:
        left, right = expr.left, expr.right
        if not (_constant(left) or _constant(right)):
            grad = self.share(grad, "d_sum" if expr.op in "+-" else "d_product")
        if expr.op == "+":
            self.back(left, grad)
            self.back(right, grad)
        elif expr.op == "-":
            self.back(left, grad)
            self.back(right, _neg(grad))
        elif expr.op == "*":
            self.back(left, _mul(grad, self.value(right)))
            self.back(right, _mul(grad, self.value(left)))
        elif expr.op == "/":
            self.back(left, _mul(grad, self.value(right), "/"))
            self.back(right, _neg(_mul(_mul(grad, self.value(expr)), self.value(right), "/")))
        elif expr.op == "@":
            if not (self.is_full(left) or self.is_full(right)):
                raise NoDerivative("a matrix product of parameters only")
            self.back_matmul(left, _mul(grad, _Text(f"{self.value(right).at_least(3)}.T", 3), "@"))
            if isinstance(right, Name) and right.text.startswith("param:") and self.is_full(left):
                self.products.setdefault(right.text, []).append((left, grad.text))
            self.back_matmul(right, _mul(_Text(f"{self.value(left).at_least(3)}.T", 3), grad, "@"))
        else:
            raise NoDerivative(f"no derivative rule for {expr.op!r}")

    def back_matmul(self, operand: Expr, grad: _Text) -> None:
        """A matrix product's operand gets a gradient of its own shape: no broadcast to undo."""
        if isinstance(operand, Name):
            self.grads.setdefault(operand.text, []).append(grad.text)
        else:
            self.back(operand, grad)

    def is_full(self, expr: Expr) -> bool:
        """Whether ``expr`` reads a per-example tensor (a state, the input, a gate)."""
        if isinstance(expr, Name):
            return expr.text.partition(":")[0] in self.full
        if isinstance(expr, BinOp):
            return self.is_full(expr.left) or self.is_full(expr.right)
        return isinstance(expr, Call | Neg) and self.is_full(expr.arg)

    def add(self, key: str, grad: _Text) -> None:
        text = grad.text
        if key.startswith("param:"):  # undo the broadcast over the batch
            text = f"{grad.at_least(3)}.sum_to_size({self.form.name(key)}.shape)"
        self.grads.setdefault(key, []).append(text)

    def share(self, grad: _Text, hint: str) -> _Text:
        """A gradient two subformulas read, in a variable so that it is computed once."""
        if grad.text.isidentifier():
            return grad
        name = self.names.claim(hint)
        self.lines.append(Assign(name, grad.text))
        return _Text(name, 3)

    def total(self, key: str, name: str, zero: str) -> str:
        """``name = sum of key's gradient terms`` (or ``zero``), returned as the variable to read."""
        terms = self.grads.pop(key, [])
        if terms == [name]:
            return name
        self.lines.append(Assign(name, " + ".join(terms) if terms else zero))
        return name

    # -- the method ------------------------------------------------------------
    def derive(self) -> Derived:
        form = self.form
        self.replay()
        replay, self.lines = self.lines, ["# back through the formulas, last first"]
        seeded: dict[str, str] = {}
        for seed, new in zip(form.seeds, form.news, strict=True):
            if isinstance(new, Name) and new.text.startswith("var:"):
                seeded.setdefault(new.text, seed)
            self.back(new, _Text(seed, 3))
        for var, expr, _ in reversed(form.assigns):
            key = "var:" + var
            if key not in self.grads:
                continue  # the new states do not read it
            formula = f"{var} = {self.source(expr, root=expr)}"
            if var in form.grouped:  # its pre-activation has no variable: one call activated its run of gates
                formula = f"{var} = {expr.fn if isinstance(expr, Call) else ''} of its columns"
            self.lines.append(f"# {formula if len(formula) <= _COMMENT else var}")
            grad = self.total(key, seeded.get(key) or self.names.claim(f"d_{var}"), "")
            self.back(expr, _Text(grad, 3))
        self.results()
        lines = [
            line for k, line in enumerate(self.lines) if not (k and _comment(line) and _comment(self.lines[k + 1]))
        ]
        read = {n for line in lines for n in _names(line)[1]} | set(self.operands.values())
        passed = {*form.inputs, form.rec, *form.states}
        kept = [n for line in replay for n in sorted(_names(line)[0]) if n in read and n not in passed]
        values = [*(self.source(new) for new in form.news), *kept]
        give: list[str | Assign] = [f"return ({values[0]},)" if len(values) == 1 else f"return {', '.join(values)}"]
        products = {p: kept.index(a) for p, a in self.operands.items()}
        return Derived(_read_by(replay, give) + give, kept, lines, products, self.rec_in)

    def hoisted(self, key: str, passed: set[str]) -> str | None:
        """The value ``A`` when the parameter's only use is ``A @ P`` with ``A`` a value of the step."""
        uses = self.products.get(key, [])
        if len(uses) != 1 or len(self.grads.get(key, [])) != 1 or not uses[0][1].isidentifier():
            return None
        operand = self.value(uses[0][0]).text
        assigned = {var for var, _, _ in self.form.assigns} | set(self.held.values())
        return operand if operand.isidentifier() and operand in assigned and operand not in passed else None

    def results(self) -> None:
        """The gradients of the step's inputs, states and parameters, and the ``return``."""
        form = self.form
        d_pieces = {
            p.key: self.total(p.key, self.names.claim(f"d_{self.leaf(p.key)}"), f"torch.zeros_like({p.gate})")
            if " " not in p.key
            else self.total(p.key, self.names.claim(f"d_{p.gate}_gate"), f"torch.zeros_like({p.gate})")
            for p in [*form.x_pieces, *(p for p in form.u_pieces if p not in form.x_pieces)]
        }
        out: list[str] = []
        x_names = [d_pieces[p.key] for p in form.x_pieces]
        u_names = [d_pieces[p.key] for p in form.u_pieces]
        d_xp = self.names.claim("d_xp") if x_names else ""
        single = len(u_names) == 1 and not x_names  # rec's gradient is its one gate's
        d_rec = u_names[0] if single else self.names.claim(f"d_{form.rec}")
        if x_names and u_names[: len(x_names)] == x_names:  # rec's columns start with all of xp's
            self.lines.append(Assign(d_rec, _joined(u_names)))
            self.lines.append(Assign(d_xp, d_rec + _narrow(form.x_pieces, len(u_names))))
        elif x_names:
            self.lines.append(Assign(d_xp, _joined(x_names)))
            self.lines.append(Assign(d_rec, d_xp + _narrow(form.u_pieces, len(x_names))))
            self.rec_in = 0 if len(form.u_pieces) < len(x_names) else None
        elif not single:
            self.lines.append(Assign(d_rec, _joined(u_names)))
        for x in form.inputs:
            if x == form.inputs[0] and x_names:
                out.append(d_xp)
            else:
                out.append(self.total("input", self.names.claim("d_input"), f"torch.zeros_like({x})"))
        out.append(d_rec)
        for state in form.states:
            if state == form.recurrent and "state:" + state not in self.grads:
                why = f"# {state} is read only as {form.rec}: its gradient is the scan's d_{form.rec} @ uw.T"
                self.lines.append(why)
                out.append("None")
                continue
            out.append(self.total("state:" + state, self.names.claim(f"d_{state}"), f"torch.zeros_like({state})"))
        passed = {*form.inputs, form.rec, *form.states}
        for param in form.params:
            key = "param:" + param
            operand = self.hoisted(key, passed)
            if operand is not None:  # RecurrentScan forms the gradient after the loop, one product for all steps
                self.operands[param] = operand
                out.append(self.products[key][0][1])
                del self.grads[key]
                continue
            out.append(self.total(key, self.names.claim(f"d_{param}"), f"torch.zeros_like({form.name(key)})"))
        left = [k for k in self.grads if k != "input"]
        if left:
            raise NoDerivative(f"gradients left without a place: {', '.join(left)}")
        self.lines.append(f"return {', '.join(out)}")


def _word(expr: Expr, leaf: Callable[[str], str]) -> str:
    """A leaf as part of a name: ``his_h``, ``one``; empty for anything else."""
    if isinstance(expr, Name) and not expr.text.startswith("param:"):
        return leaf(expr.text)
    return {1.0: "one", 2.0: "two"}.get(float(expr.value), "") if isinstance(expr, Num) else ""


def _comment(line: str | Assign) -> bool:
    return isinstance(line, str) and line.startswith("#")


def _read_by(replay: list[str | Assign], lines: list[str | Assign]) -> list[str | Assign]:
    """The statements of ``replay`` that compute a value ``lines`` read, directly or not."""
    needed = {n for line in lines for n in _names(line)[1]}
    kept: list[str | Assign] = []
    for line in reversed(replay):
        targets, reads = _names(line)
        if not isinstance(line, Assign) and not targets or targets & needed:
            kept.append(line)
            needed |= reads
    return kept[::-1]


def _names(line: str | Assign) -> tuple[set[str], set[str]]:
    """The names a statement assigns and those it reads."""
    text = f"{line.target} = {line.expr}" if isinstance(line, Assign) else line
    tree = ast.parse(text.strip() or "pass")
    found = {kind: set() for kind in (ast.Store, ast.Load)}  # type: dict[type, set[str]]
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found[type(node.ctx)].add(node.id)
    return found[ast.Store], found[ast.Load]


def _joined(names: list[str]) -> str:
    """The gates' gradients side by side, into the scan's buffer (``out``) when there are several."""
    return names[0] if len(names) == 1 else f"torch.cat([{', '.join(names)}], dim=-1, out=out)"


def _narrow(pieces: list[Piece], among: int) -> str:
    """``.narrow`` to the first ``pieces`` when the other gradient holds more gates (``among``)."""
    if len(pieces) == among:
        return ""
    cols = " + ".join(p.cols for p in pieces)
    return f".narrow(-1, 0, {cols})"


@dataclass
class Derived:
    """The two methods' bodies: the step keeping values, and the backward that reads them."""

    keeping: list[str | Assign]
    """``_step_keeping``'s body: the step, returning its new states and then ``kept``."""
    kept: list[str]
    """The step's values the backward reads (besides the step's own arguments)."""
    backward: list[str | Assign]
    """``_step_backward``'s body, from the step's arguments, ``kept`` and the new states' gradients."""
    products: dict[str, int] = field(default_factory=dict)
    """Parameters read only as ``A @ P``, ``A`` the step's kept value of this index: ``_step_backward``
    returns the product's gradient in their place, and the scan forms theirs after the loop."""
    rec_in: int | None = None
    """The step input whose gradient holds ``rec``'s as its first columns (``d_rec = d_xp.narrow(...)``),
    so that the scan stacks it once; ``None`` when ``rec``'s gradient is its own."""


def derive_backward(form: StepForm, names: Namespace) -> Derived:
    """The step keeping values and its backward; raises :class:`NoDerivative` when a rule is missing."""
    return _Derivation(form, names).derive()
