"""What every op provides, and the registry that maps label names to ops.

An op is built once per op node from its parsed :class:`~dotnet.reading.labels.OpCall`.
It checks its arguments, infers its output shape from its input shapes, and
renders its part of the generated module: a constructor expression for
``__init__`` (or ``None`` for ops with no submodule) and a forward expression.

Op objects never change after they are built. What a shape rule resolves for one
inference run (the input's channel count, the softmax axis, the tied weight's node)
is returned in an :class:`Inferred` beside the output shape, as the op's own
frozen *facts* record; inference keeps it in its ``Analysis`` by node id, and
costs and code generation hand it back to the op's methods.
"""

from __future__ import annotations

from abc import ABC, ABCMeta, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from dotnet import codes
from dotnet.analysis.ir import Graph, OpNode, TensorNode
from dotnet.diagnostics import Location, SpecError, error
from dotnet.ops.args import ArgProblem, Bound, bind
from dotnet.ops.declaration import Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.symbolic import Dim


class OpEnv(Protocol):
    """What a shape rule may ask of the inference run that calls it (implemented by ``analysis.infer``).

    Every op uses the size methods; only formulas read other tensors (:meth:`tensor`,
    :meth:`flows_into`, the implicit parameters) and only ``@`` with an inline operand
    looks up another node's weight (:meth:`weight_of`). Block calls, part of the
    analysis, use the run itself.
    """

    def value(self, dim: Dim) -> Dim:
        """A size of this graph, in the terms of the run (bound symbols replaced)."""

    def floordiv(self, numerator: Dim, divisor: int, node: OpNode, what: str) -> Dim:
        """``floor(numerator / divisor)``, recording the divisibility a symbolic size needs."""

    def positive(self, size: Dim, node: OpNode, what: str) -> Dim:
        """``size`` unchanged, or an error when it is a number below 1 (a symbolic one records its minimum)."""

    def require_divisible(self, expr: Dim, divisor: int | Dim, node_id: str, location: Location) -> None:
        """Record that the shapes assume ``expr`` is a multiple of ``divisor`` (a symbol: a block's stride)."""

    def where(self) -> str:
        """`` (in call ...)`` when inside a block call, for messages."""

    def tensor(self, title: str) -> Shape | None:
        """The shape of the tensor node a formula name refers to, or ``None`` when no tensor has that name."""

    def flows_into(self, node: OpNode) -> list[TensorNode]:
        """The tensor nodes ``node``'s out-edges enter (a formula's declared target)."""

    def implicit(self, name: str) -> Shape | None:
        """The shape an earlier formula gave implicit parameter ``name`` (``W[f]``), or ``None``."""

    def name_implicit(self, name: str, shape: Shape) -> None:
        """Record the shape of implicit parameter ``name`` for the formulas after this one."""

    def nodes_named(self, owner: str) -> list[OpNode]:
        """The op nodes whose id is ``owner`` or whose op is named ``owner`` (``Embedding`` for ``Embedding2``)."""

    def weight_of(self, node: OpNode) -> tuple[Dim, Dim] | None:
        """The weight shape of the op that ``node`` runs, for ops that share it (``Embedding.w.T``)."""


F = TypeVar("F")
"""The type of an op's facts: what its shape rule resolved for one run."""


@dataclass(frozen=True)
class NoFacts:
    """The facts of an op whose code and costs need nothing from inference."""


NO_FACTS = NoFacts()


@dataclass(frozen=True)
class Inferred(Generic[F]):
    """What an op's shape rule proved for one node in one run: its output shape(s) and its facts."""

    shape: Shape
    """The output's shape; for an op with several outputs, the first one's."""
    facts: F
    outputs: Mapping[str, Shape] = field(default_factory=dict)
    """Every output's shape by name, in the order the op returns them; empty for an op with one."""
    default: str | None = None
    """The output an edge that names none carries, for an op with several (``None``: it must name one)."""


