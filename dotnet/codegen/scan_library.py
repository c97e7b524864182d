"""Cells whose formulas are exactly one of torch's recurrences, so that torch's kernel can scan them.

``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh`` and ``torch.rnn_relu`` are what ``nn.LSTM``,
``nn.GRU`` and ``nn.RNN`` call: one call per layer for the whole sequence (oneDNN's fused
kernel on CPU, cuDNN on CUDA). A cell runs its scan through one of them when its formula
graph is that recurrence up to the names, the order of the gates and the order of the
operands of ``+`` and ``*``. The rule is structural: it looks at the gates' terms and at the
new states' expressions with every intermediate inlined, never at a cell's or node's name.

- LSTM: four gates ``act(X @ W + H @ U + b)``, three sigmoids ``i, f, o`` and a tanh ``g``;
  ``C' = f * C + i * g`` and ``H' = o * tanh(C')``, the output ``H'``.
- GRU in torch's form: sigmoid gates ``r, z`` as above, ``n = tanh(X @ W + b + r * (H @ U + b))``
  (the reset gate after the recurrent product), ``H' = (1 - z) * n + z * H``.
- Elman: one gate ``tanh(X @ W + H @ U + b)`` or ``relu(...)``, ``H'`` the gate.

Each gate may carry no bias, one, or two (torch's ``b_ih + b_hh``); a gate reading anything
else (a peephole, a second state) does not match, and the cell keeps the generic scan.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from itertools import permutations
from typing import Protocol

from dotnet.reading.formulas import BinOp, Call, Expr, Name, Neg, Num, operands
from dotnet.reading.symbolic import Dim


class GateTerms(Protocol):
    """A gate ``act(X @ x + S @ u + biases + others)`` as the scan's builder split it."""

    node: str
    act: str | None
    x: str | None
    u: str | None
    state: str | None
    biases: list[str]
    others: list[Expr]


@dataclass(frozen=True)
class TorchGate:
    """One of torch's gates and the cell's parameters that make it."""

    letter: str
    """torch's name of the gate: ``i, f, g, o``; ``r, z, n``; ``h``."""
    node: str
    """The cell's node computing the gate."""
    w: str
    """Its input weight, ``[NIn, H]`` (torch's ``weight_ih`` rows are its columns)."""
    u: str
    """Its recurrent weight, ``[H, H]``."""
    b_ih: str | None
    b_hh: str | None


@dataclass(frozen=True)
class Recurrence:
    """A cell recognised as torch's recurrence ``function`` (``torch.<function>``)."""

    function: str
    gates: tuple[TorchGate, ...]
    """In torch's order of the stacked weights."""
    formulas: str
    """torch's recurrence, as the generated comment states it."""


@dataclass(frozen=True)
class CellForm:
    """What the rule reads of a cell: states, their new values inlined, parameter shapes."""

    gates: Sequence[GateTerms]
    states: list[str]
    """The previous states' node ids, in the cell's order."""
    news: list[Expr]
    """Each state's new value, intermediates inlined, a gate read as ``Name('gate:<node>')``."""
    output: int
    expand: Callable[[Expr], Expr]
    """Inlines an expression of the step the same way."""
    state_shape: Callable[[str], tuple[Dim, ...]]
    param_shape: Callable[[str], tuple[Dim, ...]]


def recognise(form: CellForm) -> Recurrence | None:
    """The torch recurrence the cell is, or ``None``."""
    for rule in (_lstm, _gru, _elman):
        found = rule(form)
        if found is not None:
            return found
    return None


# -- the three recurrences ------------------------------------------------------

_LSTM = "i, f, o = σ(x @ W + h @ U + b), g = tanh(...), c' = f * c + i * g, h' = o * tanh(c')"
_GRU = "r, z = σ(x @ W + h @ U + b), n = tanh(x @ W + b + r * (h @ U + b)), h' = (1 - z) * n + z * h"


def _lstm(form: CellForm) -> Recurrence | None:
    if len(form.states) != 2 or len(form.gates) != 4 or not _plain(form, form.gates):
        return None
    h = form.states.index(form.gates[0].state or "")
    c = 1 - h
    sigmoids = [g for g in form.gates if g.act == "sigmoid"]
    tanhs = [g for g in form.gates if g.act == "tanh"]
    if form.output != h or len(sigmoids) != 3 or len(tanhs) != 1:
        return None
    if form.state_shape(form.states[c]) != form.state_shape(form.states[h]):
        return None
    g = tanhs[0]
    c0 = _state(form.states[c])
    for i, f, o in permutations(sigmoids):
        new_c = BinOp("+", BinOp("*", _gate(f), c0), BinOp("*", _gate(i), _gate(g)))
        new_h = BinOp("*", _gate(o), Call("tanh", new_c))
        if _same(form.news[c], new_c) and _same(form.news[h], new_h):
            gates = tuple(_torch_gate(letter, gate) for letter, gate in zip("ifgo", (i, f, g, o)))
            return Recurrence("lstm", gates, _LSTM)
    return None


