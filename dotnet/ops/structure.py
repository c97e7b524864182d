"""Ops that rearrange tensors without weights: flattening and channel concatenation."""

from __future__ import annotations

from dotnet.analysis.infer import Env
from dotnet.ops.base import CodeWriter, Op, register
from dotnet.reading.shape import Axis, Shape, diagram_text, numel


@register("Flatten")
class Flatten(Op):
    """``Flatten``: every dimension after the batch into one, as ``nn.Flatten()`` does."""

    name = "Flatten"

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        self.no_args()
        (x,) = inputs
        if len(x) < 2:
            raise self.rank_error(x, "a batch of at least one dimension")
        return (x[0], Axis(None, numel(x[1:])))

    def module(self, w: CodeWriter) -> str:
        return "nn.Flatten()"


@register("Concat", "Cat", "Concatenate")
class Concat(Op):
    """``Concat``: the in-edges joined along the channel axis, in the order the file writes them."""

    name = "Concat"
    min_inputs = 2
    max_inputs = None

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        self.no_args()
        first = inputs[0]
        if len(first) < 2:
            raise self.rank_error(first, "tensors with a channel axis after the batch")
        channels = first[1].size
        for shape in inputs[1:]:
            others_differ = any(a.size != b.size for i, (a, b) in enumerate(zip(first, shape)) if i != 1)
            if len(shape) != len(first) or others_differ:
                raise self.mismatch(
                    f"joins channels, so all other sizes must agree: {diagram_text(first)} and {diagram_text(shape)}"
                )
            channels = channels + shape[1].size
        return (first[0], Axis(first[1].name, channels), *first[2:])

    def forward(self, w: CodeWriter, args: list[str], attr: str) -> str:
        return f"torch.cat(({', '.join(args)}), dim=1)"
