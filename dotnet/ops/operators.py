"""Operator nodes ``@ + * -``: operands are the incoming edges in the order the file writes them."""

from __future__ import annotations

from typing import ClassVar

from dotnet.infer import Env
from dotnet.ops.base import CodeWriter, Op, register
from dotnet.shape import Axis, Shape, diagram_text, numel
from dotnet.symbolic import Dim

_ONE = Dim.const(1)


def broadcast(op: Op, shapes: list[Shape]) -> Shape:
    """The broadcast of ``shapes`` by PyTorch's rules, or an error naming both sides."""
    result = list(shapes[0])
    for shape in shapes[1:]:
        if len(shape) > len(result):
            result = list(shape[: len(shape) - len(result)]) + result
        offset = len(result) - len(shape)
        for i, axis in enumerate(shape):
            mine = result[offset + i]
            if mine.size == axis.size or axis.size == _ONE:
                continue
            if mine.size == _ONE:
                result[offset + i] = axis
                continue
            raise op.mismatch(f"operands {diagram_text(shapes[0])} and {diagram_text(shape)} do not broadcast together")
    return tuple(result)


class _Elementwise(Op):
    symbol: ClassVar[str]

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        self.no_args()
        return broadcast(self, inputs)

    def forward(self, w: CodeWriter, args: list[str], attr: str) -> str:
        return f" {self.symbol} ".join(args)


@register("+", "Add", "Sum")
class Add(_Elementwise):
    """``+``: the sum of any number of operands (a residual connection, a bias)."""

    name = "+"
    symbol = "+"
    min_inputs = 2
    max_inputs = None


@register("*", "Mul")
class Mul(_Elementwise):
    """``*``: element-wise product of two operands."""

    name = "*"
    symbol = "*"
    min_inputs = 2
    max_inputs = 2


@register("-", "Sub")
class Sub(_Elementwise):
    """``-``: the first operand minus the second."""

    name = "-"
    symbol = "-"
    min_inputs = 2
    max_inputs = 2


@register("@", "MatMul")
class MatMul(Op):
    """``@``: matrix product of two operands, ``[..., N, K] @ [K, M]`` -> ``[..., N, M]``."""

    name = "@"
    min_inputs = 2
    max_inputs = 2

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        self.no_args()
        a, b = inputs
        if len(b) < 2 or len(a) < 1:
            raise self.mismatch(f"cannot multiply {diagram_text(a)} by {diagram_text(b)}")
        if a[-1].size != b[-2].size:
            raise self.mismatch(
                f"{diagram_text(a)} @ {diagram_text(b)}: inner sizes {a[-1].size} and {b[-2].size} differ"
            )
        batch = broadcast(self, [a[:-2] or (), b[:-2]]) if len(b) > 2 else a[:-1]
        if len(b) > 2:
            return tuple(batch) + (a[-2], Axis(None, b[-1].size))
        return tuple(batch) + (Axis(None, b[-1].size),)

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        return numel(output) * inputs[0][-1].size

    def forward(self, w: CodeWriter, args: list[str], attr: str) -> str:
        return f"{args[0]} @ {args[1]}"
