"""Convolutions over 1, 2 or 3 spatial axes, plain and transposed: ``nn.Conv{1,2,3}d``, ``nn.ConvTranspose{1,2,3}d``.

One class per kind serves every rank; each rank is its own declaration (``Conv1D``,
``Conv2D``, ``Conv3D``), and the rank-free name (``Conv``) takes the input's rank.
"""

from __future__ import annotations

from typing import ClassVar

from dotnet.analysis.infer import Env
from dotnet.ops.args import REQUIRED, Arg, FromInput, Kind
from dotnet.ops.base import CodeWriter, Op, register
from dotnet.ops.spatial import TORCH_SUFFIX, at_least, rank_of, spatial_input, transposed_out, window_out
from dotnet.reading.shape import Axis, Shape, numel
from dotnet.reading.symbolic import Dim

IN = Arg("In", "in_channels", Kind.SIZE, FromInput("C"))
OUT = Arg("Out", "out_channels", Kind.SIZE, REQUIRED)
ONE, ZERO = Dim.const(1), Dim.const(0)
KERNEL = Arg("K", "kernel_size", Kind.SIZE, REQUIRED, aliases=("kernel",), help="the same on every spatial axis")
STRIDE = Arg("S", "stride", Kind.SIZE, ONE, aliases=("strides",))
PADDING = Arg("P", "padding", Kind.PADDING, ZERO, aliases=("pad",), help="same: the output keeps the input's size")
DILATION = Arg("D", "dilation", Kind.SIZE, ONE)
GROUPS = Arg("G", "groups", Kind.SIZE, Dim.const(1), help="G=In: depthwise")
BIAS = Arg("Bias", "bias", Kind.FLAG, True)
OUTPUT_PADDING = Arg("OP", "output_padding", Kind.WHOLE, 0, help="added to one side of the output")
TRANSPOSED_PADDING = Arg("P", "padding", Kind.SIZE, ZERO, aliases=("pad",))


