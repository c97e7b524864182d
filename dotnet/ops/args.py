"""Typed op arguments: what a label may pass to an op, and how a call's values bind to them.

An op declares its arguments once, in PyTorch's positional order, each with the short
name diagrams write (``K``), torch's keyword (``kernel_size``), a kind and a default. The
same declaration binds a call's values, checks their kinds with a message naming the
argument, and is what ``dotnet ops`` and docs/ops.md print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from dotnet.reading.labels import ArgValue, OpCall, format_arg
from dotnet.reading.symbolic import Dim


class Kind(Enum):
    """What an argument's value must be; the value says how it reads in ``dotnet ops``."""

    SIZE = "size"
    """A whole number or a size expression (``BlockIn*Expand``, ``Stride``); symbols become constructor arguments."""
    WHOLE = "whole number"
    NUMBER = "number"
    FLAG = "True or False"
    CHOICE = "one of"
    PADDING = "size, same or valid"
    AXIS = "axis"
    """An index in PyTorch layout (``1``, ``-1``) or an axis name of the input (``C``, ``W``)."""


class Required:
    """The default of an argument a call must give."""

    def __repr__(self) -> str:
        return "required"


REQUIRED = Required()


@dataclass(frozen=True)
class SameAs:
    """A default that repeats another argument's value: a pool's stride is its kernel size."""

    name: str


@dataclass(frozen=True)
class FromInput:
    """A default read from the input shape (``In`` is the input's channel count)."""

    what: str


Value = Dim | int | float | bool | str | None
Default = Value | Required | SameAs | FromInput


@dataclass(frozen=True)
class Arg:
    """One argument of an op, as the label writes it and as PyTorch names it."""

    name: str
    torch: str | None
    kind: Kind
    default: Default = REQUIRED
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    help: str = ""

    def spellings(self) -> tuple[str, ...]:
        """Every accepted keyword: the short name, torch's keyword, then the aliases."""
        names = (self.name,) + ((self.torch,) if self.torch and self.torch != self.name else ()) + self.aliases
        return tuple(dict.fromkeys(names))

    def kind_text(self) -> str:
        if self.kind is Kind.CHOICE:
            return "one of " + ", ".join(self.choices)
        return self.kind.value

    def default_text(self) -> str:
        default = self.default
        if isinstance(default, Required):
            return "required"
        if isinstance(default, SameAs):
            return f"= {default.name}"
        if isinstance(default, FromInput):
            return f"the input's {default.what}"
        if default is None:
            return "PyTorch's default"
        return format_value(default)


def format_value(value: Value) -> str:
    """A bound value as a label would write it."""
    if isinstance(value, Dim):
        return str(value)
    if isinstance(value, float):
        return format_arg(value)
    return str(value)


class ArgProblem(ValueError):
    """A call's value does not fit its argument; the message names both."""


def bind(call: OpCall, args: Sequence[Arg]) -> dict[str, Value]:
    """Each declared argument's value: from the call (checked and converted), else its default.

    ``SameAs`` defaults are resolved; ``FromInput`` defaults are left as ``None`` for the op
    to fill in from its input shape.
    """
    if len(call.positional) > len(args):
        raise ArgProblem(f"takes at most {len(args)} positional arguments, got {len(call.positional)}")
    given: dict[str, ArgValue] = {a.name: v for a, v in zip(args, call.positional)}
    spellings = {s.lower(): a.name for a in args for s in a.spellings()}
    for key, value in call.keywords:
        name = spellings.get(key.lower())
        if name is None:
            raise ArgProblem(f"unknown argument {key!r}; it takes {', '.join(a.name for a in args) or 'none'}")
        if name in given:
            raise ArgProblem(f"argument {name!r} given twice")
        given[name] = value
    bound: dict[str, Value] = {}
    for arg in args:
        if arg.name in given:
            bound[arg.name] = convert(arg, given[arg.name])
        elif isinstance(arg.default, Required):
            raise ArgProblem(f"missing argument {arg.name!r}")
        elif isinstance(arg.default, FromInput):
            bound[arg.name] = None
        elif not isinstance(arg.default, SameAs):
            bound[arg.name] = arg.default
    for arg in args:
        if isinstance(arg.default, SameAs) and arg.name not in given:
            bound[arg.name] = bound[arg.default.name]
    return bound


def convert(arg: Arg, value: ArgValue) -> Value:
    """``value`` as the kind ``arg`` declares, or an :class:`ArgProblem` naming it."""
    text = f"{arg.name}={format_arg(value)}"
    word = _word(value)
    if arg.kind is Kind.SIZE:
        if isinstance(value, float):
            raise ArgProblem(f"{text} must be a whole number or a size symbol")
        return value
    if arg.kind is Kind.WHOLE:
        number = None if isinstance(value, float) else value.int_value()
        if number is None:
            raise ArgProblem(f"{text} must be a whole number")
        return number
    if arg.kind is Kind.NUMBER:
        number = value if isinstance(value, float) else value.constant_value()
        if number is None:
            raise ArgProblem(f"{text} must be a number")
        return float(number)
    if arg.kind is Kind.FLAG:
        flags = {"true": True, "false": False, "1": True, "0": False}
        if word not in flags:
            raise ArgProblem(f"{text} must be True or False")
        return flags[word]
    if arg.kind is Kind.CHOICE:
        choices = {c.lower(): c for c in arg.choices}
        if word not in choices:
            raise ArgProblem(f"{text} is not one of {', '.join(arg.choices)}")
        return choices[word]
    if arg.kind is Kind.PADDING:
        if word in ("same", "valid"):
            return word
        if isinstance(value, float) or (value.int_value() or 0) < 0:
            raise ArgProblem(f"{text} must be a whole number, a size symbol, same or valid")
        return value
    # Kind.AXIS
    number = None if isinstance(value, float) else value.int_value()
    if number is not None:
        return number
    if word is not None and word.upper() in AXIS_NAMES:
        return word.upper()
    raise ArgProblem(f"{text} must be an axis index or one of the axis names {', '.join(AXIS_NAMES)}")


AXIS_NAMES = ("C", "L", "D", "H", "W")
"""Axis names a label may pass as an axis argument (``Softmax[dim=C]``)."""


def _word(value: ArgValue) -> str | None:
    """The lower-case word a value spells (``same``, ``true``, ``1``), or ``None``."""
    if isinstance(value, float):
        return None
    number = value.int_value()
    if number is not None:
        return str(number)
    symbols = value.symbols()
    if len(symbols) == 1 and value == Dim.sym(next(iter(symbols))):
        return next(iter(symbols)).lower()
    return None
