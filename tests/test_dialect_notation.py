"""The notations of the seed documents' style (issue 12, items 1 and 4), one test each.

Each test writes a small spec as its author would draw it and checks what a user relies on:
the generated code's constructor and layers, the shapes, or the exact diagnostic text.
docs/spec-language.md states each rule; docs/diagnostics.md lists each new code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import SpecError, compile_to_source
from dotnet.tools.check import check_source

RECORD = 'shape="Mrecord"'


def spec(tmp_path: Path, body: str, name: str = "Net") -> Path:
    """A file ``Net.dot`` holding ``digraph Net { body }``, one statement a line from line 2."""
    path = tmp_path / f"{name}.dot"
    path.write_text(f"digraph {name} {{\n{body.strip()}\n}}\n", encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    """What ``dotnet check`` prints for the file, one line per diagnostic, file name relative."""
    return [d.format_text().replace(str(path.parent) + "/", "") for d in check_source(path, {})]


def errors_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        compile_to_source(path)
    return [d.format_text().replace(str(path.parent) + "/", "") for d in caught.value.diagnostics]


# -- sizes -----------------------------------------------------------------
def test_a_size_with_a_default_is_a_constructor_argument_with_that_default(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, NFeature(768)]", {RECORD}]
fc [label="Linear\\n[NFeature, NLabels(10)]"]
oup [label="输出\\n[BatchSize, NLabels]", {RECORD}]
inp -> fc -> oup
""",
    )
    source = compile_to_source(path)
    assert "def __init__(self, n_feature: int = 768, n_labels: int = 10) -> None:" in source
    assert "self.fc = nn.Linear(n_feature, n_labels)" in source
    assert messages(path) == []


def test_two_defaults_for_one_symbol_are_an_error(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, NFeature(768)]", {RECORD}]
fc [label="Linear\\n[NFeature(512), 10]"]
inp -> fc
""",
    )
    assert errors_of(path) == [
        "Net.dot:3:1: error: node 'fc': NFeature(512) contradicts the default NFeature(768) "
        "given at line 2 [conflicting-default]"
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [("48x2", 96), ("16x5x5", 400), ("7x7x512", 25088), ("64+6*32", 256), ("2x(3+1)", 8)],
)
def test_products_and_sums_in_sizes_and_args(tmp_path: Path, written: str, value: int) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, {written}]", {RECORD}]
fc [label="Linear\\n[{written}, 10]"]
oup [label="输出\\n[BatchSize, 10]", {RECORD}]
inp -> fc -> oup
""",
    )
    assert f"self.fc = nn.Linear({value}, 10)" in compile_to_source(path)


def test_a_size_written_with_its_value_is_checked(tmp_path: Path) -> None:
    good = spec(tmp_path, f'a [label="[BatchSize, C=64+6*32=256]", {RECORD}]\nr [label="relu"]\na -> r')
    assert messages(good) == []
    bad = spec(tmp_path, f'a [label="[BatchSize, C=64+6*32=250]", {RECORD}]\nr [label="relu"]\na -> r', "Bad")
    assert messages(bad) == ["Bad.dot:2:1: error: node 'a': C=64+6*32=250 does not hold: 64+6*32 is 256 [size-check]"]


def test_a_line_break_separates_dims(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize\\nW=112, H=112, C=64]", {RECORD}]
pool [label="MaxPool2D\\n[K=2, S=2]"]
oup [label="[BatchSize\\nW=56\\nH=56\\nC=64]", {RECORD}]
inp -> pool -> oup
""",
    )
    source = compile_to_source(path)
    assert "inp: (BatchSize, 64, 112, 112)" in source
    assert messages(path) == []


# -- op names ----------------------------------------------------------------
@pytest.mark.parametrize("label", ["Conv2D#1", "Conv2D 2", "conv2d#3", "Conv2D #4"])
def test_instance_marks_on_op_names(tmp_path: Path, label: str) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="{label}\\n[K=3, P=1, In=3, Out=4]"]
inp -> conv
""",
    )
    assert "self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)" in compile_to_source(path)


