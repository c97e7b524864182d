"""Activations: element-wise functions (one declaration each), PReLU, softmax over an axis.

Each declaration carries the facts checks use: for a monotone activation without
arguments, its scalar function and range (``Activation``: lint's ``activation-range``,
scans, formula code); for the rest, the interval its outputs lie in (``output_range``).
"""

from __future__ import annotations

import math
from typing import ClassVar

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Inferred, NoFacts, Op, OpEnv, SimpleOp, declare, register
from dotnet.ops.declaration import Activation, Arg, Declaration, FormulaFunction, Value, format_value
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.symbolic import Dim

INF = math.inf
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _code(value: Value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value) if isinstance(value, float) else format_value(value)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x > -700 else 0.0  # exp(700) is near float's limit


def _selu(x: float) -> float:
    return SELU_SCALE * x if x > 0 else SELU_SCALE * SELU_ALPHA * math.expm1(max(x, -745.0))


def _softsign(x: float) -> float:
    return x / (1 + abs(x)) if math.isfinite(x) else math.copysign(1.0, x)


class _Activation(SimpleOp):
    """An element-wise activation: same shape out, a parameter-free ``nn`` module."""

    torch_class: ClassVar[str]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        if not self.declaration.args:
            self.no_args()
        self.bound = self.bind_declared()

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        return inputs[0]

    def module(self, w: CodeWriter, facts: NoFacts) -> str:
        return f"nn.{self.torch_class}({', '.join(self._changed())})"

    def in_place_module(self, w: CodeWriter, facts: NoFacts) -> str | None:
        if any(self.bound.number(name) < 0 for name in self.declaration.in_place_nonnegative):
            return None
        return f"nn.{self.torch_class}({', '.join([*self._changed(), 'inplace=True'])})"

    def _changed(self) -> list[str]:
        """``keyword=value`` of each argument the label sets to other than its default."""
        values = self.bound.values
        args = self.declaration.args
        return [f"{a.torch or a.name}={_code(values[a.name])}" for a in args if values[a.name] != a.default]


def _activation(
    name: str,
    *aliases: str,
    doc: str,
    torch_class: str | None = None,
    args: tuple[Arg, ...] = (),
    activation: Activation | None = None,
    output_range: tuple[float, float] | None = None,
    yields_probabilities: bool = False,
    in_place: bool = False,
    in_place_nonnegative: tuple[str, ...] = (),
) -> type[_Activation]:
    """Declare the element-wise activation ``name``, whose torch class is ``torch_class`` (default: the name)."""
    torch_class = torch_class or name
    declaration = Declaration(
        name,
        aliases=aliases,
        torch=f"nn.{torch_class}",
        args=args,
        shape="the same shape",
        torch_call=f"nn.{torch_class}({', '.join(f'{a.torch}={a.name}' for a in args)})",
        elementwise=True,
        activation=activation,
        output_range=output_range,
        yields_probabilities=yields_probabilities,
        in_place=in_place,
        in_place_nonnegative=in_place_nonnegative,
    )
    return declare(_Activation, declaration, doc, torch_class=torch_class)


Relu = _activation(
    "Relu",
    doc="max(x, 0).",
    torch_class="ReLU",
    activation=Activation(lambda x: max(x, 0.0), 0.0, INF, "relu", "torch.relu", flat_below=0.0),
    in_place=True,
)
_activation(
    "ReLU6",
    doc="min(max(x, 0), 6).",
    activation=Activation(lambda x: min(max(x, 0.0), 6.0), 0.0, 6.0, "relu6", "torch.nn.functional.relu6", 0.0),
    in_place=True,
)
_activation(
    "LeakyReLU",
    doc="x for x >= 0, else slope * x.",
    args=(Arg("slope", "float", "negative_slope", default=0.01, spellings=("alpha",)),),
    in_place=True,
    in_place_nonnegative=("slope",),
)
_activation(
    "ELU",
    doc="x for x > 0, else alpha * (exp(x) - 1).",
    args=(Arg("alpha", "float", "alpha", default=1.0),),
    in_place=True,
    in_place_nonnegative=("alpha",),
)
_activation(
    "CELU",
    doc="max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).",
    args=(Arg("alpha", "float", "alpha", default=1.0),),
    in_place=True,
    in_place_nonnegative=("alpha",),
)
_activation(
    "SELU",
    doc="scale * ELU(x, alpha) with the self-normalising constants.",
    activation=Activation(_selu, -SELU_SCALE * SELU_ALPHA, INF, "selu", "torch.selu"),
    in_place=True,
)
_activation(
    "GELU",
    doc="x * Phi(x), exact or with the tanh approximation.",
    args=(Arg("approximate", "choice", "approximate", default="none", choices=("none", "tanh")),),
    output_range=(-0.17, INF),
)
_activation("SiLU", "Swish", doc="x * sigmoid(x).", output_range=(-0.2785, INF), in_place=True)
_activation("Mish", doc="x * tanh(softplus(x)).", output_range=(-0.3089, INF), in_place=True)
_activation("Hardswish", doc="x * ReLU6(x + 3) / 6.", output_range=(-0.375, INF), in_place=True)
_activation(
    "Hardsigmoid",
    doc="ReLU6(x + 3) / 6.",
    activation=Activation(
        lambda x: min(max(x + 3.0, 0.0), 6.0) / 6.0, 0.0, 1.0, "hardsigmoid", "torch.nn.functional.hardsigmoid", -3.0
    ),
    in_place=True,
)
_activation(
    "Hardtanh",
    doc="x clamped to [min_val, max_val].",
    args=(Arg("min_val", "float", "min_val", default=-1.0), Arg("max_val", "float", "max_val", default=1.0)),
    in_place=True,
)
_activation(
    "Softplus",
    doc="log(1 + exp(beta * x)) / beta; linear above the threshold.",
    args=(Arg("beta", "float", "beta", default=1.0), Arg("threshold", "float", "threshold", default=20.0)),
    output_range=(0.0, INF),
)
_activation(
    "Softsign",
    doc="x / (1 + |x|).",
    activation=Activation(_softsign, -1.0, 1.0, "softsign", "torch.nn.functional.softsign"),
)
Tanh = _activation("Tanh", doc="tanh(x).", activation=Activation(math.tanh, -1.0, 1.0, "tanh", "torch.tanh"))
Sigmoid = _activation(
    "Sigmoid",
    "σ",
    doc="1 / (1 + exp(-x)).",
    activation=Activation(_sigmoid, 0.0, 1.0, "sigmoid", "torch.sigmoid"),
    yields_probabilities=True,
)


