"""Ops over images in (N, C, H, W): convolution, pooling, upsampling, batch norm."""

from __future__ import annotations

from fractions import Fraction

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Op, OpEnv, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape, image, numel
from dotnet.reading.symbolic import Dim


def _window_out(env: OpEnv, op: Op, axis: str, size: Dim, kernel: int, stride: int, padding: int) -> Dim:
    """``floor((size + 2*padding - kernel) / stride) + 1``, the PyTorch formula.

    For a symbolic size the symbolic part is assumed divisible by the stride (and
    that is recorded), so the constant part floors exactly: a 3x3 convolution
    with stride 2 and padding 1 maps ``BlockW`` to ``BlockW/2`` for even ``BlockW``.
    """
    numerator = size + 2 * padding - kernel
    offset = dict(numerator.terms).get((), Fraction(0))
    if numerator.constant_value() is None and offset.denominator == 1:
        symbolic = numerator - int(offset)
        out = env.floordiv(symbolic, stride, op.node, f"{axis} into {op.name}") + int(offset) // stride + 1
    else:
        out = env.floordiv(numerator, stride, op.node, f"{axis} into {op.name}") + 1
    return env.positive(out, op.node, f"{op.name} output {axis}")


def _image(op: Op, x: Shape) -> tuple[Dim, Dim, Dim, Dim]:
    """The (N, C, H, W) sizes of an image input, or an error naming the node."""
    if len(x) != 4:
        raise op.rank_error(x, "an image [BatchSize, W, H, C]")
    n, c, h, w = (a.size for a in x)
    return n, c, h, w


_KERNEL = Arg("K", "int", "kernel_size", required=True, spellings=("kernel",))
_PADDING = Arg("P", "int", "padding", default=0, spellings=("pad",))


