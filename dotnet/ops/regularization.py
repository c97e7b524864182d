"""Ops that act only while training: the dropout variants; and the identity."""

from __future__ import annotations

from typing import ClassVar

from dotnet.analysis.infer import Env
from dotnet.analysis.ir import OpNode
from dotnet.ops.args import Arg
from dotnet.ops.base import CodeWriter, Op, declare, register
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape

RATE = Arg("p", "float", "p", default=0.5, spellings=("rate", "prob"), help="in [0, 1)")


class _Dropout(Op):
    """``Dropout(0.5)`` or ``Dropout[p=0.5]``: zeroes elements (or channels) while training; identity in eval mode."""

    torch_class: ClassVar[str]
    ranks: ClassVar[tuple[int, ...] | None] = None
    """Input ranks PyTorch takes (``None``: any)."""
    args = (RATE,)
    shape_rule = "the same shape"

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.rate = self.bind_declared().number("p")
        if not 0 <= self.rate < 1:
            raise self.arg_error(f"p={self.rate!r} must be a number in [0, 1)")

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        (x,) = inputs
        if self.ranks is not None and len(x) not in self.ranks:
            raise self.rank_error(x, f"a tensor of rank {' or '.join(map(str, self.ranks))}")
        return x

    def module(self, w: CodeWriter) -> str:
        return f"nn.{self.torch_class}(p={self.rate!r})"


declare(_Dropout, "Dropout", doc="Zeroes each element with probability p.", torch_class="Dropout",
        torch_form="nn.Dropout(p=p)")  # fmt: skip
declare(_Dropout, "Dropout1D", doc="Zeroes whole channels of signals [BatchSize, L, C].", torch_class="Dropout1d",
        ranks=(2, 3), torch_form="nn.Dropout1d(p=p)")  # fmt: skip
declare(_Dropout, "Dropout2D", doc="Zeroes whole channels of images.", torch_class="Dropout2d", ranks=(3, 4),
        torch_form="nn.Dropout2d(p=p)")  # fmt: skip
declare(_Dropout, "Dropout3D", doc="Zeroes whole channels of volumes.", torch_class="Dropout3d", ranks=(4, 5),
        torch_form="nn.Dropout3d(p=p)")  # fmt: skip
declare(_Dropout, "AlphaDropout", doc="Dropout that keeps SELU's mean and variance.", torch_class="AlphaDropout",
        torch_form="nn.AlphaDropout(p=p)")  # fmt: skip
declare(_Dropout, "FeatureAlphaDropout", doc="AlphaDropout of whole channels.", torch_class="FeatureAlphaDropout",
        torch_form="nn.FeatureAlphaDropout(p=p)")  # fmt: skip


@register("Identity")
class Identity(Op):
    """Passes its input through unchanged (a placeholder layer)."""

    name = "Identity"
    elementwise = True
    shape_rule = "the same shape"
    torch_form = "nn.Identity()"

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        self.no_args()
        return inputs[0]

    def module(self, w: CodeWriter) -> str:
        return "nn.Identity()"