def test_the_same_instance_mark_twice_is_fine(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, 16]", {RECORD}]
a [label="Linear7\\n[16, 16]"]
b [label="Linear7\\n[16, 8]"]
bn [label="BatchNorm1(8)"]
inp -> a -> b -> bn
""",
    )
    source = compile_to_source(path)
    assert "self.a = nn.Linear(16, 16)" in source
    assert "self.b = nn.Linear(16, 8)" in source
    assert "self.bn = nn.BatchNorm1d(8)" in source


def test_instance_marks_on_block_calls(tmp_path: Path) -> None:
    (tmp_path / "ConvBlock.dot").write_text(
        "digraph ConvBlock {\n"
        f'inp [label="[BatchSize, W=BlockW, H=BlockH, C=BlockIn]", {RECORD}]\n'
        'conv [label="Conv2D\\n[K=3, P=1, In=BlockIn, Out=BlockOut]"]\n'
        f'oup [label="[BatchSize, W=BlockW, H=BlockH, C=BlockOut]", {RECORD}]\n'
        "inp -> conv -> oup\n}\n",
        encoding="utf-8",
    )
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=128]", {RECORD}]
c3 [label="ConvBlock3\\n[In=128, Out=256]"]
c4 [label="ConvBlock#4\\n[In=256, Out=64]"]
inp -> c3 -> c4
""",
    )
    source = compile_to_source(path)
    assert "self.c3 = ConvBlock(block_in=128, block_out=256)" in source
    assert "self.c4 = ConvBlock(block_in=256, block_out=64)" in source


@pytest.mark.parametrize(("shape", "module"), [("W=8, H=8, C=64", "BatchNorm2d"), ("64", "BatchNorm1d")])
def test_generic_batch_norm_is_resolved_by_the_input_rank(tmp_path: Path, shape: str, module: str) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, {shape}]", {RECORD}]
bn [label="batchnorm(64)"]
inp -> bn
""",
    )
    assert f"self.bn = nn.{module}(64)" in compile_to_source(path)


@pytest.mark.parametrize("label", ["cat(axis=1)", "Concat[axis=C]", "concat"])
def test_concatenation_along_a_named_axis(tmp_path: Path, label: str) -> None:
    path = spec(
        tmp_path,
        f"""
a [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
b [label="[BatchSize, W=8, H=8, C=5]", {RECORD}]
cat [label="{label}"]
oup [label="[BatchSize, W=8, H=8, C=8]", {RECORD}]
a -> cat
b -> cat
cat -> oup
""",
    )
    assert "oup = torch.cat((a, b), dim=1)  # (BatchSize, 8, 8, 8)" in compile_to_source(path)


def test_concatenation_along_another_axis(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
a [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
b [label="[BatchSize, W=4, H=8, C=3]", {RECORD}]
cat [label="Concat[axis=W]"]
oup [label="[BatchSize, W=12, H=8, C=3]", {RECORD}]
a -> cat
b -> cat
cat -> oup
""",
    )
    assert "oup = torch.cat((a, b), dim=3)  # (BatchSize, 3, 8, 12)" in compile_to_source(path)


@pytest.mark.parametrize("label", ["reshape([4096])", "reshape\\n[BatchSize, 4096]", "Reshape[BatchSize, 16x256]"])
def test_reshape_keeps_the_batch_and_checks_the_count(tmp_path: Path, label: str) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=4, H=4, C=256]", {RECORD}]
reshape [label="{label}"]
oup [label="[BatchSize, 4096]", {RECORD}]
inp -> reshape -> oup
""",
    )
    assert "oup = inp.reshape(inp.shape[0], 4096)  # (BatchSize, 4096)" in compile_to_source(path)


def test_a_reshape_whose_element_counts_differ_shows_both(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=6, H=6, C=256]", {RECORD}]
reshape [label="reshape([4096])"]
inp -> reshape
""",
    )
    assert errors_of(path) == [
        "Net.dot:3:1: error: node 'reshape': Reshape: [4096] holds 4096 elements per sample, "
        "but its input [BatchSize, W=6, H=6, C=256] holds 9216 [arg-mismatch]"
    ]


