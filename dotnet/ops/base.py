"""What every op provides, and the registry that maps label names to ops.

An op is built once per op node from its parsed :class:`~dotnet.reading.labels.OpCall`.
It checks its arguments, infers its output shape from its input shapes, and
renders its part of the generated module: a constructor expression for
``__init__`` (or ``None`` for ops with no submodule) and a forward expression.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Protocol, TypeVar

from dotnet import codes
from dotnet.analysis.ir import Graph, OpNode
from dotnet.diagnostics import Location, Report, SpecError, error
from dotnet.ops.args import ArgProblem, Bound, bind
from dotnet.ops.declaration import Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.symbolic import Dim


class OpEnv(Protocol):
    """What an op may ask of the inference run that calls it (implemented by ``analysis.infer``)."""

    @property
    def graph(self) -> Graph:
        """The graph being inferred."""

    @property
    def report(self) -> Report:
        """Where warnings go."""

    @property
    def bindings(self) -> Mapping[str, Dim]:
        """The graph's symbols a block call has valued, in the caller's terms."""

    @property
    def trail(self) -> tuple[str, ...]:
        """The block calls this run is inside of, outermost first."""

    @property
    def shapes(self) -> Mapping[str, Shape]:
        """Shapes proved so far in this run, by node id (formulas read the tensors they name)."""

    @property
    def implicit(self) -> dict[str, Shape]:
        """Shapes of the implicit parameters formulas have named so far (``W[f]``)."""

    def value(self, dim: Dim) -> Dim:
        """A size of this graph, in the terms of the run (bound symbols replaced)."""

    def floordiv(self, numerator: Dim, divisor: int, node: OpNode, what: str) -> Dim:
        """``floor(numerator / divisor)``, recording the divisibility a symbolic size needs."""

    def positive(self, size: Dim, node: OpNode, what: str) -> Dim:
        """``size`` unchanged, or an error when it is a number below 1."""

    def require_divisible(self, expr: Dim, divisor: int | Dim, node_id: str, location: Location) -> None:
        """Record that the shapes assume ``expr`` is a multiple of ``divisor`` (a symbol: a block's stride)."""

    def where(self) -> str:
        """`` (in call ...)`` when inside a block call, for messages."""

    def weight_of(self, node: OpNode) -> tuple[Dim, Dim] | None:
        """The weight shape of the op that ``node`` runs, for ops that share it (``Embedding.w.T``)."""


class OpResolver(Protocol):
    """What an op node's name means: the resolver interface inference builds ops through."""

    def make_op(self, node: OpNode, graph: Graph) -> Op:
        """The op an operation node of ``graph`` runs."""


class CodeWriter(ABC):
    """How ops name things in generated code; implemented by the code generator."""

    @abstractmethod
    def dim(self, value: Dim) -> str:
        """Python source for a size, with symbols as constructor arguments."""

    @abstractmethod
    def use(self, import_name: str) -> None:
        """Note that generated code needs ``import_name``: ``math``, ``torch``, ``nn`` or ``scan_layers``.

        The generated file imports (or, for the helper, defines) exactly what its classes use.
        """

    @abstractmethod
    def formula_name(self, name: str) -> str:
        """Python for a name in a formula: the tensor node's variable, or ``self.W_f``."""

    @abstractmethod
    def knows(self, value: Dim) -> bool:
        """True when ``dim`` can write ``value``: no run-time dims (``BatchSize``) in it."""

    @abstractmethod
    def node_attr(self, node_id: str) -> str:
        """The attribute that holds node ``node_id``'s submodule (for inline operands)."""

    @abstractmethod
    def block_constructor(self, block: str, values: Mapping[str, Dim]) -> str:
        """The constructor call of block class ``block``, its symbols valued by ``values``."""


class Op(ABC):
    """An operation node's behaviour. Registered ops declare themselves and register with :func:`register`."""

    declaration: ClassVar[Declaration | None] = None
    """What the op is, for the registry and for checks; ``None`` for formulas and block calls."""
    name: ClassVar[str]
    """Canonical name, used in messages (a registered op's declared name)."""
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    times_is_factor: ClassVar[bool] = False
    """``OP x2`` gives the op a factor instead of repeating it."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        self.node = node
        self.call = call

    # -- checks --------------------------------------------------------
    @abstractmethod
    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
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

    default_output: ClassVar[str | None] = None
    """For an op with several outputs, the one an edge that names none carries (``None``: it must name one)."""

    def output_names(self) -> tuple[str, ...]:
        """The names of the outputs of an op that has several (:class:`MultiOutputOp`); ``()`` for one."""
        return ()

    def output_shapes(self) -> dict[str, Shape]:
        """Every output's shape by name, once :meth:`infer` has run; empty for an op with one output."""
        return {}

    def output_default(self) -> str | None:
        """The output an edge that names none carries, for an op with several."""
        return self.default_output

    def unpack(self, targets: dict[str, str]) -> str:
        """The assignment target that binds each output to its variable (``a, b``; an LSTM: ``out, (h, c)``)."""
        return ", ".join(targets[name] for name in self.output_names())

    def implicit_parameters(self) -> list[tuple[str, Shape, int]]:
        """Parameters the op creates by naming them: name, shape, offset in the label."""
        return []

    def error_without_inputs(self) -> SpecError | None:
        """An error this op has whatever its inputs (an unknown name), reported even past an upstream one."""
        return None

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

    def torch_for(self, rank: int) -> str:
        """The PyTorch class the op's declaration gives an input of ``rank`` axes (``by_rank``)."""
        assert self.declaration is not None
        return self.declaration.torch_for(rank)

    def rank_error(self, shape: Shape, expected: str) -> SpecError:
        return self.mismatch(f"expects {expected}, but its input is {diagram_text(shape)}")

    def bind_declared(self) -> Bound:
        """The call's values for the declared arguments, checked and converted; a ``bad-arg`` otherwise."""
        try:
            return bind(self.call, self.declaration.args if self.declaration else ())
        except ArgProblem as exc:
            raise self.arg_error(str(exc)) from None

    def no_args(self) -> None:
        if self.call.positional or self.call.keywords:
            raise self.arg_error("takes no arguments")


class MultiOutputOp(Op):
    """An op with several named outputs (a recurrent layer's sequence and final states, a split).

    Each edge leaving the node carries one output, named by the edge's label or its
    tail port (``lstm:h -> decoder``); an edge that names none carries
    :attr:`default_output`. The node's own shape is its first output's.
    """

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.shapes: dict[str, Shape] = {}
        """Every output's shape, by name, once :meth:`infer` has run."""

    def output_shapes(self) -> dict[str, Shape]:
        return self.shapes

    @abstractmethod
    def output_names(self) -> tuple[str, ...]:
        """The outputs' names, in the order the op returns them."""

    @abstractmethod
    def infer_outputs(self, inputs: list[Shape], env: OpEnv) -> dict[str, Shape]:
        """The shape of every output, by name, in the order the op returns them."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        self.shapes = self.infer_outputs(inputs, env)
        return next(iter(self.shapes.values()))


OpT = TypeVar("OpT", bound=type[Op])
_REGISTRY: dict[str, type[Op]] = {}


def normalize_name(name: str) -> str:
    """Spelling variants are one op: ``ReLU``, ``relu`` and ``Re_LU`` all give ``relu``."""
    return name.replace("_", "").lower()


def register(cls: OpT) -> OpT:
    """Class decorator: make an op reachable under every name its declaration gives (case and ``_`` ignored)."""
    declaration = cls.declaration
    if declaration is None:
        raise ValueError(f"{cls.__name__} has no declaration to register")
    cls.name = declaration.name
    for key in dict.fromkeys(normalize_name(n) for n in declaration.names()):
        if key in _REGISTRY:
            raise ValueError(f"op name {key!r} registered twice ({_REGISTRY[key].__name__}, {cls.__name__})")
        _REGISTRY[key] = cls
    return cls


def declare(base: OpT, declaration: Declaration, doc: str, **facts: object) -> OpT:
    """Declare and register a member of a family whose members differ only in data (a rank, a torch class).

    The member is a subclass of ``base`` with ``declaration``, docstring ``doc`` and ``facts``
    as class attributes, so each member is one declaration.
    """
    attributes = {"declaration": declaration, "__doc__": doc, "__module__": base.__module__, **facts}
    return register(type(declaration.name, (base,), attributes))  # type: ignore[return-value]


def lookup(name: str) -> type[Op] | None:
    """The op registered under ``name``, or ``None``."""
    return _REGISTRY.get(normalize_name(name))


def declaration_of(name: str) -> Declaration | None:
    """The declaration of the op registered under ``name``, or ``None``."""
    op = lookup(name)
    return op.declaration if op is not None else None


def declarations() -> list[Declaration]:
    """Every registered op's declaration, sorted by name."""
    found = {id(cls): cls.declaration for cls in _REGISTRY.values() if cls.declaration is not None}
    return sorted(found.values(), key=lambda d: d.name)


def known_names() -> list[str]:
    """Canonical names of every registered op, sorted."""
    return sorted({cls.name for cls in _REGISTRY.values()})


def registered_ops() -> list[type[Op]]:
    """Every registered op class once, sorted by canonical name."""
    return sorted(set(_REGISTRY.values()), key=lambda cls: cls.name.lower())
