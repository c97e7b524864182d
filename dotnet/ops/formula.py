"""Formula nodes: ``σ(X[t] @ W[f] + H[t-1] @ U[f] + b[f])`` as an op.

Names a tensor node carries refer to that tensor; every other name is an
implicit parameter whose shape is found by unification: its first use gives its
rank (right operand of ``@``: ``[K, ?]``; anywhere else: a row ``[1, ?]``), and
the unknown sizes are bound by the other operands and by the declared shape of
the tensor node the formula flows into.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dotnet import codes
from dotnet.analysis.ir import OpNode
from dotnet.diagnostics import SpecError, error
from dotnet.ops.base import CodeWriter, Inferred, Op, OpEnv, declarations
from dotnet.ops.declaration import Declaration
from dotnet.reading.formulas import BinOp, Call, Expr, Input, Name, Neg, Num, Random, contains, names
from dotnet.reading.labels import FormulaLabel, OpCall
from dotnet.reading.shape import Axis, Shape, diagram_text, from_declared, numel
from dotnet.reading.symbolic import Dim

_ONE = Dim.const(1)
_FRESH_PREFIX = "?"


@dataclass(frozen=True)
class FormulaFacts:
    """What a formula's shape rule resolves: its implicit parameters and its costs."""

    params: Mapping[str, Shape]
    """Implicit parameters, in order of first appearance in the formula, with their shapes."""
    owned: tuple[str, ...]
    """The implicit parameters this formula is the first to name (each is counted once)."""
    products: Dim
    """Multiply-adds of the formula's matrix products."""
    input: Shape
    """The shape on the node's incoming edge, for ``AddNoise\\n+ 0.5 * randn(...)``."""


class FormulaOp(Op[FormulaFacts]):
    """A formula label: its value is the formula over the tensors and parameters it names."""

    name = "formula"
    declaration = Declaration("formula", min_inputs=0, max_inputs=None)
    """Unregistered: a formula is found by its label, never by a name."""

    def __init__(self, node: OpNode, formula: FormulaLabel) -> None:
        super().__init__(node, OpCall("formula"))
        self.expr = formula.expr

    # -- shapes ----------------------------------------------------------
    def infer(self, inputs: list[Shape], env: OpEnv) -> Inferred[FormulaFacts]:
        if contains(self.expr, Input) and len(inputs) != 1:
            raise error(
                codes.BAD_EDGE,
                f"node {self.node.id!r}: its formula applies to its input, so it takes 1 incoming edge, "
                f"got {len(inputs)}",
                self.node.location,
                self.node.id,
            )
        given = inputs[0] if inputs else ()
        run = _Unifier(self, env, given)
        shape = run.shape(self.expr)
        target = self._declared_target(env)
        if target is not None and not run.unify_shapes(shape, target):
            raise self.mismatch(f"the formula gives {run.text(shape)} but flows into {diagram_text(target)}")
        params: dict[str, Shape] = {}
        owned: list[str] = []
        for name in dict.fromkeys(n.text for n in names(self.expr) if env.tensor(n.text) is None):
            final = run.resolved(run.params[name])
            if any(_is_fresh(a.size) for a in final):
                raise error(
                    codes.PARAM_SHAPE,
                    f"node {self.node.id!r}: cannot tell the shape of parameter {name} ({run.text(final)}) from its "
                    "uses; draw an edge from the formula to a tensor node with a declared shape",
                    self.node.location,
                    self.node.id,
                )
            known = env.implicit(name)
            if known is not None and known != final:
                raise error(
                    codes.PARAM_SHAPE,
                    f"node {self.node.id!r}: parameter {name} is {diagram_text(final)} here but "
                    f"{diagram_text(known)} in another formula",
                    self.node.location,
                    self.node.id,
                )
            if known is None:
                owned.append(name)
            env.name_implicit(name, final)
            params[name] = final
        products = Dim.const(0)
        for out, inner in run.products:
            products = products + numel(run.resolved(out)) * run.resolved((Axis(None, inner),))[0].size
        return Inferred(run.resolved(shape), FormulaFacts(params, tuple(owned), products, given))

    def _declared_target(self, env: OpEnv) -> Shape | None:
        """The declared shape of the tensor node the formula flows into, if exactly one."""
        tensors = env.flows_into(self.node)
        if len(tensors) != 1:
            return None
        declared = from_declared(tensors[0].label.dims)
        return tuple(Axis(a.name, env.value(a.size)) for a in declared)

    def constructor_dims(self, facts: FormulaFacts) -> list[Dim]:
        return [a.size for shape in facts.params.values() for a in shape]

    def parameter_count(self, inputs: list[Shape], output: Shape, facts: FormulaFacts) -> Dim:
        return sum((numel(facts.params[name]) for name in facts.owned), Dim.const(0))

    def mult_adds(self, inputs: list[Shape], output: Shape, facts: FormulaFacts) -> Dim:
        return facts.products

    def implicit_parameters(self, facts: FormulaFacts) -> list[tuple[str, Shape, int]]:
        offsets: dict[str, int] = {}
        for n in names(self.expr):
            offsets.setdefault(n.text, n.offset)
        return [(name, shape, offsets[name]) for name, shape in facts.params.items()]

    # -- code ------------------------------------------------------------
    def forward(self, w: CodeWriter, args: list[str], attr: str, facts: FormulaFacts) -> str:
        def leaf(tree: Expr) -> str:
            if isinstance(tree, Input):
                return args[0]
            assert isinstance(tree, Random)
            return self._random(w, tree, args[0] if args else None, facts.input)

        return to_python(self.expr, lambda name: w.formula_name(name), leaf)

    @staticmethod
    def _random(w: CodeWriter, tree: Random, x: str | None, given: Shape) -> str:
        """``torch.randn_like(x)`` for noise shaped like the input, else ``torch.randn(...)`` on its device."""
        if x is not None and tuple(tree.dims) == tuple(a.size for a in given):
            return f"torch.randn_like({x})"
        sizes = []
        for dim in tree.dims:
            at = [i for i, a in enumerate(given) if a.size == dim]
            sizes.append(f"{x}.shape[{at[0]}]" if x is not None and at else w.dim(dim))
        where = f", device={x}.device, dtype={x}.dtype" if x is not None else ""
        return f"torch.randn({', '.join(sizes)}{where})"


