"""Every op's declaration agrees with PyTorch and with the registry, and checks read it through aliases."""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

import pytest

import dotnet
from dotnet.analysis.blocks import BlockCall, UnresolvedCall
from dotnet.codegen import scan
from dotnet.diagnostics import SpecError
from dotnet.ops import lookup
from dotnet.ops.base import Op, declarations, normalize_name, registered_ops
from dotnet.ops.declaration import Declaration
from dotnet.ops.formula import FormulaOp, to_python
from dotnet.reading.formulas import FUNCTIONS, BinOp, parse_formula
from dotnet.tools.check import check_source
from tests.test_ops_cnn import one_op_spec

torch = pytest.importorskip("torch")

DECLARATIONS = declarations()
MODULES = [d for d in DECLARATIONS if d.torch and d.torch.startswith("nn.")]


def test_the_registry_still_holds_the_nineteen_ops_of_the_seed_specs() -> None:
    """The op set grew (docs/ops.md lists it); the names the seed specs use are all still there."""
    names = {d.name for d in DECLARATIONS}
    assert names >= {
        "*",
        "+",
        "-",
        "@",
        "AdaptiveAvgPool2D",
        "AvgPool2D",
        "BatchNorm",
        "Concat",
        "Conv2D",
        "Dropout",
        "Embedding",
        "Flatten",
        "Linear",
        "MaxPool2D",
        "Relu",
        "Reshape",
        "Sigmoid",
        "Softmax",
        "Tanh",
        "UpSample",
    }


