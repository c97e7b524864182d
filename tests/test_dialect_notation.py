"""The notations of the seed documents' style (issue 12, items 1 and 4), one case each.

Each case is a small spec written as its author would draw it, and what a user relies on:
lines of the generated code (constructor, layers, shapes), what ``dotnet check`` prints, or
compile's exact errors. Most share one shape and sit in the table :data:`CASES`; the tests
below it do more (run the model, pass ``--param``, sum costs). docs/spec-language.md states
each rule; docs/diagnostics.md lists each new code.
"""

from __future__ import annotations

from dataclasses import dataclass
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


BLOCKS = {
    "ConvBlock": (
        "digraph ConvBlock {\n"
        f'inp [label="[BatchSize, W=BlockW, H=BlockH, C=BlockIn]", {RECORD}]\n'
        'conv [label="Conv2D\\n[K=3, P=1, In=BlockIn, Out=BlockOut]"]\n'
        f'oup [label="[BatchSize, W=BlockW, H=BlockH, C=BlockOut]", {RECORD}]\n'
        "inp -> conv -> oup\n}\n"
    ),
    "DenseLayer": (
        "digraph DenseLayer {\n"
        f'inp [label="[BatchSize, W=BlockW, H=BlockH, C=In]", {RECORD}]\n'
        'conv [label="Conv2D\\n[K=3, P=1, In=In, Out=32]"]\n'
        f'new [label="[BatchSize, W=BlockW, H=BlockH, C=32]", {RECORD}]\n'
        'cat [label="Concat"]\n'
        f'oup [label="[BatchSize, W=BlockW, H=BlockH, C=In+32]", {RECORD}]\n'
        "inp -> cat\ninp -> conv -> new -> cat\ncat -> oup\n}\n"
    ),
}
"""Block files a case can have beside its spec, by name."""


@dataclass(frozen=True)
class Case:
    """A spec body and what it gives."""

    body: str
    source: tuple[str, ...] = ()
    """Lines (or parts of lines) the generated module holds."""
    absent: tuple[str, ...] = ()
    """Text the generated module must not hold."""
    check: tuple[str, ...] | None = None
    """Exactly what ``dotnet check`` prints, when compared."""
    errors: tuple[str, ...] | None = None
    """Exactly compile's errors, for a spec that must not compile."""
    blocks: tuple[str, ...] = ()
    """:data:`BLOCKS` written beside the spec."""
    name: str = "Net"
    """The digraph's name, and its file's."""

    @property
    def compiles(self) -> bool:
        return self.errors is None and not any(": error: " in m for m in self.check or ())


def _linear(written: str) -> str:
    return f"""
inp [label="输入\\n[BatchSize, {written}]", {RECORD}]
fc [label="Linear\\n[{written}, 10]"]
oup [label="输出\\n[BatchSize, 10]", {RECORD}]
inp -> fc -> oup
"""


def _conv(label: str) -> str:
    return f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="{label}\\n[K=3, P=1, In=3, Out=4]"]
inp -> conv
"""


def _batch_norm(shape: str) -> str:
    return f"""
inp [label="[BatchSize, {shape}]", {RECORD}]
bn [label="batchnorm(64)"]
inp -> bn
"""


def _concat(label: str, second: str = "W=8, H=8, C=5", joined: str = "W=8, H=8, C=8") -> str:
    return f"""
