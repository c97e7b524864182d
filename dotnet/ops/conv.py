"""Convolutions over 1, 2 or 3 spatial axes, plain and transposed: ``nn.Conv{1,2,3}d``, ``nn.ConvTranspose{1,2,3}d``.

One class per kind serves every rank; each rank is its own declaration (``Conv1D``,
``Conv2D``, ``Conv3D``), and the rank-free name (``Conv``) takes the input's rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, Op, OpEnv, declare
from dotnet.ops.declaration import Arg, Declaration, FromInput, Qualifier, SameAs
from dotnet.ops.spatial import Window, at_least, classes_by_rank, rank_of, spatial_input, transposed_out, window_out
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, numel
from dotnet.reading.symbolic import Dim

IN = Arg("In", "size", "in_channels", default=FromInput("C"))
OUT = Arg("Out", "size", "out_channels", required=True)
ONE, ZERO = Dim.const(1), Dim.const(0)
KERNEL = Arg(
    "K", "size", "kernel_size", required=True, spellings=("kernel",), help="the same on every spatial axis", square=True
)
STRIDE = Arg("S", "size", "stride", default=ONE, spellings=("strides",))
PADDING = Arg(
    "P", "padding", "padding", default=ZERO, spellings=("pad",), help="same: the output keeps the input's size"
)
DILATION = Arg("D", "size", "dilation", default=ONE)
GROUPS = Arg("G", "size", "groups", default=Dim.const(1), help="G=In: depthwise")
BIAS = Arg("Bias", "flag", "bias", default=True)
OUTPUT_PADDING = Arg("OP", "int", "output_padding", default=0, help="added to one side of the output")
TRANSPOSED_PADDING = Arg("P", "size", "padding", default=ZERO, spellings=("pad",))


@dataclass(frozen=True)
class ConvFacts:
    """What a convolution's shape rule resolves; rank, groups and window in the terms of the run."""

    channels_in: Dim
    """``In`` as the constructor writes it: the label's, or the input's channel count when the label leaves it out."""
    rank: int
    """Spatial axes: the declared rank, or the input's for the rank-free name."""
    groups: Dim
    window: Window