@register
class PReLU(Op[Dim]):
    """LeakyReLU with a learned slope: one for all channels, or one per channel (``PReLU(C)``)."""

    declaration = Declaration(
        "PReLU",
        torch="nn.PReLU",
        args=(
            Arg("n", "size", "num_parameters", default=Dim.const(1), spellings=("C", "channels"),
                help="1 or the channel count"),
            Arg("init", "float", "init", default=0.25),
        ),
        shape="the same shape",
        torch_call="nn.PReLU(num_parameters=n, init=init)",
        costs="parameters: n",
        elementwise=True,
    )  # fmt: skip

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.count = bound.size("n")
        self.init = bound.number("init")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[Dim]:
        """The input's shape; the facts are the number of slopes in the terms of the run."""
        (x,) = inputs
        count = env.value(self.count)
        if count != Dim.const(1) and (len(x) < 2 or x[1].size != count):
            channels = f"C={x[1].size}" if len(x) >= 2 else f"no channel axis ({diagram_text(x)})"
            raise self.mismatch(f"{self.count} slopes but its input has {channels}")
        return Inferred(x, count)

    def constructor_dims(self, facts: Dim) -> list[Dim]:
        return [self.count]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: Dim) -> Dim:
        return facts

    def module(self, w: CodeWriter, facts: Dim) -> str:
        args = [] if self.count == Dim.const(1) else [w.dim(self.count)]
        if self.init != 0.25:
            args.append(f"init={self.init!r}")
        return f"nn.PReLU({', '.join(args)})"


AXIS = Arg("dim", "axis", "dim", spellings=("axis",), help="an index or an axis name; default C, else the last")


class _Softmax(Op[int]):
    """``Softmax``, ``Softmax[dim=C]``: over one axis; by default the channels if any, else the last axis."""

    torch_class: ClassVar[str]

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.axis = self.bind_declared().axis("dim")

    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[int]:
        """The input's shape; the facts are the PyTorch dim the axis is."""
        (x,) = inputs
        if self.axis is None:
            dim = next((i for i, a in enumerate(x) if a.name == "C"), len(x) - 1)
        elif isinstance(self.axis, str):
            found = [i for i, a in enumerate(x) if a.name == self.axis]
            if not found:
                raise self.mismatch(f"dim={self.axis}: its input {diagram_text(x)} has no axis {self.axis}")
            dim = found[0]
        else:
            if not -len(x) <= self.axis < len(x):
                raise self.mismatch(f"dim={self.axis} is outside its input's {len(x)} dimensions")
            dim = self.axis
        return Inferred(x, dim)

    def module(self, w: CodeWriter, facts: int) -> str:
        return f"nn.{self.torch_class}(dim={facts})"


declare(
    _Softmax,
    Declaration(
        "Softmax",
        torch="nn.Softmax",
        args=(AXIS,),
        shape="the same shape",
        torch_call="nn.Softmax(dim=dim)",
        output_range=(0.0, 1.0),
        yields_probabilities=True,
        formula_function=FormulaFunction("softmax", "torch.softmax({}, dim=-1)"),
    ),
    "exp(x) / sum(exp(x)) over one axis.",
    torch_class="Softmax",
)
declare(
    _Softmax,
    Declaration(
        "LogSoftmax",
        torch="nn.LogSoftmax",
        args=(AXIS,),
        shape="the same shape",
        torch_call="nn.LogSoftmax(dim=dim)",
        output_range=(-INF, 0.0),
        yields_log_probabilities=True,
    ),
    "log(Softmax(x)) over one axis, computed stably.",
    torch_class="LogSoftmax",
)
