"""Render class plans into Python source with the jinja2 templates.

The template receives two kinds of strings. :class:`Code` is what the generator
built (statements, signatures, names) and is written as it is; every other
string is text (summaries, shapes, node ids, file names) and is written through
:func:`~dotnet.codegen.safe_text.doc_text`, whichever ``{{ ... }}`` it fills. The result
is audited (:mod:`dotnet.codegen.audit`) before anyone writes or imports it.
"""

from __future__ import annotations

import json
import textwrap
from functools import cache
from pathlib import Path

import jinja2

from dotnet.codegen.audit import SCAN_DIFFERENTIATED_TWICE_LINES, audit
from dotnet.codegen.lower import ClassPlan
from dotnet.codegen.methods import Assign, Method
from dotnet.codegen.safe_text import doc_text
from dotnet.codegen.wrap import assignment_lines, code_lines, del_lines, for_lines, outer_items

LINE_LENGTH = 88


IMPORTS = (
    {"import math": "math", "from collections.abc import Callable, Sequence": "scan_cell"},
    {"import torch": "torch", "from torch import nn": "nn"},
)
"""Each import statement, in its group, with the name whose use needs it (``scan_cell``'s signature names
``Callable`` and ``Sequence``)."""


class Code(str):
    """Python the generator built: written into the template unchanged."""


def _finalize(value: object) -> object:
    """Every ``{{ ... }}`` of the template: code as it is, anything else as inert text."""
    if isinstance(value, Code):
        return value
    if isinstance(value, str):
        return doc_text(value)
    return value


