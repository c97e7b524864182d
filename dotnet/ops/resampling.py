"""Ops that change spatial sizes without weights: upsampling, pixel shuffle and unshuffle."""

from __future__ import annotations

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, NoFacts, Op, OpEnv, SimpleOp, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.ops.spatial import INPUT_KINDS, rank_of, spatial_input
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text
from dotnet.reading.symbolic import Dim

MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")
MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
"""Interpolation modes that work on one spatial rank only."""
SIZE_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


@register
class UpSample(Op[tuple[int, ...]]):
    """Upsampling by a whole factor or to a size: ``UpSample x2``, ``Upsample[S=2, mode=bilinear]``."""

    declaration = Declaration(
        "UpSample",
        aliases=("Interpolate",),
        torch="nn.Upsample",
        args=(
            Arg("S", "int", "scale_factor", spellings=("scale", "factor"), help="or write 'UpSample x2'"),
            Arg("mode", "choice", "mode", default="nearest", choices=MODES),
            Arg("align_corners", "flag", "align_corners", help="for the linear modes"),
            Arg("size", "int", "size", help="the output size on every spatial axis"),
            Arg("L", "int", help="output length (signals)"),
            Arg("D", "int", help="output depth (volumes)"),
            Arg("H", "int", help="output height"),
            Arg("W", "int", help="output width"),
        ),
        shape="each spatial size n -> n*S, or the size given; C unchanged",
        torch_call="nn.Upsample(scale_factor=S | size=(...), mode=mode, align_corners=align_corners)",
        keeps_range=True,
        range_breaking=(("mode", "bicubic"),),
        times_is_factor=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        if call.times is not None and bound.raw("S") is not None:
            raise self.arg_error("give the factor once: 'UpSample x2' or 'UpSample[S=2]'")
        factor = call.times.int_value() if call.times is not None else bound.maybe_whole("S")
        if (call.times is not None and factor is None) or (factor is not None and factor < 1):
            raise self.arg_error("needs a whole factor of at least 1, as in 'UpSample x2'")
        self.mode = bound.word("mode")
        self.align_corners = bound.maybe_flag("align_corners")
        self.size = bound.maybe_whole("size")
        self.axis_sizes = {a: bound.whole(a) for a in ("L", "D", "H", "W") if bound.raw(a) is not None}
        sized = self.size is not None or bool(self.axis_sizes)
        if factor is not None and sized:
            raise self.arg_error("give a scale or a size, not both")
        if self.size is not None and self.axis_sizes:
            raise self.arg_error("give size= or the sizes of the axes, not both")
        if factor is None and not sized:
            raise self.arg_error("needs a whole factor of at least 1, as in 'UpSample x2', or a size")
        if self.align_corners is not None and self.mode not in MODE_RANK:
            raise self.arg_error(f"align_corners needs mode linear, bilinear, bicubic or trilinear, not {self.mode}")
        self.factor = factor

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[tuple[int, ...]]:
        """The upsampled shape; the facts are the output size of each spatial axis (none with a factor)."""
        x = inputs[0]
        rank = MODE_RANK.get(self.mode) or rank_of(self, x)
        if len(x) != rank + 2:
            raise self.mismatch(f"mode={self.mode} needs {INPUT_KINDS[rank]}, but its input is {diagram_text(x)}")
        batch, channels, spatial = spatial_input(self, x, rank)
        if self.factor is not None:
            return Inferred((batch, channels, *(Axis(a.name, a.size * self.factor) for a in spatial)), ())
        if self.axis_sizes:
            wanted = SIZE_AXES[rank]
            if set(self.axis_sizes) != set(wanted):
                raise self.arg_error(f"give the output size of each of {', '.join(wanted)}, or size=")
            sizes = tuple(self.axis_sizes[a] for a in wanted)
        else:
            assert self.size is not None
            sizes = (self.size,) * rank
        return Inferred((batch, channels, *(Axis(a.name, Dim.const(s)) for a, s in zip(spatial, sizes))), sizes)

    def module(self, w: CodeWriter, facts: tuple[int, ...]) -> str:
        if self.factor is not None:
            args = [f"scale_factor={self.factor}"]
        elif len(set(facts)) == 1:
            args = [f"size={facts[0]}"]
        else:
            args = [f"size=({', '.join(map(str, facts))})"]
        if self.mode != "nearest":
            args.append(f'mode="{self.mode}"')
        if self.align_corners is not None:
            args.append(f"align_corners={self.align_corners}")
        return f"nn.Upsample({', '.join(args)})"


class _PixelRearrange(SimpleOp):
    """Moves pixels between channels and space by a whole factor ``r``: ``nn.<its name>(r)``."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.factor = self.bind_declared().whole("r")
        if self.factor < 1:
            raise self.arg_error("the factor must be at least 1")

    def module(self, w: CodeWriter, facts: NoFacts) -> str:
        return f"nn.{self.declaration.name}({self.factor})"


@register
class PixelShuffle(_PixelRearrange):
    """Channels into space: ``PixelShuffle(2)`` turns C=4c, H, W into C=c, H*2, W*2."""

    declaration = Declaration(
        "PixelShuffle",
        torch="nn.PixelShuffle",
        args=(Arg("r", "int", "upscale_factor", required=True, spellings=("factor", "S")),),
        shape="[N, W, H, C=c*r*r] -> [N, W=W*r, H=H*r, C=c]",
        torch_call="nn.PixelShuffle(r)",
        keeps_range=True,
    )

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        batch, channels, (h, w) = spatial_input(self, inputs[0], 2)
        area = self.factor * self.factor
        count = channels.size.int_value()
        if count is not None and count % area:
            raise self.mismatch(f"C={count} is not a multiple of {area}, the factor squared")
        c = env.floordiv(channels.size, area, self.node, "C into PixelShuffle")
        return (batch, Axis(channels.name, c), Axis(h.name, h.size * self.factor), Axis(w.name, w.size * self.factor))


@register
class PixelUnshuffle(_PixelRearrange):
    """Space into channels: ``PixelUnshuffle(2)`` turns C=c, H, W into C=4c, H/2, W/2."""

    declaration = Declaration(
        "PixelUnshuffle",
        torch="nn.PixelUnshuffle",
        args=(Arg("r", "int", "downscale_factor", required=True, spellings=("factor", "S")),),
        shape="[N, W=W*r, H=H*r, C=c] -> [N, W, H, C=c*r*r]",
        torch_call="nn.PixelUnshuffle(r)",
        keeps_range=True,
    )

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        batch, channels, spatial = spatial_input(self, inputs[0], 2)
        sizes = []
        for axis in spatial:
            value = axis.size.int_value()
            if value is not None and value % self.factor:
                raise self.mismatch(f"{axis.name or 'a spatial size'}={value} is not a multiple of {self.factor}")
            sizes.append(env.floordiv(axis.size, self.factor, self.node, f"{axis.name} into PixelUnshuffle"))
        c = channels.size * (self.factor * self.factor)
        return (batch, Axis(channels.name, c), *(Axis(a.name, s) for a, s in zip(spatial, sizes)))
