"""Arithmetic shared by ops over spatial axes: the input check and the sliding-window sizes.

Spatial ops take ``(N, C, *spatial)`` in PyTorch layout with one, two or three spatial axes:
a signal ``[BatchSize, L, C]``, an image ``[BatchSize, W, H, C]`` or a volume
``[BatchSize, W, H, D, C]``. Output axes keep the input's axis names.
"""

from __future__ import annotations

from fractions import Fraction

from dotnet.analysis.infer import Env
from dotnet.ops.base import Op
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


def spatial_input(op: Op, x: Shape, rank: int) -> tuple[Axis, Axis, tuple[Axis, ...]]:
    """The batch axis, channel axis and spatial axes of ``x``, or an error naming the node."""
    if len(x) != rank + 2:
        raise op.rank_error(x, INPUT_KINDS[rank])
    return x[0], x[1], tuple(x[2:])


def rank_of(op: Op, x: Shape) -> int:
    """The spatial rank of ``x`` for an op that takes any of 1, 2 or 3 spatial axes."""
    if len(x) not in (3, 4, 5):
        raise op.rank_error(x, "a signal, an image or a volume: [BatchSize, L, C], [BatchSize, W, H, C] or "
                            "[BatchSize, W, H, D, C]")  # fmt: skip
    return len(x) - 2


def window_out(
    env: Env, op: Op, axis: str, size: Dim, kernel: int, stride: int, padding: int, dilation: int = 1
) -> Dim:
    """``floor((size + 2*padding - dilation*(kernel-1) - 1) / stride) + 1``, PyTorch's formula.

    For a symbolic size the symbolic part is assumed divisible by the stride (and that is
    recorded), so the constant part floors exactly: a 3x3 convolution with stride 2 and
    padding 1 maps ``BlockW`` to ``BlockW/2`` for even ``BlockW``.
    """
    span = dilation * (kernel - 1) + 1
    numerator = size + 2 * padding - span
    offset = dict(numerator.terms).get((), Fraction(0))
    if numerator.constant_value() is None and offset.denominator == 1:
        symbolic = numerator - int(offset)
        out = env.floordiv(symbolic, stride, op.node, f"{axis} into {op.name}") + int(offset) // stride + 1
    else:
        out = env.floordiv(numerator, stride, op.node, f"{axis} into {op.name}") + 1
    return env.positive(out, op.node, f"{op.name} output {axis}")


def transposed_out(
    env: Env, op: Op, axis: str, size: Dim, kernel: int, stride: int, padding: int, output_padding: int, dilation: int
) -> Dim:
    """``(size - 1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1``, PyTorch's formula."""
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    return env.positive(out, op.node, f"{op.name} output {axis}")


def axis_label(axis: Axis, position: int) -> str:
    """The name an axis goes by in messages: its diagram name, else its position."""
    return axis.name or f"axis {position}"
