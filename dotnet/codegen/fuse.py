"""Fewer kernels for a recurrent step's element-wise maths: rewrites of one Python expression.

A training step runs one kernel per operator, through Python, at every time step; at the
small sizes where that overhead is the cost, each kernel saved counts. The rewrites are
the algebra a reader checks at a glance:

- ``g * a + g * b`` -> ``g * (a + b)`` (and ``-(g * a) + g * b`` -> ``g * (b - a)``): one
  product instead of two, for the gradient terms the derivation adds up;
- ``x + a * b`` -> ``torch.addcmul(x, a, b)`` (``x - a * b``: ``value=-1``);
- ``x + a @ b`` -> ``torch.addmm(x, a, b)``, for steps whose tensors are all matrices
  (``matrices``: a derived step's are, as the derivation requires);
- ``1 - z`` -> ``torch.rsub(z, 1)``: the same kernel, without the Python-level
  ``Tensor.__rsub__`` that a number on the left goes through (about 3% of a small GRU
  step's time, for its one ``1 - z``).

Otherwise numbers are left where they are (``2 * x``, ``x - 1``): the fused forms take tensors.
"""

from __future__ import annotations

import ast
from typing import TypeGuard


def fused(expr: str, matrices: bool) -> str:
    """``expr`` with the rewrites applied, bottom up; the same text when none applies."""
    tree = ast.parse(expr, mode="eval")
    before = ast.dump(tree)  # the rewrite changes the tree in place
    rewritten = _Rewrite(matrices).visit(tree)
    return expr if ast.dump(rewritten) == before else ast.unparse(rewritten)


class _Rewrite(ast.NodeTransformer):
    def __init__(self, matrices: bool) -> None:
        self.matrices = matrices

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if not isinstance(node.op, ast.Add | ast.Sub):
            return node
        return _factored(node) or self.multiply_add(node) or _subtracted_from_number(node) or node

    def multiply_add(self, node: ast.BinOp) -> ast.expr | None:
        """``x + a * b`` as ``torch.addcmul``, ``x + a @ b`` as ``torch.addmm``; the right term folds first."""
        subtract = isinstance(node.op, ast.Sub)
        pairs = [(node.left, node.right)] if subtract else [(node.left, node.right), (node.right, node.left)]
        for rest, term in pairs:
            if _number(rest) or not isinstance(term, ast.BinOp):
                continue
            operands = [rest, term.left, term.right]
            if isinstance(term.op, ast.Mult) and not any(map(_number, operands[1:])):
                value = [ast.keyword("value", ast.Constant(-1))] if subtract else []
                return _torch("addcmul", operands, value)
            if isinstance(term.op, ast.MatMult) and self.matrices and not subtract:
                return _torch("addmm", operands)
        return None


def _subtracted_from_number(node: ast.BinOp) -> ast.expr | None:
    """``n - x`` as ``torch.rsub(x, n)`` for a number ``n`` and a tensor ``x``; ``None`` if not of that form."""
    if isinstance(node.op, ast.Sub) and _number(node.left) and not _number(node.right):
        return _torch("rsub", [node.right, node.left])
    return None


def _factored(node: ast.BinOp) -> ast.expr | None:
    """``±(g * a) ± (g * b)`` as ``g * (±a ± b)`` for a variable ``g``; ``None`` if not of that form."""
    (sign_a, left), (sign_b, right) = _signed(node.left), _signed(node.right)
    if isinstance(node.op, ast.Sub):
        sign_b = -sign_b
    if not (_product(left) and _product(right)) or sign_a + sign_b < 0:
        return None
    common = left.left
    if not isinstance(common, ast.Name) or ast.dump(common) != ast.dump(right.left):
        return None
    a, b = left.right, right.right
    inner = ast.BinOp(b, ast.Sub(), a) if sign_a < 0 else ast.BinOp(a, ast.Add() if sign_b > 0 else ast.Sub(), b)
    return ast.BinOp(common, ast.Mult(), inner)


def _signed(node: ast.expr) -> tuple[int, ast.expr]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -1, node.operand
    return 1, node


def _product(node: ast.expr) -> TypeGuard[ast.BinOp]:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)


def _number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and _number(node.operand))


def _torch(function: str, args: list[ast.expr], keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(ast.Attribute(ast.Name("torch", ast.Load()), function, ast.Load()), args, keywords or [])
