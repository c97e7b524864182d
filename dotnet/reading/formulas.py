"""Formula labels: a tokenizer and recursive-descent parser, and Python source from the tree.

``σ(X[t] @ W[f] + H[t-1] @ U[f] + b[f])`` parses to a small tree of frozen
values. Nothing here evaluates text: generated code is written from the tree,
with every name mapped to an identifier the code generator chose.

Grammar (``@`` and ``/`` bind like ``*``, all bind tighter than ``+`` and ``-``)::

    sum     := product (('+' | '-') product)*
    product := unary (('*' | '@' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | NAME | FUNCTION '(' sum ')' | 'randn' '(' DIM, ... ')' | '(' sum ')'

``randn(BatchSize, NFeature)`` is a standard normal draw of that shape (:class:`Random`);
an op label such as ``AddNoise\\n+ 0.5 * randn(...)`` applies its formula to the node's
input (:class:`Input`, see :mod:`dotnet.reading.labels`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from dotnet.limits import MAX_DIGITS
from dotnet.reading.symbolic import Dim, ExprError, parse_dim

MAX_FORMULA_DEPTH = 48
"""Deepest nesting (parentheses, calls, unary minus) accepted in a formula."""
MAX_FORMULA_OPERATORS = 256
"""Most binary operators in one formula: the tree code is generated from stays shallow enough to compile."""

FUNCTIONS = {
    "σ": "sigmoid",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "softmax": "softmax",
}
"""Function spellings a formula may use, mapped to their canonical name."""

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?)
      | (?P<name>[^\W\d]\w*(?:\s*\[[^\[\]]*\])?)
      | (?P<op>[-+*@/(),])
    )""",
    re.VERBOSE,
)


class FormulaError(ValueError):
    """A formula does not parse; the message says where and why."""


class UnknownFunction(FormulaError):
    """A formula calls a function that is not one of :data:`FUNCTIONS`."""


@dataclass(frozen=True)
class Num:
    """An integer or decimal literal."""

    value: int | float


@dataclass(frozen=True)
class Name:
    """A tensor or parameter name such as ``H[t-1]``; ``offset`` is its position in the text."""

    text: str
    offset: int


@dataclass(frozen=True)
class Call:
    """``tanh(...)``: a function (canonical name) applied to one argument."""

    fn: str
    arg: Expr


@dataclass(frozen=True)
class BinOp:
    """``left OP right`` for ``OP`` one of ``+ - * / @``."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Neg:
    """Unary minus."""

    arg: Expr


@dataclass(frozen=True)
class Random:
    """``randn(BatchSize, NFeature)``: a fresh standard normal draw of that shape on each pass."""

    dims: tuple[Dim, ...]
    text: str


@dataclass(frozen=True)
class Input:
    """The value on the node's one incoming edge, in ``AddNoise\\n+ 0.5 * randn(...)``."""


Expr = Num | Name | Call | BinOp | Neg | Random | Input


def canonical_name(text: str) -> str:
    """A name with its whitespace removed: ``H[t - 1]`` and ``H[t-1]`` are one name."""
    return "".join(text.split())


def parse_formula(text: str, defaults: dict[str, int] | None = None) -> Expr:
    """Parse formula text; raise :class:`FormulaError` if it is not a formula.

    Sizes written with a default inside ``randn(...)`` (``NFeature(768)``) go into ``defaults``.
    """
    tokens = list(_tokens(text))
    if not tokens:
        raise FormulaError("empty formula")
    parser = _Parser(tokens, text, {} if defaults is None else defaults)
    tree = parser.sum(0)
    if parser.i != len(tokens):
        raise FormulaError(f"unexpected {tokens[parser.i][1]!r} at offset {tokens[parser.i][2]}")
    return tree


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            raise FormulaError(f"unexpected {bad!r} at offset {pos + len(text[pos:]) - len(text[pos:].lstrip())}")
        kind = m.lastgroup
        assert kind is not None
        yield kind, m.group(kind), m.start(kind)
        pos = m.end()
        if kind == "name" and m.group(kind) == "randn":
            pos = yield from _random_body(text, pos)