def several(outputs: Mapping[str, Shape], facts: F, default: str | None = None) -> Inferred[F]:
    """The result of an op with several named outputs."""
    return Inferred(next(iter(outputs.values())), facts, dict(outputs), default)


class OpResolver(Protocol):
    """What an op node's name means: the resolver interface inference builds ops through."""

    def make_op(self, node: OpNode, graph: Graph) -> Op[Any]:
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


class _Immutable(ABCMeta):
    """Marks each op built: from then on its attributes cannot change (:meth:`Op.__setattr__`)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        op = super().__call__(*args, **kwargs)
        object.__setattr__(op, "_built", True)
        return op


class Op(ABC, Generic[F], metaclass=_Immutable):
    """An operation node's behaviour. Registered ops declare themselves and register with :func:`register`.

    ``F`` is the op's facts record (:class:`NoFacts` when it has none): :meth:`infer` returns
    it, and every method that runs after inference receives it as ``facts``.
    """

    declaration: ClassVar[Declaration]
    """What the op is, for the registry and for checks (formulas and block calls have one, unregistered)."""
    name: ClassVar[str]
    """Canonical name, used in messages (a registered op's declared name)."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        self.node = node
        self.call = call

    def __setattr__(self, name: str, value: object) -> None:
        """Attributes are set while the op is built from its label, never after (inference returns facts)."""
        if getattr(self, "_built", False):
            raise AttributeError(f"{type(self).__name__} {self.node.id!r} is immutable once built: cannot set {name!r}")
        super().__setattr__(name, value)

    def arity(self) -> tuple[int, int | None]:
        """The fewest and most in-edges this node takes (``None``: any): its declaration's, less an inline operand."""
        d = self.declaration
        inline = 1 if d.inline_operand and self.call.operand is not None else 0
        return d.min_inputs - inline, None if d.max_inputs is None else d.max_inputs - inline

    def repeat_count(self) -> Dim | None:
        """``N`` of ``OP x N`` when it repeats the op; ``None`` when unrepeated or ``x N`` is a factor."""
        return None if self.declaration.times_is_factor else self.call.times

    # -- checks --------------------------------------------------------
    @abstractmethod
    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[F]:
        """The output shape for these input shapes and what the rule resolved, or a :class:`SpecError`."""

    def constructor_dims(self, facts: F) -> list[Dim]:
        """Sizes the constructor uses; their symbols become constructor arguments."""
        return []

    # -- costs (read by ``dotnet summary``; never runs the model) -----
    def parameter_count(self, inputs: list[Shape], output: Shape, facts: F) -> Dim:
        """Trainable parameters of this node's submodule, for these inferred shapes."""
        return Dim.const(0)

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: F) -> Dim:
        """Multiply-adds of one forward pass; only weighted layers and matrix products count."""
        return Dim.const(0)

    def weight_shape(self) -> tuple[Dim, Dim] | None:
        """The shape of the submodule's ``weight``, from the label, for ops whose weight another node may use."""
        return None

    def output_names(self) -> tuple[str, ...]:
        """The names of the outputs of an op that has several, as its label fixes them; ``()`` for one."""
        return ()

    def unpack(self, targets: dict[str, str]) -> str:
        """The assignment target that binds each output to its variable (``a, b``; an LSTM: ``out, (h, c)``)."""
        return ", ".join(targets.values())

    def implicit_parameters(self, facts: F) -> list[tuple[str, Shape, int]]:
        """Parameters the op creates by naming them: name, shape, offset in the label."""
        return []

    def error_without_inputs(self) -> SpecError | None:
        """An error this op has whatever its inputs (an unknown name), reported even past an upstream one."""
        return None

    # -- code ----------------------------------------------------------
    def module(self, w: CodeWriter, facts: F) -> str | None:
        """Constructor expression of this node's submodule, or ``None`` for none."""
        return None

    def in_place_module(self, w: CodeWriter, facts: F) -> str | None:
        """The submodule in its ``inplace=True`` form, for an op whose declaration says it has one;
        ``None`` where this node's arguments rule it out."""
        raise NotImplementedError(f"{self.name} declares no in-place form")

    def repeated_module(self, expr: str, count: str, facts: F, index: str = "_") -> str:
        """The submodule of ``OP x N``: ``count`` copies of ``expr``, each with its own weights.

        ``index`` is the loop variable, when the copies' args depend on it (``#Layer``).
        """
        return f"nn.Sequential(*({expr} for {index} in range({count})))"

    copy_name: ClassVar[str] = "layer"
    """The loop variable over the copies of ``OP x N`` where ``forward`` runs them as a loop."""

    def copies_must_loop(self, facts: F) -> bool:
        """Whether ``OP x N`` cannot run as one call of its ``nn.Sequential`` (a copy takes more than its input)."""
        return False

    def copy_forward(self, w: CodeWriter, arg: str, copy: str, facts: F) -> str | None:
        """One copy of ``OP x N`` applied to ``arg``, in ``for COPY in self.ATTR: ...``.

        ``None`` where the copies must run as one call: by default, an op that writes its
        own ``forward`` (not a plain call of its submodule).
        """
        return f"{copy}({arg})" if type(self).forward is Op.forward else None

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: F) -> str:
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
            return bind(self.call, self.declaration.args, self.declaration.qualifiers)
        except ArgProblem as exc:
            raise self.arg_error(str(exc)) from None

    def no_args(self) -> None:
        if self.call.positional or self.call.keywords:
            raise self.arg_error("takes no arguments")