a [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
b [label="[BatchSize, {second}]", {RECORD}]
cat [label="{label}"]
oup [label="[BatchSize, {joined}]", {RECORD}]
a -> cat
b -> cat
cat -> oup
"""


def _reshape(label: str, input_shape: str = "W=4, H=4, C=256", output: bool = True) -> str:
    out = f'oup [label="[BatchSize, 4096]", {RECORD}]\n' if output else ""
    return f"""
inp [label="[BatchSize, {input_shape}]", {RECORD}]
reshape [label="{label}"]
{out}inp -> reshape{" -> oup" if output else ""}
"""


RATE_SPEC = f"""
CompRate=0.5
inp [label="[BatchSize, W=8, H=8, C=256]", {RECORD}]
conv [label="Conv2D\\n[K=1, In=256, Out=256*CompRate]"]
oup [label="[BatchSize, W=8, H=8, C=128]", {RECORD}]
inp -> conv -> oup
"""

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


def _dense(args: str, out: str | None) -> str:
    oup = f'oup [label="[BatchSize, W=8, H=8, C={out}]", {RECORD}]\n' if out else ""
    return f"""
inp [label="[BatchSize, W=8, H=8, C=LayerIn]", {RECORD}]
layers [label="DenseLayer x NLayers\\n[{args}]"]
{oup}inp -> layers{" -> oup" if out else ""}
"""


CASES: dict[str, Case] = {
    # -- sizes -------------------------------------------------------------
    "a size with a default is a constructor argument with that default": Case(
        f"""
inp [label="输入\\n[BatchSize, NFeature(768)]", {RECORD}]
fc [label="Linear\\n[NFeature, NLabels(10)]"]
oup [label="输出\\n[BatchSize, NLabels]", {RECORD}]
inp -> fc -> oup
""",
        source=(
            "def __init__(self, n_feature: int = 768, n_labels: int = 10) -> None:",
            "self.fc = nn.Linear(n_feature, n_labels)",
        ),
        check=(),
    ),
    "two defaults for one symbol are an error": Case(
        f"""
inp [label="输入\\n[BatchSize, NFeature(768)]", {RECORD}]
fc [label="Linear\\n[NFeature(512), 10]"]
inp -> fc
""",
        errors=(
            "Net.dot:3:1: error: node 'fc': NFeature(512) contradicts the default NFeature(768) "
            "given at line 2 [conflicting-default]",
        ),
    ),
    **{
        f"a product or sum in a size and an arg: {written}": Case(
            _linear(written), source=(f"self.fc = nn.Linear({value}, 10)",)
        )
        for written, value in [("48x2", 96), ("16x5x5", 400), ("7x7x512", 25088), ("64+6*32", 256), ("2x(3+1)", 8)]
    },
    "a size written with its value is checked": Case(
        f'a [label="[BatchSize, C=64+6*32=256]", {RECORD}]\nr [label="relu"]\na -> r', check=()
    ),
    "a size written with a value it does not have is an error": Case(
        f'a [label="[BatchSize, C=64+6*32=250]", {RECORD}]\nr [label="relu"]\na -> r',
        check=("Bad.dot:2:1: error: node 'a': C=64+6*32=250 does not hold: 64+6*32 is 256 [size-check]",),
        name="Bad",
    ),
    "a line break separates dims": Case(
        f"""
inp [label="[BatchSize\\nW=112, H=112, C=64]", {RECORD}]
pool [label="MaxPool2D\\n[K=2, S=2]"]
oup [label="[BatchSize\\nW=56\\nH=56\\nC=64]", {RECORD}]
inp -> pool -> oup
""",
        source=("inp: (BatchSize, 64, 112, 112)",),
        check=(),
    ),
    # -- op names ----------------------------------------------------------
    **{
        f"an instance mark on an op name: {label}": Case(
            _conv(label), source=("self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)",)
        )
        for label in ["Conv2D#1", "Conv2D 2", "conv2d#3", "Conv2D #4"]
    },
    "the same instance mark twice is fine": Case(
        f"""
inp [label="[BatchSize, 16]", {RECORD}]
a [label="Linear7\\n[16, 16]"]
b [label="Linear7\\n[16, 8]"]
bn [label="BatchNorm1(8)"]
inp -> a -> b -> bn
""",
        source=("self.a = nn.Linear(16, 16)", "self.b = nn.Linear(16, 8)", "self.bn = nn.BatchNorm1d(8)"),
    ),
    "instance marks on block calls": Case(
        f"""
inp [label="[BatchSize, W=8, H=8, C=128]", {RECORD}]
c3 [label="ConvBlock3\\n[In=128, Out=256]"]
c4 [label="ConvBlock#4\\n[In=256, Out=64]"]
inp -> c3 -> c4
""",
        source=(
            "self.c3 = ConvBlock(block_in=128, block_out=256)",
            "self.c4 = ConvBlock(block_in=256, block_out=64)",
        ),
        blocks=("ConvBlock",),
    ),
    **{
        f"a generic batch norm is resolved by the input's rank: {module}": Case(
            _batch_norm(shape), source=(f"self.bn = nn.{module}(64)",)
        )
        for shape, module in [("W=8, H=8, C=64", "BatchNorm2d"), ("64", "BatchNorm1d")]
    },
    **{
        f"concatenation along a named axis: {label}": Case(
            _concat(label), source=("oup = torch.cat((a, b), dim=1)  # (BatchSize, 8, 8, 8)",)
        )
        for label in ["cat(axis=1)", "Concat[axis=C]", "concat"]
    },
    "concatenation along another axis": Case(
        _concat("Concat[axis=W]", "W=4, H=8, C=3", "W=12, H=8, C=3"),
        source=("oup = torch.cat((a, b), dim=3)  # (BatchSize, 3, 8, 12)",),
    ),
    **{
        f"a reshape keeps the batch and checks the count: {label}": Case(
            _reshape(label), source=("oup = inp.reshape(inp.shape[0], 4096)  # (BatchSize, 4096)",)
        )
        for label in ["reshape([4096])", "reshape\\n[BatchSize, 4096]", "Reshape[BatchSize, 16x256]"]
    },
    "a reshape whose element counts differ shows both": Case(
        _reshape("reshape([4096])", "W=6, H=6, C=256", output=False),
        errors=(
            "Net.dot:3:1: error: node 'reshape': Reshape: [4096] holds 4096 elements per sample, "
            "but its input [BatchSize, W=6, H=6, C=256] holds 9216 [arg-mismatch]",
        ),
    ),
    "a symbolic reshape is checked symbolically": Case(
        f"""
inp [label="[BatchSize, W=BlockW, H=BlockH, C=16]", {RECORD}]
reshape [label="reshape\\n[BatchSize, 16*BlockW*BlockH]"]
bad [label="reshape\\n[BatchSize, 16*BlockW]"]
inp -> reshape
inp -> bad
""",
        errors=(
            "Net.dot:4:1: error: node 'bad': Reshape: [BatchSize, BlockW*16] holds BlockW*16 elements per sample, "
            "but its input [BatchSize, W=BlockW, H=BlockH, C=16] holds BlockH*BlockW*16 [arg-mismatch]",
        ),
    ),
    "a window written as a square is its side": Case(
        f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="Conv2D\\n[K=3x3, P=1, In=3, Out=4]"]
pool [label="MaxPool2D\\n[K=2x2]"]
oup [label="[BatchSize, W=4, H=4, C=4]", {RECORD}]
inp -> conv -> pool -> oup
""",
        source=("self.conv = nn.Conv2d(3, 4, kernel_size=3, padding=1)", "self.pool = nn.MaxPool2d(kernel_size=2)"),
    ),
    # -- rates ---------------------------------------------------------------
    "a rate is a parameter whose sizes are whole": Case(
        RATE_SPEC,
        source=("self.conv = nn.Conv2d(256, 128, kernel_size=1)",),
        absent=("comp_rate",),  # a rate is applied when compiling, not a constructor argument
    ),
    "a rate that makes a size that is not whole is an error": Case(
        RATE_SPEC.replace("CompRate=0.5", "CompRate=0.3"),
        errors=(
            "Net.dot:4:1: error: node 'conv': Out=CompRate*256 is 76.8 with CompRate=0.3, not a whole size "
            "[not-integral]",
        ),
    ),
    # -- index-dependent repetition --------------------------------------------
    "repetition whose args depend on the index": Case(
        _dense("In=LayerIn+#Layer*32", "LayerIn+NLayers*32"),
        source=("*(DenseLayer(in_=layer * 32 + layer_in) for layer in range(n_layers))",),
        check=(),
        blocks=("DenseLayer",),
    ),
    "an index-dependent repetition that does not chain is an error": Case(
        _dense("In=LayerIn+#Layer*16", None),
        errors=(
            "Net.dot:3:1: error: node 'layers': DenseLayer: In=#Layer*16+LayerIn contradicts the input shape, "
            "which gives In=LayerIn+32 (copy #Layer=1) [arg-mismatch]",
        ),
        blocks=("DenseLayer",),
    ),
    # -- random tensors and formulas -------------------------------------------
    "a random tensor follows the input's device and dtype": Case(
        # its sizes come from the inputs' shapes (NHidden3 sizes no parameter, so it is a run-time dim)
        f"""
inp [label="输入\\n[BatchSize, NHidden3(128)]", {RECORD}]
eps [label="ε\\nrandn(BatchSize, NHidden3(128))", {RECORD}]
add [label="+"]
inp -> add
eps -> add
""",
        source=(
            "inp.shape[0], inp.shape[1], device=inp.device, dtype=inp.dtype",
            "def forward(self, inp: torch.Tensor) -> torch.Tensor:",
        ),
    ),
    "a formula with division, exp and Greek names": Case(
        REPARAMETERISATION.replace("FORMULA", "μ + exp(logσ² / 2) * ε"),
        source=("oup = mu + torch.exp(logvar / 2) * eps  # (BatchSize, 20)",),
        check=(),
    ),
    **{
        f"formula function {python}": Case(
            REPARAMETERISATION.replace("FORMULA", f"μ + {written} * ε"), source=(python,)
        )
        for written, python in [("sqrt(exp(logσ²))", "torch.sqrt"), ("log(exp(logσ²))", "torch.log")]
    },
    "a formula name that looks like a tensor and matches none is an error": Case(
        REPARAMETERISATION.replace("FORMULA", "mu + exp(logσ² / 2) * ε"),
        errors=(
            "Net.dot:5:1: error: node 'z': the formula names mu, but no tensor node is called that "
            "(tensor names here: logσ², ε, μ) [unknown-tensor]",
        ),
    ),
    # -- what the reader fills in, with a warning -------------------------------
    "a tensor drawn without Mrecord is read as a tensor": Case(
        f"""
inp [label="输入\\n[BatchSize, W=8, H=8, C=3]"]
pool [label="MaxPool2D\\n[K=2, S=2]"]
feat [label="[BatchSize, W=4, H=4, C=3]"]
relu [label="relu"]
oup [label="output\\n[BatchSize, W=4, H=4, C=3]", {RECORD}]
inp -> pool -> feat -> relu -> oup
""",
        check=(
            "Net.dot:2:1: warning: node 'inp': label '输入 [BatchSize, W=8, H=8, C=3]' is a tensor but the node "
            "is not drawn shape=Mrecord; read as a tensor [tensor-shape]",
            "Net.dot:4:1: warning: node 'feat': label '[BatchSize, W=4, H=4, C=3]' is a tensor but the node "
            "is not drawn shape=Mrecord; read as a tensor [tensor-shape]",
        ),
        source=("feat = self.pool(inp)  # (BatchSize, 3, 4, 4)",),
    ),
    "an undeclared only sink is the output": Case(
        f"""
inp [label="输入\\n[BatchSize, 16]", {RECORD}]
fc [label="Linear\\n[16, 4]"]
relu2 [label="relu"]
inp -> fc -> relu2 -> oup
""",
        check=(
            "Net.dot:5:23: warning: node 'oup' is used in an edge but never declared; as the graph's only sink "
            "it is read as the output, of shape [BatchSize, 4] [undeclared-output]",
        ),
        source=("returns oup: (BatchSize, 4)",),
    ),
    "a one-edit symbol slip is the bound symbol": Case(
        f"""
inp [label="输入\\n[BatchSize, W=BlockW, H=BlockH, C=BlockIn]", {RECORD}]
conv [label="Conv2D\\n[K=3, P=1, In=BlockIN, Out=8]"]
oup [label="输出\\n[BatchSise, W=BlockW, H=BlockH, C=8]", {RECORD}]
inp -> conv -> oup
""",
        check=(
            "Net.dot:3:1: warning: node 'conv': symbol 'BlockIN' appears nowhere else and is one edit from "
            "'BlockIn'; read as 'BlockIn' [symbol-typo]",
            "Net.dot:4:1: warning: node 'oup': symbol 'BatchSise' appears nowhere else and is one edit from "
            "'BatchSize'; read as 'BatchSize' [symbol-typo]",
        ),
        source=("def __init__(self, block_in: int) -> None:",),
    ),
    "a symbol used twice is not a slip": Case(
        f"""
inp [label="输入\\n[BatchSize, NIn]", {RECORD}]
fc [label="Linear\\n[NIn, NOut]"]
oup [label="输出\\n[BatchSize, NOut]", {RECORD}]
inp -> fc -> oup
""",
        check=(),
    ),
    "an op label missing its last bracket is closed": Case(
        f"""
inp [label="[BatchSize, W=8, H=8, C=3]", {RECORD}]
conv [label="Conv2D\\n[K=3, P=1, In=3, Out=4"]
inp -> conv
""",
        check=(
            "Net.dot:3:1: warning: node 'conv': label 'Conv2D [K=3, P=1, In=3, Out=4' lacks its closing ']' "
            "[unclosed-bracket]",
        ),
        source=("nn.Conv2d(3, 4, kernel_size=3, padding=1)",),
    ),
    "channels that disagree stay an error": Case(
        _conv("Conv2D").replace("In=3, Out=4", "In=4, Out=4"),
        errors=("Net.dot:3:1: error: node 'conv': Conv2D: In=4 but its input has C=3 [arg-mismatch]",),
    ),
}
"""Every case of the table, by what it shows."""


