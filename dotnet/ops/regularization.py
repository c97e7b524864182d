"""Ops that act only while training: dropout."""

from __future__ import annotations

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Op, OpEnv, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape


@register
class Dropout(Op):
    """``Dropout(0.5)`` or ``Dropout[p=0.5]``: ``nn.Dropout``; identity in eval mode."""

    declaration = Declaration(
        "Dropout",
        torch="nn.Dropout",
        args=(Arg("p", "float", "p", default=0.5, spellings=("rate", "prob")),),
        elementwise=True,
        identity_in_eval=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        value = bound.get("p", 0.5)
        rate = float(value) if isinstance(value, float) else value.constant_value()
        if rate is None or not 0 <= rate < 1:
            raise self.arg_error(f"p={value} must be a number in [0, 1)")
        self.rate = float(rate)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        return inputs[0]

    def module(self, w: CodeWriter) -> str:
        return f"nn.Dropout(p={self.rate!r})"