def test_a_symbolic_reshape_is_checked_symbolically(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=BlockW, H=BlockH, C=16]", {RECORD}]
reshape [label="reshape\\n[BatchSize, 16*BlockW*BlockH]"]
bad [label="reshape\\n[BatchSize, 16*BlockW]"]
inp -> reshape
inp -> bad
""",
    )
    assert errors_of(path) == [
        "Net.dot:4:1: error: node 'bad': Reshape: [BatchSize, BlockW*16] holds BlockW*16 elements per sample, "
        "but its input [BatchSize, W=BlockW, H=BlockH, C=16] holds BlockH*BlockW*16 [arg-mismatch]"
    ]


# -- rates ---------------------------------------------------------------------
RATE_SPEC = f"""
CompRate=0.5
inp [label="[BatchSize, W=8, H=8, C=256]", {RECORD}]
conv [label="Conv2D\\n[K=1, In=256, Out=256*CompRate]"]
oup [label="[BatchSize, W=8, H=8, C=128]", {RECORD}]
inp -> conv -> oup
"""


def test_a_rate_is_a_parameter_whose_sizes_are_whole(tmp_path: Path) -> None:
    path = spec(tmp_path, RATE_SPEC)
    source = compile_to_source(path)
    assert "self.conv = nn.Conv2d(256, 128, kernel_size=1)" in source
    assert "comp_rate" not in source  # a rate is applied when compiling, not a constructor argument


def test_a_rate_that_makes_a_size_that_is_not_whole_is_an_error(tmp_path: Path) -> None:
    path = spec(tmp_path, RATE_SPEC.replace("CompRate=0.5", "CompRate=0.3"))
    assert errors_of(path) == [
        "Net.dot:4:1: error: node 'conv': Out=CompRate*256 is 76.8 with CompRate=0.3, not a whole size [not-integral]"
    ]


def test_param_gives_a_rate(tmp_path: Path) -> None:
    from dotnet import compile_spec

    path = spec(tmp_path, RATE_SPEC.replace("C=128]", "C=64]"))
    assert "nn.Conv2d(256, 64, kernel_size=1)" in compile_spec(path, params={"CompRate": 0.25}).source


# -- index-dependent repetition -------------------------------------------
def _dense_layer(tmp_path: Path) -> None:
    (tmp_path / "DenseLayer.dot").write_text(
        "digraph DenseLayer {\n"
        f'inp [label="[BatchSize, W=BlockW, H=BlockH, C=In]", {RECORD}]\n'
        'conv [label="Conv2D\\n[K=3, P=1, In=In, Out=32]"]\n'
        f'new [label="[BatchSize, W=BlockW, H=BlockH, C=32]", {RECORD}]\n'
        'cat [label="Concat"]\n'
        f'oup [label="[BatchSize, W=BlockW, H=BlockH, C=In+32]", {RECORD}]\n'
        "inp -> cat\ninp -> conv -> new -> cat\ncat -> oup\n}\n",
        encoding="utf-8",
    )


def test_repetition_whose_args_depend_on_the_index(tmp_path: Path) -> None:
    _dense_layer(tmp_path)
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=LayerIn]", {RECORD}]
layers [label="DenseLayer x NLayers\\n[In=LayerIn+#Layer*32]"]
oup [label="[BatchSize, W=8, H=8, C=LayerIn+NLayers*32]", {RECORD}]
inp -> layers -> oup
""",
    )
    source = compile_to_source(path)
    assert "*(DenseLayer(in_=layer * 32 + layer_in) for layer in range(n_layers))" in source
    assert messages(path) == []


def test_an_index_dependent_repetition_that_does_not_chain_is_an_error(tmp_path: Path) -> None:
    _dense_layer(tmp_path)
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=LayerIn]", {RECORD}]
layers [label="DenseLayer x NLayers\\n[In=LayerIn+#Layer*16]"]
inp -> layers
""",
    )
    assert errors_of(path) == [
        "Net.dot:3:1: error: node 'layers': DenseLayer: In=#Layer*16+LayerIn contradicts the input shape, "
        "which gives In=#Layer*32+LayerIn [arg-mismatch]"
    ]


# -- random tensors and formulas -----------------------------------------
def test_a_random_tensor_follows_the_input_device_and_dtype(tmp_path: Path) -> None:
    """Its sizes come from the inputs' shapes (NHidden3 sizes no parameter, so it is a run-time dim)."""
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, NHidden3(128)]", {RECORD}]
eps [label="ε\\nrandn(BatchSize, NHidden3(128))", {RECORD}]
add [label="+"]
inp -> add
eps -> add
""",
    )
    source = compile_to_source(path)
    assert "inp.shape[0], inp.shape[1], device=inp.device, dtype=inp.dtype" in source
    assert "def forward(self, inp: torch.Tensor) -> torch.Tensor:" in source


def test_an_op_that_adds_noise(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, NFeature(768)]", {RECORD}]
noise [label="AddNoise\\n+ 0.5 * randn(BatchSize, NFeature(768))"]
oup [label="输出\\n[BatchSize, NFeature]", {RECORD}]
inp -> noise -> oup
""",
    )
    assert "oup = inp + 0.5 * torch.randn_like(inp)  # (BatchSize, NFeature)" in compile_to_source(path)
    torch = pytest.importorskip("torch")
    from dotnet import build

    model = build(path)
    x = torch.rand(3, 768)
    torch.manual_seed(1)
    expected = x + 0.5 * torch.randn_like(x)
    torch.manual_seed(1)
    torch.testing.assert_close(model(x), expected)


