"""Operator nodes ``@ + * -``: operands are the incoming edges in the order the file writes them."""

from __future__ import annotations

from typing import Any

from dotnet import codes
from dotnet.analysis.ir import OpNode
from dotnet.diagnostics import error
from dotnet.limits import MAX_OPERANDS
from dotnet.ops.base import CodeWriter, Inferred, NoFacts, Op, OpEnv, SimpleOp, register
from dotnet.ops.declaration import Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text, numel
from dotnet.reading.symbolic import Dim

_ONE = Dim.const(1)


def broadcast(op: Op[Any], shapes: list[Shape]) -> Shape:
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


class _Elementwise(SimpleOp):
    """A broadcasting arithmetic operator, written in generated code as its symbol (its name)."""

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        self.no_args()
        return broadcast(self, inputs)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: NoFacts) -> str:
        return f" {self.name} ".join(args)


@register
class Add(_Elementwise):
    """``+``: the sum of up to 256 operands (a residual connection, a bias)."""

    declaration = Declaration(
        "+",
        aliases=("Add", "Sum"),
        torch="torch.add",
        elementwise=True,
        min_inputs=2,
        max_inputs=MAX_OPERANDS,
        operator="+",
        fresh_output=True,
    )


@register
class Mul(_Elementwise):
    """``*``: element-wise product of two operands."""

    declaration = Declaration(
        "*", aliases=("Mul",), torch="torch.mul", elementwise=True, min_inputs=2, max_inputs=2, operator="*"
    )


@register
class Sub(_Elementwise):
    """``-``: the first operand minus the second."""

    declaration = Declaration(
        "-", aliases=("Sub",), torch="torch.sub", elementwise=True, min_inputs=2, max_inputs=2, operator="-"
    )


@register
class Div(_Elementwise):
    """``/``: the first operand divided by the second, element by element."""

    declaration = Declaration("/", aliases=("Div",), torch="torch.div", elementwise=True, min_inputs=2, max_inputs=2)


@register
class MatMul(Op[str | None]):
    """``@``: matrix product of two operands, ``[..., N, K] @ [K, M]`` -> ``[..., N, M]``.

    ``@ Embedding.w.T [NHidden, VocabSize]`` takes its right operand inline: the
    (transposed) weight of the node whose op is ``Embedding``, shared, not copied.
    """

    declaration = Declaration(
        "@", aliases=("MatMul",), torch="torch.matmul", min_inputs=2, max_inputs=2, inline_operand=True, operator="@"
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[str | None]:
        """The product's shape; the facts are the node whose weight is the inline right operand, if any."""
        if self.call.operand is not None:
            tied, operand = self._operand(env)
            return Inferred(self._product(inputs[0], operand), tied)
        self.no_args()
        return Inferred(self._product(*inputs), None)

    def _operand(self, env: OpEnv) -> tuple[str, Shape]:
        """The node ``Node.w`` or ``Node.w.T`` names and the operand's shape, checked against the label's ``[K, M]``."""
        assert self.call.operand is not None
        owner, *path = self.call.operand
        matches = env.nodes_named(owner)
        if len(matches) != 1 or path not in (["w"], ["w", "T"], ["weight"], ["weight", "T"]):
            found = ", ".join(repr(n.id) for n in matches) or "none"
            raise error(
                codes.BAD_OPERAND,
                f"node {self.node.id!r}: operand {'.'.join(self.call.operand)} must name exactly one node whose op "
                f"or id is {owner!r} (found {found}) and end in .w or .w.T",
                self.node.location,
                self.node.id,
            )
        weight = env.weight_of(matches[0])
        if weight is None:
            raise error(
                codes.BAD_OPERAND,
                f"node {self.node.id!r}: node {matches[0].id!r} has no weight to use as an operand",
                self.node.location,
                self.node.id,
            )
        rows, cols = (weight[1], weight[0]) if path[-1] == "T" else weight
        shape = (Axis(None, env.value(rows)), Axis(None, env.value(cols)))
        declared = self.call.positional
        if declared:
            if len(declared) != 2 or any(isinstance(d, float) for d in declared):
                raise self.arg_error("the operand's shape is written [ROWS, COLS]")
            wanted = tuple(Axis(None, env.value(d)) for d in declared if not isinstance(d, float))
            if wanted != shape:
                raise self.mismatch(
                    f"the label says the operand is {diagram_text(wanted)}, but {'.'.join(self.call.operand)} "
                    f"is {diagram_text(shape)}"
                )
        return matches[0].id, shape

    def _product(self, a: Shape, b: Shape) -> Shape:
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

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: str | None) -> Dim:
        return numel(output) * inputs[0][-1].size

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: str | None) -> str:
        if facts is not None:
            assert self.call.operand is not None
            transpose = ".T" if self.call.operand[-1] == "T" else ""
            return f"{args[0]} @ self.{w.node_attr(facts)}.weight{transpose}"
        return f"{args[0]} @ {args[1]}"