def template_dir() -> Path:
    """Where the templates are: ``dotnet/templates`` in a wheel, ``templates/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if (installed / "module.py.jinja").is_file() else package.parent / "templates"


def doc_lines(text: str, indent: int, hanging: int = 4) -> Code:
    """``text`` as inert docstring lines within the line length (a long symbolic shape).

    ``indent`` is the first line's column; continuation lines are indented ``hanging``
    more. The text passes :func:`~dotnet.codegen.safe_text.doc_text` first.
    """
    lines = textwrap.wrap(
        doc_text(text),
        LINE_LENGTH - indent,
        subsequent_indent=" " * hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return Code(("\n" + " " * indent).join(lines))


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=_finalize,
    )
    environment.filters["doc_lines"] = doc_lines
    return environment


def signature(name: str, params: list[str], returns: str, indent: int = 4) -> Code:
    """A ``def`` line; past the line length, one parameter (and one return-type item) per line."""
    flat = f"def {name}({', '.join(params)}) -> {returns}:"
    if indent + len(flat) <= LINE_LENGTH:
        return Code(flat)
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{p},\n" for p in params)
    subscript = outer_items(returns, "[", "]")
    if indent + len(f") -> {returns}:") > LINE_LENGTH and subscript is not None:  # as ruff format wraps it
        outer, items = subscript
        lines = "".join(f"{pad}{item},\n" for item in items)
        returns = f"{outer}[\n{lines}{' ' * indent}]"
    return Code(f"def {name}(\n{body}{' ' * indent}) -> {returns}:")


def render_module(title: str, source: str, plans: list[ClassPlan]) -> str:
    """The text of one generated module holding ``plans`` in order, audited.

    ``title`` and ``source`` are text (they go into the module docstring). Raises
    :class:`~dotnet.codegen.audit.AuditError`, a bug in dotnet, if the source holds anything
    the generator does not emit.
    """
    imports = set().union(*(p.imports for p in plans))
    classes = []
    for plan in plans:
        init_params = ["self"] + _constructor_params(plan)
        forward_params = ["self"] + [f"{p.name}: torch.Tensor" for p in plan.inputs]
        returns = (
            "torch.Tensor" if len(plan.outputs) == 1 else f"tuple[{', '.join(['torch.Tensor'] * len(plan.outputs))}]"
        )
        body = LINE_LENGTH - 8  # statements sit inside a method or __init__
        reset = [f"self.{p.attr}" for p in plan.parameters if p.reset]
        classes.append(
            {
                **plan.__dict__,
                "parameter_lines": [
                    _code(assignment_lines(f"self.{s.attr}", s.expr, body, s.comment, above=True))
                    for s in plan.parameters
                ],
                "submodule_lines": [
                    _code(assignment_lines(f"self.{s.attr}", s.expr, body, s.comment, above=True))
                    for s in plan.submodules
                ],
                "forward_lines": _code(_forward_lines(plan, body)),
                "init_signature": signature("__init__", init_params, "None"),
                "forward_signature": signature("forward", forward_params, returns),
                "parameter_tuple": Code(_tuple(reset, 8 + len("for weight in ")) if reset else ""),
                "methods": [_method(m, body) for m in (plan.scan.methods if plan.scan else [])],
            }
        )
    template = _environment().get_template("module.py.jinja")
    images = any(p.images for p in plans)
    text = template.render(
        title=title,
        source=source,
        imports=imports,
        import_groups=import_groups(imports),
        classes=classes,
        images=images,
        # as "..." literals: the lines of the one message the audit admits
        scan_differentiated_twice=[Code(json.dumps(line)) for line in SCAN_DIFFERENTIATED_TWICE_LINES],
    )
    audit(text)
    return text


def import_groups(used: set[str]) -> list[list[Code]]:
    """The import statements for the names in ``used``, grouped as isort does: standard library, then torch."""
    groups = [[Code(line) for line, name in group.items() if name in used] for group in IMPORTS]
    return [g for g in groups if g]


def _code(lines: list[str]) -> list[Code]:
    return [Code(line) for line in lines]


def _forward_lines(plan: ClassPlan, width: int) -> list[str]:
    """``forward``'s body: the diagram's statements, or a cell's call of its step."""
    if plan.scan is not None and plan.scan.forward:
        return [line for raw in plan.scan.forward for line in code_lines(raw, width)]
    lines: list[str] = []
    for st in plan.statements:
        if st.loop is None:
            lines += assignment_lines(st.target, st.expr, width, st.comment)
        else:
            lines += for_lines(st.loop.variable, st.loop.iterable, width, st.loop.comment)
            lines += [f"    {line}" for line in assignment_lines(st.target, st.expr, width - 4, st.comment)]
        lines += del_lines(st.frees, width)
    return lines + [f"return {', '.join(p.name for p in plan.outputs)}"]


def _method(method: Method, width: int) -> dict[str, object]:
    """A method's signature, docstring lines and body lines for the template."""
    paragraphs = method.doc.split("\n\n")
    doc = [line for text in paragraphs for line in [*textwrap.wrap(text, width - 6), ""]][:-1]
    body: list[str] = []
    for line in method.lines:
        if isinstance(line, Assign):
            body += assignment_lines(line.target, line.expr, width, line.comment)
        else:
            body += code_lines(line, width)
    params = ["self", *method.params]
    return {"signature": signature(method.name, params, method.returns), "doc": doc, "lines": _code(body)}


def _tuple(items: list[str], indent: int) -> str:
    text = f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if indent + len(text) + 1 <= LINE_LENGTH:
        return text
    inner = " " * (indent - len("for weight in ") + 4)
    return "(\n" + "".join(f"{inner}{item},\n" for item in items) + " " * (indent - len("for weight in ")) + ")"


def _constructor_params(plan: ClassPlan) -> list[str]:
    """``n_in: int = 8`` per argument; keyword-only from the first default on when a later one has none."""
    params = [f"{a.name}: int" + (f" = {a.default}" if a.default is not None else "") for a in plan.args]
    first_default = next((i for i, a in enumerate(plan.args) if a.default is not None), None)
    if first_default is not None and any(a.default is None for a in plan.args[first_default:]):
        params.insert(first_default, "*")  # Python allows no argument without a default after one with
    return params