@pytest.mark.parametrize("case", [pytest.param(case, id=name) for name, case in CASES.items()])
def test_the_notation(tmp_path: Path, case: Case) -> None:
    for block in case.blocks:
        (tmp_path / f"{block}.dot").write_text(BLOCKS[block], encoding="utf-8")
    path = spec(tmp_path, case.body, case.name)
    if case.check is not None:
        assert messages(path) == list(case.check)
    if case.errors is not None:
        assert errors_of(path) == list(case.errors)
    if not case.compiles:
        return
    source = compile_to_source(path)
    for line in case.source:
        assert line in source
    for text in case.absent:
        assert text not in source


def test_the_table_covers_each_kind_of_case() -> None:
    """Each case checks something: generated lines, check's output, or compile's errors."""
    assert all(case.source or case.check is not None or case.errors is not None for case in CASES.values())


# -- cases that do more than the table --------------------------------------
def test_param_gives_a_rate(tmp_path: Path) -> None:
    from dotnet import compile_spec

    path = spec(tmp_path, RATE_SPEC.replace("C=128]", "C=64]"))
    assert "nn.Conv2d(256, 64, kernel_size=1)" in compile_spec(path, params={"CompRate": 0.25}).source


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

    (tmp_path / "DenseLayer.dot").write_text(BLOCKS["DenseLayer"], encoding="utf-8")
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
