"""What every op provides, and the registry that maps label names to ops.

An op is built once per op node from its parsed :class:`~dotnet.reading.labels.OpCall`.
It checks its arguments, infers its output shape from its input shapes, and
renders its part of the generated module: a constructor expression for
``__init__`` (or ``None`` for ops with no submodule) and a forward expression.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from dotnet import codes
from dotnet.analysis.ir import OpNode
from dotnet.diagnostics import SpecError, error
from dotnet.reading.labels import ArgValue, OpCall, format_arg
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.symbolic import Dim

if TYPE_CHECKING:
    from dotnet.analysis.infer import Env


class CodeWriter(ABC):
    """How ops name things in generated code; implemented by the code generator."""

    @abstractmethod
    def dim(self, value: Dim) -> str:
        """Python source for a size, with symbols as constructor arguments."""

    @abstractmethod
    def use(self, import_name: str) -> None:
        """Note that generated code needs ``import_name`` (``F`` for torch.nn.functional)."""

    @abstractmethod
    def formula_name(self, name: str) -> str:
        """Python for a name in a formula: the tensor node's variable, or ``self.W_f``."""

    @abstractmethod
    def knows(self, value: Dim) -> bool:
        """True when ``dim`` can write ``value``: no run-time dims (``BatchSize``) in it."""

    @abstractmethod
    def node_attr(self, node_id: str) -> str:
        """The attribute that holds node ``node_id``'s submodule (for inline operands)."""


class Op(ABC):
    """An operation node's behaviour. Subclasses register with :func:`register`."""

    name: ClassVar[str]
    """Canonical name, used in messages."""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    times_is_factor: ClassVar[bool] = False
    """``OP x2`` gives the op a factor instead of repeating it."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        self.node = node
        self.call = call

    # -- checks --------------------------------------------------------
    @abstractmethod
    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        """The output shape for these input shapes, or a :class:`SpecError`."""

    def constructor_dims(self) -> list[Dim]:
        """Sizes the constructor uses; their symbols become constructor arguments."""
        return []

    # -- costs (read by ``dotnet summary``; never runs the model) -----
    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        """Trainable parameters of this node's submodule, for these inferred shapes."""
        return Dim.const(0)

    def mult_adds(self, inputs: list[Shape], output: Shape) -> Dim:
        """Multiply-adds of one forward pass; only weighted layers and matrix products count."""
        return Dim.const(0)

    def weight_shape(self) -> tuple[Dim, Dim] | None:
        """The shape of the submodule's ``weight``, for ops whose weight another node may use."""
        return None

    def implicit_parameters(self) -> list[tuple[str, Shape, int]]:
        """Parameters the op creates by naming them: name, shape, offset in the label."""
        return []

    # -- code ----------------------------------------------------------
    def module(self, w: CodeWriter) -> str | None:
        """Constructor expression of this node's submodule, or ``None`` for none."""
        return None

    def repeated_module(self, expr: str, count: str, index: str = "_") -> str:
        """The submodule of ``OP x N``: ``count`` copies of ``expr``, each with its own weights.

        ``index`` is the loop variable, when the copies' args depend on it (``#Layer``).
        """
        return f"nn.Sequential(*({expr} for {index} in range({count})))"

    def forward(self, w: CodeWriter, args: list[str], attr: str) -> str:
        """Forward expression over the input variable names; ``attr`` is the submodule's name.

        By default the node's submodule is called on its inputs; ops without one override this.
        """
        return f"self.{attr}({', '.join(args)})"

    # -- helpers for subclasses ----------------------------------------
    def arg_error(self, message: str) -> SpecError:
        return error(codes.BAD_ARG, f"node {self.node.id!r}: {self.name}: {message}", self.node.location, self.node.id)

    def mismatch(self, message: str) -> SpecError:
        return error(
            codes.ARG_MISMATCH, f"node {self.node.id!r}: {self.name}: {message}", self.node.location, self.node.id
        )

    def rank_error(self, shape: Shape, expected: str) -> SpecError:
        return self.mismatch(f"expects {expected}, but its input is {diagram_text(shape)}")

    def bind(self, params: Sequence[tuple[str, tuple[str, ...]]], required: Sequence[str] = ()) -> dict[str, ArgValue]:
        """Match positional and keyword args to ``params`` (canonical name, accepted spellings)."""
        call = self.call
        if len(call.positional) > len(params):
            raise self.arg_error(f"takes at most {len(params)} positional arguments, got {len(call.positional)}")
        bound: dict[str, ArgValue] = {}
        for (canonical, _), value in zip(params, call.positional):
            bound[canonical] = value
        spellings = {s.lower(): canonical for canonical, names in params for s in (canonical, *names)}
        for key, value in call.keywords:
            canonical = spellings.get(key.lower())
            if canonical is None:
                accepted = ", ".join(p for p, _ in params)
                raise self.arg_error(f"unknown argument {key!r}; it takes {accepted}")
            if canonical in bound:
                raise self.arg_error(f"argument {canonical!r} given twice")
            bound[canonical] = value
        for name in required:
            if name not in bound:
                raise self.arg_error(f"missing argument {name!r}")
        return bound

    def size_arg(self, bound: dict[str, ArgValue], key: str, default: int | None = None) -> Dim | None:
        """An argument that must be a size (an integer expression), not a decimal."""
        value = bound.get(key)
        if value is None:
            return None if default is None else Dim.const(default)
        if isinstance(value, float):
            raise self.arg_error(f"{key}={format_arg(value)} must be a whole number or a size symbol")
        return value

    def int_arg(self, bound: dict[str, ArgValue], key: str, default: int | None = None) -> int | None:
        """An argument that must be a literal integer (a stride, a kernel size)."""
        value = self.size_arg(bound, key, default)
        if value is None:
            return None
        if any(bound.get(key) is v for k, v in self.call.keywords if k in self.call.squares):
            value = _square_side(value)
        number = value.int_value()
        if number is None:
            raise self.arg_error(f"{key}={value} must be a whole number")
        return number

    def no_args(self) -> None:
        if self.call.positional or self.call.keywords:
            raise self.arg_error("takes no arguments")


def _square_side(area: Dim) -> Dim:
    """``K=3x3`` parses to 9; a window written as a square means its side, 3."""
    value = area.int_value() or 0
    side = round(value**0.5)
    return Dim.const(side) if side * side == value else area


OpT = TypeVar("OpT", bound=type[Op])
_REGISTRY: dict[str, type[Op]] = {}


def normalize_name(name: str) -> str:
    """Spelling variants are one op: ``ReLU``, ``relu`` and ``Re_LU`` all give ``relu``."""
    return name.replace("_", "").lower()


def register(*names: str) -> Callable[[OpT], OpT]:
    """Class decorator: make an op reachable under ``names`` (case and ``_`` ignored)."""

    def wrap(cls: OpT) -> OpT:
        for name in names:
            key = normalize_name(name)
            if key in _REGISTRY:
                raise ValueError(f"op name {name!r} registered twice ({_REGISTRY[key].__name__}, {cls.__name__})")
            _REGISTRY[key] = cls
        return cls

    return wrap


def lookup(name: str) -> type[Op] | None:
    """The op registered under ``name``, or ``None``."""
    return _REGISTRY.get(normalize_name(name))


def known_names() -> list[str]:
    """Canonical names of every registered op, sorted."""
    return sorted({cls.name for cls in _REGISTRY.values()})