class SimpleOp(Op[NoFacts]):
    """An op whose shape rule resolves nothing that code or costs need: it returns only a shape."""

    @abstractmethod
    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        """The output shape for these input shapes, or a :class:`SpecError`."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[NoFacts]:
        return Inferred(self.output(inputs, env), NO_FACTS)


class MultiOutputOp(Op[F]):
    """An op with several named outputs (a recurrent layer's sequence and final states, a split).

    Each edge leaving the node carries one output, named by the edge's label or its
    tail port (``lstm:h -> decoder``); an edge that names none carries the default its
    :meth:`infer` gives (:func:`several`). The node's own shape is its first output's.
    """

    @abstractmethod
    def output_names(self) -> tuple[str, ...]:
        """The outputs' names, in the order the op returns them."""


OpT = TypeVar("OpT", bound=type[Op[Any]])
_REGISTRY: dict[str, type[Op[Any]]] = {}


def normalize_name(name: str) -> str:
    """Spelling variants are one op: ``ReLU``, ``relu`` and ``Re_LU`` all give ``relu``."""
    return name.replace("_", "").lower()


def register(cls: OpT) -> OpT:
    """Class decorator: make an op reachable under every name its declaration gives (case and ``_`` ignored)."""
    declaration = getattr(cls, "declaration", None)
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


def lookup(name: str) -> type[Op[Any]] | None:
    """The op registered under ``name``, or ``None``."""
    return _REGISTRY.get(normalize_name(name))


def declaration_of(name: str) -> Declaration | None:
    """The declaration of the op registered under ``name``, or ``None``."""
    op = lookup(name)
    return op.declaration if op is not None else None


def declarations() -> list[Declaration]:
    """Every registered op's declaration, sorted by name."""
    found = {id(cls): cls.declaration for cls in _REGISTRY.values()}
    return sorted(found.values(), key=lambda d: d.name)


def known_names() -> list[str]:
    """Canonical names of every registered op, sorted."""
    return sorted({cls.name for cls in _REGISTRY.values()})


def registered_ops() -> list[type[Op[Any]]]:
    """Every registered op class once, sorted by canonical name."""
    return sorted(set(_REGISTRY.values()), key=lambda cls: cls.name.lower())
