"""Tensor shapes in PyTorch layout, and their conversion to and from diagram notation.

Diagrams write ``[BatchSize, W=256, H=256, C=3]``; PyTorch wants ``(N, C, H, W)``.
Internally every shape is kept in PyTorch layout: unnamed dims in written order,
then ``C``, ``D``, ``H``, ``W`` (and ``L``, a signal's length) where present. Each axis keeps its name so a shape can be
printed back the way the diagram writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dotnet.reading.labels import AxisDim
from dotnet.reading.symbolic import Dim

TORCH_AXIS_ORDER = ("C", "D", "H", "W", "L")
DIAGRAM_AXIS_ORDER = ("L", "W", "H", "D", "C")


@dataclass(frozen=True)
class Axis:
    """One dimension: an optional axis name (``C``, ``H``, ``W``) and its size."""

    name: str | None
    size: Dim


Shape = tuple[Axis, ...]


def from_declared(dims: tuple[AxisDim, ...]) -> Shape:
    """A declared diagram shape, reordered into PyTorch layout."""
    unnamed = [Axis(None, d.size) for d in dims if d.axis is None]
    named = {d.axis: d.size for d in dims if d.axis is not None}
    return tuple(unnamed) + tuple(Axis(a, named[a]) for a in TORCH_AXIS_ORDER if a in named)


def same(a: Shape, b: Shape) -> bool:
    """Equal rank and equal sizes, axis by axis in PyTorch layout."""
    return len(a) == len(b) and all(x.size == y.size for x, y in zip(a, b))


def torch_text(shape: Shape) -> str:
    """``(BatchSize, 3, 256, 256)``: PyTorch layout, sizes in diagram notation."""
    return "(" + ", ".join(str(a.size) for a in shape) + ")"


def diagram_text(shape: Shape, like: tuple[AxisDim, ...] | None = None) -> str:
    """``[BatchSize, W=256, H=256, C=3]``: the diagram's notation.

    With ``like`` (a declared shape of the same rank), dims are listed in the
    order and with the axis names that declaration uses, so the two read side by side.
    """
    if like is not None and len(like) == len(shape):
        torch_order = from_declared(like)
        position = {id(ax): i for i, ax in enumerate(torch_order)}
        declared_order = [position[id(ax)] for ax in _declared_axes(like, torch_order)]
        parts = []
        for decl, i in zip(like, declared_order):
            size = str(shape[i].size)
            parts.append(f"{decl.axis}={size}" if decl.axis else size)
        return "[" + ", ".join(parts) + "]"
    unnamed = [str(a.size) for a in shape if a.name is None]
    named = {a.name: a.size for a in shape if a.name is not None}
    return "[" + ", ".join(unnamed + [f"{n}={named[n]}" for n in DIAGRAM_AXIS_ORDER if n in named]) + "]"


def _declared_axes(like: tuple[AxisDim, ...], torch_order: Shape) -> list[Axis]:
    """For each declared dim, the Axis object it became in PyTorch layout."""
    unnamed = iter([a for a in torch_order if a.name is None])
    by_name = {a.name: a for a in torch_order if a.name is not None}
    return [by_name[d.axis] if d.axis else next(unnamed) for d in like]


def image(batch: Dim, channels: Dim, height: Dim, width: Dim) -> Shape:
    """An ``(N, C, H, W)`` shape with its axes named."""
    return (Axis(None, batch), Axis("C", channels), Axis("H", height), Axis("W", width))


def numel(shape: Shape) -> Dim:
    """The number of elements: the product of the sizes."""
    total = Dim.const(1)
    for axis in shape:
        total = total * axis.size
    return total
