"""Fit generated statements and comments into the line length, as a formatter would.

Generated code must pass ``ruff check`` at its default line length, whatever the
labels say. A comment too long for one line is wrapped; a statement whose trailing
comment would not fit gets the comment on the line above; a call too long for one
line has its arguments moved to the next line, or one per line when even that is long.
"""

from __future__ import annotations

import textwrap

from dotnet.codegen.safe_text import doc_text


def comment_lines(text: str, width: int) -> list[str]:
    """``# text`` wrapped to ``width`` columns (long words are split only when they must be).

    ``text`` may come from the diagram: it passes :func:`~dotnet.codegen.safe_text.doc_text` first.
    """
    lines = textwrap.wrap(doc_text(text), max(width - 2, 20), break_on_hyphens=False)
    return [f"# {line}" for line in lines] or ["#"]


def assignment_lines(target: str, expr: str, width: int, comment: str = "", above: bool = False) -> list[str]:
    """``target = expr`` with ``comment`` trailing it (or ``above`` it), within ``width`` columns."""
    line = f"{target} = {expr}"
    comment = doc_text(comment)
    if comment and not above and len(line) + 4 + len(comment) <= width:
        return [f"{line}  # {comment}"]
    head = comment_lines(comment, width) if comment else []
    if len(line) <= width:
        return head + [line]
    call, index = _indexed(expr)
    if _outer_call(call) is None:
        return head + code_lines(line, width)
    lines = call_lines(f"{target} = ", call, width)
    return head + lines[:-1] + [lines[-1] + index]


def _indexed(expr: str) -> tuple[str, str]:
    """``('f(a, b)', '[0]')`` for ``'f(a, b)[0]'``: a call and the index after it; else ``(expr, '')``."""
    if expr.endswith("]") and ")[" in expr:
        call, _, index = expr.rpartition(")[")
        if _balanced(call + ")") and _balanced("[" + index):
            return call + ")", "[" + index
    return expr, ""


def for_lines(variable: str, iterable: str, width: int, comment: str = "") -> list[str]:
    """``for variable in iterable:`` with ``comment`` trailing it, or above it when it would not fit."""
    line = f"for {variable} in {iterable}:"
    comment = doc_text(comment)
    if comment and len(line) + 4 + len(comment) <= width:
        return [f"{line}  # {comment}"]
    return (comment_lines(comment, width) if comment else []) + [line]


def del_lines(names: list[str], width: int) -> list[str]:
    """``del a, b`` for ``names`` (none when empty), one name per line when it would not fit."""
    if not names:
        return []
    line = f"del {', '.join(names)}"
    if len(line) <= width:
        return [line]
    return ["del (", *(f"    {name}," for name in names), ")"]


def code_lines(line: str, width: int) -> list[str]:
    """A raw line (indentation kept) split after ``=`` at top-level ``+``/``-`` when too long."""
    if len(line) <= width or " = " not in line:
        return [line]
    lead = " " * (len(line) - len(line.lstrip()))
    head, _, expr = line.partition(" = ")
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(expr):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and expr[i : i + 3] in (" + ", " - ") and i > start:
            parts.append(expr[start:i])
            start = i + 1
    parts.append(expr[start:])
    if len(parts) == 1:
        return [lead + ln if i else ln for i, ln in enumerate(call_lines(f"{head} = ", expr, width - len(lead)))]
    return [f"{head} = (", *(f"{lead}    {p.strip()}" for p in parts), f"{lead})"]


def call_lines(prefix: str, expr: str, width: int) -> list[str]:
    """``prefix + expr`` where ``expr`` is a call, its arguments wrapped the way Black does."""
    split = _outer_call(expr)
    if split is None:
        return [prefix + expr]
    callee, args = split
    joined = ", ".join(args)
    if 4 + len(joined) <= width:
        return [f"{prefix}{callee}(", f"    {joined}", ")"]
    lines = [f"{prefix}{callee}("]
    for arg in args:
        part = _arg_lines(arg, width - 4)
        part[-1] += ","
        lines.extend(f"    {line}" for line in part)
    return lines + [")"]


def _arg_lines(arg: str, width: int) -> list[str]:
    """One argument, itself wrapped when too long: a call, or a generator ``*(X for ...)``."""
    if len(arg) <= width:
        return [arg]
    star = "*" if arg.startswith("*(") else ""
    inner = arg[len(star) + 1 : -1] if arg.startswith(f"{star}(") and arg.endswith(")") else ""
    head, sep, loop = inner.rpartition(" for ")
    if sep and _balanced(head):
        body = call_lines("", head, width - 4) if len(head) > width - 4 else [head]
        return [f"{star}(", *(f"    {line}" for line in body), f"    for {loop}", ")"]
    return call_lines("", arg, width)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth < 0:
            return False
    return depth == 0


def _outer_call(expr: str) -> tuple[str, list[str]] | None:
    """``('f', ['a', 'b(c, d)'])`` for ``'f(a, b(c, d))'``; ``None`` unless ``expr`` is one call."""
    return outer_items(expr, "(", ")")


def outer_items(expr: str, opening: str, closing: str) -> tuple[str, list[str]] | None:
    """What stands before ``expr``'s outer bracket and the items inside it, split at its own commas.

    ``('tuple', ['a', 'b[c, d]'])`` for ``'tuple[a, b[c, d]]'`` with ``[ ]``; ``None`` unless
    ``expr`` is one name followed by one bracketed list.
    """
    start = expr.find(opening)
    if start <= 0 or not expr.endswith(closing) or not (expr[start - 1].isalnum() or expr[start - 1] in "_]"):
        return None  # not a call or subscript: ``-(a + b)`` wrapped as one would be a tuple
    depth = 0
    args: list[str] = []
    current = start + 1
    for i in range(start, len(expr)):
        ch = expr[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(expr) - 1:
                return None  # the outer parentheses close before the end: not a single call
        elif ch == "," and depth == 1:
            args.append(expr[current:i].strip())
            current = i + 1
    last = expr[current:-1].strip()
    if last:
        args.append(last)
    return expr[:start], args
