"""Give meaning to node labels: tensor shapes, op calls, and formula text.

A label is data. It is parsed here into small frozen values (symbols, numbers,
names checked against a pattern) and nothing later ever sees the raw text again,
except to quote it in a diagnostic.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from dotnet import codes
from dotnet.reading.formulas import FUNCTIONS, BinOp, Expr, FormulaError, Input, UnknownFunction, parse_formula
from dotnet.reading.symbolic import Dim, ExprError, parse_dim

MAX_LABEL_LENGTH = 4096
"""Longest label accepted, in characters after layout escapes are removed."""

AXES = ("W", "H", "C", "D", "L")
"""Named axes a tensor label may use: width, height, channels, depth (volumes), length (signals)."""

_ROLE_WORDS = {
    "input": ("输入", "input", "in"),
    "output": ("输出", "output", "out"),
    "param": ("参数", "param", "parameter", "weight"),
    "state": ("历史", "记忆", "state", "history", "memory"),
    "ids": ("单词id", "单词", "id", "ids", "token", "tokens", "word"),
}

_LAYOUT_ESCAPES = re.compile(r"\\[nlr]")
_NAME = r"[^\W\d]\w*"
_OP_CALL = re.compile(
    rf"""\s*(?P<name>{_NAME})(?P<mark>\s*\#\s*\w+|\s+\d+(?=\s*[\[(]|\s*\Z))?
        (?:\s+(?P<window>\d+)\s*[x×]\s*(?P<window_other>\d+)(?=\s*[\[(]|\s*\Z))?
        (?:\s+x\s*(?P<times>\d+|{_NAME}|\((?P<times_expr>[^()]*)\))|\s*×\s*(?P<times_sign>\d+|{_NAME}|\((?P<sign_expr>[^()]*)\))
          |\s*\*\s*(?P<times_star>\d+|\((?P<star_expr>[^()]*)\))|\s*x(?P<factor>\d+))?
        \s*(?P<args>\[.*\]|\(.*\))?\s*\Z""",
    re.VERBOSE | re.DOTALL,
)
_MEANINGLESS_KEYWORDS = ("inplace",)
"""PyTorch keywords that change how a layer uses memory, not what it computes: read and dropped."""
_TIMES_GROUPS = ("times_expr", "times", "sign_expr", "times_sign", "star_expr", "times_star", "factor")
"""The ways a repeat count is written: ``x N``, ``× N``, ``* N`` (a number or ``(...)``, args after), ``x2``."""
_OPERATOR = re.compile(
    r"\s*(?P<op>[@+*/-])\s*(?P<operand>(?:[^\W\d]\w*)(?:\.\w+)+)?\s*(?P<args>\[.*\])?\s*\Z", re.DOTALL
)
_MODULE_PREFIX = re.compile(r"\A\s*(?:torch\.nn\.functional|torch\.nn|torch|nn\.functional|nn|F)\.(?=[^\W\d])")
"""``nn.Conv2d(...)``, ``F.relu``, ``torch.cat(dim=1)``: PyTorch's module path before an op name, dropped."""
_QUOTED_WORD = re.compile(r"""\s*(?:'(\w+)'|"(\w+)")\s*""")
"""``mode='bilinear'``: a word in quotes, as PyTorch writes a string argument, is the word."""
_FLOAT = re.compile(r"\s*-?(?:(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)\s*\Z")
"""A decimal number: ``0.5``, ``.5``, ``1e-5``, ``2.5E3`` (an integer without a point is a size)."""


class LabelError(ValueError):
    """A label does not follow the spec language; the message says what is wrong."""

    def __init__(self, message: str, code: str = codes.BAD_LABEL) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AxisDim:
    """One dimension of a declared shape: an optional axis name, its size, and its text."""

    axis: str | None
    size: Dim
    text: str


@dataclass(frozen=True)
class ParamInit:
    """A parameter's initialisation: ``zeros``, ``ones``, or ``normal`` with its standard deviation."""

    kind: str
    std: float = 1.0


@dataclass(frozen=True)
class TensorLabel:
    """``TITLE(ROLE) [DIM, ...]`` of a record-shaped node."""

    title: str
    roles: frozenset[str]
    role_text: str
    dims: tuple[AxisDim, ...]
    unclosed: bool = False
    """The label lacks its final ``]`` and was read as if it had one."""
    init: ParamInit | None = None
    """How a parameter starts: ``zeros``, ``ones`` or ``normal(STD)`` among the roles; ``None`` when unsaid."""
    defaults: tuple[tuple[str, int], ...] = ()
    """Symbols written with their default, ``NFeature(768)``, in the order written."""
    random: bool = False
    """``ε\\nrandn(BatchSize, NLatent)``: a tensor drawn from a standard normal on each pass."""
    inferred: bool = False
    """No shape was written (a node only named in edges): it is whatever flows in."""

    def shape_text(self) -> str:
        """The declared shape as the diagram writes it, tidied: ``[BatchSize, W=64]``."""
        return "[" + ", ".join(d.text for d in self.dims) + "]"


ArgValue = Dim | float


@dataclass(frozen=True)
class OpCall:
    """``NAME [x TIMES] [ARGS]`` or ``@ Node.w.T [ARGS]`` of an operation node."""

    name: str
    positional: tuple[ArgValue, ...] = ()
    keywords: tuple[tuple[str, ArgValue], ...] = ()
    times: Dim | None = None
    """``x N`` after the name: a repetition count, or a factor for ops that take one."""
    operand: tuple[str, ...] | None = None
    """An inline operand such as ``('Embedding', 'w', 'T')``."""
    parenthesized: bool = False
    """The args were written ``(...)`` rather than ``[...]``."""
    mark: str = ""
    """An instance mark after the name, ``#1`` or `` 2``: it tells copies apart and means nothing."""
    defaults: tuple[tuple[str, int], ...] = ()
    """Symbols written with their default in the args, ``NHidden(256)``."""
    unclosed: bool = False
    """The label lacks its final ``]`` and was read as if it had one."""
    squares: tuple[str, ...] = ()
    """Keyword args written as a square, ``K=3x3``: a window op reads it as 3 by 3, not 9."""
    qualifiers: tuple[str, ...] = ()
    """Words written around the name that the op declares, lower case: ``Masked MultiheadAttention``,
    ``Conv2D 3x3 depthwise``."""

    def describe(self) -> str:
        """Rebuild the label from its parsed parts (safe to print anywhere)."""
        text = " ".join([*self.qualifiers, self.name]) + self.mark
        if self.operand:
            text += " " + ".".join(self.operand)
        if self.times is not None:
            times = str(self.times)
            text += f" x {times}" if re.fullmatch(r"\w+", times) else f" x ({times})"
        args = [format_arg(v) for v in self.positional] + [f"{k}={format_arg(v)}" for k, v in self.keywords]
        if args:
            text += ("({})" if self.parenthesized else "[{}]").format(", ".join(args))
        return text


@dataclass(frozen=True)
class FormulaLabel:
    """Label text that is not an op call: a formula, parsed by :mod:`dotnet.reading.formulas`."""

    text: str
    expr: Expr
    defaults: tuple[tuple[str, int], ...] = ()
    """Sizes written with a default inside ``randn(...)``."""


def format_arg(value: ArgValue) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def normalize(label: str) -> str:
    """Drop layout: ``\\n`` escapes and runs of whitespace become single spaces."""
    if len(label) > MAX_LABEL_LENGTH:
        raise LabelError(f"label of {len(label)} characters exceeds the limit of {MAX_LABEL_LENGTH}")
    return " ".join(_LAYOUT_ESCAPES.sub(" ", label).split())


_LINE_BREAK_BETWEEN_DIMS = re.compile(r"(?<=[\w)])[ \t]*(?:\\[nlr]|\n)\s*(?=[\w(#])")
"""A line break between the end of one dim and the start of the next: ``[BatchSize\\nW=112]``."""


def _break_dims(label: str) -> str:
    """Inside the last bracket of a tensor label, a line break with no comma before it is one."""
    start = label.rfind("[")
    if start < 0:
        return label
    return label[:start] + _LINE_BREAK_BETWEEN_DIMS.sub(", ", label[start:])


def quote(text: str, limit: int = 60) -> str:
    """Quote label text for a message, shortened so a huge label cannot flood the terminal."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# -- tensor labels -------------------------------------------------------
def parse_tensor_label(label: str) -> TensorLabel:
    """Parse ``X[t](输入)\\n[BatchSize, NIn]`` and its variants."""
    if len(label) > MAX_LABEL_LENGTH:
        normalize(label)  # raises the length error
    text = normalize(_break_dims(label))
    random = _RANDOM.fullmatch(text)
    if random:
        return _random_tensor(random.group("head").strip(), random.group("dims"), text)
    unclosed = False
    if text.endswith("]"):
        start = _matching_open(text)
    else:
        start = text.rfind("[")
        if start < 0 or "]" in text[start:]:
            raise LabelError(f"tensor label {quote(text)} has no shape: write it as [DIM, ...] at the end")
        unclosed = True
        text += "]"
    head, body = text[:start].strip(), text[start + 1 : -1]
    role_text = ""
    m = re.fullmatch(r"(?P<title>.*?)\s*\((?P<role>(?:[^()]|\([^()]*\))*)\)", head)
    if m:
        head, role_text = m.group("title").strip(), m.group("role").strip()
    init = _param_init(role_text)
    role_text = _INIT.sub(" ", role_text).strip(" ,&") if init else role_text
    defaults: dict[str, int] = {}
    dims = _dims(body, text, defaults)
    roles = _roles(head, role_text)
    if init is not None and "param" not in roles:
        raise LabelError(f"{init.kind} initialises a parameter, but this tensor is not one (param)")
    return TensorLabel(head, roles, role_text, dims, unclosed, init, defaults=tuple(defaults.items()))


_RANDOM = re.compile(r"(?P<head>.*?)\s*randn\s*\((?P<dims>.*)\)", re.DOTALL)


def _random_tensor(head: str, body: str, text: str) -> TensorLabel:
    """``ε\\nrandn(BatchSize, NLatent)``: a title and the shape of a standard normal draw."""
    defaults: dict[str, int] = {}
    dims = _dims(body, text, defaults)
    return TensorLabel(head, frozenset(), "", dims, defaults=tuple(defaults.items()), random=True)


def _dims(body: str, text: str, defaults: dict[str, int]) -> tuple[AxisDim, ...]:
    dims = tuple(_parse_axis_dim(part, defaults) for part in _split_args(body, text))
    if not dims:
        raise LabelError(f"tensor label {quote(text)} declares an empty shape")
    axes = [d.axis for d in dims if d.axis]
    if len(set(axes)) != len(axes):
        raise LabelError(f"shape {quote(text)} names an axis twice")
    return dims


_INIT = re.compile(r"\b(zeros|ones|normal)\b(?:\s*\(\s*(?:std\s*=\s*)?([^()]*?)\s*\))?", re.IGNORECASE)


def _param_init(role_text: str) -> ParamInit | None:
    """``zeros``, ``ones``, ``normal`` or ``normal(0.02)`` (``normal(std=0.02)``) among the roles."""
    found = list(_INIT.finditer(role_text))
    if not found:
        return None
    if len(found) > 1:
        raise LabelError(f"roles {quote(role_text)} give two initialisations")
    kind, std = found[0].group(1).lower(), found[0].group(2)
    if std is None:
        return ParamInit(kind)
    if kind != "normal" or not _FLOAT.fullmatch(std) and not std.strip().isdigit():
        raise LabelError(f"initialisation {quote(found[0].group(0))}: write zeros, ones, normal or normal(0.02)")
    value = float(std)
    if not 0 < value < 1e6:
        raise LabelError(f"initialisation {quote(found[0].group(0))}: the standard deviation must be positive")
    return ParamInit(kind, value)


def _matching_open(text: str) -> int:
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == "]":
            depth += 1
        elif text[i] == "[":
            depth -= 1
            if depth == 0:
                return i
    raise LabelError(f"unbalanced ']' in {quote(text)}")


_ROLE_SEPARATORS = re.compile(r"[&,/\s、]+")
_ASCII_ROLE_WORDS = {k: role for role, keys in _ROLE_WORDS.items() for k in keys if k.isascii()}
"""An English role word must be a whole word: ``in`` is a role, ``input_size`` is not."""
_OTHER_ROLE_WORDS = [(k, role) for role, keys in _ROLE_WORDS.items() for k in keys if not k.isascii()]
"""A Chinese role word may be part of one: ``短期历史`` holds ``历史``."""


def _roles(title: str, role_text: str) -> frozenset[str]:
    words = [w.lower() for w in _ROLE_SEPARATORS.split(f"{role_text} {title}") if w]
    found = {_ASCII_ROLE_WORDS[w] for w in words if w in _ASCII_ROLE_WORDS}
    found.update(role for k, role in _OTHER_ROLE_WORDS if any(k in w for w in words))
    return frozenset(found)


_AXIS_DIM = re.compile(r"\s*(\w+)\s*=(.*)", re.DOTALL)


def _parse_axis_dim(part: str, defaults: dict[str, int]) -> AxisDim:
    m = _AXIS_DIM.fullmatch(part)
    axis = None
    expr_text = part
    if m:
        axis, expr_text = m.group(1), m.group(2)
        if axis not in AXES:
            raise LabelError(f"unknown axis {axis!r}: axes are {', '.join(AXES)}")
    text = " ".join((f"{axis}={expr_text.strip()}" if axis else expr_text.strip()).split())
    try:
        size = _checked_size(expr_text, text, defaults)
    except ExprError as exc:
        raise LabelError(f"dimension {quote(part.strip())}: {exc}") from None
    return AxisDim(axis, size, text)


def _checked_size(expr_text: str, whole: str, defaults: dict[str, int]) -> Dim:
    """``64+6*32=256``: a size written with its value, which must agree (``size-check``)."""
    written, _, value_text = expr_text.partition("=")
    size = parse_dim(written, defaults)
    if value_text:
        value = parse_dim(value_text, defaults)
        if value != size:
            raise LabelError(f"{whole} does not hold: {written.strip()} is {size}", codes.SIZE_CHECK)
    return size


_BRACKETS = re.compile(r"[()\[\]]")


def _split_args(body: str, whole: str) -> list[str]:
    """Split on commas that are not inside brackets."""
    if _BRACKETS.search(body) is None:  # the common case: nothing nested, so every comma splits
        return _checked_parts(body.split(","), whole)
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in body:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                raise LabelError(f"unbalanced brackets in {quote(whole)}")
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise LabelError(f"unbalanced brackets in {quote(whole)}")
    parts.append("".join(current))
    return _checked_parts(parts, whole)


def _checked_parts(parts: list[str], whole: str) -> list[str]:
    """No parts for an empty body; an error for an empty part among others."""
    if len(parts) == 1 and not parts[0].strip():
        return []
    if any(not p.strip() for p in parts):
        raise LabelError(f"empty argument in {quote(whole)}")
    return parts


# -- operation labels ----------------------------------------------------
_ON_ITS_INPUT = re.compile(rf"\s*(?P<name>{_NAME})[ \t]*(?:\\[nlr]|\n)\s*(?P<op>[-+*/@])(?P<rest>.+)", re.DOTALL)
"""``AddNoise\\n+ 0.5 * randn(...)``: a name, a line break, then an operator and its right side."""


def _window(side: str | None, other: str | None, text: str) -> tuple[tuple[str, ArgValue], ...]:
    """``Conv2D 3x3``: a square written after the name is the kernel, ``K=3``."""
    if side is None or other is None:
        return ()
    if side != other:
        raise LabelError(f"{quote(text)}: the kernel {side}x{other} after the name is not a square; write K=...")
    return (("K", Dim.const(int(side))),)


def parse_op_label(label: str) -> OpCall | FormulaLabel:
    """Parse an operation node's label into an op call, or keep it as formula text."""
    try:
        return _op_label(label)
    except LabelError as exc:
        hint = tensor_hint(label)
        if not hint:
            raise
        raise LabelError(f"{exc}{hint}") from None


def _op_label(label: str) -> OpCall | FormulaLabel:
    text = _MODULE_PREFIX.sub("", normalize(label), count=1)
    if not text:
        raise LabelError("empty label")
    on_input = _ON_ITS_INPUT.fullmatch(label)
    if on_input and _OPERATOR.fullmatch(normalize(on_input.group("op") + on_input.group("rest"))) is None:
        return _formula_on_input(on_input.group("op"), normalize(on_input.group("rest")), text)
    unclosed = text.count("[") == text.count("]") + 1 and not text.endswith("]")
    if unclosed:
        text += "]"
    try:
        call = _call_or_formula(text)
    except LabelError:
        qualified = _qualified_call(text)
        if qualified is None:
            raise
        call = qualified
    if unclosed:
        if not isinstance(call, OpCall):
            raise LabelError(f"{quote(text[:-1])} lacks a closing ']'")
        call = replace(call, unclosed=True)
    return call


_LEADING_WORDS = re.compile(r"\s*((?:[A-Za-z]+\s+)+)(?=[^\W\d])")
"""``Masked MultiheadAttention``: plain words before the op name."""
_TRAILING_WORDS = re.compile(r"((?:\s+[A-Za-z]+)+)\s*\Z")
"""``Conv2D 3x3 depthwise``: plain words after the name (and its kernel), before the args."""


def _qualified_call(text: str) -> OpCall | None:
    """The op call left when plain words before the name, or after it and its kernel, are set aside.

    Only for a label that reads as nothing else; the op decides what the words mean
    (``Masked MultiheadAttention``, ``Conv2D 3x3 depthwise``) and refuses the others. The
    fewest leading words are set aside that leave a call (``Causal Layer x 2`` keeps its ``x 2``),
    then words after the name.
    """
    leading = _LEADING_WORDS.match(text)
    before = leading.group(1).split() if leading else []
    rest = text[leading.end() :] if leading else text
    attempts = [*range(1, len(before) + 1), 0]  # leading words first: ``Masked Attention`` is Attention
    for count in attempts:
        words, remainder = before[:count], " ".join([*before[count:], rest])
        args_at = min((i for i in (remainder.find("["), remainder.find("(")) if i >= 0), default=len(remainder))
        head, args = remainder[:args_at], remainder[args_at:]
        trailing = _TRAILING_WORDS.search(head)
        if trailing and trailing.start() > 0 and "x" not in trailing.group(1).lower().split():
            words = words + trailing.group(1).split()
            remainder = head[: trailing.start()] + args
        if not words or any(w.lower() == "x" for w in words):
            continue  # ``Block x N`` is a repetition, never a word
        try:
            call = _call_or_formula(remainder)
        except LabelError:
            if _OP_CALL.fullmatch(remainder) and count == attempts[-1]:
                raise  # an op call with a problem of its own: say that, not that the label is unreadable
            continue
        if isinstance(call, OpCall) and call.operand is None and call.name.lower() != "x":
            return replace(call, qualifiers=tuple(w.lower() for w in words))
    return None


def _formula_on_input(op: str, rest: str, text: str) -> FormulaLabel:
    """The node's input, then ``op``, then the formula ``rest``: ``x + 0.5 * randn(...)``."""
    defaults: dict[str, int] = {}
    try:
        right = parse_formula(rest, defaults)
    except FormulaError as exc:
        raise LabelError(f"{quote(text)}: the formula after {op!r} does not parse: {exc}") from None
    return FormulaLabel(text, BinOp(op, Input(), right), tuple(defaults.items()))


def _call_or_formula(text: str) -> OpCall | FormulaLabel:
    """An op call (``Conv2D[K=3]``, ``@ Embedding.w.T``), else a formula, from normalized label text."""
    m = _OPERATOR.fullmatch(text)
    if m:
        positional, keywords, _ = _parse_args(m.group("args"), text) if m.group("args") else ((), (), ())
        operand = tuple(m.group("operand").split(".")) if m.group("operand") else None
        return OpCall(m.group("op"), positional, keywords, operand=operand)
    m = _OP_CALL.fullmatch(text)
    if m is None:
        return _formula(text)
    name, args, mark = m.group("name"), m.group("args"), "".join((m.group("mark") or "").split())
    if m.group("times_star") is not None and args is None:
        return _formula(text)  # ``H * 2`` is a product; ``Block * 2\n[C=8]`` is a repetition
    mark = mark if mark.startswith("#") or not mark else " " + mark
    times: Dim | None = None
    times_text = next((m.group(g) for g in _TIMES_GROUPS if m.group(g) is not None), None)
    if times_text is not None:
        try:
            times = parse_dim(times_text)
        except ExprError as exc:
            raise LabelError(f"repeat count {quote(times_text)}: {exc}") from None
    window = _window(m.group("window"), m.group("window_other"), text)
    if args is None:
        return OpCall(name, keywords=window, times=times, mark=mark)
    defaults: dict[str, int] = {}
    try:
        positional, keywords, squares = _parse_args(_unwrapped(args), text, defaults)
        if window and any(k.upper() in ("K", "KERNEL_SIZE") for k, _ in keywords):
            raise LabelError(f"{quote(text)} gives the kernel twice: after the name and as K")
        keywords = window + keywords
    except LabelError:
        # ``F[t] * C[t-1] + I[t]`` only looks like a call; so does ``σ(X[t] @ W[f])``.
        # A real call whose arguments are malformed stays an error about its arguments.
        # ``evil(X[t] @ W)`` is a formula calling a function that does not exist: say so.
        looks_like_formula = not _one_group(args) or (name.lower() in FUNCTIONS and args.startswith("("))
        if times is None and (looks_like_formula or args.startswith("(")):
            try:
                formula = parse_formula(text)
            except UnknownFunction as exc:
                raise LabelError(f"formula {quote(text)}: {exc}") from None
            except FormulaError:
                formula = None
            if formula is not None and looks_like_formula:
                return FormulaLabel(text, formula)
        raise
    return OpCall(
        name,
        positional,
        tuple((k, v) for k, v in keywords if k.lower() not in _MEANINGLESS_KEYWORDS),
        times=times,
        parenthesized=args.startswith("("),
        mark=mark,
        defaults=tuple(defaults.items()),
        squares=squares,
    )


def _unwrapped(args: str) -> str:
    """``([4096])`` is ``[4096]``: one bracketed list inside parentheses is the list."""
    inner = args[1:-1].strip()
    if args.startswith("(") and inner.startswith("[") and inner.endswith("]") and _one_group(inner):
        return inner
    return args


def _one_group(args: str) -> bool:
    """True when ``args`` is a single bracketed group: its first bracket closes at the end."""
    depth = 0
    for i, ch in enumerate(args):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth == 0:
            return i == len(args) - 1
    return False


def _formula(text: str) -> FormulaLabel:
    try:
        return FormulaLabel(text, parse_formula(text))
    except FormulaError as exc:
        raise LabelError(f"{quote(text)} is neither an op call nor a formula: {exc}") from None


def tensor_hint(label: str) -> str:
    """``; it reads as a tensor: ...`` when an op node's label is a tensor's, else ``""``.

    A box whose label is plainly a tensor (a bare shape, or 输入/输出/input/output and a shape)
    is read as one (``tensor-shape``); any other label that parses as a tensor gets this hint.
    """
    try:
        parse_tensor_label(label)
    except LabelError:
        return ""
    return "; it reads as a tensor: draw tensor nodes with shape=Mrecord (or shape=record)"


_KEYWORD_ARG = re.compile(r"\s*([A-Za-z_]\w*)\s*=(.*)", re.DOTALL)


def _parse_args(
    args: str, whole: str, defaults: dict[str, int] | None = None
) -> tuple[tuple[ArgValue, ...], tuple[tuple[str, ArgValue], ...], tuple[str, ...]]:
    """Positional args, keyword args, and the keywords written as a square (``K=3x3``)."""
    positional: list[ArgValue] = []
    keywords: list[tuple[str, ArgValue]] = []
    squares: list[str] = []
    for part in _split_args(args[1:-1], whole):
        m = _KEYWORD_ARG.fullmatch(part)
        if m:
            key = m.group(1)
            if any(k == key for k, _ in keywords):
                raise LabelError(f"argument {key!r} given twice")
            keywords.append((key, _parse_value(m.group(2), part, defaults)))
            if _SQUARE.fullmatch(m.group(2)):
                squares.append(key)
        elif keywords:
            raise LabelError(f"positional argument {quote(part.strip())} after keyword arguments")
        else:
            positional.append(_parse_value(part, part, defaults))
    return tuple(positional), tuple(keywords), tuple(squares)


_SQUARE = re.compile(r"\s*(\d+)\s*[x×]\s*\1\s*")


def _parse_value(text: str, part: str, defaults: dict[str, int] | None) -> ArgValue:
    if quoted := _QUOTED_WORD.fullmatch(text):
        text = quoted.group(1) or quoted.group(2)
    if _FLOAT.fullmatch(text):
        if not math.isfinite(float(text)):
            raise LabelError(f"argument {quote(part.strip())} is too large for a float")
        return float(text)
    try:
        return _checked_size(text, " ".join(part.split()), {} if defaults is None else defaults)
    except ExprError as exc:
        raise LabelError(f"argument {quote(part.strip())} is not a number or size expression: {exc}") from None