def _is_fresh(size: Dim) -> bool:
    return any(s.startswith(_FRESH_PREFIX) for s in size.symbols())


class _Unifier:
    """Shapes of a formula's subexpressions, with unknown parameter sizes as fresh symbols."""

    def __init__(self, op: FormulaOp, env: OpEnv, input_shape: Shape = ()) -> None:
        self.op = op
        self.env = env
        self.input = input_shape
        self.params: dict[str, Shape] = {}
        self.bound: dict[str, Dim] = {}
        self.counter = itertools.count(1)
        self.products: list[tuple[Shape, Dim]] = []
        """Each matrix product's result shape and inner size, for counting multiply-adds."""

    def fresh(self) -> Dim:
        return Dim.sym(f"{_FRESH_PREFIX}{next(self.counter)}")

    def resolved(self, shape: Shape) -> Shape:
        result = shape
        for _ in range(len(self.bound) + 1):  # bindings may chain: ?1 -> ?2 -> NOut
            result = tuple(Axis(a.name, a.size.substitute(self.bound)) for a in result)
        return result

    def text(self, shape: Shape) -> str:
        return diagram_text(self.resolved(shape)).replace(_FRESH_PREFIX, "?")

    def unify(self, a: Dim, b: Dim) -> bool:
        a, b = self.resolved((Axis(None, a),))[0].size, self.resolved((Axis(None, b),))[0].size
        if a == b:
            return True
        for x, y in ((a, b), (b, a)):
            symbols = x.symbols()
            if len(symbols) == 1 and _is_fresh(x) and x == Dim.sym(next(iter(symbols))):
                self.bound[next(iter(symbols))] = y
                return True
        return False

    def unify_shapes(self, a: Shape, b: Shape) -> bool:
        return len(a) == len(b) and all(self.unify(x.size, y.size) for x, y in zip(a, b))

    def param(self, name: str, first_use: Shape) -> Shape:
        if name not in self.params:
            known = self.env.implicit(name)
            self.params[name] = first_use if known is None else known
        return self.params[name]

    def shape(self, expr: Expr) -> Shape:
        if isinstance(expr, Num):
            return ()
        if isinstance(expr, Input):
            return self.input
        if isinstance(expr, Random):
            return tuple(Axis(None, self.env.value(d)) for d in expr.dims)
        if isinstance(expr, Name):
            return self.name_shape(expr, None)
        if isinstance(expr, Call | Neg):
            return self.shape(expr.arg)
        if expr.op == "@":
            left = self.shape(expr.left)
            right = self.name_shape(expr.right, left) if isinstance(expr.right, Name) else self.shape(expr.right)
            return self.matmul(left, right)
        return self.broadcast(self.shape(expr.left), self.shape(expr.right), expr.op)

    def name_shape(self, name: Name, left_of_matmul: Shape | None) -> Shape:
        tensor = self.env.tensor(name.text)
        if tensor is not None:
            return tensor
        if left_of_matmul is not None and len(left_of_matmul) >= 1:
            return self.param(name.text, (Axis(None, left_of_matmul[-1].size), Axis(None, self.fresh())))
        return self.param(name.text, (Axis(None, _ONE), Axis(None, self.fresh())))

    def matmul(self, a: Shape, b: Shape) -> Shape:
        if len(a) < 1 or len(b) != 2 or not self.unify(a[-1].size, b[0].size):
            raise self.failure(f"cannot multiply {self.text(a)} @ {self.text(b)}")
        result = tuple(a[:-1]) + (Axis(None, b[1].size),)
        self.products.append((result, a[-1].size))
        return result

    def broadcast(self, a: Shape, b: Shape, op: str) -> Shape:
        if len(b) > len(a):
            a, b = b, a
        result = list(a)
        offset = len(a) - len(b)
        for i, axis in enumerate(b):
            mine = self.resolved((result[offset + i],))[0]
            other = self.resolved((axis,))[0]
            if mine.size == _ONE and not _is_fresh(other.size):
                result[offset + i] = other
            elif other.size == _ONE or self.unify(mine.size, other.size):
                continue
            else:
                raise self.failure(f"operands {self.text(a)} {op} {self.text(b)} do not broadcast together")
        return tuple(result)

    def failure(self, message: str) -> SpecError:
        return self.op.mismatch(message + self.env.where())


