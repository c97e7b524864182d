"""Ops on the last dimension: fully connected layers and embeddings."""

from __future__ import annotations

from dataclasses import dataclass

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, NoFacts, Op, OpEnv, SimpleOp, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, numel
from dotnet.reading.symbolic import Dim


@register
class Linear(SimpleOp):
    """``Linear[In, Out]``: ``nn.Linear`` over the last dimension."""

    declaration = Declaration(
        "Linear",
        aliases=("Dense", "FC"),
        torch="nn.Linear",
        args=(
            Arg("In", "size", "in_features", required=True),
            Arg("Out", "size", "out_features", required=True),
            Arg("Bias", "flag", "bias", default=True),
        ),
        shape="[..., In] -> [..., Out]",
        torch_call="nn.Linear(In, Out, bias=Bias)",
        costs="parameters: In*Out (+ Out with bias); multiply-adds: output elements * In",
        fresh_output=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.features_in = bound.size("In")
        self.features_out = bound.size("Out")
        self.bias = bound.flag("Bias")

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        if not x:
            raise self.rank_error(x, "a tensor whose last dimension is In")
        if env.value(self.features_in) != x[-1].size:
            raise self.mismatch(f"In={self.features_in} but its input's last dimension is {x[-1].size}")
        return x[:-1] + (Axis(None, env.value(self.features_out)),)

    def constructor_dims(self, facts: NoFacts) -> list[Dim]:
        return [self.features_in, self.features_out]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: NoFacts) -> Dim:
        return inputs[0][-1].size * output[-1].size + (output[-1].size if self.bias else 0)

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: NoFacts) -> Dim:
        return numel(output) * inputs[0][-1].size

    def module(self, w: CodeWriter, facts: NoFacts) -> str:
        bias = "" if self.bias else ", bias=False"
        return f"nn.Linear({w.dim(self.features_in)}, {w.dim(self.features_out)}{bias})"


@dataclass(frozen=True)
class EmbeddingFacts:
    """What an embedding's shape rule resolves."""

    vocab_size: Dim
    """The vocabulary size in the terms of the inference run (a block call's bindings applied)."""


@register
class Embedding(Op[EmbeddingFacts]):
    """``Embedding[VocabSize, NHidden]``: integer ids in, vectors out (``nn.Embedding``)."""

    declaration = Declaration(
        "Embedding",
        torch="nn.Embedding",
        args=(
            Arg("Vocab", "size", "num_embeddings", required=True, spellings=("V",)),
            Arg("Dim", "size", "embedding_dim", required=True, spellings=("D",)),
            Arg("padding_idx", "int", "padding_idx", help="the id whose vector stays zero"),
        ),
        shape="[...] of ids -> [..., Dim]",
        torch_call="nn.Embedding(Vocab, Dim, padding_idx=padding_idx)",
        costs="parameters: Vocab*Dim",
        reads_ids=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.vocab = bound.size("Vocab")
        self.width = bound.size("Dim")
        self.padding_idx = bound.maybe_whole("padding_idx")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[EmbeddingFacts]:
        (x,) = inputs
        return Inferred(x + (Axis(None, env.value(self.width)),), EmbeddingFacts(env.value(self.vocab)))

    def constructor_dims(self, facts: EmbeddingFacts) -> list[Dim]:
        return [self.vocab, self.width]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: EmbeddingFacts) -> Dim:
        return facts.vocab_size * output[-1].size

    def weight_shape(self) -> tuple[Dim, Dim] | None:
        return (self.vocab, self.width)

    def module(self, w: CodeWriter, facts: EmbeddingFacts) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"nn.Embedding({w.dim(self.vocab)}, {w.dim(self.width)}{padding})"
