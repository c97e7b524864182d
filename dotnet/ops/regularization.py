"""Ops that act only while training: the dropout variants; and the identity."""

from __future__ import annotations

from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, NoFacts, OpEnv, SimpleOp, declare, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape

RATE = Arg("p", "float", "p", default=0.5, spellings=("rate", "prob"), help="in [0, 1)")


class _Dropout(SimpleOp):
    """``Dropout(0.5)`` or ``Dropout[p=0.5]``: zeroes elements (or channels) while training; identity in eval mode."""

    torch_class: ClassVar[str]
    ranks: ClassVar[tuple[int, ...] | None] = None
    """Input ranks PyTorch takes (``None``: any)."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.rate = self.bind_declared().number("p")
        if not 0 <= self.rate < 1:
            raise self.arg_error(f"p={self.rate!r} must be a number in [0, 1)")

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        if self.ranks is not None and len(x) not in self.ranks:
            raise self.rank_error(x, f"a tensor of rank {' or '.join(map(str, self.ranks))}")
        return x

    def module(self, w: CodeWriter, facts: NoFacts) -> str:
        return f"nn.{self.torch_class}(p={self.rate!r})"

    def in_place_module(self, w: CodeWriter, facts: NoFacts) -> str | None:
        return f"nn.{self.torch_class}(p={self.rate!r}, inplace=True)"


def _dropout(name: str, torch_class: str, doc: str, ranks: tuple[int, ...] | None = None) -> None:
    declaration = Declaration(
        name,
        torch=f"nn.{torch_class}",
        args=(RATE,),
        shape="the same shape",
        torch_call=f"nn.{torch_class}(p=p)",
        identity_in_eval=True,
        in_place=True,
    )
    declare(_Dropout, declaration, doc, torch_class=torch_class, ranks=ranks)


_dropout("Dropout", "Dropout", "Zeroes each element with probability p.")
_dropout("Dropout1D", "Dropout1d", "Zeroes whole channels of signals [BatchSize, L, C].", (2, 3))
_dropout("Dropout2D", "Dropout2d", "Zeroes whole channels of images.", (3, 4))
_dropout("Dropout3D", "Dropout3d", "Zeroes whole channels of volumes.", (4, 5))
_dropout("AlphaDropout", "AlphaDropout", "Dropout that keeps SELU's mean and variance.")
_dropout("FeatureAlphaDropout", "FeatureAlphaDropout", "AlphaDropout of whole channels.")


@register
class Identity(SimpleOp):
    """Passes its input through unchanged (a placeholder layer)."""

    declaration = Declaration(
        "Identity",
        torch="nn.Identity",
        shape="the same shape",
        torch_call="nn.Identity()",
        elementwise=True,
        keeps_range=True,
        identity_in_eval=True,
    )

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        self.no_args()
        return inputs[0]

    def module(self, w: CodeWriter, facts: NoFacts) -> str:
        return "nn.Identity()"
