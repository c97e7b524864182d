"""Tensor plumbing without weights: axes moved, picked, cut, split, stacked, reduced, expanded.

Axes are written as a number counted in PyTorch's layout (``0`` the batch, ``-1`` the
last), or by name (``C``, ``H``, ``W``) when the tensor has that axis, as ``torch``'s
``dim`` arguments count them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, MultiOutputOp, Op, OpEnv, register, several
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import ArgValue, OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text, numel
from dotnet.reading.symbolic import Dim

_ONE = Dim.const(1)


def axis_index(op: Op[Any], shape: Shape, value: ArgValue | None, what: str = "axis", extra: int = 0) -> int:
    """The PyTorch dim ``value`` names in ``shape`` (``extra`` more places for an axis being inserted)."""
    rank = len(shape) + extra
    if isinstance(value, Dim) and len(value.symbols()) == 1 and value == Dim.sym(next(iter(value.symbols()))):
        name = next(iter(value.symbols()))
        named = [i for i, a in enumerate(shape) if a.name == name]
        if named:
            return named[0]
        raise op.arg_error(f"{what}={name}: its input {diagram_text(shape)} has no axis {name}")
    number = value.int_value() if isinstance(value, Dim) else None
    if number is None or not -rank <= number < rank:
        raise op.arg_error(
            f"{what}={value} must be a whole number from {-rank} to {rank - 1}, or an axis name, "
            f"for {diagram_text(shape)}"
        )
    return number % rank


def _sizes(op: Op[Any], values: tuple[ArgValue, ...]) -> list[Dim]:
    """Sizes written as positional arguments (``Split[64, 32]``): whole numbers or size symbols."""
    sizes = [v for v in values if isinstance(v, Dim)]
    if len(sizes) != len(values):
        raise op.arg_error("sizes must be whole numbers or size symbols")
    return sizes


def _subscript(variable: str, dim: int, item: str) -> str:
    """``x[:, :, ITEM]``: ``item`` at dim ``dim``, every other axis kept whole."""
    return f"{variable}[{', '.join([':'] * dim + [item])}]"


_AXIS = Arg("Axis", "size", "dim", required=True)
"""An axis: a number counted in PyTorch's layout, or a name (``C``, ``H``, ``W``)."""


@register
class Transpose(Op[tuple[int, int]]):
    """``Transpose[1, 2]``: two axes swapped (``x.transpose(1, 2)``)."""

    declaration = Declaration(
        "Transpose",
        torch="torch.transpose",
        args=(Arg("A", "size", "dim0", required=True), Arg("B", "size", "dim1", required=True)),
        keeps_range=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.axes = (bound.size("A"), bound.size("B"))

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[tuple[int, int]]:
        """The swapped shape; the facts are the two PyTorch dims."""
        (x,) = inputs
        a, b = (axis_index(self, x, v, w) for v, w in zip(self.axes, ("dim0", "dim1")))
        out = list(x)
        out[a], out[b] = Axis(None, x[b].size), Axis(None, x[a].size)
        return Inferred(tuple(out), (a, b))

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: tuple[int, int]) -> str:
        return f"{args[0]}.transpose({facts[0]}, {facts[1]})"


@register
class Permute(Op[tuple[int, ...]]):
    """``Permute[0, 2, 3, 1]``: the axes in a new order (``x.permute(0, 2, 3, 1)``), one argument per axis."""

    declaration = Declaration("Permute", torch="torch.permute", keeps_range=True)

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        if call.keywords or not call.positional:
            raise self.arg_error("takes the new order of every axis, as in Permute[0, 2, 3, 1]")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[tuple[int, ...]]:
        """The permuted shape; the facts are the new order as PyTorch dims."""
        (x,) = inputs
        order = tuple(axis_index(self, x, v) for v in self.call.positional)
        if sorted(order) != list(range(len(x))):
            raise self.arg_error(f"{list(order)} is not an order of all {len(x)} axes of {diagram_text(x)}")
        return Inferred(tuple(Axis(None, x[i].size) for i in order), order)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: tuple[int, ...]) -> str:
        return f"{args[0]}.permute({', '.join(str(i) for i in facts)})"


