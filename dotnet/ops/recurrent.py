"""Whole recurrent layers as ops: ``nn.LSTM``, ``nn.GRU`` and ``nn.RNN``, batch first.

A layer's outputs are ``out`` (the top layer's output at every step), ``h`` (every
layer's final hidden state) and, for an LSTM, ``c`` (the final cell state). An edge
that names no output carries ``out``; ``enc -> dec [label=h]`` hands a state on. The
layer's in-edges, in file order, are the sequence and optionally its initial states
(``h``, then ``c``).
"""

from __future__ import annotations

from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, MultiOutputOp, OpEnv, register, several
from dotnet.ops.declaration import Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text, same
from dotnet.reading.symbolic import Dim


def declare(name: str, states: int) -> Declaration:
    """The declaration of ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` as a whole layer, batch first.

    It takes the sequence, then optionally its ``states`` initial states as in-edges.
    """
    return Declaration(
        name,
        torch=f"nn.{name}",
        args=(
            Arg("In", "size", "input_size", required=True),
            Arg("Hidden", "size", "hidden_size", required=True, spellings=("Out",)),
            Arg("Layers", "int", "num_layers", default=1),
            Arg("Bidirectional", "flag", "bidirectional", default=False),
        ),
        max_inputs=1 + states,
    )


class _RecurrentLayer(MultiOutputOp[Dim]):
    """``LSTM[In, Hidden, Layers=1, Bidirectional=False]``: a stack of recurrent layers over a sequence."""

    gates: ClassVar[int]
    torch_class: ClassVar[str]
    states: ClassVar[tuple[str, ...]]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        size_in, hidden = bound.size("In"), bound.size("Hidden")
        self.size_in, self.hidden = size_in, hidden
        layers = bound.whole("Layers")
        if layers < 1:
            raise self.arg_error(f"Layers={layers} must be at least 1")
        self.layers = layers
        self.bidirectional = bound.flag("Bidirectional")

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def output_names(self) -> tuple[str, ...]:
        return ("out", *self.states)

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[Dim]:
        """The sequence ``out`` (the default) and the final states; the facts are the hidden size in run terms."""
        x = inputs[0]
        size_in, hidden = env.value(self.size_in), env.value(self.hidden)
        if len(x) != 3:
            raise self.rank_error(x, "a batch of sequences [BatchSize, SeqLen, In]")
        if x[2].size != size_in:
            raise self.mismatch(f"In={size_in} but its input's last dimension is {x[2].size}")
        state = (Axis(None, Dim.const(self.layers * self.directions)), x[0], Axis(None, hidden))
        for name, given in zip(self.states, inputs[1:]):
            if not same(given, state):
                raise self.mismatch(f"its initial {name} must be {diagram_text(state)}, got {diagram_text(given)}")
        if len(inputs) not in (1, 1 + len(self.states)):
            raise self.mismatch(f"takes a sequence, or a sequence and initial {' and '.join(self.states)}")
        out = (x[0], x[1], Axis(None, hidden * self.directions))
        return several({"out": out, **{name: state for name in self.states}}, hidden, default="out")

    def constructor_dims(self, facts: Dim) -> list[Dim]:
        return [self.size_in, self.hidden]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: Dim) -> Dim:
        return self._per_step(inputs[0][2].size, facts, 2)

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: Dim) -> Dim:
        return self._per_step(inputs[0][2].size, facts, 0) * output[0].size * output[1].size

    def _per_step(self, size_in: Dim, hidden: Dim, biases: int) -> Dim:
        """Weights (and ``biases`` bias vectors) of every layer and direction: one step's multiply-adds with 0."""
        total = Dim.const(0)
        for layer in range(self.layers):
            width = size_in if layer == 0 else hidden * self.directions
            total = total + (width + hidden + biases) * hidden * (self.gates * self.directions)
        return total

    def module(self, w: CodeWriter, facts: Dim) -> str:
        extra = f", num_layers={self.layers}" if self.layers != 1 else ""
        extra += ", bidirectional=True" if self.bidirectional else ""
        return f"nn.{self.torch_class}({w.dim(self.size_in)}, {w.dim(self.hidden)}{extra}, batch_first=True)"

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: Dim) -> str:
        if len(args) == 1:
            return f"self.{attr}({args[0]})"
        states = args[1] if len(args) == 2 else f"({', '.join(args[1:])})"
        return f"self.{attr}({args[0]}, {states})"


@register
class LSTM(_RecurrentLayer):
    """``LSTM[In, Hidden]``: outputs ``out``, ``h`` and ``c``."""

    declaration = declare("LSTM", states=2)
    gates = 4
    torch_class = "LSTM"
    states = ("h", "c")

    def unpack(self, targets: dict[str, str]) -> str:
        states = "_" if targets["h"] == targets["c"] == "_" else f"({targets['h']}, {targets['c']})"
        return f"{targets['out']}, {states}"


class _OneState(_RecurrentLayer):
    states = ("h",)

    def unpack(self, targets: dict[str, str]) -> str:
        return f"{targets['out']}, {targets['h']}"


@register
class GRU(_OneState):
    """``GRU[In, Hidden]``: outputs ``out`` and ``h``."""

    declaration = declare("GRU", states=1)
    gates = 3
    torch_class = "GRU"


@register
class RNN(_OneState):
    """``RNN[In, Hidden]``: a tanh RNN, outputs ``out`` and ``h``."""

    declaration = declare("RNN", states=1)
    gates = 1
    torch_class = "RNN"
