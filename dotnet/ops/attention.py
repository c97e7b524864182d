"""Attention and Transformer layers as ops, batch first: ``[BatchSize, SeqLen, DModel]`` in and out.

``MultiheadAttention[DModel, Heads]`` attends from its first in-edge (the queries) to
its second (keys and values; with one in-edge it is self-attention, with three the
keys and values are separate). ``TransformerEncoderLayer`` and
``TransformerDecoderLayer`` are PyTorch's layers; the decoder's in-edges are the
target sequence, then the encoder's output (the memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.args import Bound
from dotnet.ops.base import CodeWriter, Inferred, Op, OpEnv, register
from dotnet.ops.declaration import Arg, Declaration, Qualifier
from dotnet.reading.labels import OpCall, format_arg
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.symbolic import Dim

ACTIVATIONS = ("relu", "gelu")
"""The feed-forward activations PyTorch's Transformer layers take."""
CAUSAL = Arg(
    "Causal", "flag", default=False, spellings=("is_causal", "masked"), help="a position attends to itself and before"
)


CAUSAL_WORDS = tuple(Qualifier(word, (("Causal", Dim.sym("True")),)) for word in ("masked", "causal"))
"""``Masked MultiheadAttention``, ``Causal TransformerEncoderLayer``: the words mean Causal=True."""


def causal_mask(queries: str, keys: str) -> str:
    """The expression of the boolean mask that hides, from query i, every key after position i."""
    size = f"{queries}.shape[1], {keys}.shape[1]"
    return f"torch.ones({size}, dtype=torch.bool, device={queries}.device).triu(1)"


@dataclass(frozen=True)
class AttentionFacts:
    """The sizes an attention layer's costs need, in the terms of the inference run (a block call's values)."""

    width: Dim
    feedforward: Dim = Dim.const(0)
    """The feed-forward width of a transformer layer (0 for plain attention)."""


class _Attending(Op[AttentionFacts]):
    """Shared arguments: the model width, the number of heads, dropout."""

    def check_width(self, x: Shape, env: OpEnv, what: str) -> None:
        if len(x) != 3:
            raise self.rank_error(x, f"{what} [BatchSize, SeqLen, DModel]")
        width = env.value(self.width)
        if x[2].size != width:
            raise self.mismatch(f"DModel={width} but {what}'s last dimension is {x[2].size}")
        heads = env.value(self.heads)
        known, known_heads = width.int_value(), heads.int_value()
        if known_heads is not None and known_heads < 1:
            raise self.arg_error(f"Heads={heads} must be at least 1")
        if known is not None and known_heads is not None and known % known_heads:
            raise self.mismatch(f"DModel={width} does not split into {heads} heads")
        if known is None or known_heads is None:
            env.require_divisible(width, known_heads or heads, self.node.id, self.node.location)

    def bind_common(self) -> Bound:
        bound = self.bind_declared()
        self.width, self.heads = bound.size("DModel"), bound.size("Heads")
        return bound

    def dropout_arg(self, bound: Bound) -> float:
        value = bound.number("Dropout")
        if not 0 <= value < 1:
            raise self.arg_error(f"Dropout={format_arg(value)} must be a probability below 1")
        return value


@register
class MultiheadAttention(_Attending):
    """``MultiheadAttention[DModel, Heads]``: ``nn.MultiheadAttention(..., batch_first=True)``, its output only."""

    declaration = Declaration(
        "MultiheadAttention",
        aliases=("MHA", "Attention"),
        torch="nn.MultiheadAttention",
        args=(
            Arg("DModel", "size", "embed_dim", required=True, spellings=("d_model", "E")),
            Arg("Heads", "size", "num_heads", required=True, spellings=("nhead",)),
            Arg("Dropout", "float", "dropout", default=0.0),
            CAUSAL,
        ),
        qualifiers=CAUSAL_WORDS,
        max_inputs=3,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_common()
        self.dropout = self.dropout_arg(bound)
        self.causal = bound.flag("Causal")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[AttentionFacts]:
        for x, what in zip(inputs, ("its query", "its keys", "its values")):
            self.check_width(x, env, what)
        query, keys = inputs[0], inputs[min(1, len(inputs) - 1)]
        if keys[0].size != query[0].size or inputs[-1][1].size != keys[1].size:
            raise self.mismatch(
                f"queries {diagram_text(query)}, keys and values {diagram_text(keys)} and {diagram_text(inputs[-1])} "
                "need one batch size, and keys and values one length"
            )
        return Inferred(query, AttentionFacts(env.value(self.width)))

    def constructor_dims(self, facts: AttentionFacts) -> list[Dim]:
        return [self.width, self.heads]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: AttentionFacts) -> Dim:
        width = facts.width
        return width * width * 4 + width * 4

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: AttentionFacts) -> Dim:
        width = facts.width
        batch, queries, keys = output[0].size, output[1].size, inputs[-1][1].size
        projections = batch * (queries * 2 + keys * 2) * width * width
        return projections + batch * queries * keys * width * 2

    def module(self, w: CodeWriter, facts: AttentionFacts) -> str:
        dropout = f", dropout={format_arg(self.dropout)}" if self.dropout else ""
        return f"nn.MultiheadAttention({w.dim(self.width)}, {w.dim(self.heads)}{dropout}, batch_first=True)"

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: AttentionFacts) -> str:
        query = args[0]
        keys = args[1] if len(args) > 1 else query
        values = args[2] if len(args) > 2 else keys
        mask = f"attn_mask={causal_mask(query, keys)}, " if self.causal else ""
        return f"self.{attr}({query}, {keys}, {values}, {mask}need_weights=False)[0]"


