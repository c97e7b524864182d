"""The statements and methods a generated class gets beyond its constructor and ``forward``."""

from __future__ import annotations

from dataclasses import dataclass

TENSOR = "torch.Tensor"


@dataclass
class Assign:
    """``target = expr  # comment``: a statement the template fits to the line length."""

    target: str
    expr: str
    comment: str = ""


@dataclass
class Method:
    """A method of the cell class: parameters after ``self`` as ``name: type``, and its body."""

    name: str
    params: list[str]
    returns: str
    doc: str
    lines: list[str | Assign]
