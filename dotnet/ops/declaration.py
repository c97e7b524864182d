"""The one declaration each op makes of itself: names, arguments, torch form and the facts checks use.

An op class carries a :class:`Declaration` as its ``declaration`` attribute and
is registered under every name it declares (see :func:`dotnet.ops.base.register`).
Its shape rule (``infer``), costs and code stay beside it as methods of the same
class, so everything about an op is in one place; ``dotnet ops`` and docs/ops.md
print the declaration (:mod:`dotnet.tools.opdocs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from dotnet.reading.labels import ArgValue, format_arg
from dotnet.reading.symbolic import Dim

ArgKind = Literal["size", "int", "float", "flag", "choice", "padding", "axis"]
"""``size``: a whole number or a size expression (``BlockIn*Expand``, ``Stride``), whose symbols
become constructor arguments; ``int``: a literal whole number; ``float``: any number;
``flag``: True or False; ``choice``: one of the declared words; ``padding``: a size, ``same``
or ``valid``; ``axis``: an index in PyTorch layout or an axis name of the input (``C``)."""

KIND_TEXT: dict[str, str] = {
    "size": "size",
    "int": "whole number",
    "float": "number",
    "flag": "True or False",
    "padding": "size, same or valid",
    "axis": "axis index or name",
}


@dataclass(frozen=True)
class SameAs:
    """A default that repeats another argument's value: a pool's stride is its kernel size."""

    name: str


@dataclass(frozen=True)
class Qualifier:
    """A word a label may write around the op's name, standing for arguments: ``depthwise`` is ``G=In``."""

    word: str
    """Lower case: ``depthwise``, ``masked``."""
    sets: tuple[tuple[str, ArgValue | SameAs], ...]
    """Arguments it means, each a value or another argument's (``SameAs("In")``); the label may repeat them."""
    defaults: tuple[tuple[str, ArgValue | SameAs], ...] = ()
    """Arguments it gives only where the label gives none (a depthwise convolution's ``Out=In``)."""


@dataclass(frozen=True)
class FromInput:
    """A default read from the input shape (``In`` is the input's channel count)."""

    what: str


Value = Dim | int | float | bool | str | None
"""A bound argument value: what a label's value becomes for each kind (see :mod:`dotnet.ops.args`)."""
Default = Value | SameAs | FromInput


def format_value(value: Value) -> str:
    """A value as a label would write it."""
    return format_arg(value) if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class Arg:
    """One argument an op label may give, by position (in declaration order) or by name."""

    name: str
    """The name diagrams use: ``K``."""
    kind: ArgKind
    torch: str | None = None
    """PyTorch's keyword for it, also accepted in labels: ``kernel_size``."""
    default: Default = None
    """The value when the label leaves it out; ``None``: PyTorch's default, or none when required."""
    required: bool = False
    spellings: tuple[str, ...] = ()
    """Other accepted spellings (case is ignored): ``kernel``."""
    choices: tuple[str, ...] = ()
    """The words a ``choice`` argument takes."""
    help: str = ""
    """A note for the op reference."""
    square: bool = False
    """A square written for it (``K=3x3``) is its side, 3: the window is the same on every axis."""

    def accepted(self) -> tuple[str, ...]:
        """Every spelling a label may use for this argument: the short name, torch's keyword, the rest."""
        return tuple(dict.fromkeys((self.name, *((self.torch,) if self.torch else ()), *self.spellings)))

    def kind_text(self) -> str:
        return "one of " + ", ".join(self.choices) if self.kind == "choice" else KIND_TEXT[self.kind]

    def default_text(self) -> str:
        default = self.default
        if self.required:
            return "required"
        if isinstance(default, SameAs):
            return f"= {default.name}"
        if isinstance(default, FromInput):
            return f"the input's {default.what}"
        if default is None:
            return "PyTorch's default"
        return format_value(default)


@dataclass(frozen=True)
class Activation:
    """Facts about a monotone element-wise activation that checks and scans use."""

    function: Callable[[float], float]
    """The scalar function, for the range an output can reach (lint's ``activation-range``)."""
    low: float
    high: float
    """Its output range over all inputs (open ends)."""
    formula: str
    """The formula function it is (``sigmoid``), so a scan fuses it with formula gates."""
    functional: str
    """PyTorch's functional form: ``torch.sigmoid``."""
    flat_below: float | None = None
    """Inputs at or below this value all give ``low`` exactly (ReLU: 0); ``None`` when no input does."""


@dataclass(frozen=True)
class FormulaFunction:
    """A function formulas call by name (``exp``), and the Python it becomes around its argument."""

    name: str
    """Its canonical name in formulas (:data:`dotnet.reading.formulas.FUNCTIONS`)."""
    python: str
    """Python with ``{}`` for the argument: ``torch.exp({})``."""