REPARAMETERISATION = f"""
mu [label="μ\\n[BatchSize, 20]", {RECORD}]
logvar [label="logσ²\\n[BatchSize, 20]", {RECORD}]
eps [label="ε\\nrandn(BatchSize, 20)", {RECORD}]
z [label="FORMULA"]
oup [label="[BatchSize, 20]", {RECORD}]
mu -> z
logvar -> z
eps -> z
z -> oup
"""


def test_a_formula_with_division_exp_and_greek_names(tmp_path: Path) -> None:
    path = spec(tmp_path, REPARAMETERISATION.replace("FORMULA", "μ + exp(logσ² / 2) * ε"))
    source = compile_to_source(path)
    assert "oup = mu + torch.exp(logvar / 2) * eps  # (BatchSize, 20)" in source
    assert messages(path) == []


@pytest.mark.parametrize(("written", "python"), [("sqrt(exp(logσ²))", "torch.sqrt"), ("log(exp(logσ²))", "torch.log")])
def test_formula_functions_log_and_sqrt(tmp_path: Path, written: str, python: str) -> None:
    path = spec(tmp_path, REPARAMETERISATION.replace("FORMULA", f"μ + {written} * ε"))
    assert python in compile_to_source(path)


def test_a_formula_name_that_looks_like_a_tensor_and_matches_none_is_an_error(tmp_path: Path) -> None:
    path = spec(tmp_path, REPARAMETERISATION.replace("FORMULA", "mu + exp(logσ² / 2) * ε"))
    assert errors_of(path) == [
        "Net.dot:5:1: error: node 'z': the formula names mu, but no tensor node is called that "
        "(tensor names here: logσ², ε, μ) [unknown-tensor]"
    ]


# -- what the reader fills in, with a warning -------------------------------
def test_a_tensor_drawn_without_mrecord_is_read_as_a_tensor(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, W=8, H=8, C=3]"]
pool [label="MaxPool2D\\n[K=2, S=2]"]
feat [label="[BatchSize, W=4, H=4, C=3]"]
relu [label="relu"]
oup [label="output\\n[BatchSize, W=4, H=4, C=3]", {RECORD}]
inp -> pool -> feat -> relu -> oup
""",
    )
    assert messages(path) == [
        "Net.dot:2:1: warning: node 'inp': label '输入 [BatchSize, W=8, H=8, C=3]' is a tensor but the node "
        "is not drawn shape=Mrecord; read as a tensor [tensor-shape]",
        "Net.dot:4:1: warning: node 'feat': label '[BatchSize, W=4, H=4, C=3]' is a tensor but the node "
        "is not drawn shape=Mrecord; read as a tensor [tensor-shape]",
    ]
    assert "feat = self.pool(inp)  # (BatchSize, 3, 4, 4)" in compile_to_source(path)


def test_an_undeclared_only_sink_is_the_output(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, 16]", {RECORD}]
fc [label="Linear\\n[16, 4]"]
relu2 [label="relu"]
inp -> fc -> relu2 -> oup
""",
    )
    assert messages(path) == [
        "Net.dot:5:23: warning: node 'oup' is used in an edge but never declared; as the graph's only sink "
        "it is read as the output, of shape [BatchSize, 4] [undeclared-output]"
    ]
    assert "returns oup: (BatchSize, 4)" in compile_to_source(path)