def _random_body(text: str, pos: int) -> Generator[tuple[str, str, int], None, int]:
    """The parentheses of ``randn(...)`` as two tokens, the sizes between them untokenised.

    They are sizes, read by the size parser (``28×28``, ``NFeature(768)``), not formula text.
    """
    opening = len(text) - len(text[pos:].lstrip())
    if not text.startswith("(", opening):
        return pos
    depth = 0
    for close in range(opening, len(text)):
        depth += text[close] == "("
        depth -= text[close] == ")"
        if depth == 0:
            yield "op", "(", opening
            yield "op", ")", close
            return close + 1
    return pos


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str, defaults: dict[str, int]) -> None:
        self.tokens = tokens
        self.text = text
        self.defaults = defaults
        self.i = 0
        self.operators = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        if self.i >= len(self.tokens):
            raise FormulaError("the formula ends too early")
        token = self.tokens[self.i]
        self.i += 1
        return token

    def sum(self, depth: int) -> Expr:
        tree = self.product(depth)
        while self.peek() in ("+", "-"):
            op = self.operator()
            tree = BinOp(op, tree, self.product(depth))
        return tree

    def product(self, depth: int) -> Expr:
        tree = self.unary(depth)
        while self.peek() in ("*", "@", "/"):
            op = self.operator()
            tree = BinOp(op, tree, self.unary(depth))
        return tree

    def operator(self) -> str:
        """Take a binary operator; each one deepens the tree that code is generated from."""
        self.operators += 1
        if self.operators > MAX_FORMULA_OPERATORS:
            raise FormulaError(f"more than {MAX_FORMULA_OPERATORS} operators")
        return self.take()[1]

    def unary(self, depth: int) -> Expr:
        if self.peek() == "-":
            self.take()
            return Neg(self.unary(self.deeper(depth)))
        return self.atom(depth)

    def deeper(self, depth: int) -> int:
        if depth >= MAX_FORMULA_DEPTH:
            raise FormulaError(f"nested deeper than {MAX_FORMULA_DEPTH} levels")
        return depth + 1

    def atom(self, depth: int) -> Expr:
        kind, text, offset = self.take()
        if kind == "num":
            if len(text) - text.count(".") > MAX_DIGITS:
                raise FormulaError(f"the number at offset {offset} has more than {MAX_DIGITS} digits")
            value = float(text) if "." in text or "e" in text.lower() else int(text)
            if not math.isfinite(value):
                raise FormulaError(f"the number {text} at offset {offset} is too large for a float")
            return Num(value)
        if kind == "name":
            if text == "randn" and self.peek() == "(":
                return self.random()
            if text not in FUNCTIONS and "[" not in text and self.peek() == "(":
                known = ", ".join(FUNCTIONS)
                raise UnknownFunction(f"unknown function {text!r} at offset {offset}; the known functions are {known}")
            if text in FUNCTIONS and self.peek() == "(":
                self.take()
                arg = self.sum(self.deeper(depth))
                self.expect_close(text)
                return Call(FUNCTIONS[text], arg)
            return Name(canonical_name(text), offset)
        if text == "(":
            tree = self.sum(self.deeper(depth))
            self.expect_close("(")
            return tree
        raise FormulaError(f"unexpected {text!r} at offset {offset}")

    def random(self) -> Random:
        """``randn(DIM, ...)``: the dims are sizes, parsed as shapes are, not formulas."""
        opening = self.tokens[self.i][2]
        depth, close = 0, -1
        for pos in range(opening, len(self.text)):
            depth += self.text[pos] == "("
            depth -= self.text[pos] == ")"
            if depth == 0:
                close = pos
                break
        if close < 0:
            raise FormulaError("missing ')' after 'randn'")
        body = self.text[opening + 1 : close]
        try:
            dims = tuple(parse_dim(part, self.defaults) for part in _top_level_parts(body))
        except ExprError as exc:
            raise FormulaError(f"randn({body.strip()}): {exc}") from None
        if not dims:
            raise FormulaError("randn() needs a shape, as in randn(BatchSize, 16)")
        while self.i < len(self.tokens) and self.tokens[self.i][2] <= close:
            self.i += 1
        return Random(dims, " ".join(f"randn({body})".split()))

    def expect_close(self, opened: str) -> None:
        if self.peek() != ")":
            raise FormulaError(f"missing ')' after {opened!r}")
        self.take()


def _top_level_parts(body: str) -> list[str]:
    """``BatchSize, NFeature(768)`` split on the commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in body:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p.strip()]


def contains(tree: Expr, kind: type) -> bool:
    """True when a node of ``kind`` (``Input``, ``Random``) occurs in the tree."""
    if isinstance(tree, kind):
        return True
    if isinstance(tree, Call | Neg):
        return contains(tree.arg, kind)
    if isinstance(tree, BinOp):
        return contains(tree.left, kind) or contains(tree.right, kind)
    return False


def names(tree: Expr) -> list[Name]:
    """Every name in the tree, in the order the text writes them."""
    if isinstance(tree, Name):
        return [tree]
    if isinstance(tree, Call | Neg):
        return names(tree.arg)
    if isinstance(tree, BinOp):
        return names(tree.left) + names(tree.right)
    return []


def operands(tree: Expr, op: str) -> list[Expr]:
    """The operands of a chain of ``op`` (``a + b + c``: ``[a, b, c]``); the tree itself when it is no such chain."""
    if isinstance(tree, BinOp) and tree.op == op:
        return operands(tree.left, op) + operands(tree.right, op)
    return [tree]