@dataclass(frozen=True)
class Declaration:
    """Everything dotnet knows about an op that is not code: see docs/architecture.md, "Adding an op"."""

    name: str
    """Canonical name, used in messages."""
    aliases: tuple[str, ...] = ()
    """Other names labels may use; case and ``_`` are ignored (``BN``, ``Re_LU``)."""
    torch: str | None = None
    """The PyTorch constructor (``nn.Conv2d``) or function (``torch.cat``) the op generates; its class
    name is an alias. ``None`` where the constructor depends on the input (``Conv``, by its rank) or
    is another op's (``GlobalAvgPool2D`` is ``nn.AdaptiveAvgPool2d(1)``)."""
    args: tuple[Arg, ...] = ()
    qualifiers: tuple[Qualifier, ...] = ()
    """Words a label may write around the name (``Masked MultiheadAttention``); any other word is an error."""
    shape: str = ""
    """The shape rule in words, for the op reference (the rule itself is the op's ``infer``)."""
    torch_call: str = ""
    """The PyTorch code with the arguments' names, for the op reference; defaults to ``torch``."""
    costs: str = ""
    """Its trainable parameters and multiply-adds as formulas, for the op reference (empty: none)."""
    elementwise: bool = False
    """Output element i depends on input element i alone (the shape passes through)."""
    activation: Activation | None = None
    output_range: tuple[float, float] | None = None
    """The interval every output lies in, when it is known whatever the arguments (ReLU6: [0, 6])."""
    keeps_range: bool = False
    """Every output value lies within the input values (pooling, upsampling, flattening, joining)."""
    range_breaking: tuple[tuple[str, str], ...] = ()
    """(argument, choice) pairs under which ``keeps_range`` does not hold: bicubic upsampling overshoots."""
    identity_in_eval: bool = False
    """The op passes its input through unchanged in eval mode (dropout)."""
    in_place: bool = False
    """Its module has PyTorch's ``inplace=True`` form, which overwrites its input (ReLU, dropout);
    code generation uses it where that input dies here (docs/architecture.md, "In-place activations")."""
    in_place_nonnegative: tuple[str, ...] = ()
    """Arguments that must be 0 or more for the in-place form: PyTorch's in-place backward of
    LeakyReLU, ELU and CELU reads the output and refuses a negative slope or alpha."""
    fresh_output: bool = False
    """Its output is a new tensor that its backward does not read (convolution, linear, norms, pooling,
    ``+``, concatenation), so an in-place op may overwrite it; not an output backward reads (sigmoid,
    tanh, exp, softmax) nor a view or alias of its input (reshape, slicing, dropout in eval)."""
    reads_ids: bool = False
    """Its input is integer ids (an embedding): a graph input it reads is made of ids, whatever
    the input's label says."""
    yields_probabilities: bool = False
    """Its outputs are probabilities (softmax, sigmoid): lint's ``missing-softmax`` looks for one."""
    yields_log_probabilities: bool = False
    """Its outputs are log-probabilities (log-softmax): ``missing-softmax`` accepts it too."""
    min_inputs: int = 1
    """The fewest incoming edges it takes."""
    max_inputs: int | None = 1
    """The most incoming edges it takes; ``None``: any number."""
    inline_operand: bool = False
    """Its last operand may be written in the label instead of drawn (``@ Embedding.w.T``): one edge fewer."""
    times_is_factor: bool = False
    """``OP x2`` gives the op a factor (``UpSample x2``) instead of repeating it."""
    operator: str | None = None
    """The formula operator it is (``+``, ``@``), so a scan writes the node into its step's formula."""
    formula_function: FormulaFunction | None = None
    """The formula function it is, when it is one that is not an :class:`Activation` (``exp``, ``softmax``)."""
    by_rank: tuple[tuple[int, str], ...] = ()
    """For an op whose PyTorch class follows its input's rank: (input rank, class) pairs, as
    ``((3, "nn.Conv1d"), (4, "nn.Conv2d"), (5, "nn.Conv3d"))`` for the rank-free ``Conv``; a
    member of one rank (``Conv2D``) lists its one. The op reads its class from here."""

    def torch_for(self, rank: int) -> str:
        """The PyTorch class for an input of ``rank`` axes (batch included), from :attr:`by_rank`."""
        return dict(self.by_rank)[rank]

    def names(self) -> tuple[str, ...]:
        """Every name the op is registered under: its own, its aliases, and torch's class name."""
        torch_class = self.torch.removeprefix("nn.") if self.torch and self.torch.startswith("nn.") else None
        return (self.name, *self.aliases, *((torch_class,) if torch_class else ()))
