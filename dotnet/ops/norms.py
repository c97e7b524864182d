"""Normalisation layers: batch, instance, layer, group and RMS norm.

Batch and instance norm come in one declaration per rank (``BatchNorm1D``/``2D``/``3D``)
plus a rank-free name (``BatchNorm``, ``BN``) that picks PyTorch's class from the input's
rank: each declaration's ``by_rank``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.args import ArgProblem, bind, convert
from dotnet.ops.base import CodeWriter, Inferred, Op, OpEnv, declare, register
from dotnet.ops.declaration import Arg, Declaration, FromInput, Value
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape, diagram_text, numel
from dotnet.reading.symbolic import Dim

CHANNELS = Arg("C", "size", "num_features", default=FromInput("C"), spellings=("channels", "features"))
EPS = Arg("eps", "float", "eps")
MOMENTUM = Arg("momentum", "float", "momentum")

_RANK_TEXT = {
    2: "[BatchSize, C]",
    3: "a signal [BatchSize, L, C]",
    4: "an image [BatchSize, W, H, C]",
    5: "a volume [BatchSize, W, H, D, C]",
}


def _keywords(pairs: list[tuple[str, Value]]) -> list[str]:
    """``eps=0.001``-style keyword code for the values a label gave (``None``: PyTorch's default)."""
    return [f"{key}={value!r}" for key, value in pairs if value is not None]


@dataclass(frozen=True)
class ChannelFacts:
    """What a channel norm's shape rule resolves."""

    channels: Dim
    """``C`` as the constructor writes it: the label's, or the input's channel count."""
    rank: int
    """The input's rank, which picks the family member (``BatchNorm2d`` for 4)."""


class _ChannelNorm(Op[ChannelFacts]):
    """Norms over the channel axis (axis 1 in PyTorch layout), one family member per rank."""

    affine_default: ClassVar[bool]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.channels = bound.maybe_size("C")
        self.options = [(a.torch or a.name, bound.raw(a.name)) for a in self.declaration.args[1:]]
        self.affine = bound.flag("affine") if "affine" in bound.values else self.affine_default
        self.ranks = tuple(rank for rank, _ in self.declaration.by_rank)
        """Input ranks this member takes (its declaration's ``by_rank``); the rank-free member takes them all."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[ChannelFacts]:
        (x,) = inputs
        if len(x) not in self.ranks:
            raise self.rank_error(x, " or ".join(_RANK_TEXT[r] for r in self.ranks))
        c = x[1].size
        if self.channels is not None and env.value(self.channels) != c:
            raise self.mismatch(f"normalizes {self.channels} channels but its input has C={c}")
        return Inferred(x, ChannelFacts(c if self.channels is None else self.channels, len(x)))

    def constructor_dims(self, facts: ChannelFacts) -> list[Dim]:
        return [facts.channels]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: ChannelFacts) -> Dim:
        return 2 * output[1].size if self.affine else Dim.const(0)  # the running statistics are buffers

    def module(self, w: CodeWriter, facts: ChannelFacts) -> str:
        options = [(k, v) for k, v in self.options if not (k == "affine" and v == self.affine_default)]
        args = [w.dim(facts.channels)] + _keywords(options)
        return f"{self.torch_for(facts.rank)}({', '.join(args)})"


class _BatchNorm(_ChannelNorm):
    affine_default = True


class _InstanceNorm(_ChannelNorm):
    affine_default = False


_BATCH_ARGS = (CHANNELS, EPS, MOMENTUM)
_INSTANCE_ARGS = (
    CHANNELS,
    EPS,
    MOMENTUM,
    Arg("affine", "flag", "affine", default=False),
    Arg("track_running_stats", "flag", "track_running_stats"),
)
_SAME = "[N, C, ...] -> the same shape"
_BATCH_COSTS = "parameters: 2*C (weight and bias; the running mean and variance are buffers)"
_INSTANCE_COSTS = "parameters: 2*C with affine=True, else none"

for _rank, _ranks, _what in (
    (1, (2, 3), "[BatchSize, C] or [BatchSize, L, C]"),
    (2, (4,), "images"),
    (3, (5,), "volumes"),
):
    _batch = Declaration(
        f"BatchNorm{_rank}D",
        torch=f"nn.BatchNorm{_rank}d",
        args=_BATCH_ARGS,
        shape=_SAME,
        torch_call=f"nn.BatchNorm{_rank}d(C, eps=eps, momentum=momentum)",
        costs=_BATCH_COSTS,
        fresh_output=True,
        by_rank=tuple((r, f"nn.BatchNorm{_rank}d") for r in _ranks),
    )
    _instance = Declaration(
        f"InstanceNorm{_rank}D",
        torch=f"nn.InstanceNorm{_rank}d",
        args=_INSTANCE_ARGS,
        shape=_SAME,
        torch_call=f"nn.InstanceNorm{_rank}d(C, eps=eps, momentum=momentum, affine=affine)",
        costs=_INSTANCE_COSTS,
        fresh_output=True,
        by_rank=((_rank + 2, f"nn.InstanceNorm{_rank}d"),),
    )
    declare(_BatchNorm, _batch, f"Batch norm over {_what}.")
    declare(_InstanceNorm, _instance, f"Instance norm over {'signals' if _rank == 1 else _what}.")
_batch = Declaration(
    "BatchNorm",
    aliases=("BN",),
    args=_BATCH_ARGS,
    shape=_SAME,
    torch_call="nn.BatchNorm1d, 2d or 3d, by the input's rank",
    costs=_BATCH_COSTS,
    fresh_output=True,
    by_rank=((2, "nn.BatchNorm1d"), (3, "nn.BatchNorm1d"), (4, "nn.BatchNorm2d"), (5, "nn.BatchNorm3d")),
)
_instance = Declaration(
    "InstanceNorm",
    args=_INSTANCE_ARGS,
    shape=_SAME,
    torch_call="nn.InstanceNorm1d, 2d or 3d, by the input's rank",
    costs=_INSTANCE_COSTS,
    fresh_output=True,
    by_rank=((3, "nn.InstanceNorm1d"), (4, "nn.InstanceNorm2d"), (5, "nn.InstanceNorm3d")),
)
declare(_BatchNorm, _batch, "Batch norm; BatchNorm1D, 2D or 3D by the input's rank.")
declare(_InstanceNorm, _instance, "Instance norm; InstanceNorm1D, 2D or 3D by the input's rank.")


class _TrailingNorm(Op[tuple[Dim, ...]]):
    """Norms over the last axes: ``LayerNorm(NHidden)``, ``LayerNorm[8, 9]`` (PyTorch's order)."""

    torch_class: ClassVar[str]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        shape_arg, *option_args = self.declaration.args
        shape_names = {s.lower() for s in shape_arg.accepted()}
        shape_keywords = [v for k, v in call.keywords if k.lower() in shape_names]
        if shape_keywords and call.positional:
            raise self.arg_error("give the normalized sizes positionally or as normalized_shape=, not both")
        options = replace(
            call, positional=(), keywords=tuple(kv for kv in call.keywords if kv[0].lower() not in shape_names)
        )
        try:
            sizes = [convert(shape_arg, v) for v in (*call.positional, *shape_keywords)]
            bound = bind(options, option_args)
        except ArgProblem as exc:
            raise self.arg_error(str(exc)) from None
        self.sizes = [s for s in sizes if isinstance(s, Dim)]
        self.options = [(a.torch or a.name, bound.raw(a.name)) for a in option_args]
        self.affine = bound.flag("elementwise_affine")
        self.with_bias = bound.flag("bias") if "bias" in bound.values else True

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[tuple[Dim, ...]]:
        """The input's shape; the facts are the normalized sizes as the constructor writes them."""
        (x,) = inputs
        if not x:
            raise self.rank_error(x, "a tensor to normalize")
        sizes = tuple(self.sizes) or (x[-1].size,)
        count = len(sizes)
        wanted = [env.value(s) for s in sizes]
        if count > len(x) or [a.size for a in x[-count:]] != wanted:
            tail = "[" + ", ".join(str(a.size) for a in x[-count:]) + "]"
            raise self.mismatch(
                f"normalizes [{', '.join(map(str, sizes))}] but its input ends in {tail} ({diagram_text(x)})"
            )
        return Inferred(x, sizes)

    def constructor_dims(self, facts: tuple[Dim, ...]) -> list[Dim]:
        return list(facts)

    @staticmethod
    def normalized_elements(output: Shape, sizes: tuple[Dim, ...]) -> Dim:
        return numel(output[-len(sizes) :])

    def module(self, w: CodeWriter, facts: tuple[Dim, ...]) -> str:
        sizes = [w.dim(s) for s in facts]
        shape = sizes[0] if len(sizes) == 1 else f"({', '.join(sizes)})"
        defaults = {"elementwise_affine": True, "bias": True}
        options = [(k, v) for k, v in self.options if defaults.get(k, None) != v]
        return f"nn.{self.torch_class}({', '.join([shape, *_keywords(options)])})"


_TRAILING_SHAPE = "the same shape; normalizes the trailing sizes given (default: the last one)"
SHAPE = Arg(
    "shape", "size", "normalized_shape", default=FromInput("last size"), help="positional: one size per trailing axis"
)
AFFINE = Arg("elementwise_affine", "flag", "elementwise_affine", default=True, spellings=("affine",))


@register
class LayerNorm(_TrailingNorm):
    """Layer norm over the last axes."""

    torch_class = "LayerNorm"
    declaration = Declaration(
        "LayerNorm",
        aliases=("LN",),
        torch="nn.LayerNorm",
        args=(SHAPE, Arg("eps", "float", "eps"), AFFINE, Arg("bias", "flag", "bias", default=True)),
        shape=_TRAILING_SHAPE,
        torch_call="nn.LayerNorm(shape, eps=eps, elementwise_affine=elementwise_affine, bias=bias)",
        costs="parameters: 2 * the normalized elements (weight and bias)",
        fresh_output=True,
    )

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: tuple[Dim, ...]) -> Dim:
        per_tensor = self.normalized_elements(output, facts) if self.affine else Dim.const(0)
        return per_tensor * (2 if self.with_bias else 1)


@register
class RMSNorm(_TrailingNorm):
    """Root-mean-square norm over the last axes (no centring, no bias)."""

    torch_class = "RMSNorm"
    declaration = Declaration(
        "RMSNorm",
        torch="nn.RMSNorm",
        args=(SHAPE, Arg("eps", "float", "eps"), AFFINE),
        shape=_TRAILING_SHAPE,
        torch_call="nn.RMSNorm(shape, eps=eps, elementwise_affine=elementwise_affine)",
        costs="parameters: the normalized elements (one weight each)",
        fresh_output=True,
    )

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: tuple[Dim, ...]) -> Dim:
        return self.normalized_elements(output, facts) if self.affine else Dim.const(0)


