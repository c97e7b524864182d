"""Ops that act only while training: dropout."""

from __future__ import annotations

from dotnet.analysis.infer import Env
from dotnet.ops.base import CodeWriter, Op, register
from dotnet.reading.shape import Shape


@register("Dropout")
class Dropout(Op):
    """``Dropout(0.5)`` or ``Dropout[p=0.5]``: ``nn.Dropout``; identity in eval mode."""

    name = "Dropout"

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        bound = self.bind((("p", ("rate", "prob")),))
        value = bound.get("p", 0.5)
        rate = float(value) if isinstance(value, float) else value.constant_value()
        if rate is None or not 0 <= rate < 1:
            raise self.arg_error(f"p={value} must be a number in [0, 1)")
        self.rate = float(rate)

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        return inputs[0]

    def module(self, w: CodeWriter) -> str:
        return f"nn.Dropout(p={self.rate!r})"
