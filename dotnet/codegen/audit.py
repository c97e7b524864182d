"""An allow-list audit of generated source, run before the source is written or imported.

The code generator emits a small, fixed language: imports of ``torch`` and ``math``,
``nn.Module`` classes, methods, assignments, ``del`` of locals after their last
use, ``for`` loops over ``range`` or a layer list, calls and arithmetic; and, for
recurrent cells, the scan helpers written once in the template (``RecurrentScan``,
``scan_cell``, ``CellStack``: ``if``, ``with``, comprehensions, ``@staticmethod``).
:func:`audit` parses the source with :mod:`ast` and refuses anything else: another
import, another decorator, a name nothing in the module binds (``os``, ``exec``,
``__import__``), a dunder attribute, or a string constant anywhere but in docstring
position, in ``__all__`` and among the words ops pass to torch as keyword values
(``padding="same"``, ``mode="bilinear"``). A refusal is a bug in
dotnet (diagram text must never get this far), so it raises :class:`AuditError`,
which the command line reports as an internal error (exit 3).
"""

from __future__ import annotations

import ast

ALLOWED_IMPORTS = {
    "__future__": {"annotations"},
    "torch": {"nn"},
    "collections.abc": {"Callable", "Sequence"},
    "torch._higher_order_ops": {"scan"},
}
"""``from MODULE import NAME`` forms the generator writes."""
ALLOWED_MODULES = frozenset({"math", "torch"})
"""``import MODULE`` forms the generator writes."""
ALLOWED_BUILTINS = frozenset(
    {"super", "range", "int", "bool", "str", "tuple", "list", "len", "zip", "any", "staticmethod", "RuntimeError"}
)
"""Builtins generated code may use by name."""
ALLOWED_DUNDERS = frozenset({"__init__", "__all__"})
"""Dunder names generated code may define or use."""
ALLOWED_BASES = frozenset({"nn.Module", "nn.ModuleList", "torch.autograd.Function"})
"""Base classes of generated classes: modules, the cell stack, and the recurrent scan's autograd function."""
ALLOWED_WORDS = frozenset(
    {"same", "valid", "none", "tanh", "nearest", "linear", "bilinear", "bicubic", "trilinear", "relu", "gelu"}
)
"""String values op declarations pass to torch (a test keeps this in step with their choices)."""
SCAN_DIFFERENTIATED_TWICE_LINES = (
    "a formula cell's scan has a backward of its own, derived from its",
    " formulas, which cannot be differentiated again (create_graph=True);",
    " for higher-order gradients call the cell's forward once per step",
)
"""The error a scan's backward raises when asked for a graph, as the template writes it, line by line."""
SCAN_DIFFERENTIATED_TWICE = "".join(SCAN_DIFFERENTIATED_TWICE_LINES)
"""That error's message, the one string constant outside docstrings and words the audit admits."""

_NODES: tuple[type[ast.AST], ...] = (
    ast.Module, ast.Expr, ast.ImportFrom, ast.Import, ast.alias, ast.ClassDef, ast.FunctionDef,
    ast.arguments, ast.arg, ast.Assign, ast.Delete, ast.Return, ast.For, ast.Call, ast.keyword,
    ast.Attribute, ast.Name, ast.Constant, ast.Tuple, ast.List, ast.Subscript, ast.Slice, ast.Starred,
    ast.GeneratorExp, ast.comprehension, ast.BinOp, ast.UnaryOp, ast.Load, ast.Store, ast.Del,
    ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub,
    # the recurrent scan written once in the template (RecurrentScan, scan_cell, CellStack)
    ast.If, ast.IfExp, ast.Compare, ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.Gt, ast.GtE, ast.BoolOp,
    ast.And, ast.Or, ast.Not,
    ast.With, ast.withitem, ast.ListComp, ast.AugAssign, ast.BitOr, ast.Raise,
)  # fmt: skip
"""Every kind of syntax node the generator emits; any other kind is refused."""


class AuditError(Exception):
    """Generated source holds something the generator does not emit: a bug in dotnet."""


def audit(source: str) -> None:
    """Raise :class:`AuditError` unless ``source`` holds only what the generator emits."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise AuditError(f"generated source does not parse: {exc}") from None
    docstrings = _docstrings(tree)
    bound = _bound_names(tree)
    for node in ast.walk(tree):
        _check(node, docstrings, bound)


def _check(node: ast.AST, docstrings: set[int], bound: set[str]) -> None:
    if not isinstance(node, _NODES):
        raise AuditError(f"line {_line(node)}: {type(node).__name__} is not something dotnet generates")
    if isinstance(node, ast.ImportFrom):
        allowed = ALLOWED_IMPORTS.get(node.module or "", set())
        if node.level or any(a.name not in allowed or a.asname for a in node.names):
            raise AuditError(f"line {node.lineno}: import from {node.module!r} is not one dotnet writes")
    elif isinstance(node, ast.Import):
        if any(a.name not in ALLOWED_MODULES or a.asname for a in node.names):
            raise AuditError(f"line {node.lineno}: import of {', '.join(a.name for a in node.names)}")
    elif isinstance(node, ast.ClassDef | ast.FunctionDef):
        methods_only = isinstance(node, ast.FunctionDef)
        if any(not methods_only or ast.unparse(d) != "staticmethod" for d in node.decorator_list):
            raise AuditError(f"line {node.lineno}: decorator on {node.name}")
        bases = node.bases if isinstance(node, ast.ClassDef) else []
        if isinstance(node, ast.ClassDef) and (
            node.keywords or len(bases) != 1 or ast.unparse(bases[0]) not in ALLOWED_BASES
        ):
            raise AuditError(f"line {node.lineno}: class {node.name} is not a plain nn.Module")
        _check_name(node.name, node)
    elif isinstance(node, ast.Name):
        _check_name(node.id, node)
        if isinstance(node.ctx, ast.Load) and node.id not in bound and node.id not in ALLOWED_BUILTINS:
            raise AuditError(f"line {node.lineno}: name {node.id!r} is bound nowhere in the module")
    elif isinstance(node, ast.Attribute):
        _check_name(node.attr, node)
    elif isinstance(node, ast.arg):
        _check_name(node.arg, node)
    elif isinstance(node, ast.Constant):
        _check_constant(node, docstrings)


def _check_name(name: str, node: ast.AST) -> None:
    if name.startswith("__") and name not in ALLOWED_DUNDERS:
        raise AuditError(f"line {_line(node)}: dunder name {name!r}")


def _check_constant(node: ast.Constant, docstrings: set[int]) -> None:
    value = node.value
    if value is None or value is Ellipsis or isinstance(value, bool | int | float):
        return
    if isinstance(value, str) and (
        id(node) in docstrings or value in ALLOWED_WORDS or value == SCAN_DIFFERENTIATED_TWICE
    ):
        return
    raise AuditError(f"line {node.lineno}: constant {value!r:.60} is not one dotnet generates")


def _docstrings(tree: ast.Module) -> set[int]:
    """Ids of the string constants in docstring position, and of the class names in ``__all__``."""
    found: set[int] = set()
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and [ast.unparse(t) for t in stmt.targets] == ["__all__"]:
            if isinstance(stmt.value, ast.List):
                found |= {id(e) for e in stmt.value.elts if isinstance(e, ast.Constant) and e.value in classes}
    return found


def _bound_names(tree: ast.Module) -> set[str]:
    """Every name the module binds: imports, classes, functions, arguments, assignment and loop targets."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.alias):
            bound.add(node.asname or node.name)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    return bound


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 0)