@register
class Conv2D(Op):
    """``Conv2D[K=3, S=1, P=1, In=C, Out=C']``: ``nn.Conv2d``; positional args in its order."""

    declaration = Declaration(
        "Conv2D",
        aliases=("Conv",),
        torch="nn.Conv2d",
        args=(
            Arg("In", "size", "in_channels"),
            Arg("Out", "size", "out_channels", required=True),
            _KERNEL,
            Arg("S", "int", "stride", default=1, spellings=("strides",)),
            _PADDING,
        ),
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.channels_in = self.size_arg(bound, "In")
        self.channels_out = self.size_arg(bound, "Out")
        self.kernel = self.int_arg(bound, "K")
        self.stride = self.int_arg(bound, "S")
        self.padding = self.int_arg(bound, "P")
        if self.kernel is None or self.kernel < 1 or (self.stride or 0) < 1 or (self.padding or 0) < 0:
            raise self.arg_error("K and S must be at least 1, and P at least 0")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        n, c, h, w = _image(self, inputs[0])
        if self.channels_in is None:
            self.channels_in = c
        elif env.value(self.channels_in) != c:
            raise self.mismatch(f"In={self.channels_in} but its input has C={c}")
        assert self.kernel is not None and self.stride is not None and self.padding is not None
        return image(
            n,
            env.value(self.channels_out or Dim.const(0)),
            _window_out(env, self, "H", h, self.kernel, self.stride, self.padding),
            _window_out(env, self, "W", w, self.kernel, self.stride, self.padding),
        )

    def constructor_dims(self) -> list[Dim]:
        return [d for d in (self.channels_in, self.channels_out) if d is not None]

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        assert self.kernel is not None
        c_in, c_out = inputs[0][1].size, output[1].size
        return c_in * c_out * (self.kernel * self.kernel) + c_out

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        assert self.kernel is not None
        return numel(output) * inputs[0][1].size * (self.kernel * self.kernel)

    def module(self, w: CodeWriter) -> str:
        assert self.channels_in is not None and self.channels_out is not None
        args = [w.dim(self.channels_in), w.dim(self.channels_out), f"kernel_size={self.kernel}"]
        if self.stride != 1:
            args.append(f"stride={self.stride}")
        if self.padding:
            args.append(f"padding={self.padding}")
        return f"nn.Conv2d({', '.join(args)})"


_POOL_ARGS = (_KERNEL, Arg("S", "int", "stride", spellings=("strides",)), _PADDING)
"""A pooling's stride has no fixed default: it is the kernel size."""


class _Pool2D(Op):
    """A sliding-window pooling: ``[K=3, S=2, P=1]`` or ``(3, 2, 1)``; the stride defaults to K."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.kernel = self.int_arg(bound, "K") or 0
        self.stride = self.int_arg(bound, "S", self.kernel) or 0
        self.padding = self.int_arg(bound, "P") or 0
        if self.kernel < 1 or self.stride < 1 or not 0 <= 2 * self.padding <= self.kernel:
            raise self.arg_error("K and S must be at least 1, and P at most half of K")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        n, c, h, w = _image(self, inputs[0])
        return image(
            n,
            c,
            _window_out(env, self, "H", h, self.kernel, self.stride, self.padding),
            _window_out(env, self, "W", w, self.kernel, self.stride, self.padding),
        )

    def module(self, w: CodeWriter) -> str:
        args = [f"kernel_size={self.kernel}"]
        if self.stride != self.kernel:
            args.append(f"stride={self.stride}")
        if self.padding:
            args.append(f"padding={self.padding}")
        assert self.declaration is not None
        return f"{self.declaration.torch}({', '.join(args)})"


@register
class MaxPool2D(_Pool2D):
    """``MaxPool2D[K=2, S=2, P=0]``: ``nn.MaxPool2d``."""

    declaration = Declaration(
        "MaxPool2D", aliases=("MaxPool",), torch="nn.MaxPool2d", args=_POOL_ARGS, keeps_range=True
    )


@register
class AvgPool2D(_Pool2D):
    """``AvgPool2D[K=2, S=2]``: ``nn.AvgPool2d`` (padding counts as zeros, PyTorch's default)."""

    declaration = Declaration(
        "AvgPool2D", aliases=("AvgPool", "AveragePool2D"), torch="nn.AvgPool2d", args=_POOL_ARGS, keeps_range=True
    )


@register
class AdaptiveAvgPool2D(Op):
    """``AdaptiveAvgPool2D(1, 1)`` or ``[H=1, W=1]``: ``nn.AdaptiveAvgPool2d`` to a fixed size."""

    declaration = Declaration(
        "AdaptiveAvgPool2D",
        aliases=("AdaptiveAvgPool", "GlobalAvgPool2D"),
        torch="nn.AdaptiveAvgPool2d",
        args=(Arg("H", "int", "output_size", default=1, spellings=("height",)), Arg("W", "int", spellings=("width",))),
        keeps_range=True,
    )
    """The width defaults to the height."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.height = self.int_arg(bound, "H") or 0
        self.width = self.int_arg(bound, "W", self.height) or 0
        if self.height < 1 or self.width < 1:
            raise self.arg_error("the output size must be at least 1")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        n, c, _, _ = _image(self, inputs[0])
        return image(n, c, Dim.const(self.height), Dim.const(self.width))

    def module(self, w: CodeWriter) -> str:
        return f"nn.AdaptiveAvgPool2d(({self.height}, {self.width}))"


@register
class UpSample(Op):
    """``UpSample x2``: nearest-neighbour upsampling by a whole factor."""

    declaration = Declaration(
        "UpSample",
        torch="nn.Upsample",
        args=(Arg("S", "size", "scale_factor", spellings=("scale", "factor")),),
        keeps_range=True,
    )
    times_is_factor = True

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        factor = call.times if call.times is not None else self.size_arg(bound, "S")
        if call.times is not None and "S" in bound:
            raise self.arg_error("give the factor once: 'UpSample x2' or 'UpSample[S=2]'")
        value = factor.int_value() if factor is not None else None
        if value is None or value < 1:
            raise self.arg_error("needs a whole factor of at least 1, as in 'UpSample x2'")
        self.factor = value

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        n, c, h, w = _image(self, inputs[0])
        return image(n, c, h * self.factor, w * self.factor)

    def module(self, w: CodeWriter) -> str:
        return f"nn.Upsample(scale_factor={self.factor})"


@register
class BatchNorm(Op):
    """``BatchNorm(C)``: ``nn.BatchNorm2d`` on images, ``nn.BatchNorm1d`` on (N, C) or (N, C, L)."""

    declaration = Declaration(
        "BatchNorm",
        aliases=("BatchNorm2D", "BatchNorm1D", "BN"),
        torch="nn.BatchNorm2d",
        args=(Arg("C", "size", "num_features", spellings=("channels", "features")),),
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.channels = self.size_arg(bound, "C")
        self.rank = 4

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        if len(x) not in (2, 3, 4):
            raise self.rank_error(x, "a tensor of rank 2, 3 or 4")
        self.rank = len(x)
        c = x[1].size
        if self.channels is None:
            self.channels = c
        elif env.value(self.channels) != c:
            raise self.mismatch(f"normalizes {self.channels} channels but its input has C={c}")
        return x

    def constructor_dims(self) -> list[Dim]:
        return [self.channels] if self.channels is not None else []

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        return 2 * output[1].size  # weight and bias; the running statistics are buffers

    def module(self, w: CodeWriter) -> str:
        assert self.channels is not None
        kind = "BatchNorm2d" if self.rank == 4 else "BatchNorm1d"
        return f"nn.{kind}({w.dim(self.channels)})"
