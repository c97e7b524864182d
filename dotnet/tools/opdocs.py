"""``dotnet ops`` and docs/ops.md: the op reference, generated from the op declarations.

Everything printed here is read from the registered op classes (names, aliases,
:class:`~dotnet.ops.args.Arg` declarations, shape rule, PyTorch form, costs, facts), so the
reference cannot drift from what the compiler accepts; a test compares docs/ops.md with
:func:`markdown`.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from dotnet.ops.base import Op, normalize_name, registered_ops
from dotnet.ops.declaration import Declaration, SameAs
from dotnet.reading.labels import ArgValue, format_arg

MARKDOWN_HEADER = """# Op reference

Generated from the op declarations by `dotnet ops --format markdown`; do not edit by hand
(`tests/test_op_reference.py` checks that this page and the declarations agree).
`dotnet ops NAME` prints one entry.

Names ignore case and `_` (`relu`, `ReLU`, `Re_LU` are one op). Arguments are positional in
the order listed, or keywords under any of their names: the short name diagrams write (`K`),
PyTorch's keyword (`kernel_size`), or an alias. Tensor shapes are in diagram notation:
`[BatchSize, L, C]` is a signal, `[BatchSize, W, H, C]` an image, `[BatchSize, W, H, D, C]`
a volume; generated code uses PyTorch's `(N, C, D, H, W)`.
"""


def summary(cls: type[Op[Any]]) -> str:
    """The first line of the op's docstring, with Markdown's single backticks for code."""
    text = (cls.__doc__ or "").strip()
    return text.splitlines()[0].replace("``", "`") if text else ""


def declaration(cls: type[Op[Any]]) -> Declaration:
    return cls.declaration


def other_names(cls: type[Op[Any]]) -> list[str]:
    """The names besides the canonical one, spelled as declared (torch's class name last)."""
    own = normalize_name(cls.name)
    return [n for n in dict.fromkeys(declaration(cls).names()) if normalize_name(n) != own]


def _range_text(cls: type[Op[Any]]) -> str | None:
    facts = declaration(cls)
    interval = (facts.activation.low, facts.activation.high) if facts.activation else facts.output_range
    if interval is None:
        return None
    low, high = interval
    if math.isinf(low) and math.isinf(high):
        return None

    opening = "(-inf" if math.isinf(low) else f"[{low:g}"
    closing = "inf)" if math.isinf(high) else f"{high:g}]"
    return f"outputs in {opening}, {closing}"


def facts(cls: type[Op[Any]]) -> list[str]:
    """What checks know about the op: element-wise, output range, and the rest of its declared facts."""
    d = declaration(cls)
    found = ["element-wise"] if d.elementwise else []
    if (text := _range_text(cls)) is not None:
        found.append(text)
    if d.activation is not None:
        found.append("monotone")
    if d.keeps_range:
        unless = " or ".join(f"{arg}={choice}" for arg, choice in d.range_breaking)
        found.append("outputs lie in the range of its inputs" + (f" (not with {unless})" if unless else ""))
    if d.identity_in_eval:
        found.append("the identity in eval mode")
    if d.yields_probabilities:
        found.append("yields probabilities")
    if d.yields_log_probabilities:
        found.append("yields log-probabilities")
    if d.reads_ids:
        found.append("reads integer ids")
    if d.times_is_factor:
        found.append("'OP x N' gives the factor")
    return found


def _edges(cls: type[Op[Any]]) -> str | None:
    d = declaration(cls)
    low, high = d.min_inputs, d.max_inputs
    if low == high == 1:
        return None
    return f"{low}" if low == high else f"{low} or more" if high is None else f"{low} to {high}"


def words_text(cls: type[Op[Any]]) -> str | None:
    """The words a label may write beside the name and what each means: ``pointwise (K=1)``."""

    def meaning(name: str, value: ArgValue | SameAs) -> str:
        return f"{name}={value.name if isinstance(value, SameAs) else format_arg(value)}"

    parts = []
    for q in declaration(cls).qualifiers:
        means = [meaning(n, v) for n, v in q.sets] + [meaning(n, v) + " unless given" for n, v in q.defaults]
        parts.append(f"{q.word} ({', '.join(means)})")
    return "; ".join(parts) or None


def describe(cls: type[Op[Any]]) -> list[str]:
    """``dotnet ops NAME``: one op's entry as text lines."""
    lines = [f"{cls.name}: {summary(cls).replace('`', '')}"]
    if others := other_names(cls):
        lines.append(f"  also: {', '.join(others)}")
    args = declaration(cls).args
    if args:
        lines.append("  arguments, in positional order:")
        width = max(len(", ".join(a.accepted())) for a in args)
        for arg in args:
            names = ", ".join(arg.accepted())
            note = f"  ({arg.help})" if arg.help else ""
            default = arg.default_text()
            default = default if default == "required" else f"default {default}"
            lines.append(f"    {names:<{width}}  {arg.kind_text()}; {default}{note}")
    else:
        lines.append("  arguments: none")
    for title, value in (
        ("words beside the name", words_text(cls)),
        ("in-edges", _edges(cls)),
        ("shape", declaration(cls).shape),
        ("PyTorch", torch_text(cls)),
        ("costs", declaration(cls).costs),
        ("facts", "; ".join(facts(cls))),
    ):
        if value:
            lines.append(f"  {title}: {value}")
    return lines


def torch_text(cls: type[Op[Any]]) -> str:
    """The PyTorch code the op becomes: the declared call, else the constructor or function."""
    d = declaration(cls)
    return d.torch_call or d.torch or ""


def index() -> list[str]:
    """``dotnet ops``: one line per op, name and summary."""
    ops = registered_ops()
    width = max(len(cls.name) for cls in ops)
    return [f"{cls.name:<{width}}  {summary(cls).replace('`', '')}" for cls in ops]


def suggestions(name: str) -> list[str]:
    """Op names close to ``name``, for an unknown name."""
    names = {normalize_name(a): cls.name for cls in registered_ops() for a in declaration(cls).names()}
    close = difflib.get_close_matches(normalize_name(name), list(names), n=5, cutoff=0.6)
    return list(dict.fromkeys(names[c] for c in close))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """docs/ops.md: the index, then one section per op."""
    ops = registered_ops()
    lines = [MARKDOWN_HEADER, "| op | what it does |", "| --- | --- |"]
    lines += [f"| `{_cell(cls.name)}` | {_cell(summary(cls))} |" for cls in ops]
    for cls in ops:
        lines += ["", f"## `{cls.name}`", "", summary(cls)]
        if others := other_names(cls):
            lines += ["", "Also: " + ", ".join(f"`{a}`" for a in others)]
        if args := declaration(cls).args:
            lines += ["", "| argument | also | kind | default | note |", "| --- | --- | --- | --- | --- |"]
            for arg in args:
                also = ", ".join(f"`{s}`" for s in arg.accepted()[1:])
                row = [f"`{arg.name}`", also, arg.kind_text(), arg.default_text(), arg.help]
                lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        details = [
            ("Words beside the name", words_text(cls)),
            ("In-edges", _edges(cls)),
            ("Shape", declaration(cls).shape),
            ("PyTorch", torch_text(cls)),
            ("Costs", declaration(cls).costs),
            ("Facts", "; ".join(facts(cls))),
        ]
        items = [f"- {title}: {_code(title, value)}" for title, value in details if value]
        if items:
            lines += [""] + items
    return "\n".join(lines) + "\n"


def _code(title: str, value: str) -> str:
    return f"`{value}`" if title in ("Shape", "PyTorch") else value
