"""Symbolic dimensions: polynomials over named symbols with rational coefficients.

A term may also divide by symbols (``BlockW/Stride``, a size after a stride that is a
block argument): a monomial lists such a symbol as ``/Stride``.

Dimension text such as ``BlockW/2`` or ``NLayers-1`` is parsed here by a small
recursive-descent parser (never by ``eval``) into a :class:`Dim` value, which
supports the arithmetic shape functions need, exact comparison, substitution,
and rendering back to diagram notation or to Python source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from dotnet.limits import MAX_DIM_TERMS, LimitError, whole_number

MAX_EXPR_DEPTH = 32
"""Deepest nesting of parentheses accepted in a dimension expression."""

_ONE = Fraction(1)
Monomial = tuple[str, ...]  # sorted symbol names, repeated for powers, "/S" dividing by S; () is the constant
_INVERSE = "/"


def _product(m1: Monomial, m2: Monomial) -> Monomial:
    """The monomial ``m1 * m2``, a symbol and its inverse cancelling."""
    factors = list(m1)
    for s in m2:
        opposite = s[1:] if s.startswith(_INVERSE) else _INVERSE + s
        if opposite in factors:
            factors.remove(opposite)
        else:
            factors.append(s)
    return tuple(sorted(factors))


def _base(symbol: str) -> str:
    return symbol.removeprefix(_INVERSE)


class ExprError(ValueError):
    """A dimension expression is malformed; the message says where and why."""


class SizeLimitError(ExprError):
    """A symbolic size would grow beyond :data:`~dotnet.limits.MAX_DIM_TERMS` terms."""


@dataclass(frozen=True)
class Dim:
    """An exact polynomial such as ``BlockW/2`` or ``2*NHidden + 1``."""

    terms: tuple[tuple[Monomial, Fraction], ...]

    # -- construction --------------------------------------------------
    @staticmethod
    def const(value: int | Fraction) -> Dim:
        return Dim._from({(): Fraction(value)})

    @staticmethod
    def sym(name: str) -> Dim:
        return Dim((((name,), _ONE),))  # what _from builds, without its sorting: there is one term

    @staticmethod
    def _from(terms: Mapping[Monomial, Fraction]) -> Dim:
        return Dim(tuple(sorted((m, c) for m, c in terms.items() if c != 0)))

    # -- arithmetic ----------------------------------------------------
    def __add__(self, other: Dim | int) -> Dim:
        other = _lift(other)
        terms = dict(self.terms)
        for m, c in other.terms:
            terms[m] = terms.get(m, Fraction(0)) + c
        return Dim._from(terms)

    __radd__ = __add__

    def __neg__(self) -> Dim:
        return Dim._from({m: -c for m, c in self.terms})

    def __sub__(self, other: Dim | int) -> Dim:
        return self + (-_lift(other))

    def __rsub__(self, other: int) -> Dim:
        return _lift(other) - self

    def __mul__(self, other: Dim | int) -> Dim:
        other = _lift(other)
        if len(self.terms) * len(other.terms) > MAX_DIM_TERMS:  # checked before it is multiplied out
            raise SizeLimitError(
                f"a product of sizes of {len(self.terms)} and {len(other.terms)} terms exceeds "
                f"the limit of {MAX_DIM_TERMS:,} terms"
            )
        terms: dict[Monomial, Fraction] = {}
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                m = _product(m1, m2)
                terms[m] = terms.get(m, Fraction(0)) + c1 * c2
        return Dim._from(terms)

    __rmul__ = __mul__

    def divide(self, other: Dim | int) -> Dim:
        """Exact division by a non-zero constant or by one term (``Stride``, ``2*Stride``)."""
        other = _lift(other)
        value = other.constant_value()
        if value is None:
            if len(other.terms) != 1:
                raise ExprError(f"cannot divide by the symbolic size {other}")
            ((monomial, coefficient),) = other.terms
            inverse = tuple(sorted(_base(s) if s.startswith(_INVERSE) else _INVERSE + s for s in monomial))
            return (self * Dim(((inverse, _ONE),))).divide(Dim.const(coefficient))
        if value == 0:
            raise ExprError("division by zero")
        return Dim._from({m: c / value for m, c in self.terms})

    def floordiv(self, divisor: int) -> tuple[Dim, Dim | None]:
        """``floor(self / divisor)``, plus the divisibility it assumes when symbolic.

        A constant is divided exactly. A symbolic polynomial whose terms are not
        all multiples of ``divisor`` is divided as if exact, and the polynomial
        that must be a multiple of ``divisor`` is returned so it can be recorded.
        """
        if divisor <= 0:
            raise ExprError(f"cannot divide by {divisor}")
        value = self.constant_value()
        if value is not None:
            return Dim.const(Fraction(value // divisor)), None
        if all((c / divisor).denominator == 1 for _, c in self.terms):
            return self.divide(divisor), None
        remainder = Dim._from({m: c for m, c in self.terms if (c / divisor).denominator != 1})
        return self.divide(divisor), remainder

    # -- inspection ----------------------------------------------------
    def constant_value(self) -> Fraction | None:
        """The value when the polynomial has no symbols, else ``None``."""
        if not self.terms:
            return Fraction(0)
        if len(self.terms) == 1 and self.terms[0][0] == ():
            return self.terms[0][1]
        return None

    def int_value(self) -> int | None:
        """The value when it is a whole number, else ``None``."""
        v = self.constant_value()
        return int(v) if v is not None and v.denominator == 1 else None

    def symbols(self) -> set[str]:
        return {_base(s) for m, _ in self.terms for s in m}

    def is_integral(self) -> bool:
        """True unless some coefficient is a fraction (``BlockW/2``)."""
        return all(c.denominator == 1 for _, c in self.terms)

    def substitute(self, bindings: Mapping[str, Dim]) -> Dim:
        """Replace bound symbols by their values."""
        if not bindings or not (self.symbols() & bindings.keys()):
            return self
        total = Dim.const(0)
        for m, c in self.terms:
            term = Dim.const(c)
            for s in m:
                base = _base(s)
                value = bindings[base] if base in bindings else Dim.sym(base)
                term = term.divide(value) if s.startswith(_INVERSE) else term * value
            total = total + term
        return total

    def solve(self, symbol: str, target: Dim) -> Dim | None:
        """The value of ``symbol`` that makes ``self == target``, if ``self`` is linear in it."""
        coefficient = Fraction(0)
        rest: dict[Monomial, Fraction] = {}
        for m, c in self.terms:
            if m == (symbol,):
                coefficient = c
            elif symbol in m:
                return None
            else:
                rest[m] = c
        if coefficient == 0:
            return None
        return (target - Dim._from(rest)).divide(Dim.const(coefficient))

    # -- rendering -----------------------------------------------------
    def __str__(self) -> str:
        return self.render(lambda s: s, python=False)

    def render(self, name: Callable[[str], str], python: bool) -> str:
        """Diagram notation (``BlockW/2``) or Python (``block_w // 2``)."""
        if not self.terms:
            return "0"
        denominator = 1
        for _, c in self.terms:
            denominator = denominator * c.denominator // _gcd(denominator, c.denominator)
        if python and denominator != 1:
            scaled = self * denominator
            inner = scaled.render(name, python=True)
            return f"({inner}) // {denominator}" if len(scaled.terms) > 1 else f"{inner} // {denominator}"
        parts: list[str] = []
        # Symbolic terms first (``NLayers - 1``), constants last.
        for m, c in sorted(self.terms, key=lambda t: (t[0] == (), t[0])):
            sign = "-" if c < 0 else "+"
            mag = abs(c)
            if m == ():
                body = _fraction_text(mag)
            else:
                factors = [name(s) for s in m if not s.startswith(_INVERSE)] or ["1"]
                if mag.numerator != 1:
                    factors.append(str(mag.numerator))
                body = "*".join(factors)
                if python:
                    body = " * ".join(factors)
                divisors = [name(_base(s)) for s in m if s.startswith(_INVERSE)]
                if mag.denominator != 1:
                    divisors.append(str(mag.denominator))
                if divisors:
                    divisor = " * ".join(divisors) if python else "*".join(divisors)
                    many = len(divisors) > 1
                    if python:
                        body = f"({body}) // ({divisor})" if many or len(factors) > 1 else f"{body} // {divisor}"
                    else:
                        body += f"/({divisor})" if many else f"/{divisor}"
            parts.append(f"{sign} {body}" if python else f"{sign}{body}")
        text = (" " if python else "").join(parts)
        if text.startswith("+"):
            text = text[2:] if python else text[1:]
        elif python and text.startswith("- "):
            text = "-" + text[2:]
        return text


def _lift(value: Dim | int | Fraction) -> Dim:
    return value if isinstance(value, Dim) else Dim.const(value)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _fraction_text(f: Fraction) -> str:
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


# -- parsing -----------------------------------------------------------
_EXPR_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]+)|(?P<sym>#?[A-Za-z_][A-Za-z_0-9]*)|(?P<op>[-+*/()]))")
_TIMES = re.compile(r"\s*[x×](?=\s*[0-9(])")
"""``x`` between a number or ``)`` and a number or ``(``: a product, as in ``16x5x5``."""


_DECIMAL = re.compile(r"\s*[0-9]*\.[0-9]+\s*")


def parse_rate(text: str) -> Fraction | None:
    """``0.5`` as the exact rate 1/2; ``None`` for text that is not a decimal (sizes are whole)."""
    return Fraction(text.strip()) if _DECIMAL.fullmatch(text) else None


_SIMPLE_DIM = re.compile(r"\s*(?:([0-9]+)|([A-Za-z_][A-Za-z_0-9]*))\s*\Z")
"""A lone number or symbol: most dims are one, and they skip the general parser."""


def parse_dim(text: str, defaults: dict[str, int] | None = None) -> Dim:
    """Parse ``BlockW/2``, ``NLayers-1``, ``(A+B)*2``, ``16x5x5`` ...; raise :class:`ExprError` if malformed.

    ``NFeature(768)`` is the symbol ``NFeature`` written with its default, which goes into
    ``defaults`` (an error where none is wanted); ``#Layer`` is a repetition's index.
    """
    simple = _SIMPLE_DIM.match(text)
    if simple:
        return Dim.const(_number(simple[1])) if simple[1] else Dim.sym(simple[2])
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        times = _TIMES.match(stripped, pos)
        if times and tokens and (tokens[-1][0] == "num" or tokens[-1][1] == ")"):
            tokens.append(("op", "*"))
            pos = times.end()
            continue
        m = _EXPR_TOKEN.match(stripped, pos)
        if m is None:
            bad = stripped[pos:].lstrip()[:1]
            raise ExprError(f"unexpected {bad!r} in {text.strip()!r}")
        kind = m.lastgroup
        assert kind is not None
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    if not tokens:
        raise ExprError("empty dimension")
    parser = _ExprParser(tokens, text.strip(), defaults)
    value = parser.sum(0)
    if parser.i != len(tokens):
        raise ExprError(f"unexpected {tokens[parser.i][1]!r} in {text.strip()!r}")
    return value


def _number(text: str) -> int:
    """A size written as a number: ASCII digits, within int64 (see :func:`dotnet.limits.whole_number`)."""
    try:
        return whole_number(text)
    except LimitError as exc:
        raise ExprError(str(exc)) from None


class _ExprParser:
    def __init__(self, tokens: list[tuple[str, str]], text: str, defaults: dict[str, int] | None) -> None:
        self.tokens = tokens
        self.text = text
        self.defaults = defaults
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def sum(self, depth: int) -> Dim:
        value = self.product(depth)
        while self.peek() in ("+", "-"):
            op = self.tokens[self.i][1]
            self.i += 1
            rhs = self.product(depth)
            value = value + rhs if op == "+" else value - rhs
        return value

    def product(self, depth: int) -> Dim:
        value = self.unary(depth)
        while self.peek() in ("*", "/"):
            op = self.tokens[self.i][1]
            self.i += 1
            rhs = self.unary(depth)
            value = value * rhs if op == "*" else value.divide(rhs)
        return value

    def unary(self, depth: int) -> Dim:
        if self.peek() == "-":
            self.i += 1
            return -self.unary(depth)
        return self.atom(depth)

    def atom(self, depth: int) -> Dim:
        if self.i >= len(self.tokens):
            raise ExprError(f"{self.text!r} ends too early")
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            return Dim.const(_number(text))
        if kind == "sym":
            if self.peek() == "(" and not text.startswith("#"):
                self.default(text)
            return Dim.sym(text)
        if text == "(":
            if depth >= MAX_EXPR_DEPTH:
                raise ExprError(f"parentheses nested deeper than {MAX_EXPR_DEPTH}")
            value = self.sum(depth + 1)
            if self.peek() != ")":
                raise ExprError(f"missing ')' in {self.text!r}")
            self.i += 1
            return value
        raise ExprError(f"unexpected {text!r} in {self.text!r}")

    def default(self, symbol: str) -> None:
        """``NFeature(768)``: the number in parentheses after a symbol is its default."""
        number = self.tokens[self.i + 1] if self.i + 2 < len(self.tokens) else None
        if number is None or number[0] != "num" or self.tokens[self.i + 2][1] != ")":
            raise ExprError(f"{symbol}(...) in {self.text!r}: a default is one whole number, as in {symbol}(64)")
        if self.defaults is None:
            raise ExprError(f"{symbol}({number[1]}) in {self.text!r}: a default cannot be given here")
        value = int(number[1])
        if value < 1:
            raise ExprError(f"{symbol}({value}) in {self.text!r}: a default size must be at least 1")
        if self.defaults.get(symbol, value) != value:
            raise ExprError(f"{symbol}({value}) contradicts {symbol}({self.defaults[symbol]}) in {self.text!r}")
        self.defaults[symbol] = value
        self.i += 3
