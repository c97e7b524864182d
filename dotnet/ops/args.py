"""Binding a call's values to an op's declared arguments, checked and converted by kind.

An op declares its arguments once (:class:`~dotnet.ops.declaration.Arg`, in PyTorch's
positional order); :func:`bind` matches a label's positional and keyword values to them,
converts each to its kind with a message naming the argument when it does not fit, and
fills in defaults; :class:`Bound` hands the values back typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from dotnet.ops.declaration import Arg, FromInput, Qualifier, SameAs, Value
from dotnet.reading.labels import ArgValue, OpCall, format_arg
from dotnet.reading.symbolic import Dim

AXIS_NAMES = ("C", "L", "D", "H", "W")
"""Axis names a label may pass as an axis argument (``Softmax[dim=C]``)."""


class ArgProblem(ValueError):
    """A call's value does not fit its argument; the message names both."""


class Bound:
    """A call's values for the declared arguments, read back with the type each kind gives."""

    def __init__(self, values: dict[str, Value]) -> None:
        self.values = values

    def raw(self, name: str) -> Value:
        return self.values[name]

    def size(self, name: str) -> Dim:
        value = self.values[name]
        assert isinstance(value, Dim), name
        return value

    def maybe_size(self, name: str) -> Dim | None:
        return None if self.values[name] is None else self.size(name)

    def whole(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int) and not isinstance(value, bool), name
        return value

    def maybe_whole(self, name: str) -> int | None:
        return None if self.values[name] is None else self.whole(name)

    def number(self, name: str) -> float:
        value = self.values[name]
        assert isinstance(value, float), name
        return value

    def maybe_number(self, name: str) -> float | None:
        return None if self.values[name] is None else self.number(name)

    def flag(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool), name
        return value

    def maybe_flag(self, name: str) -> bool | None:
        return None if self.values[name] is None else self.flag(name)

    def word(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str), name
        return value

    def padding(self, name: str) -> Dim | str:
        value = self.values[name]
        assert isinstance(value, Dim | str), name
        return value

    def axis(self, name: str) -> int | str | None:
        value = self.values[name]
        assert value is None or isinstance(value, int | str), name
        return value


def bind(call: OpCall, args: Sequence[Arg], qualifiers: Sequence[Qualifier] = ()) -> Bound:
    """Each declared argument's value: from the call (checked and converted), else its default.

    The call's qualifier words give the arguments they stand for. ``SameAs`` defaults are
    resolved; ``FromInput`` defaults are left as ``None`` for the op to fill in from its input shape.
    """
    if len(call.positional) > len(args):
        raise ArgProblem(f"takes at most {len(args)} positional arguments, got {len(call.positional)}")
    given: dict[str, ArgValue] = {a.name: v for a, v in zip(args, call.positional)}
    spellings = {s.lower(): a.name for a in args for s in a.accepted()}
    by_name = {a.name: a for a in args}
    for key, value in call.keywords:
        name = spellings.get(key.lower())
        if name is None:
            raise ArgProblem(f"unknown argument {key!r}; it takes {', '.join(a.name for a in args) or 'none'}")
        if name in given:
            raise ArgProblem(f"argument {name!r} given twice")
        given[name] = _side(value) if key in call.squares and by_name[name].square else value
    _qualify(call, qualifiers, given)
    values: dict[str, Value] = {}
    for arg in args:
        if arg.name in given:
            values[arg.name] = convert(arg, given[arg.name])
        elif arg.required:
            raise ArgProblem(f"missing argument {arg.name!r}")
        elif isinstance(arg.default, FromInput):
            values[arg.name] = None
        elif not isinstance(arg.default, SameAs):
            values[arg.name] = arg.default
    for arg in args:
        if isinstance(arg.default, SameAs) and arg.name not in given:
            values[arg.name] = values[arg.default.name]
    return Bound(values)


def _qualify(call: OpCall, qualifiers: Sequence[Qualifier], given: dict[str, ArgValue]) -> None:
    """Add to ``given`` what the call's qualifier words stand for; a word against the label is a problem."""
    meanings = {q.word: q for q in qualifiers}
    for word in call.qualifiers:
        qualifier = meanings[word]
        for must, settings in ((True, qualifier.sets), (False, qualifier.defaults)):
            for name, meaning in settings:
                if isinstance(meaning, SameAs):
                    if meaning.name not in given:
                        raise ArgProblem(f"{word!r} means {name}={meaning.name}: give {meaning.name}")
                    meaning = given[meaning.name]
                if name not in given:
                    given[name] = meaning
                elif must and given[name] != meaning:
                    raise ArgProblem(
                        f"{word!r} means {name}={format_arg(meaning)}, "
                        f"and the label gives {name}={format_arg(given[name])}"
                    )


def _side(area: ArgValue) -> ArgValue:
    """``K=3x3`` parses to 9; a window written as a square means its side, 3."""
    value = area.int_value() if isinstance(area, Dim) else None
    side = round(value**0.5) if value else 0
    return Dim.const(side) if value and side * side == value else area


def convert(arg: Arg, value: ArgValue) -> Value:
    """``value`` as the kind ``arg`` declares, or an :class:`ArgProblem` naming it."""
    text = f"{arg.name}={format_arg(value)}"
    word = _word(value)
    if arg.kind == "size":
        if isinstance(value, float):
            raise ArgProblem(f"{text} must be a whole number or a size symbol")
        return value
    if arg.kind == "int":
        number = None if isinstance(value, float) else value.int_value()
        if number is None and not isinstance(value, float) and value.symbols():
            raise ArgProblem(
                f"{text} must be a whole number written out: {arg.name} is fixed when the model is "
                "generated, so it cannot be a size symbol"
            )
        if number is None:
            raise ArgProblem(f"{text} must be a whole number")
        return number
    if arg.kind == "float":
        fraction = value if isinstance(value, float) else value.constant_value()
        if fraction is None:
            raise ArgProblem(f"{text} must be a number")
        return float(fraction)
    if arg.kind == "flag":
        flags = {"true": True, "false": False, "1": True, "0": False}
        if word not in flags:
            raise ArgProblem(f"{text} must be True or False")
        return flags[word]
    if arg.kind == "choice":
        choices = {c.lower(): c for c in arg.choices}
        if word not in choices:
            raise ArgProblem(f"{text} is not one of {', '.join(arg.choices)}")
        return choices[word]
    if arg.kind == "padding":
        if word in ("same", "valid"):
            return word
        if isinstance(value, float) or (value.int_value() or 0) < 0:
            raise ArgProblem(f"{text} must be a whole number, a size symbol, same or valid")
        return value
    number = None if isinstance(value, float) else value.int_value()  # an axis
    if number is not None:
        return number
    if word is not None and word.upper() in AXIS_NAMES:
        return word.upper()
    raise ArgProblem(f"{text} must be an axis index or one of the axis names {', '.join(AXIS_NAMES)}")


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
