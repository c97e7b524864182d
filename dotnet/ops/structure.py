"""Ops that rearrange tensors without weights: flattening, reshaping and concatenation (more in ``tensors``)."""

from __future__ import annotations

from dataclasses import dataclass

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, Op, OpEnv, register
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import AXES, AxisDim, OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text, from_declared, numel
from dotnet.reading.symbolic import Dim


@register
class Flatten(Op[tuple[int, int]]):
    """``Flatten``: every dimension after the batch into one, as ``nn.Flatten()`` does.

    ``Flatten[2]`` or ``Flatten[Start=1, End=2]`` joins the axes from ``Start`` to ``End``
    (PyTorch's ``start_dim``, ``end_dim``; the defaults 1 and -1).
    """

    declaration = Declaration(
        "Flatten",
        torch="nn.Flatten",
        args=(Arg("Start", "int", "start_dim", default=1), Arg("End", "int", "end_dim", default=-1)),
        keeps_range=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.start, self.end = bound.whole("Start"), bound.whole("End")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[tuple[int, int]]:
        """The flattened shape; the facts are the span of axes joined, as ``nn.Flatten`` takes it."""
        (x,) = inputs
        if len(x) < 2:
            raise self.rank_error(x, "a batch of at least one dimension")
        rank = len(x)
        start, end = self.start, self.end
        if not (-rank <= start < rank and -rank <= end < rank) or start % rank > end % rank:
            raise self.arg_error(f"Start={start}, End={end} name no run of axes of {diagram_text(x)}")
        first, last = start % rank, end % rank
        return Inferred(
            x[:first] + (Axis(None, numel(x[first : last + 1])),) + x[last + 1 :], (first, last if end >= 0 else end)
        )

    def module(self, w: CodeWriter, facts: tuple[int, int]) -> str:
        start, end = facts
        return (
            "nn.Flatten()"
            if facts == (1, -1)
            else f"nn.Flatten({start})"
            if end == -1
            else f"nn.Flatten({start}, {end})"
        )


@dataclass(frozen=True)
class ReshapeFacts:
    """What a reshape's code needs from inference."""

    sample: tuple[Dim, ...]
    """The target's sizes after the batch, in the graph's own symbols."""
    read_from: tuple[tuple[tuple[int, ...], int] | None, ...]
    """For each of those sizes, input axes (PyTorch layout) and a factor that multiply to it, if any do."""


@register
class Reshape(Op[ReshapeFacts]):
    """``reshape[BatchSize, 16x5x5]`` or ``reshape([4096])``: the batch kept, the rest refolded.

    The elements are read in PyTorch's (N, C, H, W) order, as ``Flatten`` reads them; the
    element count per sample must be the same on both sides, symbolically.
    """

    declaration = Declaration("Reshape", aliases=("View",), torch="torch.reshape", keeps_range=True)

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        values = call.positional + tuple(v for _, v in call.keywords)
        named_axes = all(k.upper() in AXES for k, _ in call.keywords)
        if not values or not named_axes or any(isinstance(v, float) for v in values):
            raise self.arg_error(
                "takes the target shape, as in reshape[BatchSize, 4096], reshape([4096]) "
                "or reshape[BatchSize, W=28, H=28, C=1]"
            )
        declared = tuple(AxisDim(None, v, str(v)) for v in call.positional if isinstance(v, Dim))
        declared += tuple(AxisDim(k.upper(), v, str(v)) for k, v in call.keywords if isinstance(v, Dim))
        self.written = diagram_text(from_declared(declared), declared)
        self.target: Shape = from_declared(declared)
        """The target in PyTorch layout: sizes without a name in the order written, then C, D, H, W, L."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[ReshapeFacts]:
        """The refolded shape; the facts are the target's sizes after the batch and where to read them."""
        (x,) = inputs
        if not x:
            raise self.rank_error(x, "a batch of tensors")
        target = [Axis(a.name, env.value(a.size)) for a in self.target]
        with_batch = len(target) > 1 and target[0].name is None and target[0].size == x[0].size
        sample = target[1:] if with_batch else target
        want, have = numel(tuple(sample)), numel(x[1:])
        if want != have:
            raise self.mismatch(
                f"{self.written} holds {want} elements per sample, but its input {diagram_text(x)} holds {have}"
            )
        kept = self.target[1:] if with_batch else self.target
        read_from = tuple(_axes_making(a.size, x) for a in sample)
        return Inferred((x[0], *sample), ReshapeFacts(tuple(a.size for a in kept), read_from))

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: ReshapeFacts) -> str:
        """Sizes known to the constructor as numbers or arguments, run-time ones read from the input
        (``x.shape[1]``, or a product of its axes), and ``-1`` for at most one that is neither."""
        x = args[0]
        # forward sees no constructor arguments: only numbers are written; InC*784 is read off the input
        sizes = [w.dim(d) if d.int_value() is not None else None for d in facts.sample]
        for at, made in enumerate(facts.read_from):
            if sizes[at] is None and made is not None and made == ((made[0][0],), 1):
                sizes[at] = f"{x}.shape[{made[0][0]}]"  # carried over from the input
        left = [at for at, size in enumerate(sizes) if size is None]
        unread = [at for at in left if facts.read_from[at] is None]
        for at in left:  # one is left for PyTorch (-1): one no input axes make, if there is one
            made = facts.read_from[at]
            if at != (unread or left)[0] and made is not None:
                axes, factor = made
                sizes[at] = " * ".join([f"{x}.shape[{i}]" for i in axes] + ([str(factor)] if factor != 1 else []))
        written = [size if size is not None else "-1" for size in sizes]
        if written.count("-1") > 1:
            raise self.arg_error(
                f"sizes {', '.join(str(d) for d, s in zip(facts.sample, written) if s == '-1')} are known only at "
                "run time and no input axes multiply to them; at most one can be left for PyTorch to work out"
            )
        return f"{x}.reshape({x}.shape[0], {', '.join(written)})"