def test_an_undeclared_node_that_is_not_the_only_sink_stays_an_error(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, 16]", {RECORD}]
fc [label="Linear\\n[16, 4]"]
inp -> fc -> oup
inp -> other
""",
    )
    assert any("[unknown-op]" in m and "'oup'" in m for m in errors_of(path))


def test_a_one_edit_symbol_slip_is_the_bound_symbol(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, W=BlockW, H=BlockH, C=BlockIn]", {RECORD}]
conv [label="Conv2D\\n[K=3, P=1, In=BlockIN, Out=8]"]
oup [label="输出\\n[BatchSise, W=BlockW, H=BlockH, C=8]", {RECORD}]
inp -> conv -> oup
""",
    )
    assert messages(path) == [
        "Net.dot:3:1: warning: node 'conv': symbol 'BlockIN' appears nowhere else and is one edit from "
        "'BlockIn'; read as 'BlockIn' [symbol-typo]",
        "Net.dot:4:1: warning: node 'oup': symbol 'BatchSise' appears nowhere else and is one edit from "
        "'BatchSize'; read as 'BatchSize' [symbol-typo]",
    ]
    assert "def __init__(self, block_in: int) -> None:" in compile_to_source(path)


def test_a_symbol_used_twice_is_not_a_slip(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, NIn]", {RECORD}]
fc [label="Linear\\n[NIn, NOut]"]
oup [label="输出\\n[BatchSize, NOut]", {RECORD}]
inp -> fc -> oup
""",
    )
    assert messages(path) == []


def test_an_op_label_missing_its_last_bracket_is_closed(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="Conv2D\\n[K=3, P=1, In=3, Out=4"]
inp -> conv
""",
    )
    assert messages(path) == [
        "Net.dot:3:1: warning: node 'conv': label 'Conv2D [K=3, P=1, In=3, Out=4' lacks its closing ']' "
        "[unclosed-bracket]"
    ]
    assert "nn.Conv2d(3, 4, kernel_size=3, padding=1)" in compile_to_source(path)


def test_channels_that_disagree_stay_an_error(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="Conv2D\\n[K=3, P=1, In=4, Out=4]"]
inp -> conv
""",
    )
    assert errors_of(path) == ["Net.dot:3:1: error: node 'conv': Conv2D: In=4 but its input has C=3 [arg-mismatch]"]


def test_a_window_written_as_a_square_is_its_side(tmp_path: Path) -> None:
    """``K=3x3`` is a 3 by 3 kernel, not a kernel of 9: a size product means a side here."""
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="Conv2D\\n[K=3x3, P=1, In=3, Out=4]"]
pool [label="MaxPool2D\\n[K=2x2]"]
oup [label="[BatchSize, W=4, H=4, C=4]", {RECORD}]
inp -> conv -> pool -> oup
""",
    )
    source = compile_to_source(path)
    assert "self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)" in source
    assert "self.pool = nn.MaxPool2d(kernel_size=2)" in source


def test_a_rate_from_the_command_line_that_makes_a_broken_size_names_it() -> None:
    from tests.conftest import REPO, run_cli

    result = run_cli("compile", "specs/DenseNet121.dot", "--param", "CompRate=0.3", "-o", "never.py", cwd=REPO)
    assert result.code == 1
    assert (
        "specs/DenseNet121.dot:33:5: error: node 'trans1': Out=CompRate*256 is 76.8 with CompRate=0.3, "
        "not a whole size [not-integral]"
    ) in result.stderr.splitlines()
    assert not (REPO / "never.py").exists()


def test_a_counted_repetition_over_the_index_loops_and_counts_every_copy(tmp_path: Path) -> None:
    """Six copies with In=64+#Layer*32: the loop writes the index, the summary sums each copy."""
    from dotnet.tools.summary import summarize

    _dense_layer(tmp_path)
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, W=8, H=8, C=64]", {RECORD}]
layers [label="DenseLayer x 6\\n[In=64+#Layer*32]"]
oup [label="[BatchSize, W=8, H=8, C=64+6*32=256]", {RECORD}]
inp -> layers -> oup
""",
    )
    assert "*(DenseLayer(in_=layer * 32 + 64) for layer in range(6))" in compile_to_source(path)
    each = [(64 + 32 * k) * 32 * 9 + 32 for k in range(6)]  # a 3x3 convolution from In to 32 channels
    assert summarize(path).parameters.int_value() == sum(each) == 249_024