def _gru(form: CellForm) -> Recurrence | None:
    if len(form.states) != 1 or len(form.gates) != 3:
        return None
    sigmoids = [g for g in form.gates if g.act == "sigmoid"]
    tanhs = [g for g in form.gates if g.act == "tanh"]
    if len(sigmoids) != 2 or len(tanhs) != 1 or not _plain(form, sigmoids):
        return None
    n = tanhs[0]
    h0 = _state(form.states[0])
    if form.output != 0 or not n.x or n.u or len(n.biases) > 1 or len(n.others) != 1:
        return None
    for r, z in permutations(sigmoids):
        reset = _reset_product(form, form.expand(n.others[0]), r)
        new_h = BinOp("+", BinOp("*", BinOp("-", Num(1), _gate(z)), _gate(n)), BinOp("*", _gate(z), h0))
        if reset is None or not _same(form.news[0], new_h):
            continue
        u_n, b_hn = reset
        hidden = form.state_shape(form.states[0])[-1]
        if form.param_shape(n.x) != (form.param_shape(r.x or "")[0], hidden) or form.param_shape(u_n) != (hidden,) * 2:
            return None
        if any(form.param_shape(b) != (Dim.const(1), hidden) for b in [*n.biases, *([b_hn] if b_hn else [])]):
            return None
        gates = (_torch_gate("r", r), _torch_gate("z", z), TorchGate("n", n.node, n.x, u_n, _first(n.biases), b_hn))
        return Recurrence("gru", gates, _GRU)
    return None


def _elman(form: CellForm) -> Recurrence | None:
    if len(form.states) != 1 or len(form.gates) != 1 or not _plain(form, form.gates):
        return None
    gate = form.gates[0]
    if gate.act not in ("tanh", "relu") or form.output != 0 or not _same(form.news[0], _gate(gate)):
        return None
    return Recurrence(f"rnn_{gate.act}", (_torch_gate("h", gate),), f"h' = {gate.act}(x @ W + h @ U + b)")


# -- parts ------------------------------------------------------------------------


def _plain(form: CellForm, gates: Sequence[GateTerms]) -> bool:
    """Every gate is ``act(X @ W + H @ U + b...)`` over one state, with torch's shapes."""
    states = {g.state for g in gates}
    if len(states) != 1 or None in states or any(not g.x or not g.u or g.others or len(g.biases) > 2 for g in gates):
        return False
    shape = form.state_shape(next(iter(states)) or "")
    if len(shape) != 2:
        return False
    hidden = shape[-1]
    inputs = {form.param_shape(g.x or "")[0] for g in gates}
    return len(inputs) == 1 and all(
        form.param_shape(g.x or "")[-1] == hidden
        and len(form.param_shape(g.x or "")) == 2
        and form.param_shape(g.u or "") == (hidden, hidden)
        and all(form.param_shape(b) == (Dim.const(1), hidden) for b in g.biases)
        for g in gates
    )


def _reset_product(form: CellForm, term: Expr, reset: GateTerms) -> tuple[str, str | None] | None:
    """``(U, b)`` of ``r * (H @ U + b)`` (``b`` optional), for the reset gate ``r``; else ``None``."""
    factors = operands(term, "*")
    if len(factors) != 2 or _gate(reset) not in factors:
        return None
    rest = factors[1] if factors[0] == _gate(reset) else factors[0]
    product, bias = None, None
    for part in operands(rest, "+"):
        if (
            isinstance(part, BinOp)
            and part.op == "@"
            and part.left == _state(form.states[0])
            and isinstance(part.right, Name)
            and part.right.text.startswith("param:")
            and product is None
        ):
            product = part.right.text[6:]
        elif isinstance(part, Name) and part.text.startswith("param:") and bias is None:
            bias = part.text[6:]
        else:
            return None
    return None if product is None else (product, bias)


def _torch_gate(letter: str, gate: GateTerms) -> TorchGate:
    return TorchGate(letter, gate.node, gate.x or "", gate.u or "", _first(gate.biases), _second(gate.biases))


def _first(items: list[str]) -> str | None:
    return items[0] if items else None


def _second(items: list[str]) -> str | None:
    return items[1] if len(items) > 1 else None


def _gate(gate: GateTerms) -> Name:
    return Name("gate:" + gate.node, 0)


def _state(node: str) -> Name:
    return Name("state:" + node, 0)


def _same(a: Expr, b: Expr) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(expr: Expr) -> Hashable:
    """A key equal for two trees that differ only in the order of ``+`` and ``*`` operands."""
    if isinstance(expr, Name):
        return ("name", expr.text)
    if isinstance(expr, Num):
        return ("num", float(expr.value))
    if isinstance(expr, Call):
        return ("call", expr.fn, _canonical(expr.arg))
    if isinstance(expr, Neg):
        return ("neg", _canonical(expr.arg))
    if isinstance(expr, BinOp):
        if expr.op in ("+", "*"):
            return (expr.op, tuple(sorted((_canonical(e) for e in operands(expr, expr.op)), key=repr)))
        return (expr.op, _canonical(expr.left), _canonical(expr.right))
    return ("other", repr(expr))