class _Convolution(Op[ConvFacts]):
    """What plain and transposed convolutions share: channels, groups, bias, the kernel."""

    rank: ClassVar[int | None]
    """Spatial axes: 1, 2 or 3; ``None`` for the rank-free name, which takes the input's."""
    torch_class: ClassVar[str]
    """``Conv`` or ``ConvTranspose``; the rank's suffix is appended."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.channels_in = bound.maybe_size("In")
        self.channels_out = bound.size("Out")
        self.window = Window(bound.size("K"), bound.size("S"), bound.padding("P"), bound.size("D"))
        self.groups = bound.size("G")
        self.bias = bound.flag("Bias")
        self.output_padding = bound.whole("OP") if "OP" in bound.values else 0
        self._check_window(self.window)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[ConvFacts]:
        x = inputs[0]
        rank = self.rank or rank_of(self, x)
        batch, channels, spatial = spatial_input(self, x, rank)
        if self.channels_in is not None and env.value(self.channels_in) != channels.size:
            raise self.mismatch(f"In={self.channels_in} but its input has C={channels.size}")
        out = env.value(self.channels_out)
        facts = ConvFacts(
            self.channels_in if self.channels_in is not None else channels.size,
            rank,
            env.value(self.groups),
            self.window.valued(env),
        )
        self._check_window(facts.window)
        self._check_groups(env, facts.groups, channels.size, "In")
        self._check_groups(env, facts.groups, out, "Out")
        sizes = [self.spatial_out(env, facts.window, a.name or f"axis {i + 2}", a.size) for i, a in enumerate(spatial)]
        return Inferred((batch, Axis(channels.name, out), *(Axis(a.name, s) for a, s in zip(spatial, sizes))), facts)

    def spatial_out(self, env: OpEnv, window: Window, axis: str, size: Dim) -> Dim:
        raise NotImplementedError

    def _check_window(self, window: Window) -> None:
        at_least(self, {"K": window.kernel, "S": window.stride, "D": window.dilation}, 1)
        if isinstance(window.padding, Dim):
            at_least(self, {"P": window.padding}, 0)

    def _check_groups(self, env: OpEnv, groups: Dim, count: Dim, what: str) -> None:
        if groups == Dim.const(1) or groups == count:
            return
        number = groups.int_value()
        if number is None:
            raise self.arg_error(f"G={groups} must be a whole number or equal to {what}")
        if number < 1:
            raise self.arg_error(f"G={number} must be at least 1")
        value = count.int_value()
        if value is not None and value % number:
            raise self.arg_error(f"{what}={value} is not a multiple of G={number}")
        env.floordiv(count, number, self.node, f"{what} into {number} groups")

    @staticmethod
    def per_group(facts: ConvFacts, count: Dim) -> Dim:
        """``count / G``: the channels each group sees."""
        groups = facts.groups
        if groups == count:
            return Dim.const(1)
        number = groups.int_value()
        return count.divide(number) if number else count

    @staticmethod
    def kernel_volume(facts: ConvFacts) -> Dim:
        volume = ONE
        for _ in range(facts.rank):
            volume = volume * facts.window.kernel
        return volume

    def constructor_dims(self, facts: ConvFacts) -> list[Dim]:
        dims = [facts.channels_in, self.channels_out]
        return dims + self.window.symbolic() + ([self.groups] if self.groups.symbols() else [])

    def module(self, w: CodeWriter, facts: ConvFacts) -> str:
        args = [w.dim(facts.channels_in), w.dim(self.channels_out), f"kernel_size={w.dim(self.window.kernel)}"]
        args += [f"{k}={v}" for k, v in self.keyword_args(w) if v is not None]
        if not self.bias:
            args.append("bias=False")
        return f"{self.torch_for(facts.rank + 2)}({', '.join(args)})"

    def keyword_args(self, w: CodeWriter) -> list[tuple[str, str | None]]:
        """torch's keywords after ``kernel_size`` with their code, ``None`` where the default holds."""
        window = self.window
        padding = f'"{window.padding}"' if isinstance(window.padding, str) else None
        if isinstance(window.padding, Dim) and window.padding != ZERO:
            padding = w.dim(window.padding)
        return [
            ("stride", None if window.stride == ONE else w.dim(window.stride)),
            ("padding", padding),
            ("output_padding", None if not self.output_padding else str(self.output_padding)),
            ("dilation", None if window.dilation == ONE else w.dim(window.dilation)),
            ("groups", None if self.groups == ONE else w.dim(self.groups)),
        ]


class _Conv(_Convolution):
    """``ConvND[K=3, S=1, P=1, D=1, G=1, In=C, Out=C2, Bias=True]``: a convolution."""

    torch_class = "Conv"

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        if self.window.padding == "same" and self.window.stride != ONE:
            raise self.arg_error(f"P=same needs S=1, as in PyTorch (got S={self.window.stride})")

    def spatial_out(self, env: OpEnv, window: Window, axis: str, size: Dim) -> Dim:
        if window.padding == "same":
            return size
        padding = ZERO if window.padding == "valid" else window.padding
        assert isinstance(padding, Dim)
        return window_out(env, self, axis, size, window.kernel, window.stride, padding, window.dilation)

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: ConvFacts) -> Dim:
        c_in, c_out = inputs[0][1].size, output[1].size
        return self.per_group(facts, c_in) * c_out * self.kernel_volume(facts) + (c_out if self.bias else 0)

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: ConvFacts) -> Dim:
        return numel(output) * self.per_group(facts, inputs[0][1].size) * self.kernel_volume(facts)


class _ConvTranspose(_Convolution):
    """``ConvTransposeND[K=2, S=2, P=0, OP=0, G=1, D=1, In=C, Out=C2]``: a transposed convolution."""

    torch_class = "ConvTranspose"

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        stride, dilation = self.window.stride.int_value(), self.window.dilation.int_value()
        if stride is not None and dilation is not None and self.output_padding >= max(stride, dilation):
            raise self.arg_error(f"OP={self.output_padding} must be smaller than S or D, as in PyTorch")

    def spatial_out(self, env: OpEnv, window: Window, axis: str, size: Dim) -> Dim:
        assert isinstance(window.padding, Dim)
        return transposed_out(
            env, self, axis, size, window.kernel, window.stride, window.padding, self.output_padding, window.dilation
        )

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: ConvFacts) -> Dim:
        c_in, c_out = inputs[0][1].size, output[1].size
        return c_in * self.per_group(facts, c_out) * self.kernel_volume(facts) + (c_out if self.bias else 0)

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: ConvFacts) -> Dim:
        return numel(inputs[0]) * self.per_group(facts, output[1].size) * self.kernel_volume(facts)