@register
class GroupNorm(Op[Dim]):
    """Group norm: the channels in G groups, each normalized over its channels and spatial axes."""

    declaration = Declaration(
        "GroupNorm",
        aliases=("GN",),
        torch="nn.GroupNorm",
        args=(
            Arg("G", "size", "num_groups", required=True, spellings=("groups",)),
            Arg("C", "size", "num_channels", default=FromInput("C"), spellings=("channels",)),
            Arg("eps", "float", "eps"),
            Arg("affine", "flag", "affine", default=True),
        ),
        shape="[N, C, ...] -> the same shape; C a multiple of G",
        torch_call="nn.GroupNorm(G, C, eps=eps, affine=affine)",
        fresh_output=True,
        costs="parameters: 2*C with affine (the default)",
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.groups = bound.size("G")
        self.channels = bound.maybe_size("C")
        self.affine = bound.flag("affine")
        self.options: list[tuple[str, Value]] = [("eps", bound.raw("eps")), ("affine", None if self.affine else False)]

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[Dim]:
        """The input's shape; the facts are ``C`` as the constructor writes it (the label's, or the input's)."""
        (x,) = inputs
        if len(x) < 2:
            raise self.rank_error(x, "a batch with a channel axis")
        c = x[1].size
        if self.channels is not None and env.value(self.channels) != c:
            raise self.mismatch(f"normalizes {self.channels} channels but its input has C={c}")
        groups, count = env.value(self.groups).int_value(), c.int_value()
        if groups is not None and count is not None and (groups < 1 or count % groups):
            raise self.arg_error(f"C={count} is not a multiple of G={groups}")
        if groups is not None and env.value(self.groups) != c:
            env.floordiv(c, groups, self.node, "C into groups")
        return Inferred(x, c if self.channels is None else self.channels)

    def constructor_dims(self, facts: Dim) -> list[Dim]:
        return [self.groups, facts]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: Dim) -> Dim:
        return 2 * output[1].size if self.affine else Dim.const(0)

    def module(self, w: CodeWriter, facts: Dim) -> str:
        return f"nn.GroupNorm({', '.join([w.dim(self.groups), w.dim(facts), *_keywords(self.options)])})"