# -- Python source of a formula -------------------------------------------------
def _function_source(fn: str) -> str:
    """Python for formula function ``fn`` around ``{}``, as the op that declares it says.

    An activation gives its torch function (``torch.sigmoid``); another op its
    :class:`~dotnet.ops.declaration.FormulaFunction` (``exp``; ``softmax``, over the last axis).
    """
    for d in declarations():
        if d.activation is not None and d.activation.formula == fn:
            return f"{d.activation.functional}({{}})"
        if d.formula_function is not None and d.formula_function.name == fn:
            return d.formula_function.python
    raise AssertionError(f"no op declares the formula function {fn!r}")


def _number(tree: Expr) -> float | None:
    """The value of a formula of numbers only; ``None`` if it reads anything else or has none."""
    if isinstance(tree, Num):
        return float(tree.value)
    if isinstance(tree, Neg):
        arg = _number(tree.arg)
        return None if arg is None else -arg
    if isinstance(tree, Call):
        return _folded(tree)
    if isinstance(tree, BinOp) and tree.op != "@":
        left, right = _number(tree.left), _number(tree.right)
        if left is None or right is None:
            return None
        if tree.op == "/":
            return left / right if right else None
        return left + right if tree.op == "+" else left - right if tree.op == "-" else left * right
    return None


def _folded(call: Call) -> float | None:
    """``call``'s value when its argument is a number and the value is finite, else ``None``."""
    arg = _number(call.arg)
    if arg is None:
        return None
    activation = next((d.activation for d in declarations() if d.activation and d.activation.formula == call.fn), None)
    scalar = activation.function if activation is not None else _MATH_SCALARS[call.fn]
    try:
        value = scalar(arg)
    except (ValueError, OverflowError):  # log(0), sqrt(-1), exp(1000): left to torch
        return None
    return value if math.isfinite(value) else None


_MATH_SCALARS: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "softmax": lambda x: 1.0,  # over one number
}


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "@": 2, "/": 2}


def to_python(tree: Expr, name: Callable[[str], str], leaf: Callable[[Expr], str] | None = None) -> str:
    """Python source for the tree; ``name`` maps each formula name to an expression.

    ``leaf`` writes the leaves that are not names (:class:`Input`, :class:`Random`).
    """
    return _python(tree, name, 0, leaf)


def _python(tree: Expr, name: Callable[[str], str], context: int, leaf: Callable[[Expr], str] | None = None) -> str:
    if isinstance(tree, Num):
        return repr(tree.value)
    if isinstance(tree, Name):
        return name(tree.text)
    if isinstance(tree, Input | Random):
        if leaf is None:
            raise AssertionError(f"{type(tree).__name__} needs a writer for its leaves")
        return leaf(tree)
    if isinstance(tree, Call):
        value = _folded(tree)
        if value is not None:  # a function of numbers only: its value (torch's functions take tensors)
            return repr(value) if value >= 0 else f"({value!r})"
        arg = _python(tree.arg, name, 0, leaf)
        if _number(tree.arg) is not None:  # its value is not finite: torch computes it, from a tensor
            arg = f"torch.tensor({arg})"
        return _function_source(tree.fn).format(arg)
    if isinstance(tree, Neg):
        text = "-" + _python(tree.arg, name, 3, leaf)
        return f"({text})" if context > 2 else text
    level = _PRECEDENCE[tree.op]
    # Left-associative: the right operand of an equal-precedence operator needs parentheses,
    # and so, for the reader, does a product mixed into a matrix product: ``(h * r) @ u``.
    mixed = isinstance(tree.left, BinOp) and {tree.op, tree.left.op} == {"*", "@"}
    left = _python(tree.left, name, 3 if mixed else level, leaf)
    text = f"{left} {tree.op} {_python(tree.right, name, level + 1, leaf)}"
    return f"({text})" if level < context else text