def declare(name: str, inputs: int = 1) -> Declaration:
    """The declaration of ``nn.TransformerEncoderLayer`` (one input) or ``nn.TransformerDecoderLayer`` (two)."""
    return Declaration(
        name,
        aliases=(name.removeprefix("Transformer"),),
        torch=f"nn.{name}",
        args=(
            Arg("DModel", "size", "d_model", required=True, spellings=("embed_dim", "E")),
            Arg("Heads", "size", "nhead", required=True, spellings=("num_heads",)),
            Arg("FF", "size", "dim_feedforward", default=Dim.const(2048), spellings=("Hidden",)),
            Arg("Dropout", "float", "dropout", default=0.1),
            Arg("Activation", "choice", "activation", default="relu", choices=ACTIVATIONS),
            Arg("NormFirst", "flag", "norm_first", default=False),
            CAUSAL,
        ),
        qualifiers=CAUSAL_WORDS,
        min_inputs=inputs,
        max_inputs=inputs,
    )


class _TransformerLayer(_Attending):
    """``TransformerEncoderLayer[DModel, Heads, FF=2048, Dropout=0.1, Activation=relu, NormFirst=False]``."""

    torch_class: ClassVar[str]
    mask_keyword: ClassVar[str]
    """The keyword of the forward's mask of self-attention: ``src_mask`` or ``tgt_mask``."""
    attentions: ClassVar[int]
    norms: ClassVar[int]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_common()
        self.feedforward = bound.size("FF")
        self.dropout = self.dropout_arg(bound)
        self.activation = bound.word("Activation")
        self.norm_first = bound.flag("NormFirst")
        self.causal = bound.flag("Causal")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[AttentionFacts]:
        for x, what in zip(inputs, ("its input", "its memory")):
            self.check_width(x, env, what)
        if len(inputs) == 2 and inputs[1][0].size != inputs[0][0].size:
            raise self.mismatch(
                f"its input and memory need one batch size: {diagram_text(inputs[0])}, {diagram_text(inputs[1])}"
            )
        return Inferred(inputs[0], AttentionFacts(env.value(self.width), env.value(self.feedforward)))

    def constructor_dims(self, facts: AttentionFacts) -> list[Dim]:
        return [self.width, self.heads, self.feedforward]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: AttentionFacts) -> Dim:
        width, hidden = facts.width, facts.feedforward
        attention = width * width * 4 + width * 4
        return attention * self.attentions + width * hidden * 2 + hidden + width + width * (2 * self.norms)

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: AttentionFacts) -> Dim:
        width, hidden = facts.width, facts.feedforward
        batch, length = output[0].size, output[1].size
        memory = inputs[-1][1].size
        self_attention = batch * length * width * width * 4 + batch * length * length * width * 2
        cross = batch * (length * 2 + memory * 2) * width * width + batch * length * memory * width * 2
        return self_attention + cross * (self.attentions - 1) + batch * length * width * hidden * 2

    def module(self, w: CodeWriter, facts: AttentionFacts) -> str:
        args = [w.dim(self.width), w.dim(self.heads)]
        if self.feedforward != Dim.const(2048):
            args.append(f"dim_feedforward={w.dim(self.feedforward)}")
        if self.dropout != 0.1:
            args.append(f"dropout={format_arg(self.dropout)}")
        if self.activation != "relu":
            args.append(f'activation="{self.activation}"')  # a declared choice, never label text
        if self.norm_first:
            args.append("norm_first=True")
        return f"nn.{self.torch_class}({', '.join(args)}, batch_first=True)"

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: AttentionFacts) -> str:
        return self._call(f"self.{attr}", args)

    def copies_must_loop(self, facts: AttentionFacts) -> bool:
        return self.causal  # each copy takes the mask, which nn.Sequential cannot pass on

    def copy_forward(self, w: CodeWriter, arg: str, copy: str, facts: AttentionFacts) -> str | None:
        return self._call(copy, [arg])

    def _call(self, layer: str, args: list[str]) -> str:
        """``layer(args)``, with the causal mask of the first (the target) when the layer is causal."""
        mask = [f"{self.mask_keyword}={causal_mask(args[0], args[0])}"] if self.causal else []
        return f"{layer}({', '.join([*args, *mask])})"


@register
class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention and a feed-forward network, each with a residual connection and layer norm."""

    declaration = declare("TransformerEncoderLayer")
    torch_class = "TransformerEncoderLayer"
    mask_keyword = "src_mask"
    attentions = 1
    norms = 2


@register
class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, attention to the memory (its second in-edge), and a feed-forward network."""

    declaration = declare("TransformerDecoderLayer", inputs=2)
    torch_class = "TransformerDecoderLayer"
    mask_keyword = "tgt_mask"
    """With ``Causal``, the target attends to itself causally; the memory stays visible whole."""
    attentions = 2
    norms = 3
