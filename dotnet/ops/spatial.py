"""Arithmetic shared by ops over spatial axes: the input check and the sliding-window sizes.

Spatial ops take ``(N, C, *spatial)`` in PyTorch layout with one, two or three spatial axes:
a signal ``[BatchSize, L, C]``, an image ``[BatchSize, W, H, C]`` or a volume
``[BatchSize, W, H, D, C]``. Output axes keep the input's axis names.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dotnet.ops.base import CodeWriter, Op, OpEnv
from dotnet.reading.shape import Axis, Shape
from dotnet.reading.symbolic import Dim

INPUT_KINDS = {
    1: "a 1-d signal [BatchSize, L, C]",
    2: "an image [BatchSize, W, H, C]",
    3: "a volume [BatchSize, W, H, D, C]",
}
"""What a spatial op of each rank takes, for messages and docs."""
TORCH_SUFFIX = {1: "1d", 2: "2d", 3: "3d"}
"""PyTorch's class-name suffix for each spatial rank: ``nn.Conv1d``."""


def classes_by_rank(kind: str, rank: int | None) -> tuple[tuple[int, str], ...]:
    """A declaration's ``by_rank`` for PyTorch's ``nn.{kind}1d/2d/3d``: one spatial rank, or all (``None``)."""
    return tuple((r + 2, f"nn.{kind}{TORCH_SUFFIX[r]}") for r in ((rank,) if rank else (1, 2, 3)))


def spatial_input(op: Op[Any], x: Shape, rank: int) -> tuple[Axis, Axis, tuple[Axis, ...]]:
    """The batch axis, channel axis and spatial axes of ``x``, or an error naming the node."""
    if len(x) != rank + 2:
        raise op.rank_error(x, INPUT_KINDS[rank])
    return x[0], x[1], tuple(x[2:])


def rank_of(op: Op[Any], x: Shape) -> int:
    """The spatial rank of ``x`` for an op that takes any of 1, 2 or 3 spatial axes."""
    if len(x) not in (3, 4, 5):
        raise op.rank_error(x, "a signal, an image or a volume: [BatchSize, L, C], [BatchSize, W, H, C] or "
                            "[BatchSize, W, H, D, C]")  # fmt: skip
    return len(x) - 2


@dataclass(frozen=True)
class Window:
    """A sliding window's kernel size, stride, padding and dilation, the same on every axis."""

    kernel: Dim
    stride: Dim
    padding: Dim | str
    """A size, or ``same``/``valid``."""
    dilation: Dim

    def valued(self, env: OpEnv) -> Window:
        """The window in the terms of an inference run (a block call's argument values applied)."""
        padding = self.padding if isinstance(self.padding, str) else env.value(self.padding)
        return Window(env.value(self.kernel), env.value(self.stride), padding, env.value(self.dilation))

    def symbolic(self) -> list[Dim]:
        """Its sizes that hold symbols: block arguments, which become constructor arguments."""
        sizes = [self.kernel, self.stride, self.dilation] + ([] if isinstance(self.padding, str) else [self.padding])
        return [d for d in sizes if d.symbols()]


def window_out(
    env: OpEnv,
    op: Op[Any],
    axis: str,
    size: Dim,
    kernel: Dim,
    stride: Dim,
    padding: Dim,
    dilation: Dim,
    ceil: bool = False,
) -> Dim:
    """``floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1``, PyTorch's formula.

    For a symbolic size the symbolic part is assumed divisible by the stride (and that is
    recorded), so the constant part floors exactly: a 3x3 convolution with stride 2 and
    padding 1 maps ``BlockW`` to ``BlockW/2`` for even ``BlockW``. A symbolic stride (a
    block argument) divides the same way when the rest is -1 or 0, as with
    ``P = (K-1)/2``: ``BlockW`` becomes ``BlockW/Stride``. With ``ceil`` (a pooling's
    ``ceil_mode``) the division rounds up, and, as in PyTorch, a last window that would
    start in the right padding is dropped.
    """
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    number = stride.int_value()
    if ceil:
        if number is None:
            raise op.arg_error(f"ceil_mode needs a stride that is a number; it is S={stride}")
        numerator = numerator + (number - 1)
    offset = dict(numerator.terms).get((), Fraction(0))
    if number is None:
        out = _symbolic_stride(env, op, axis, numerator - Dim.const(offset), offset, stride)
    elif numerator.constant_value() is None and offset.denominator == 1:
        symbolic = numerator - int(offset)
        out = env.floordiv(symbolic, number, op.node, f"{axis} into {op.name}") + int(offset) // number + 1
    else:
        out = env.floordiv(numerator, number, op.node, f"{axis} into {op.name}") + 1
    if ceil and number is not None:
        starts_in_padding = ((out - 1) * number - size - padding).constant_value()
        if starts_in_padding is not None and starts_in_padding >= 0:
            out = out - 1
    return env.positive(out, op.node, f"{op.name} output {axis}")


def _symbolic_stride(env: OpEnv, op: Op[Any], axis: str, symbolic: Dim, offset: Fraction, stride: Dim) -> Dim:
    """``floor((symbolic + offset) / stride) + 1`` for a symbolic stride, when it is exact."""
    if offset not in (0, -1) or not symbolic.symbols():
        raise op.arg_error(
            f"with the stride S={stride} a symbol, {axis} must be symbolic and 2*P - D*(K-1) - 1 "
            f"must be 0 or -1 (P = (K-1)/2 for odd K), so the output size is exact; it is {offset}"
        )
    env.require_divisible(symbolic, stride, op.node.id, op.node.location)
    return symbolic.divide(stride) + (1 if offset == 0 else 0)


def transposed_out(
    env: OpEnv,
    op: Op[Any],
    axis: str,
    size: Dim,
    kernel: Dim,
    stride: Dim,
    padding: Dim,
    output_padding: int,
    dilation: Dim,
) -> Dim:
    """``(size - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1``, PyTorch's formula."""
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    return env.positive(out, op.node, f"{op.name} output {axis}")


def at_least(op: Op[Any], values: dict[str, Dim], low: int) -> None:
    """An error unless every value that is a number is at least ``low`` (symbols are checked per call)."""
    for key, value in values.items():
        number = value.int_value()
        if number is not None and number < low:
            raise op.arg_error(f"{key}={number} must be at least {low}")


def code(value: Dim | int, w: CodeWriter) -> str:
    """Python for a hyperparameter: the number, or the constructor argument a block passes."""
    return w.dim(value) if isinstance(value, Dim) else str(value)
