"""Element-wise activations: shape in, same shape out, a parameter-free module."""

from __future__ import annotations

from typing import ClassVar

from dotnet.analysis.infer import Env
from dotnet.ops.base import CodeWriter, Op, register
from dotnet.reading.shape import Shape


class _Activation(Op):
    torch_module: ClassVar[str]

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        self.no_args()
        return inputs[0]

    def module(self, w: CodeWriter) -> str:
        return f"nn.{self.torch_module}()"


@register("Relu")
class Relu(_Activation):
    name = "Relu"
    torch_module = "ReLU"


@register("Tanh")
class Tanh(_Activation):
    name = "Tanh"
    torch_module = "Tanh"


@register("Sigmoid", "σ")
class Sigmoid(_Activation):
    name = "Sigmoid"
    torch_module = "Sigmoid"


@register("Softmax")
class Softmax(Op):
    """``Softmax`` or ``Softmax[dim=1]``: over the channels when the input has them, else the last axis."""

    name = "Softmax"

    def __init__(self, node, call) -> None:  # type: ignore[no-untyped-def]
        super().__init__(node, call)
        bound = self.bind((("dim", ("axis",)),))
        self.dim = self.int_arg(bound, "dim") if "dim" in bound else None

    def infer(self, inputs: list[Shape], env: Env) -> Shape:
        (x,) = inputs
        if self.dim is None:
            self.dim = next((i for i, a in enumerate(x) if a.name == "C"), len(x) - 1)
        if not -len(x) <= self.dim < len(x):
            raise self.mismatch(f"dim={self.dim} is outside its input's {len(x)} dimensions")
        return x

    def module(self, w: CodeWriter) -> str:
        return f"nn.Softmax(dim={self.dim})"
