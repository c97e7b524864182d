"""The op reference: docs/ops.md and ``dotnet ops`` come from the declarations and agree with them.

Also: every declaration is complete (a summary, a PyTorch form, a shape rule, arguments
with PyTorch's keywords), and every layer op has at least one numeric test row.
"""

from __future__ import annotations

import pytest

from dotnet.codegen.audit import ALLOWED_WORDS
from dotnet.ops import lookup
from dotnet.ops.base import Op, declarations, registered_ops
from dotnet.reading.labels import OpCall, parse_op_label
from dotnet.tools.opdocs import markdown, summary
from tests.conftest import REPO, run_cli

LAYER_MODULES = {
    "dotnet.ops.activations",
    "dotnet.ops.conv",
    "dotnet.ops.norms",
    "dotnet.ops.pooling",
    "dotnet.ops.regularization",
    "dotnet.ops.resampling",
    "dotnet.ops.dense",
}
"""The families whose every op must have a numeric test row against torch."""


def test_docs_page_is_generated_from_the_declarations() -> None:
    page = (REPO / "docs" / "ops.md").read_text(encoding="utf-8")
    assert page == markdown(), "docs/ops.md is stale: run  dotnet ops --format markdown > docs/ops.md"


def test_every_op_has_a_section_in_the_docs() -> None:
    page = (REPO / "docs" / "ops.md").read_text(encoding="utf-8")
    missing = [cls.name for cls in registered_ops() if f"## `{cls.name}`" not in page]
    assert missing == []


@pytest.mark.parametrize("cls", registered_ops(), ids=lambda cls: cls.name)
def test_declaration_is_complete(cls: type[Op]) -> None:
    """A summary for the index; for layer ops, the shape rule and PyTorch code the reference prints."""
    assert summary(cls), f"{cls.name} has no docstring"
    declaration = cls.declaration
    assert declaration is not None and declaration.name == cls.name
    if cls.__module__ in LAYER_MODULES:
        assert declaration.shape and declaration.torch_call.startswith("nn.")
        for arg in declaration.args:
            assert arg.torch is None or arg.torch.isidentifier()


def _tested_ops() -> set[str]:
    from tests.test_ops_cnn import SINGLE_INPUT_CASES
    from tests.test_ops_layers import ROWS

    labels = [label for label, *_ in ROWS] + [label for label, _ in SINGLE_INPUT_CASES] + ["Linear", "Embedding"]
    names = set()
    for label in labels:
        call = parse_op_label(label)
        assert isinstance(call, OpCall)
        op = lookup(call.name)
        assert op is not None, label
        names.add(op.name)
    return names


def test_generated_code_may_hold_every_word_an_op_passes_to_torch() -> None:
    """The audit of generated code lets through exactly the words op arguments can take."""
    words = {"same", "valid"} | {c for d in declarations() for arg in d.args for c in arg.choices}
    assert words == ALLOWED_WORDS


def test_every_layer_op_has_a_test_row() -> None:
    """Adding an op means one declaration and one row in tests/test_ops_layers.py."""
    tested = _tested_ops()
    untested = [cls.name for cls in registered_ops() if cls.__module__ in LAYER_MODULES and cls.name not in tested]
    assert untested == []


def test_ops_lists_every_op() -> None:
    result = run_cli("ops")
    assert result.code == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == [cls.name for cls in registered_ops()]
    assert ["ReLU6", "min(max(x,", "0),", "6)."] in [line.split() for line in result.stdout.splitlines()]


def test_ops_describes_one_op_under_any_spelling() -> None:
    result = run_cli("ops", "conv_2d")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Conv2D: 2-d convolution over an image [BatchSize, W, H, C]."
    assert "    K, kernel_size, kernel  size; required  (the same on every spatial axis)" in lines
    assert "    G, groups               size; default 1  (G=In: depthwise)" in lines
    assert "  PyTorch: nn.Conv2d(In, Out, kernel_size=K, stride=S, padding=P, dilation=D, groups=G, bias=Bias)" in lines


def test_ops_states_the_facts_checks_use() -> None:
    result = run_cli("ops", "Sigmoid")
    assert "  facts: element-wise; outputs in [0, 1]; monotone; yields probabilities" in result.stdout.splitlines()
    assert "  also: σ" in result.stdout.splitlines()


def test_ops_lists_the_words_an_op_reads_beside_its_name() -> None:
    lines = run_cli("ops", "Conv2D").stdout.splitlines()
    assert "  words beside the name: depthwise (G=In, Out=In unless given); pointwise (K=1)" in lines


def test_an_unbounded_side_is_written_with_its_sign_and_an_open_bracket() -> None:
    assert "  facts: outputs in (-inf, 0]; yields log-probabilities" in run_cli("ops", "LogSoftmax").stdout.splitlines()
    assert "  facts: element-wise; outputs in [0, inf); monotone" in run_cli("ops", "ReLU").stdout.splitlines()


def test_unknown_op_is_a_usage_error_with_suggestions() -> None:
    result = run_cli("ops", "Conv4D")
    assert result.code == 2
    assert "unknown op 'Conv4D'; did you mean Conv3D, Conv2D, Conv1D" in result.stderr
    assert result.stdout == ""


def test_markdown_takes_no_name() -> None:
    assert run_cli("ops", "ReLU", "--format", "markdown").code == 2
