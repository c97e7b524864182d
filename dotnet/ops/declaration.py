"""The one declaration each op makes of itself: names, arguments, torch form and the facts checks use.

An op class carries a :class:`Declaration` as its ``declaration`` attribute and
is registered under every name it declares (see :func:`dotnet.ops.base.register`).
Its shape rule (``infer``), costs and code stay beside it as methods of the same
class, so everything about an op is in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ArgKind = Literal["size", "int", "float"]
"""``size``: a whole number or a size symbol; ``int``: a literal whole number; ``float``: any number."""


@dataclass(frozen=True)
class Arg:
    """One argument an op label may give, by position (in declaration order) or by name."""

    name: str
    """The name diagrams use: ``K``."""
    kind: ArgKind
    torch: str | None = None
    """PyTorch's keyword for it, also accepted in labels: ``kernel_size``."""
    default: int | float | None = None
    """The value when the label leaves it out; ``None`` when there is none (or it depends on others)."""
    required: bool = False
    spellings: tuple[str, ...] = ()
    """Other accepted spellings (case is ignored): ``kernel``."""

    def accepted(self) -> tuple[str, ...]:
        """Every spelling a label may use for this argument."""
        return (self.name, *((self.torch,) if self.torch else ()), *self.spellings)


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
class Declaration:
    """Everything dotnet knows about an op that is not code: see docs/architecture.md, "Adding an op"."""

    name: str
    """Canonical name, used in messages."""
    aliases: tuple[str, ...] = ()
    """Other names labels may use; case and ``_`` are ignored (``BN``, ``Re_LU``)."""
    torch: str | None = None
    """The PyTorch constructor (``nn.Conv2d``) or function (``torch.cat``) the op generates."""
    args: tuple[Arg, ...] = ()
    elementwise: bool = False
    """Output element i depends on input element i alone (the shape passes through)."""
    activation: Activation | None = None
    keeps_range: bool = False
    """Every output value is one of the input values (pooling, upsampling, flattening, joining)."""
    identity_in_eval: bool = False
    """The op passes its input through unchanged in eval mode (dropout)."""
    yields_probabilities: bool = False
    """Its outputs are probabilities (softmax, sigmoid): lint's ``missing-softmax`` looks for one."""

    def names(self) -> tuple[str, ...]:
        """Every name the op is registered under: its own, its aliases, and torch's class name."""
        torch_class = self.torch.removeprefix("nn.") if self.torch and self.torch.startswith("nn.") else None
        return (self.name, *self.aliases, *((torch_class,) if torch_class else ()))