@register
class Select(Op[int]):
    """``Select[1, 0]``: index 0 of axis 1, the axis dropped (``x[:, 0]``, a class token)."""

    declaration = Declaration(
        "Select",
        aliases=("Index",),
        torch="torch.select",
        args=(_AXIS, Arg("Index", "int", "index", required=True, spellings=("i",))),
        keeps_range=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.axis = bound.size("Axis")
        self.index = bound.whole("Index")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        (x,) = inputs
        dim = axis_index(self, x, self.axis)
        size = x[dim].size.int_value()
        if size is not None and not -size <= self.index < size:
            raise self.mismatch(f"index {self.index} is outside axis {dim} of {diagram_text(x)}")
        return Inferred(x[:dim] + x[dim + 1 :], dim)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        return _subscript(args[0], facts, str(self.index))


@register
class Slice(Op[int]):
    """``Slice[1, 1, 5]`` or ``Slice[Axis=1, Start=1]``: a range of one axis (``x[:, 1:5]``), end exclusive."""

    declaration = Declaration(
        "Slice",
        args=(
            _AXIS,
            Arg("Start", "int", "start", default=0, spellings=("begin",)),
            Arg("End", "int", "end", spellings=("stop",)),
            Arg("Step", "int", "step", default=1),
        ),
        keeps_range=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.axis = bound.size("Axis")
        self.start = bound.whole("Start")
        self.end = bound.maybe_whole("End")
        step = bound.whole("Step")
        if step < 1:
            raise self.arg_error(f"Step={step} must be at least 1")
        self.step = step

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        (x,) = inputs
        dim = axis_index(self, x, self.axis)
        full = x[dim].size
        known = full.int_value()
        if known is not None:
            size = len(range(known)[self.start : self.end : self.step])
            if size == 0:
                raise self.mismatch(f"takes nothing of axis {dim} (size {known}) of {diagram_text(x)}")
            length = Dim.const(size)
        elif self.start >= 0 and self.end is None and self.step == 1:
            length = env.positive(full - self.start, self.node, "the slice's length")
        elif self.start >= 0 and self.end is not None and self.end > self.start and self.step == 1:
            length = Dim.const(self.end - self.start)
        else:
            raise self.mismatch(
                f"cannot size this slice of axis {dim}, whose size {full} is symbolic: "
                "give a start and no end, or an end beyond the start, with step 1"
            )
        return Inferred(x[:dim] + (Axis(x[dim].name, length),) + x[dim + 1 :], dim)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        item = f"{self.start or ''}:{'' if self.end is None else self.end}"
        if self.step != 1:
            item += f":{self.step}"
        return _subscript(args[0], facts, item)


class _Pieces(MultiOutputOp[int]):
    """A tensor cut along one axis into pieces, returned in order as outputs ``0``, ``1``, ..."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.count = 0

    def output_names(self) -> tuple[str, ...]:
        return tuple(str(i) for i in range(self.count))

    @staticmethod
    def pieces(x: Shape, dim: int, sizes: list[Dim]) -> Inferred[int]:
        """The pieces of ``x`` cut along ``dim``; the facts are that dim."""
        return several({str(i): x[:dim] + (Axis(x[dim].name, s),) + x[dim + 1 :] for i, s in enumerate(sizes)}, dim)


@register
class Chunk(_Pieces):
    """``Chunk[3, -1]``: ``N`` equal pieces along an axis (``x.chunk(3, dim=-1)``); the axis must divide."""

    declaration = Declaration(
        "Chunk",
        torch="torch.chunk",
        args=(
            Arg("Chunks", "int", "chunks", required=True, spellings=("n",)),
            Arg("Axis", "size", "dim", default=Dim.const(-1)),
        ),
        keeps_range=True,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        chunks = bound.whole("Chunks")
        if chunks < 2:
            raise self.arg_error(f"Chunks={chunks} must be at least 2")
        self.chunks = self.count = chunks
        self.axis = bound.size("Axis")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        (x,) = inputs
        dim = axis_index(self, x, self.axis)
        size = x[dim].size
        known = size.int_value()
        if known is not None and known % self.chunks:
            raise self.mismatch(f"axis {dim} of {diagram_text(x)} does not split into {self.chunks} equal pieces")
        piece = env.floordiv(size, self.chunks, self.node, f"axis {dim} into {self.chunks} chunks")
        return self.pieces(x, dim, [piece] * self.chunks)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        return f"{args[0]}.chunk({self.chunks}, dim={facts})"


@register
class Split(_Pieces):
    """``Split[64, 32, Axis=-1]``: pieces of the given sizes along an axis (``torch.split``), one argument each."""

    declaration = Declaration("Split", torch="torch.split", keeps_range=True)

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        axis = [v for k, v in call.keywords if k.lower() in ("axis", "dim")]
        if len(call.positional) < 2 or len(axis) != len(call.keywords) or len(axis) > 1:
            raise self.arg_error("takes two or more sizes and an axis, as in Split[64, 32, Axis=-1]")
        self.axis = axis[0] if axis else Dim.const(-1)
        self.sizes = _sizes(self, call.positional)
        self.count = len(self.sizes)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        (x,) = inputs
        dim = axis_index(self, x, self.axis)
        sizes = [env.value(s) for s in self.sizes]
        total = sum(sizes, Dim.const(0))
        if total != x[dim].size:
            raise self.mismatch(
                f"pieces of {' + '.join(str(s) for s in sizes)} = {total} do not cut axis {dim} of {diagram_text(x)}"
            )
        return self.pieces(x, dim, sizes)

    def constructor_dims(self, facts: int) -> list[Dim]:
        return self.sizes

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        return f"torch.split({args[0]}, [{', '.join(w.dim(s) for s in self.sizes)}], dim={facts})"


@register
class Stack(Op[int]):
    """``Stack[1]``: the in-edges, in file order, stacked along a new axis (``torch.stack``)."""

    declaration = Declaration(
        "Stack",
        torch="torch.stack",
        args=(Arg("Axis", "size", "dim", default=Dim.const(0)),),
        keeps_range=True,
        min_inputs=2,
        max_inputs=None,
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.axis = self.bind_declared().size("Axis")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        first = inputs[0]
        for shape in inputs[1:]:
            if len(shape) != len(first) or any(a.size != b.size for a, b in zip(first, shape)):
                raise self.mismatch(f"stacks tensors of one shape, not {diagram_text(first)} and {diagram_text(shape)}")
        dim = axis_index(self, first, self.axis, extra=1)
        return Inferred(first[:dim] + (Axis(None, Dim.const(len(inputs))),) + first[dim:], dim)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        return f"torch.stack(({', '.join(args)}), dim={facts})"


class _Reduce(Op[tuple[int, ...]]):
    """A reduction over the axes given (``Mean[H, W]``, ``ReduceSum[1]``); ``KeepDim=1`` keeps them as 1."""

    method: ClassVar[str]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        keep = [v for k, v in call.keywords if k.lower() in ("keepdim", "keep")]
        if not call.positional or len(keep) != len(call.keywords) or len(keep) > 1:
            raise self.arg_error(f"takes the axes to reduce and KeepDim, as in {self.name}[H, W, KeepDim=1]")
        flag = keep[0].int_value() if keep and isinstance(keep[0], Dim) else 0 if not keep else None
        if flag not in (0, 1):
            raise self.arg_error("KeepDim must be 0 or 1")
        self.keep = flag == 1

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[tuple[int, ...]]:
        (x,) = inputs
        dims = tuple(sorted({axis_index(self, x, v) for v in self.call.positional}))
        if self.keep:
            return Inferred(tuple(Axis(a.name, _ONE) if i in dims else a for i, a in enumerate(x)), dims)
        return Inferred(tuple(a for i, a in enumerate(x) if i not in dims), dims)

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: tuple[int, ...]) -> str:
        dims = str(facts[0]) if len(facts) == 1 else f"({', '.join(str(d) for d in facts)})"
        keep = ", keepdim=True" if self.keep else ""
        return f"{args[0]}.{self.method}(dim={dims}{keep})"


@register
class Mean(_Reduce):
    """``Mean[1]``: the mean over the axes given (``x.mean(dim=1)``)."""

    declaration = Declaration("Mean", aliases=("ReduceMean",), torch="torch.mean", keeps_range=True)
    method = "mean"


@register
class ReduceSum(_Reduce):
    """``ReduceSum[1]``: the sum over the axes given (``x.sum(dim=1)``); ``Sum`` is the operator ``+``."""

    declaration = Declaration("ReduceSum", aliases=("SumOver",), torch="torch.sum")
    method = "sum"


@register
class Max(_Reduce):
    """``Max[1]``: the largest value over the axes given (``x.amax(dim=1)``)."""

    declaration = Declaration("Max", aliases=("ReduceMax", "AMax"), torch="torch.amax", keeps_range=True)
    method = "amax"


@register
class Expand(Op[int]):
    """``Expand``: its first in-edge, batch size 1, repeated over the batch of the second (a class token).

    ``cls [1, 1, D]`` and ``x [BatchSize, N, D]`` give ``[BatchSize, 1, D]``, as
    ``cls.expand(x.shape[0], -1, -1)`` does: a view, no copy, the gradient summed.
    """

    declaration = Declaration("Expand", keeps_range=True, min_inputs=2, max_inputs=2)

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        self.no_args()
        tensor, like = inputs
        if not tensor or tensor[0].size != _ONE:
            raise self.rank_error(tensor, "a first input of batch size 1")
        return Inferred((like[0], *tensor[1:]), len(tensor))

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: int) -> str:
        keep = ", -1" * (facts - 1)
        return f"{args[0]}.expand({args[1]}.shape[0]{keep})"


@register
class Unflatten(Op[int]):
    """``Unflatten[1, 16, 5, 5]``: one axis refolded into several (``nn.Unflatten(1, (16, 5, 5))``)."""

    declaration = Declaration("Unflatten", torch="nn.Unflatten", keeps_range=True)

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        if call.keywords or len(call.positional) < 3:
            raise self.arg_error("takes the axis and two or more sizes, as in Unflatten[1, 16, 5, 5]")
        self.axis = call.positional[0]
        self.sizes = _sizes(self, call.positional[1:])

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        (x,) = inputs
        dim = axis_index(self, x, self.axis)
        sizes = [env.value(s) for s in self.sizes]
        product = numel(tuple(Axis(None, s) for s in sizes))
        if product != x[dim].size:
            raise self.mismatch(
                f"{' x '.join(str(s) for s in sizes)} = {product} is not axis {dim} of {diagram_text(x)}"
            )
        return Inferred(x[:dim] + tuple(Axis(None, s) for s in sizes) + x[dim + 1 :], dim)

    def constructor_dims(self, facts: int) -> list[Dim]:
        return self.sizes

    def module(self, w: CodeWriter, facts: int) -> str:
        return f"nn.Unflatten({facts}, ({', '.join(w.dim(s) for s in self.sizes)}))"
