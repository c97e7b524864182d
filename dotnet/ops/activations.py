"""Element-wise activations: shape in, same shape out, a parameter-free module."""

from __future__ import annotations

import math

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, Op, OpEnv, register
from dotnet.ops.declaration import Activation, Arg, Declaration
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x > -700 else 0.0  # exp(700) is near float's limit


class _Activation(Op):
    """An activation without arguments: the declared ``nn`` module, called on the input."""

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        self.no_args()
        return inputs[0]

    def module(self, w: CodeWriter) -> str:
        assert self.declaration is not None and self.declaration.torch is not None
        return f"{self.declaration.torch}()"


@register
class Relu(_Activation):
    declaration = Declaration(
        "Relu",
        torch="nn.ReLU",
        elementwise=True,
        activation=Activation(lambda x: max(x, 0.0), 0.0, math.inf, "relu", "torch.relu", flat_below=0.0),
    )


@register
class Tanh(_Activation):
    declaration = Declaration(
        "Tanh", torch="nn.Tanh", elementwise=True, activation=Activation(math.tanh, -1.0, 1.0, "tanh", "torch.tanh")
    )


@register
class Sigmoid(_Activation):
    declaration = Declaration(
        "Sigmoid",
        aliases=("σ",),
        torch="nn.Sigmoid",
        elementwise=True,
        activation=Activation(_sigmoid, 0.0, 1.0, "sigmoid", "torch.sigmoid"),
        yields_probabilities=True,
    )


@register
class Softmax(Op):
    """``Softmax`` or ``Softmax[dim=1]``: over the channels when the input has them, else the last axis."""

    declaration = Declaration(
        "Softmax", torch="nn.Softmax", args=(Arg("dim", "int", "dim", spellings=("axis",)),), yields_probabilities=True
    )

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        bound = self.bind()
        self.dim = self.int_arg(bound, "dim") if "dim" in bound else None

    def infer(self, inputs: list[Shape], env: OpEnv) -> Shape:
        (x,) = inputs
        if self.dim is None:
            self.dim = next((i for i, a in enumerate(x) if a.name == "C"), len(x) - 1)
        if not -len(x) <= self.dim < len(x):
            raise self.mismatch(f"dim={self.dim} is outside its input's {len(x)} dimensions")
        return x

    def module(self, w: CodeWriter) -> str:
        return f"nn.Softmax(dim={self.dim})"
