"""Ops on the last dimension: fully connected layers and embeddings."""

from __future__ import annotations

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Op, OpEnv, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, numel
from dotnet.reading.symbolic import Dim


@register
class Linear(Op):
    """``Linear[In, Out]``: ``nn.Linear`` over the last dimension."""

    declaration = Declaration(
        "Linear",
        aliases=("Dense", "FC"),
        torch="nn.Linear",
        args=(Arg("In", "size", "in_features", required=True), Arg("Out", "size", "out_features", required=True)),
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.features_in = self.size_arg(bound, "In")
        self.features_out = self.size_arg(bound, "Out")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        assert self.features_in is not None and self.features_out is not None
        if env.value(self.features_in) != x[-1].size:
            raise self.mismatch(f"In={self.features_in} but its input's last dimension is {x[-1].size}")
        return x[:-1] + (Axis(None, env.value(self.features_out)),)

    def constructor_dims(self) -> list[Dim]:
        return [d for d in (self.features_in, self.features_out) if d is not None]

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        return inputs[0][-1].size * output[-1].size + output[-1].size

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        return numel(output) * inputs[0][-1].size

    def module(self, w: CodeWriter) -> str:
        assert self.features_in is not None and self.features_out is not None
        return f"nn.Linear({w.dim(self.features_in)}, {w.dim(self.features_out)})"


@register
class Embedding(Op):
    """``Embedding[VocabSize, NHidden]``: integer ids in, vectors out (``nn.Embedding``)."""

    declaration = Declaration(
        "Embedding",
        torch="nn.Embedding",
        args=(
            Arg("Vocab", "size", "num_embeddings", required=True, spellings=("V",)),
            Arg("Dim", "size", "embedding_dim", required=True, spellings=("D",)),
        ),
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.vocab = self.size_arg(bound, "Vocab")
        self.width = self.size_arg(bound, "Dim")
        self.vocab_size = self.vocab
        """The vocabulary size in the terms of the inference run (a block call's bindings applied)."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        assert self.vocab is not None and self.width is not None
        self.vocab_size = env.value(self.vocab)
        return x + (Axis(None, env.value(self.width)),)

    def constructor_dims(self) -> list[Dim]:
        return [d for d in (self.vocab, self.width) if d is not None]

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        assert self.vocab_size is not None
        return self.vocab_size * output[-1].size

    def weight_shape(self) -> tuple[Dim, Dim] | None:
        assert self.vocab is not None and self.width is not None
        return (self.vocab, self.width)

    def module(self, w: CodeWriter) -> str:
        assert self.vocab is not None and self.width is not None
        return f"nn.Embedding({w.dim(self.vocab)}, {w.dim(self.width)})"