class _Convolution(Op):
    """What plain and transposed convolutions share: channels, groups, bias, the kernel."""

    rank: ClassVar[int | None]
    """Spatial axes: 1, 2 or 3; ``None`` for the rank-free name, which takes the input's."""
    torch_class: ClassVar[str]
    """``Conv`` or ``ConvTranspose``; the rank's suffix is appended."""

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        bound = self.bind_declared()
        self.channels_in: Dim | None = bound["In"]  # type: ignore[assignment]
        self.channels_out: Dim = bound["Out"]  # type: ignore[assignment]
        self.kernel: Dim = bound["K"]  # type: ignore[assignment]
        self.stride: Dim = bound["S"]  # type: ignore[assignment]
        self.padding: Dim | str = bound["P"]  # type: ignore[assignment]
        self.dilation: Dim = bound["D"]  # type: ignore[assignment]
        self.groups: Dim = bound["G"]  # type: ignore[assignment]
        self.bias: bool = bound["Bias"]  # type: ignore[assignment]
        self.output_padding: int = bound.get("OP", 0)  # type: ignore[assignment]
        at_least(self, {"K": self.kernel, "S": self.stride, "D": self.dilation}, 1)
        if isinstance(self.padding, Dim):
            at_least(self, {"P": self.padding}, 0)
        self.window = (self.kernel, self.stride, self.padding, self.dilation)
        """The hyperparameters as the inference run sees them (a block call's values applied)."""
        self.run_rank = self.rank or 2
        self.run_groups = self.groups
        """The rank and the groups in the terms of the inference run (a block call's values)."""

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        x = inputs[0]
        self.run_rank = self.rank or rank_of(self, x)
        batch, channels, spatial = spatial_input(self, x, self.run_rank)
        if self.channels_in is None:
            self.channels_in = channels.size
        elif env.value(self.channels_in) != channels.size:
            raise self.mismatch(f"In={self.channels_in} but its input has C={channels.size}")
        out = env.value(self.channels_out)
        self.run_groups = env.value(self.groups)
        self.window = tuple(
            v if isinstance(v, str) else env.value(v) for v in (self.kernel, self.stride, self.padding, self.dilation)
        )
        at_least(self, {"K": self.window[0], "S": self.window[1], "D": self.window[3]}, 1)
        self._check_groups(env, channels.size, "In")
        self._check_groups(env, out, "Out")
        sizes = [self.spatial_out(env, a.name or f"axis {i + 2}", a.size) for i, a in enumerate(spatial)]
        return (batch, Axis(channels.name, out), *(Axis(a.name, s) for a, s in zip(spatial, sizes)))

    def spatial_out(self, env: Env, axis: str, size: Dim) -> Dim:
        raise NotImplementedError

    def _check_groups(self, env: Env, count: Dim, what: str) -> None:
        groups = self.run_groups
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

    def per_group(self, count: Dim) -> Dim:
        """``count / G``: the channels each group sees."""
        groups = self.run_groups
        if groups == count:
            return Dim.const(1)
        number = groups.int_value()
        return count.divide(number) if number else count

    def kernel_volume(self) -> Dim:
        kernel, volume = self.window[0], ONE
        assert isinstance(kernel, Dim)
        for _ in range(self.run_rank):
            volume = volume * kernel
        return volume

    def constructor_dims(self) -> list[Dim]:
        dims = [d for d in (self.channels_in, self.channels_out) if d is not None]
        hyper = [d for d in (self.kernel, self.stride, self.padding, self.dilation, self.groups) if isinstance(d, Dim)]
        return dims + [d for d in hyper if d.symbols()]

    def module(self, w: CodeWriter) -> str:
        assert self.channels_in is not None
        args = [w.dim(self.channels_in), w.dim(self.channels_out), f"kernel_size={w.dim(self.kernel)}"]
        args += [f"{k}={v}" for k, v in self.keyword_args(w) if v is not None]
        if not self.bias:
            args.append("bias=False")
        return f"nn.{self.torch_class}{TORCH_SUFFIX[self.run_rank]}({', '.join(args)})"

    def keyword_args(self, w: CodeWriter) -> list[tuple[str, str | None]]:
        """torch's keywords after ``kernel_size`` with their code, ``None`` where the default holds."""
        padding = f'"{self.padding}"' if isinstance(self.padding, str) else None
        if isinstance(self.padding, Dim) and self.padding != ZERO:
            padding = w.dim(self.padding)
        return [
            ("stride", None if self.stride == ONE else w.dim(self.stride)),
            ("padding", padding),
            ("output_padding", None if not self.output_padding else str(self.output_padding)),
            ("dilation", None if self.dilation == ONE else w.dim(self.dilation)),
            ("groups", None if self.groups == ONE else w.dim(self.groups)),
        ]


class _Conv(_Convolution):
    """``ConvND[K=3, S=1, P=1, D=1, G=1, In=C, Out=C2, Bias=True]``: a convolution."""

    torch_class = "Conv"
    args = (IN, OUT, KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS)
    costs = "parameters: In/G * Out * K^rank (+ Out with bias); multiply-adds: output elements * In/G * K^rank"

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        if self.padding == "same" and self.stride != ONE:
            raise self.arg_error(f"P=same needs S=1, as in PyTorch (got S={self.stride})")

    def spatial_out(self, env: Env, axis: str, size: Dim) -> Dim:
        kernel, stride, padding, dilation = self.window
        if padding == "same":
            return size
        assert isinstance(kernel, Dim) and isinstance(stride, Dim) and isinstance(dilation, Dim)
        return window_out(env, self, axis, size, kernel, stride, ZERO if padding == "valid" else padding, dilation)

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        c_in, c_out = inputs[0][1].size, output[1].size
        return self.per_group(c_in) * c_out * self.kernel_volume() + (c_out if self.bias else 0)

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        return numel(output) * self.per_group(inputs[0][1].size) * self.kernel_volume()


