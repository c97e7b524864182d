"""Pooling over 1, 2 or 3 spatial axes: sliding windows, adaptive output sizes, global pooling.

Every member is declared in the table at the end, one line each; the rank-free names
(``MaxPool``, ``AvgPool``, ``GlobalAvgPool``) take the input's rank.
"""

from __future__ import annotations

from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, NoFacts, Op, OpEnv, SimpleOp, declare
from dotnet.ops.declaration import Arg, Declaration, SameAs
from dotnet.ops.spatial import TORCH_SUFFIX, classes_by_rank, rank_of, spatial_input, window_out
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape
from dotnet.reading.symbolic import Dim

KERNEL = Arg("K", "size", "kernel_size", required=True, spellings=("kernel",), square=True)
STRIDE = Arg("S", "size", "stride", default=SameAs("K"), spellings=("strides",))
PADDING = Arg("P", "size", "padding", default=Dim.const(0), spellings=("pad",), help="at most K/2")
DILATION = Arg("D", "size", "dilation", default=Dim.const(1))
CEIL_MODE = Arg("CeilMode", "flag", "ceil_mode", default=False, spellings=("ceil",), help="round the output size up")


class _Pool(Op[int]):
    """A sliding-window pooling: ``[K=3, S=2, P=1]`` or ``(3, 2, 1)``; the stride defaults to K."""

    rank: ClassVar[int | None]
    torch_class: ClassVar[str]
    """``MaxPool`` or ``AvgPool``; the rank's suffix is appended."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.kernel = bound.size("K")
        self.stride = bound.size("S")
        self.padding = bound.size("P")
        self.dilation = bound.size("D") if "D" in bound.values else Dim.const(1)
        self.ceil_mode = bound.flag("CeilMode")
        self._check(self.kernel, self.stride, self.padding, self.dilation)

    def _check(self, kernel: Dim, stride: Dim, padding: Dim, dilation: Dim) -> None:
        numbers = [v.int_value() for v in (kernel, stride, padding)]
        if None not in numbers:
            k, s, p = numbers
            assert k is not None and s is not None and p is not None
            if k < 1 or s < 1 or not 0 <= 2 * p <= k:
                raise self.arg_error("K and S must be at least 1, and P at most half of K")
        if (number := dilation.int_value()) is not None and number < 1:
            raise self.arg_error("D must be at least 1")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        """The pooled shape; the facts are the spatial rank (the input's, for the rank-free name)."""
        x = inputs[0]
        rank = self.rank or rank_of(self, x)
        batch, channels, spatial = spatial_input(self, x, rank)
        window = (
            env.value(self.kernel),
            env.value(self.stride),
            env.value(self.padding),
            env.value(self.dilation),
        )
        self._check(*window)
        sizes = [
            window_out(env, self, a.name or f"axis {i + 2}", a.size, *window, ceil=self.ceil_mode)
            for i, a in enumerate(spatial)
        ]
        return Inferred((batch, channels, *(Axis(a.name, s) for a, s in zip(spatial, sizes))), rank)

    def constructor_dims(self, facts: int) -> list[Dim]:
        return [d for d in (self.kernel, self.stride, self.padding, self.dilation) if d.symbols()]

    def module(self, w: CodeWriter, facts: int) -> str:
        args = [f"kernel_size={w.dim(self.kernel)}"]
        if self.stride != self.kernel:
            args.append(f"stride={w.dim(self.stride)}")
        if self.padding != Dim.const(0):
            args.append(f"padding={w.dim(self.padding)}")
        if self.dilation != Dim.const(1):
            args.append(f"dilation={w.dim(self.dilation)}")
        if self.ceil_mode:
            args.append("ceil_mode=True")
        return f"{self.torch_for(facts + 2)}({', '.join(args)})"


class _MaxPool(_Pool):
    torch_class = "MaxPool"


class _AvgPool(_Pool):
    torch_class = "AvgPool"


OUTPUT_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
"""The output-size arguments of an adaptive pooling, by rank, in PyTorch's order."""


def _output_size_args(rank: int) -> tuple[Arg, ...]:
    first, *rest = OUTPUT_AXES[rank]
    return (Arg(first, "int", "output_size", default=1, help="the output size on every axis not given"),) + tuple(
        Arg(name, "int", default=SameAs(first)) for name in rest
    )


class _AdaptivePool(SimpleOp):
    """Pooling to a fixed output size: ``AdaptiveAvgPool2D(1, 1)``, ``AdaptiveMaxPool1D(5)``."""

    rank: ClassVar[int]
    torch_class: ClassVar[str]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.sizes = tuple(bound.whole(name) for name in OUTPUT_AXES[self.rank])
        if min(self.sizes) < 1:
            raise self.arg_error("the output size must be at least 1")

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        batch, channels, spatial = spatial_input(self, inputs[0], self.rank)
        return (batch, channels, *(Axis(a.name, Dim.const(s)) for a, s in zip(spatial, self.sizes)))

    def module(self, w: CodeWriter, facts: NoFacts) -> str:
        size = str(self.sizes[0]) if self.rank == 1 else f"({', '.join(map(str, self.sizes))})"
        return f"{self.torch_for(self.rank + 2)}({size})"


class _GlobalPool(Op[int]):
    """Pooling every spatial axis to size 1: ``GlobalAvgPool2D`` is ``nn.AdaptiveAvgPool2d(1)``."""

    rank: ClassVar[int | None]
    torch_class: ClassVar[str]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.no_args()

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        """The pooled shape; the facts are the spatial rank (the input's, for the rank-free name)."""
        x = inputs[0]
        rank = self.rank or rank_of(self, x)
        batch, channels, spatial = spatial_input(self, x, rank)
        return Inferred((batch, channels, *(Axis(a.name, Dim.const(1)) for a in spatial)), rank)

    def module(self, w: CodeWriter, facts: int) -> str:
        return f"{self.torch_for(facts + 2)}(1)"


OVER = {1: "over a signal", 2: "over an image", 3: "over a volume", None: "over the input's spatial axes"}


def _torch(kind: str, rank: int | None) -> str | None:
    """PyTorch's class for one rank; ``None`` for the rank-free names, whose class depends on the input."""
    return f"nn.{kind}{TORCH_SUFFIX[rank]}" if rank else None


def _call(kind: str, rank: int | None, args: str) -> str:
    return f"nn.{kind}{TORCH_SUFFIX[rank]}({args})" if rank else f"nn.{kind}1d, 2d or 3d, by the input's rank"


_WINDOW_SHAPE = "each spatial size n -> floor((n + 2P - D*(K-1) - 1)/S) + 1 (ceil with CeilMode); C unchanged"


def _declare_family(rank: int | None) -> None:
    """The pooling ops of one rank (``None``: the rank-free names)."""
    suffix, over = f"{rank}D" if rank else "", OVER[rank]
    max_pool = Declaration(
        f"MaxPool{suffix}",
        torch=_torch("MaxPool", rank),
        args=(KERNEL, STRIDE, PADDING, DILATION, CEIL_MODE),
        shape=_WINDOW_SHAPE,
        torch_call=_call("MaxPool", rank, "kernel_size=K, stride=S, padding=P, dilation=D, ceil_mode=CeilMode"),
        keeps_range=True,
        fresh_output=True,
        by_rank=classes_by_rank("MaxPool", rank),
    )
    avg_pool = Declaration(
        f"AvgPool{suffix}",
        aliases=("AveragePool2D",) if rank == 2 else (),
        torch=_torch("AvgPool", rank),
        args=(KERNEL, STRIDE, PADDING, CEIL_MODE),
        shape=_WINDOW_SHAPE.replace("D*(K-1) - 1", "K"),
        torch_call=_call("AvgPool", rank, "kernel_size=K, stride=S, padding=P, ceil_mode=CeilMode"),
        keeps_range=True,
        fresh_output=True,
        by_rank=classes_by_rank("AvgPool", rank),
    )
    declare(_MaxPool, max_pool, f"Max pooling {over}.", rank=rank)
    declare(_AvgPool, avg_pool, f"Average pooling {over}.", rank=rank)
    for kind, word in (("Avg", "Average"), ("Max", "Maximum")):
        whole = Declaration(
            f"Global{kind}Pool{suffix}",
            shape="every spatial size -> 1; C unchanged",
            torch_call=_call(f"Adaptive{kind}Pool", rank, "1"),
            keeps_range=True,
            fresh_output=True,
            by_rank=classes_by_rank(f"Adaptive{kind}Pool", rank),
        )
        declare(_GlobalPool, whole, f"{word} of each channel {over}, keeping the axes at size 1.", rank=rank,
                torch_class=f"Adaptive{kind}Pool")  # fmt: skip
        if rank is not None:
            sizes = ", ".join(OUTPUT_AXES[rank])
            adaptive = Declaration(
                f"Adaptive{kind}Pool{suffix}",
                aliases=("AdaptiveAvgPool",) if (kind, rank) == ("Avg", 2) else (),
                torch=_torch(f"Adaptive{kind}Pool", rank),
                args=_output_size_args(rank),
                shape="spatial sizes -> the given output size; C unchanged",
                torch_call=_call(f"Adaptive{kind}Pool", rank, sizes if rank == 1 else f"({sizes})"),
                keeps_range=True,
                fresh_output=True,
                by_rank=classes_by_rank(f"Adaptive{kind}Pool", rank),
            )
            declare(_AdaptivePool, adaptive, f"{word} pooling {over} to a fixed output size.", rank=rank,
                    torch_class=f"Adaptive{kind}Pool")  # fmt: skip


for _rank in (1, 2, 3, None):
    _declare_family(_rank)