_CONV_SHAPE = "C=In -> C=Out; each spatial size n -> floor((n + 2P - D*(K-1) - 1)/S) + 1 (n with P=same)"
_TRANSPOSED_SHAPE = "C=In -> C=Out; each spatial size n -> (n-1)*S - 2P + D*(K-1) + OP + 1"
_CONV_COSTS = "parameters: In/G * Out * K^rank (+ Out with bias); multiply-adds: output elements * In/G * K^rank"
_TRANSPOSED_COSTS = "parameters: In * Out/G * K^rank (+ Out with bias); multiply-adds: input elements * Out/G * K^rank"
_CONV_ARGS = (IN, OUT, KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS)
_TRANSPOSED_ARGS = (IN, OUT, KERNEL, STRIDE, TRANSPOSED_PADDING, OUTPUT_PADDING, GROUPS, BIAS, DILATION)
_OVER = {1: "a signal [BatchSize, L, C]", 2: "an image [BatchSize, W, H, C]", 3: "a volume [BatchSize, W, H, D, C]"}


_CONV_WORDS = (
    Qualifier("depthwise", (("G", SameAs("In")),), defaults=(("Out", SameAs("In")),)),
    Qualifier("pointwise", (("K", ONE),)),
)
"""``Conv2D 3x3 depthwise[In=32]`` is ``G=In`` (and ``Out=In`` unless given); ``pointwise`` is ``K=1``."""


def _conv(rank: int) -> Declaration:
    torch = f"nn.Conv{rank}d"
    call = f"{torch}(In, Out, kernel_size=K, stride=S, padding=P, dilation=D, groups=G, bias=Bias)"
    return Declaration(
        f"Conv{rank}D",
        torch=torch,
        args=_CONV_ARGS,
        qualifiers=_CONV_WORDS,
        shape=_CONV_SHAPE,
        torch_call=call,
        costs=_CONV_COSTS,
        fresh_output=True,
        by_rank=classes_by_rank("Conv", rank),
    )


def _transposed(rank: int) -> Declaration:
    torch = f"nn.ConvTranspose{rank}d"
    return Declaration(
        f"ConvTranspose{rank}D",
        aliases=(f"Deconv{rank}D", f"TransposedConv{rank}D"),
        torch=torch,
        args=_TRANSPOSED_ARGS,
        shape=_TRANSPOSED_SHAPE,
        torch_call=f"{torch}(In, Out, kernel_size=K, stride=S, padding=P, output_padding=OP, groups=G, bias=Bias, "
        "dilation=D)",
        costs=_TRANSPOSED_COSTS,
        fresh_output=True,
        by_rank=classes_by_rank("ConvTranspose", rank),
    )


for _rank in (1, 2, 3):
    declare(_Conv, _conv(_rank), f"{_rank}-d convolution over {_OVER[_rank]}.", rank=_rank)
    declare(_ConvTranspose, _transposed(_rank), f"{_rank}-d transposed convolution over {_OVER[_rank]}.", rank=_rank)
declare(
    _Conv,
    Declaration(
        "Conv",
        args=_CONV_ARGS,
        qualifiers=_CONV_WORDS,
        shape=_CONV_SHAPE,
        torch_call="nn.Conv1d, nn.Conv2d or nn.Conv3d, by the input's rank",
        costs=_CONV_COSTS,
        fresh_output=True,
        by_rank=classes_by_rank("Conv", None),
    ),
    "Convolution over the input's spatial axes: Conv1D, Conv2D or Conv3D by its rank.",
    rank=None,
)
declare(
    _ConvTranspose,
    Declaration(
        "ConvTranspose",
        aliases=("Deconv",),
        args=_TRANSPOSED_ARGS,
        shape=_TRANSPOSED_SHAPE,
        torch_call="nn.ConvTranspose1d, 2d or 3d, by the input's rank",
        costs=_TRANSPOSED_COSTS,
        fresh_output=True,
        by_rank=classes_by_rank("ConvTranspose", None),
    ),
    "Transposed convolution over the input's spatial axes: ConvTranspose1D, 2D or 3D by its rank.",
    rank=None,
)
