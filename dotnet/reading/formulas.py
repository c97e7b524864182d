"""Formula labels: a tokenizer and recursive-descent parser, and Python source from the tree.

``σ(X[t] @ W[f] + H[t-1] @ U[f] + b[f])`` parses to a small tree of frozen
values. Nothing here evaluates text: generated code is written from the tree,
with every name mapped to an identifier the code generator chose.

Grammar (``@`` and ``/`` bind like ``*``, all bind tighter than ``+`` and ``-``)::

    sum     := product (('+' | '-') product)*
    product := unary (('*' | '@' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | NAME | FUNCTION '(' sum ')' | '(' sum ')'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MAX_FORMULA_DEPTH = 48
"""Deepest nesting (parentheses, calls, unary minus) accepted in a formula."""

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

TORCH_FUNCTIONS = {
    "sigmoid": "torch.sigmoid({})",
    "tanh": "torch.tanh({})",
    "relu": "torch.relu({})",
    "exp": "torch.exp({})",
    "log": "torch.log({})",
    "sqrt": "torch.sqrt({})",
    "softmax": "torch.softmax({}, dim=-1)",
}
"""Python for each canonical function; softmax runs over the last dimension."""

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+\.\d*|\.\d+|\d+)
      | (?P<name>[^\W\d]\w*(?:\s*\[[^\[\]]*\])?)
      | (?P<op>[-+*@/()])
    )""",
    re.VERBOSE,
)


class FormulaError(ValueError):
    """A formula does not parse; the message says where and why."""


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


Expr = Num | Name | Call | BinOp | Neg


def canonical_name(text: str) -> str:
    """A name with its whitespace removed: ``H[t - 1]`` and ``H[t-1]`` are one name."""
    return "".join(text.split())


def parse_formula(text: str) -> Expr:
    """Parse formula text; raise :class:`FormulaError` if it is not a formula."""
    tokens = list(_tokens(text))
    if not tokens:
        raise FormulaError("empty formula")
    parser = _Parser(tokens, text)
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


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.i = 0

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
            op = self.take()[1]
            tree = BinOp(op, tree, self.product(depth))
        return tree

    def product(self, depth: int) -> Expr:
        tree = self.unary(depth)
        while self.peek() in ("*", "@", "/"):
            op = self.take()[1]
            tree = BinOp(op, tree, self.unary(depth))
        return tree

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
            return Num(float(text) if "." in text else int(text))
        if kind == "name":
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

    def expect_close(self, opened: str) -> None:
        if self.peek() != ")":
            raise FormulaError(f"missing ')' after {opened!r}")
        self.take()


def names(tree: Expr) -> list[Name]:
    """Every name in the tree, in the order the text writes them."""
    if isinstance(tree, Name):
        return [tree]
    if isinstance(tree, Call | Neg):
        return names(tree.arg)
    if isinstance(tree, BinOp):
        return names(tree.left) + names(tree.right)
    return []


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "@": 2, "/": 2}


def to_python(tree: Expr, name: Callable[[str], str]) -> str:
    """Python source for the tree; ``name`` maps each formula name to an expression."""
    return _python(tree, name, 0)


def _python(tree: Expr, name: Callable[[str], str], context: int) -> str:
    if isinstance(tree, Num):
        return repr(tree.value)
    if isinstance(tree, Name):
        return name(tree.text)
    if isinstance(tree, Call):
        return TORCH_FUNCTIONS[tree.fn].format(_python(tree.arg, name, 0))
    if isinstance(tree, Neg):
        text = "-" + _python(tree.arg, name, 3)
        return f"({text})" if context > 2 else text
    level = _PRECEDENCE[tree.op]
    # Left-associative: the right operand of an equal-precedence operator needs parentheses,
    # and so, for the reader, does a product mixed into a matrix product: ``(h * r) @ u``.
    mixed = isinstance(tree.left, BinOp) and {tree.op, tree.left.op} == {"*", "@"}
    text = f"{_python(tree.left, name, 3 if mixed else level)} {tree.op} {_python(tree.right, name, level + 1)}"
    return f"({text})" if level < context else text