class _ConvTranspose(_Convolution):
    """``ConvTransposeND[K=2, S=2, P=0, OP=0, G=1, D=1, In=C, Out=C2]``: a transposed convolution."""

    torch_class = "ConvTranspose"
    args = (IN, OUT, KERNEL, STRIDE, TRANSPOSED_PADDING, OUTPUT_PADDING, GROUPS, BIAS, DILATION)
    costs = "parameters: In * Out/G * K^rank (+ Out with bias); multiply-adds: input elements * Out/G * K^rank"

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        stride, dilation = self.stride.int_value(), self.dilation.int_value()
        if stride is not None and dilation is not None and self.output_padding >= max(stride, dilation):
            raise self.arg_error(f"OP={self.output_padding} must be smaller than S or D, as in PyTorch")

    def spatial_out(self, env: Env, axis: str, size: Dim) -> Dim:
        kernel, stride, padding, dilation = self.window
        assert isinstance(kernel, Dim) and isinstance(stride, Dim) and isinstance(padding, Dim)
        assert isinstance(dilation, Dim)
        return transposed_out(env, self, axis, size, kernel, stride, padding, self.output_padding, dilation)

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        c_in, c_out = inputs[0][1].size, output[1].size
        return c_in * self.per_group(c_out) * self.kernel_volume() + (c_out if self.bias else 0)

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        return numel(inputs[0]) * self.per_group(output[1].size) * self.kernel_volume()


_CONV_SHAPE = "C=In -> C=Out; each spatial size n -> floor((n + 2P - D*(K-1) - 1)/S) + 1 (n with P=same)"
_TRANSPOSED_SHAPE = "C=In -> C=Out; each spatial size n -> (n-1)*S - 2P + D*(K-1) + OP + 1"


@register("Conv1D")
class Conv1D(_Conv):
    """1-d convolution over a signal [BatchSize, L, C]."""

    name = "Conv1D"
    rank = 1
    shape_rule = _CONV_SHAPE
    torch_form = "nn.Conv1d(In, Out, kernel_size=K, stride=S, padding=P, dilation=D, groups=G, bias=Bias)"


@register("Conv2D")
class Conv2D(_Conv):
    """2-d convolution over an image [BatchSize, W, H, C]."""

    name = "Conv2D"
    rank = 2
    shape_rule = _CONV_SHAPE
    torch_form = "nn.Conv2d(In, Out, kernel_size=K, stride=S, padding=P, dilation=D, groups=G, bias=Bias)"


@register("Conv3D")
class Conv3D(_Conv):
    """3-d convolution over a volume [BatchSize, W, H, D, C]."""

    name = "Conv3D"
    rank = 3
    shape_rule = _CONV_SHAPE
    torch_form = "nn.Conv3d(In, Out, kernel_size=K, stride=S, padding=P, dilation=D, groups=G, bias=Bias)"


@register("Conv")
class Conv(_Conv):
    """Convolution over the input's spatial axes: Conv1D, Conv2D or Conv3D by its rank."""

    name = "Conv"
    rank = None
    shape_rule = _CONV_SHAPE
    torch_form = "nn.Conv1d, nn.Conv2d or nn.Conv3d, by the input's rank"


@register("ConvTranspose1D", "Deconv1D", "TransposedConv1D")
class ConvTranspose1D(_ConvTranspose):
    """1-d transposed convolution over a signal [BatchSize, L, C]."""

    name = "ConvTranspose1D"
    rank = 1
    shape_rule = _TRANSPOSED_SHAPE
    torch_form = "nn.ConvTranspose1d(In, Out, kernel_size=K, stride=S, padding=P, output_padding=OP, ...)"


@register("ConvTranspose2D", "Deconv2D", "TransposedConv2D")
class ConvTranspose2D(_ConvTranspose):
    """2-d transposed convolution over an image [BatchSize, W, H, C]."""

    name = "ConvTranspose2D"
    rank = 2
    shape_rule = _TRANSPOSED_SHAPE
    torch_form = "nn.ConvTranspose2d(In, Out, kernel_size=K, stride=S, padding=P, output_padding=OP, ...)"


@register("ConvTranspose3D", "Deconv3D", "TransposedConv3D")
class ConvTranspose3D(_ConvTranspose):
    """3-d transposed convolution over a volume [BatchSize, W, H, D, C]."""

    name = "ConvTranspose3D"
    rank = 3
    shape_rule = _TRANSPOSED_SHAPE
    torch_form = "nn.ConvTranspose3d(In, Out, kernel_size=K, stride=S, padding=P, output_padding=OP, ...)"


@register("ConvTranspose", "Deconv")
class ConvTranspose(_ConvTranspose):
    """Transposed convolution over the input's spatial axes: ConvTranspose1D, 2D or 3D by its rank."""

    name = "ConvTranspose"
    rank = None
    shape_rule = _TRANSPOSED_SHAPE
    torch_form = "nn.ConvTranspose1d, 2d or 3d, by the input's rank"
