"""Activations: element-wise functions (one declaration line each), PReLU, softmax over an axis.

Each declaration carries the facts checks use: the interval its outputs lie in
(``output_range``) and whether it is element-wise.
"""

from __future__ import annotations

import math
from typing import ClassVar

from dotnet.analysis.infer import Env
from dotnet.analysis.ir import OpNode
from dotnet.ops.args import Arg, Value, format_value
from dotnet.ops.base import CodeWriter, Op, declare, register
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape, diagram_text
from dotnet.reading.symbolic import Dim

INF = math.inf


def _code(value: Value) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value) if isinstance(value, float) else format_value(value)


class _Activation(Op):
    """An element-wise activation: same shape out, a parameter-free ``nn`` module."""

    torch_class: ClassVar[str]
    elementwise = True
    shape_rule = "the same shape"

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        if not self.args:
            self.no_args()
        self.bound = self.bind_declared()

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        return inputs[0]

    def module(self, w: CodeWriter) -> str:
        values = self.bound.values
        changed = [(a.torch or a.name, values[a.name]) for a in self.args if values[a.name] != a.default]
        return f"nn.{self.torch_class}({', '.join(f'{k}={_code(v)}' for k, v in changed)})"


def _activation(
    name: str, *aliases: str, doc: str, low: float, high: float, args: tuple[Arg, ...] = ()
) -> type[_Activation]:
    """Declare the element-wise activation ``name``; its torch class has the same name."""
    return declare(
        _Activation,
        name,
        *aliases,
        doc=doc,
        args=args,
        torch_class=name,
        torch_form=f"nn.{name}({', '.join(f'{a.torch}={a.name}' for a in args)})",
        output_range=(low, high),
    )


ReLU = _activation("ReLU", doc="max(x, 0).", low=0, high=INF)
_activation("ReLU6", doc="min(max(x, 0), 6).", low=0, high=6)
_activation(
    "LeakyReLU",
    doc="x for x >= 0, else slope * x.",
    low=-INF,
    high=INF,
    args=(Arg("slope", "float", "negative_slope", default=0.01, spellings=("alpha",)),),
)
_activation(
    "ELU",
    doc="x for x > 0, else alpha * (exp(x) - 1).",
    low=-INF,
    high=INF,
    args=(Arg("alpha", "float", "alpha", default=1.0),),
)
_activation(
    "CELU",
    doc="max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).",
    low=-INF,
    high=INF,
    args=(Arg("alpha", "float", "alpha", default=1.0),),
)
_activation("SELU", doc="scale * ELU(x, alpha) with the self-normalising constants.", low=-1.7581, high=INF)
_activation(
    "GELU",
    doc="x * Phi(x), exact or with the tanh approximation.",
    low=-0.17,
    high=INF,
    args=(Arg("approximate", "choice", "approximate", default="none", choices=("none", "tanh")),),
)
_activation("SiLU", "Swish", doc="x * sigmoid(x).", low=-0.2785, high=INF)
_activation("Mish", doc="x * tanh(softplus(x)).", low=-0.3089, high=INF)
_activation("Hardswish", doc="x * ReLU6(x + 3) / 6.", low=-0.375, high=INF)
_activation("Hardsigmoid", doc="ReLU6(x + 3) / 6.", low=0, high=1)
_activation(
    "Hardtanh",
    doc="x clamped to [min_val, max_val].",
    low=-INF,
    high=INF,
    args=(Arg("min_val", "float", "min_val", default=-1.0), Arg("max_val", "float", "max_val", default=1.0)),
)
_activation(
    "Softplus",
    doc="log(1 + exp(beta * x)) / beta; linear above the threshold.",
    low=0,
    high=INF,
    args=(Arg("beta", "float", "beta", default=1.0), Arg("threshold", "float", "threshold", default=20.0)),
)
_activation("Softsign", doc="x / (1 + |x|).", low=-1, high=1)
Tanh = _activation("Tanh", doc="tanh(x).", low=-1, high=1)
Sigmoid = _activation("Sigmoid", "σ", doc="1 / (1 + exp(-x)).", low=0, high=1)


@register("PReLU")
class PReLU(Op):
    """LeakyReLU with a learned slope: one for all channels, or one per channel (``PReLU(C)``)."""

    name = "PReLU"
    elementwise = True
    args = (
        Arg(
            "n",
            "size",
            "num_parameters",
            default=Dim.const(1),
            spellings=("C", "channels"),
            help="1 or the channel count",
        ),
        Arg("init", "float", "init", default=0.25),
    )
    shape_rule = "the same shape"
    torch_form = "nn.PReLU(num_parameters=n, init=init)"
    costs = "parameters: n"
    output_range = (-INF, INF)

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind_declared()
        self.count = bound.size("n")
        self.init = bound.number("init")
        self.run_count = self.count

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        (x,) = inputs
        self.run_count = env.value(self.count)
        if self.run_count != Dim.const(1) and (len(x) < 2 or x[1].size != self.run_count):
            channels = f"C={x[1].size}" if len(x) >= 2 else f"no channel axis ({diagram_text(x)})"
            raise self.mismatch(f"{self.count} slopes but its input has {channels}")
        return x

    def constructor_dims(self) -> list[Dim]:
        return [self.count]

    def parameter_count(self, inputs: list[Shape], output: Shape) -> Dim:
        return self.run_count

    def module(self, w: CodeWriter) -> str:
        args = [] if self.count == Dim.const(1) else [w.dim(self.count)]
        if self.init != 0.25:
            args.append(f"init={self.init!r}")
        return f"nn.PReLU({', '.join(args)})"


AXIS = Arg("dim", "axis", "dim", spellings=("axis",), help="an index or an axis name; default C, else the last")


class _Softmax(Op):
    """``Softmax``, ``Softmax[dim=C]``: over one axis; by default the channels if any, else the last axis."""

    torch_class: ClassVar[str]
    args = (AXIS,)
    shape_rule = "the same shape"

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.axis = self.bind_declared().axis("dim")
        self.dim = 0

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        (x,) = inputs
        if self.axis is None:
            self.dim = next((i for i, a in enumerate(x) if a.name == "C"), len(x) - 1)
        elif isinstance(self.axis, str):
            found = [i for i, a in enumerate(x) if a.name == self.axis]
            if not found:
                raise self.mismatch(f"dim={self.axis}: its input {diagram_text(x)} has no axis {self.axis}")
            self.dim = found[0]
        else:
            if not -len(x) <= self.axis < len(x):
                raise self.mismatch(f"dim={self.axis} is outside its input's {len(x)} dimensions")
            self.dim = self.axis
        return x

    def module(self, w: CodeWriter) -> str:
        return f"nn.{self.torch_class}(dim={self.dim})"


declare(
    _Softmax,
    "Softmax",
    doc="exp(x) / sum(exp(x)) over one axis.",
    torch_class="Softmax",
    torch_form="nn.Softmax(dim=dim)",
    output_range=(0, 1),
)
declare(
    _Softmax,
    "LogSoftmax",
    doc="log(Softmax(x)) over one axis, computed stably.",
    torch_class="LogSoftmax",
    torch_form="nn.LogSoftmax(dim=dim)",
    output_range=(-INF, 0),
)