def _axes_making(size: Dim, x: Shape) -> tuple[tuple[int, ...], int] | None:
    """Input axes (PyTorch layout, after the batch) and a whole factor whose product is ``size``.

    One axis of that size first, then a run of neighbouring axes (``H*D`` from ``[..., H, D]``),
    then any axes, one for each symbol of a one-term size (``T*H`` from ``[..., T, F, H]``).
    """
    for length in range(1, len(x)):
        for start in range(1, len(x) - length + 1):
            if numel(x[start : start + length]) == size:
                return tuple(range(start, start + length)), 1
    terms = list(size.terms)
    if len(terms) != 1 or terms[0][1].denominator != 1:
        return None
    monomial, factor = terms[0]
    axes: list[int] = []
    for symbol in monomial:
        at = next((i for i in range(1, len(x)) if x[i].size == Dim.sym(symbol) and i not in axes), None)
        if at is None:
            return None
        axes.append(at)
    return tuple(sorted(axes)), int(factor)


@register
class Concat(Op[int]):
    """``Concat``, ``cat(axis=1)``, ``Concat[axis=W]``: the in-edges joined along one axis, in file order.

    The axis is a named one (``C``, ``H``, ``W``) or a number counted in PyTorch's (N, C, H, W)
    order, as ``torch.cat``'s ``dim`` is; without one it is the channels (1).
    """

    declaration = Declaration(
        "Concat",
        aliases=("Cat", "Concatenate"),
        torch="torch.cat",
        args=(
            Arg(
                "axis",
                "axis",
                torch="dim",
                help="an axis name (C, H, W) or an index in PyTorch layout; the channels (1) when left out",
            ),
        ),
        keeps_range=True,
        min_inputs=2,
        max_inputs=None,
        fresh_output=True,
    )

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        self.axis = self.bind_declared().axis("axis")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        """The joined shape; the facts are the PyTorch dim joined along."""
        first = inputs[0]
        at = self._dim(first)
        size = first[at].size
        for shape in inputs[1:]:
            others_differ = any(a.size != b.size for i, (a, b) in enumerate(zip(first, shape)) if i != at)
            if len(shape) != len(first) or others_differ:
                raise self.mismatch(
                    f"joins along axis {first[at].name or at}, so all other sizes must agree: "
                    f"{diagram_text(first)} and {diagram_text(shape)}"
                )
            size = size + shape[at].size
        return Inferred((*first[:at], Axis(first[at].name, size), *first[at + 1 :]), at)

    def _dim(self, first: Shape) -> int:
        """The PyTorch dim to join along, for inputs shaped like ``first``."""
        if self.axis is None:
            if len(first) < 2:
                raise self.rank_error(first, "tensors with a channel axis after the batch")
            return 1
        if isinstance(self.axis, str):
            named = [i for i, a in enumerate(first) if a.name == self.axis]
            if not named:
                raise self.rank_error(first, f"tensors with a {self.axis} axis")
            return named[0]
        number = self.axis
        if not 0 < number < len(first):
            raise self.arg_error(
                f"axis={self.axis} must name an axis ({', '.join(AXES)}) or count one after the batch "
                f"(1 to {len(first) - 1})"
            )
        return number

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        return f"torch.cat(({', '.join(args)}), dim={facts})"
