"""Render class plans into Python source with the jinja2 templates."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import jinja2

from dotnet.lower import ClassPlan

LINE_LENGTH = 88


def template_dir() -> Path:
    """Where the templates are: packaged in the wheel, or ``templates/`` in a source checkout."""
    try:
        packaged = Path(str(resources.files("dotnet.templates")))
        if (packaged / "module.py.jinja").is_file():
            return packaged
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def signature(name: str, params: list[str], returns: str, indent: int = 4) -> str:
    """A ``def`` line, wrapped one parameter per line when it would pass the line length."""
    flat = f"def {name}({', '.join(params)}) -> {returns}:"
    if indent + len(flat) <= LINE_LENGTH:
        return flat
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{p},\n" for p in params)
    return f"def {name}(\n{body}{' ' * indent}) -> {returns}:"


def render_module(title: str, source: str, plans: list[ClassPlan]) -> str:
    """The text of one generated module holding ``plans`` in order."""
    imports = set().union(*(p.imports for p in plans))
    if any(p.parameters for p in plans):
        imports.add("math")
    classes = []
    for plan in plans:
        init_params = ["self"] + [
            f"{a.name}: int" + (f" = {a.default}" if a.default is not None else "") for a in plan.args
        ]
        forward_params = ["self"] + [f"{p.name}: torch.Tensor" for p in plan.inputs]
        returns = (
            "torch.Tensor" if len(plan.outputs) == 1 else f"tuple[{', '.join(['torch.Tensor'] * len(plan.outputs))}]"
        )
        classes.append(
            {
                **plan.__dict__,
                "init_signature": signature("__init__", init_params, "None"),
                "forward_signature": signature("forward", forward_params, returns),
                "returns": ", ".join(p.name for p in plan.outputs),
                "parameter_tuple": _tuple([f"self.{p.attr}" for p in plan.parameters], 8 + len("for weight in ")),
                "modules": [
                    (s.comment, wrap(f"self.{s.attr} = {s.expr}", 8)) for s in [*plan.parameters, *plan.submodules]
                ],
                "body": [line for st in plan.statements for line in statement_lines(st.target, st.expr, st.comment)],
                "scan_lines": [line for raw in (plan.scan.lines if plan.scan else []) for line in wrap(raw, 8)],
            }
        )
    template = _environment().get_template("module.py.jinja")
    return template.render(title=title, source=source, imports=imports, classes=classes)


def statement_lines(target: str, expr: str, comment: str, indent: int = 8) -> list[str]:
    """``target = expr  # comment``, with the comment on a line of its own when it would not fit."""
    line = f"{target} = {expr}  # {comment}"
    if indent + len(line) <= LINE_LENGTH:
        return [line]
    return [f"# {comment}", *wrap(f"{target} = {expr}", indent)]


def wrap(line: str, indent: int) -> list[str]:
    """A long assignment split after its ``=`` at the top-level operators, inside parentheses."""
    if indent + len(line) <= LINE_LENGTH or " = " not in line:
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
        return _wrap_call(line, lead, head, expr)
    return [f"{head} = (", *(f"{lead}    {p.strip()}" for p in parts), f"{lead})"]


def _wrap_call(line: str, lead: str, head: str, expr: str) -> list[str]:
    """``x = f(args)`` too long: the arguments on a line of their own."""
    start = expr.find("(")
    if start < 0 or not expr.endswith(")"):
        return [line]
    return [f"{head} = {expr[: start + 1]}", f"{lead}    {expr[start + 1 : -1]}", f"{lead})"]


def _tuple(items: list[str], indent: int) -> str:
    text = f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if indent + len(text) + 1 <= LINE_LENGTH:
        return text
    inner = " " * (indent - len("for weight in ") + 4)
    return "(\n" + "".join(f"{inner}{item},\n" for item in items) + " " * (indent - len("for weight in ")) + ")"
