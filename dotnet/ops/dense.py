"""Ops on the last dimension: fully connected layers and embeddings."""

from __future__ import annotations

from dotnet.analysis.infer import Env
from dotnet.ops.args import REQUIRED, Arg, Kind
from dotnet.ops.base import CodeWriter, Op, register
from dotnet.reading.shape import Axis, Shape, numel
from dotnet.reading.symbolic import Dim


@register("Linear", "Dense", "FC")
class Linear(Op):
    """``Linear[In, Out]``: ``nn.Linear`` over the last dimension."""

    name = "Linear"
    args = (
        Arg("In", "in_features", Kind.SIZE, REQUIRED),
        Arg("Out", "out_features", Kind.SIZE, REQUIRED),
        Arg("Bias", "bias", Kind.FLAG, True),
    )
    shape_rule = "[..., In] -> [..., Out]"
    torch_form = "nn.Linear(In, Out, bias=Bias)"
    costs = "parameters: In*Out (+ Out with bias); multiply-adds: output elements * In"

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        bound = self.bind_declared()
        self.features_in: Dim = bound["In"]  # type: ignore[assignment]
        self.features_out: Dim = bound["Out"]  # type: ignore[assignment]
        self.bias = bool(bound["Bias"])

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        (x,) = inputs
        if env.value(self.features_in) != x[-1].size:
            raise self.mismatch(f"In={self.features_in} but its input's last dimension is {x[-1].size}")
        return x[:-1] + (Axis(None, env.value(self.features_out)),)

    def constructor_dims(self) -> list[Dim]:
        return [self.features_in, self.features_out]

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        return inputs[0][-1].size * output[-1].size + (output[-1].size if self.bias else 0)

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        return numel(output) * inputs[0][-1].size

    def module(self, w: CodeWriter) -> str:
        bias = "" if self.bias else ", bias=False"
        return f"nn.Linear({w.dim(self.features_in)}, {w.dim(self.features_out)}{bias})"


@register("Embedding")
class Embedding(Op):
    """``Embedding[VocabSize, NHidden]``: integer ids in, vectors out (``nn.Embedding``)."""

    name = "Embedding"
    args = (
        Arg("Vocab", "num_embeddings", Kind.SIZE, REQUIRED, aliases=("V",)),
        Arg("Dim", "embedding_dim", Kind.SIZE, REQUIRED, aliases=("D",)),
        Arg("padding_idx", "padding_idx", Kind.WHOLE, None, help="the id whose vector stays zero"),
    )
    shape_rule = "[...] of ids -> [..., Dim]"
    torch_form = "nn.Embedding(Vocab, Dim, padding_idx=padding_idx)"
    costs = "parameters: Vocab*Dim"

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        bound = self.bind_declared()
        self.vocab: Dim = bound["Vocab"]  # type: ignore[assignment]
        self.width: Dim = bound["Dim"]  # type: ignore[assignment]
        self.padding_idx: int | None = bound["padding_idx"]  # type: ignore[assignment]
        self.vocab_size = self.vocab
        """The vocabulary size in the terms of the inference run (a block call's bindings applied)."""

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        (x,) = inputs
        self.vocab_size = env.value(self.vocab)
        return x + (Axis(None, env.value(self.width)),)

    def constructor_dims(self) -> list[Dim]:
        return [self.vocab, self.width]

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        return self.vocab_size * output[-1].size

    def weight_shape(self) -> tuple[Dim, Dim] | None:
        return (self.vocab, self.width)

    def module(self, w: CodeWriter) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"nn.Embedding({w.dim(self.vocab)}, {w.dim(self.width)}{padding})"