DOCS = "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(__file__).parents[1].glob("docs/*.md")))


def test_no_two_ops_share_a_name_or_an_alias() -> None:
    owners: dict[str, str] = {}
    for declaration in DECLARATIONS:
        for key in {normalize_name(n) for n in declaration.names()}:
            assert owners.setdefault(key, declaration.name) == declaration.name, (
                f"{key!r}: {owners[key]} and {declaration.name}"
            )


@pytest.mark.parametrize("declaration", [d for d in DECLARATIONS if d.torch], ids=lambda d: d.name)
def test_every_declared_torch_form_exists(declaration: Declaration) -> None:
    """Ops whose constructor depends on the input (``Conv``, by rank) declare none."""
    assert declaration.torch is not None
    namespace, _, attribute = declaration.torch.rpartition(".")
    owner = {"nn": torch.nn, "torch": torch}[namespace]
    assert callable(getattr(owner, attribute, None)), f"{declaration.torch} is not in torch"


@pytest.mark.parametrize("declaration", DECLARATIONS, ids=lambda d: d.name)
def test_every_op_is_documented(declaration: Declaration) -> None:
    assert f"`{declaration.name}" in DOCS, f"no docs/*.md names `{declaration.name}`"


@pytest.mark.parametrize("declaration", DECLARATIONS, ids=lambda d: d.name)
def test_every_declared_name_finds_its_op_in_any_case(declaration: Declaration) -> None:
    for name in declaration.names():
        for spelling in (name, name.lower(), name.upper()):
            op = lookup(spelling)
            assert op is not None and op.declaration is declaration, spelling


@pytest.mark.parametrize("declaration", MODULES, ids=lambda d: d.name)
def test_torch_class_and_keywords_exist(declaration: Declaration) -> None:
    assert declaration.torch is not None
    layer = getattr(torch.nn, declaration.torch.removeprefix("nn."))
    parameters = inspect.signature(layer).parameters
    if all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters.values()):
        parameters = inspect.signature(layer.__mro__[1]).parameters  # nn.LSTM(*args, **kwargs) hands them to RNNBase
    for arg in declaration.args:
        if arg.torch is not None:
            assert arg.torch in parameters, f"{declaration.torch} has no keyword {arg.torch!r}"
    assert lookup(layer.__name__) is not None  # torch's class name is an alias


@pytest.mark.parametrize("declaration", [d for d in DECLARATIONS if d.activation], ids=lambda d: d.name)
def test_activation_facts_match_torch(declaration: Declaration) -> None:
    activation = declaration.activation
    assert activation is not None
    functional = eval(activation.functional, {"torch": torch})  # a trusted, declared name
    points = [-30.0, -2.0, -0.5, 0.0, 0.5, 2.0, 30.0]
    values = functional(torch.tensor(points, dtype=torch.float64)).tolist()
    for x, value in zip(points, values):
        assert activation.function(x) == pytest.approx(value, abs=1e-12)
        assert activation.low <= value <= activation.high
    assert activation.function(-math.inf) == activation.low
    assert activation.function(math.inf) == activation.high


def test_lint_reads_op_names_through_the_registry(tmp_path: Path) -> None:
    """``re_lu`` and the alias ``MaxPool`` are the declared Relu and MaxPool2D, so the range check sees them."""
    spec = tmp_path / "Aliases.dot"
    spec.write_text(
        "digraph Aliases {\n"
        '    inp [label="[BatchSize, W=8, H=8, C=3]", shape="Mrecord"]\n'
        '    relu [label="re_lu"]\n'
        '    pool [label="MaxPool(2)"]\n'
        '    sig [label="σ"]\n'
        '    oup [label="[BatchSize, W=4, H=4, C=3]", shape="Mrecord"]\n'
        "    inp -> relu -> pool -> sig -> oup\n"
        "}\n",
        encoding="utf-8",
    )
    messages = [d.message for d in check_source(spec, {})]
    assert messages == ["node 'sig': Sigmoid follows the Relu 'relu', so output 'oup' lies in [0.5, 1), not in (0, 1)"]


OP_CLASSES = [*registered_ops(), FormulaOp, BlockCall, UnresolvedCall]
MOVED_FACTS = ("min_inputs", "max_inputs", "times_is_factor")


@pytest.mark.parametrize("cls", OP_CLASSES, ids=lambda cls: cls.__name__)
def test_arity_and_repetition_are_declared_facts_not_class_attributes(cls: type[Op[Any]]) -> None:
    """Every op, formulas and block calls too, says how many in-edges it takes in its declaration alone."""
    for klass in cls.__mro__:
        assert not set(MOVED_FACTS) & set(vars(klass)), f"{klass.__name__} sets {set(MOVED_FACTS) & set(vars(klass))}"
    assert isinstance(cls.declaration, Declaration)


@pytest.mark.parametrize(
    ("label", "edges", "message"),
    [
        ("LSTM[In=16, Hidden=8]", 4, "LSTM takes 1 to 3 incoming edges, got 4"),
        ("GRU[In=16, Hidden=8]", 3, "GRU takes 1 to 2 incoming edges, got 3"),
        ("TransformerDecoderLayer[DModel=16, Heads=2]", 1, "TransformerDecoderLayer takes 2 incoming edges, got 1"),
        ("@ Embedding.w.T", 2, "@ takes 1 incoming edge, got 2"),
    ],
)
def test_the_shape_pass_counts_edges_by_the_declaration(tmp_path: Path, label: str, edges: int, message: str) -> None:
    """An inline operand (``@ Embedding.w.T``) takes the place of the declared second edge."""
    spec = one_op_spec(tmp_path, label, ("[BatchSize, SeqLen, 16]",) * edges)
    with pytest.raises(SpecError) as caught:
        dotnet.compile_spec(spec)
    assert f"node 'op': {message}" in str(caught.value)


def test_the_operators_scans_fold_are_the_declared_ones() -> None:
    """A scan writes a node into its step's formula by its declaration's ``operator`` (``/`` declares none)."""
    declared = {d.name: d.operator for d in DECLARATIONS if d.operator is not None}
    assert declared == {"+": "+", "-": "-", "*": "*", "@": "@"}
    for symbol in declared.values():
        tree = parse_formula(f"a {symbol} b")
        assert isinstance(tree, BinOp) and tree.op == symbol
    assert "ops.operators" not in inspect.getsource(scan)  # no table of op classes beside the declarations


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS.values())))
def test_every_formula_function_is_one_declared_op(function: str) -> None:
    """``exp(x)`` in a formula is the Python the op declaring ``exp`` gives; one op declares each function."""
    owners = [
        d
        for d in DECLARATIONS
        if (d.activation is not None and d.activation.formula == function)
        or (d.formula_function is not None and d.formula_function.name == function)
    ]
    assert len(owners) == 1, [d.name for d in owners]
    (owner,) = owners
    form = f"{owner.activation.functional}({{}})" if owner.activation else owner.formula_function.python  # type: ignore[union-attr]
    assert to_python(parse_formula(f"{function}(x)"), str) == form.format("x")
