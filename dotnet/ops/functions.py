"""Element-wise functions formulas call by name (``exp``, ``log``, ``sqrt``), also drawn as op nodes.

Each is one declaration whose :class:`~dotnet.ops.declaration.FormulaFunction` gives the
Python it becomes; formula code (:mod:`dotnet.ops.formula`) reads those forms from the
registry, as it reads the activations' (``σ``, ``tanh``, ``relu``) and softmax's.
"""

from __future__ import annotations

from dotnet.analysis.ir import OpNode
from dotnet.ops.base import CodeWriter, NoFacts, OpEnv, SimpleOp, declare
from dotnet.ops.declaration import Declaration, FormulaFunction
from dotnet.reading.labels import OpCall
from dotnet.reading.shape import Shape


class _Function(SimpleOp):
    """A function applied to every element: no arguments, no submodule, the same shape out."""

    def __init__(self, node: OpNode, call: OpCall) -> None:
        super().__init__(node, call)
        self.no_args()

    def output(self, inputs: list[Shape], env: OpEnv) -> Shape:
        return inputs[0]

    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: NoFacts) -> str:
        function = self.declaration.formula_function
        assert function is not None
        return function.python.format(args[0])


def _function(name: str, torch: str, doc: str) -> None:
    declaration = Declaration(
        name.capitalize(),
        torch=torch,
        shape="the same shape",
        torch_call=f"{torch}(x)",
        elementwise=True,
        formula_function=FormulaFunction(name, f"{torch}({{}})"),
    )
    declare(_Function, declaration, doc)


_function("exp", "torch.exp", "e to the power of each element.")
_function("log", "torch.log", "The natural logarithm of each element.")
_function("sqrt", "torch.sqrt", "The square root of each element.")
