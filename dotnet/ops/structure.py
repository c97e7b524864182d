"""Ops that rearrange tensors without weights: flattening and channel concatenation (more in ``tensors``)."""

from __future__ import annotations

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Op, OpEnv, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text, numel


@register
class Flatten(Op):
    """``Flatten``: every dimension after the batch into one, as ``nn.Flatten()`` does.

    ``Flatten[2]`` or ``Flatten[Start=1, End=2]`` joins the axes from ``Start`` to ``End``
    (PyTorch's ``start_dim``, ``end_dim``; the defaults 1 and -1).
    """

    declaration = Declaration(
        "Flatten",
        torch="nn.Flatten",
        args=(Arg("Start", "int", "start_dim", default=1), Arg("End", "int", "end_dim", default=-1)),
        keeps_range=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.start, self.end = bound.whole("Start"), bound.whole("End")
        self.span = (1, -1)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        if len(x) < 2:
            raise self.rank_error(x, "a batch of at least one dimension")
        rank = len(x)
        start, end = self.start, self.end
        if not (-rank <= start < rank and -rank <= end < rank) or start % rank > end % rank:
            raise self.arg_error(f"Start={start}, End={end} name no run of axes of {diagram_text(x)}")
        first, last = start % rank, end % rank
        self.span = (first, last if end >= 0 else end)
        return x[:first] + (Axis(None, numel(x[first : last + 1])),) + x[last + 1 :]

    def module(self, w: CodeWriter) -> str:
        start, end = self.span
        return (
            "nn.Flatten()"
            if self.span == (1, -1)
            else f"nn.Flatten({start})"
            if end == -1
            else f"nn.Flatten({start}, {end})"
        )


@register
class Concat(Op):
    """``Concat``: the in-edges joined along the channel axis, in the order the file writes them."""

    declaration = Declaration("Concat", aliases=("Cat", "Concatenate"), torch="torch.cat", keeps_range=True)
    min_inputs = 2
    max_inputs = None

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
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
