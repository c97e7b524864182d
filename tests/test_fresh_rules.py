"""The general rules that drawing new models in the seed style showed missing (issue 12).

Each rule is stated in docs/spec-language.md; each test draws a small spec the way a
different author would, and checks the generated code or the exact message.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import SpecError, compile_to_source
from tests.test_dialect_notation import RECORD, errors_of, messages, spec

IMAGE = f'inp [label="输入\\n[BatchSize, W=28, H=28, C=1]", {RECORD}]'


def test_sizes_inside_randn_are_read_as_sizes_are(tmp_path: Path) -> None:
    """``×`` and ``x`` multiply inside ``randn(...)`` as in any shape."""
    path = spec(
        tmp_path,
        f"""
{IMAGE}
flat [label="Flatten"]
noise [label="AddNoise\\n+ 0.3 * randn(BatchSize, 28×28)"]
oup [label="输出\\n[BatchSize, 28x28]", {RECORD}]
inp -> flat -> noise -> oup
""",
    )
    assert "oup = flat + 0.3 * torch.randn_like(flat)" in compile_to_source(path)
    assert messages(path) == []


def test_reshape_into_a_shape_with_axis_names_uses_the_tensor_layout(tmp_path: Path) -> None:
    """``reshape\\n[BatchSize, W=28, H=28, C=1]`` is (N, 1, 28, 28), as a tensor node would be."""
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, 784]", {RECORD}]
back [label="reshape\\n[BatchSize, W=28, H=14, C=2]"]
oup [label="输出\\n[BatchSize, W=28, H=14, C=2]", {RECORD}]
inp -> back -> oup
""",
    )
    assert "oup = inp.reshape(inp.shape[0], 2, 14, 28)" in compile_to_source(path)


def test_reshape_into_axis_names_checks_the_element_count(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, 784]", {RECORD}]
back [label="reshape\\n[BatchSize, W=28, H=28, C=3]"]
inp -> back
""",
    )
    assert errors_of(path) == [
        "Net.dot:3:1: error: node 'back': Reshape: [BatchSize, W=28, H=28, C=3] holds 2352 elements per "
        "sample, but its input [BatchSize, 784] holds 784 [arg-mismatch]"
    ]


@pytest.mark.parametrize("written", ["Block x 3", "Block × 3", "Block ×3", "Block * 3", "Block * (1+2)"])
def test_repetition_is_written_with_x_times_or_star(tmp_path: Path, written: str) -> None:
    path = spec(
        tmp_path,
        f"""
{IMAGE}
rep [label="{written}\\n[C=1]"]
oup [label="输出\\n[BatchSize, W=28, H=28, C=1]", {RECORD}]
inp -> rep -> oup
}}
digraph Block {{
inp [label="输入\\n[BatchSize, W=BW, H=BH, C=C]", {RECORD}]
conv [label="Conv2D\\n[K=3, P=1, In=C, Out=C]"]
oup [label="输出\\n[BatchSize, W=BW, H=BH, C=C]", {RECORD}]
inp -> conv -> oup
""",
    )
    source = compile_to_source(path, graph="Net")
    assert "self.rep = nn.Sequential(*(Block(c=1) for _ in range(3)))" in source


def test_a_name_times_a_number_without_args_stays_a_formula(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
h [label="H(输入)\\n[BatchSize, 4]", {RECORD}]
twice [label="H * 2"]
oup [label="输出\\n[BatchSize, 4]", {RECORD}]
h -> twice -> oup
""",
    )
    assert "oup = h * 2" in compile_to_source(path)


def test_pytorch_inplace_keyword_is_read_and_dropped(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
{IMAGE}
relu [label="ReLU(inplace=True)"]
oup [label="输出\\n[BatchSize, W=28, H=28, C=1]", {RECORD}]
inp -> relu -> oup
""",
    )
    assert "self.relu = nn.ReLU()" in compile_to_source(path)
    assert messages(path) == []


def test_a_symbol_where_a_number_must_be_written_says_why(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, SeqLen, 16]", {RECORD}]
lstm [label="LSTM\\n[16, 32, Layers=NLayers(2)]"]
inp -> lstm
""",
    )
    assert errors_of(path) == [
        "Net.dot:3:1: error: node 'lstm': LSTM: Layers=NLayers must be a whole number written "
        "out: Layers is fixed when the model is generated, so it cannot be a size symbol [bad-arg]"
    ]


def test_attention_heads_may_be_a_symbol_with_a_default(tmp_path: Path) -> None:
    """``NHeads(4)`` is a constructor argument; the width must split into that many heads."""
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, SeqLen, DModel(64)]", {RECORD}]
attn [label="MultiheadAttention\\n[DModel, NHeads(4)]"]
oup [label="输出\\n[BatchSize, SeqLen, DModel]", {RECORD}]
inp -> attn -> oup
""",
    )
    source = compile_to_source(path)
    assert "def __init__(self, d_model: int = 64, n_heads: int = 4) -> None:" in source
    assert "self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)" in source
    assert "Requires DModel divisible by NHeads." in source
    with pytest.raises(SpecError) as caught:
        compile_to_source(path, params={"NHeads": 3})
    assert [d.code for d in caught.value.diagnostics] == ["bad-param"]
    assert caught.value.diagnostics[0].message == (
        "node 'attn': the shapes need DModel divisible by NHeads, "
        "and with DModel=64 (the digraph's default), --param NHeads=3 it is not"
    )


def test_a_square_after_the_name_is_the_kernel(tmp_path: Path) -> None:
    """``Conv2D 3x3`` and ``MaxPool2D 2×2`` are read as ``K=3`` and ``K=2``."""
    path = spec(
        tmp_path,
        f"""
{IMAGE}
conv [label="Conv2D 3x3\\n[In=1, Out=4, P=1]"]
pool [label="MaxPool2D 2×2"]
oup [label="输出\\n[BatchSize, W=14, H=14, C=4]", {RECORD}]
inp -> conv -> pool -> oup
""",
    )
    source = compile_to_source(path)
    assert "self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)" in source
    assert "self.pool = nn.MaxPool2d(kernel_size=2)" in source


@pytest.mark.parametrize(
    ("label", "why"),
    [
        (
            "Conv2D 3x1\\n[In=1, Out=4]",
            "'Conv2D 3x1 [In=1, Out=4]': the kernel 3x1 after the name is not a square; write K=...",
        ),
        (
            "Conv2D 3x3\\n[K=3, In=1, Out=4]",
            "'Conv2D 3x3 [K=3, In=1, Out=4]' gives the kernel twice: after the name and as K",
        ),
    ],
)
def test_a_kernel_after_the_name_that_cannot_be_read_says_why(tmp_path: Path, label: str, why: str) -> None:
    path = spec(tmp_path, f'{IMAGE}\nconv [label="{label}"]\ninp -> conv')
    assert errors_of(path) == [f"Net.dot:3:1: error: node 'conv': {why} [bad-label]"]


def test_a_number_in_scientific_notation_is_a_number(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
{IMAGE}
bn [label="BatchNorm2d(1, eps=1e-3)"]
oup [label="输出\\n[BatchSize, W=28, H=28, C=1]", {RECORD}]
inp -> bn -> oup
""",
    )
    assert "self.bn = nn.BatchNorm2d(1, eps=0.001)" in compile_to_source(path)


def test_an_instance_mark_may_be_a_word_and_a_formula_number_may_have_an_exponent(tmp_path: Path) -> None:
    """``Linear#a`` and ``Linear#b`` are two Linear layers; ``1e-6`` in a formula is 0.000001."""
    path = spec(
        tmp_path,
        f"""
x [label="X(输入)\\n[BatchSize, 8]", {RECORD}]
fa [label="Linear#a\\n[8, 4]"]
fb [label="Linear#b\\n[8, 4]"]
a [label="特征\\n[BatchSize, 4]", {RECORD}]
b [label="门\\n[BatchSize, 4]", {RECORD}]
glu [label="sqrt(特征 * 特征 + 1e-6) * σ(门)"]
out [label="Y(输出)\\n[BatchSize, 4]", {RECORD}]
x -> fa -> a
x -> fb -> b
a -> glu
b -> glu
glu -> out
""",
    )
    source = compile_to_source(path)
    assert "self.fa = nn.Linear(8, 4)" in source
    assert "self.fb = nn.Linear(8, 4)" in source
    assert "out = torch.sqrt(a * a + 1e-06) * torch.sigmoid(b)" in source
    assert messages(path) == []


def test_full_width_punctuation_is_read_as_ascii_with_a_warning(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="输入（图像）\\n[BatchSize，W=28，H=28，C=1]", {RECORD}]
fl [label="Flatten"]
fc [label="Linear\\n【784， 10】"]
oup [label="输出\\n[BatchSize, 10]", {RECORD}]
inp -> fl -> fc -> oup
""",
    )
    assert "self.fc = nn.Linear(784, 10)" in compile_to_source(path)
    assert messages(path) == [
        "Net.dot:2:1: warning: node 'inp': full-width punctuation read as ASCII: '（' as '(', '）' as ')', "
        "'，' as ',' [full-width]",
        "Net.dot:4:1: warning: node 'fc': full-width punctuation read as ASCII: '【' as '[', '，' as ',', "
        "'】' as ']' [full-width]",
    ]


@pytest.mark.parametrize("label", ["{输出|[BatchSize, 10]}", "{<t> 输出|<s> [BatchSize, 10]}", "输出|[BatchSize, 10]"])
def test_a_record_label_reads_its_fields_as_lines(tmp_path: Path, label: str) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="{{输入|[BatchSize, 784]}}", {RECORD}]
fc [label="Linear\\n[784, 10]"]
oup [label="{label}", {RECORD}]
inp -> fc -> oup
""",
    )
    assert "returns oup: (BatchSize, 10)" in compile_to_source(path)
    assert messages(path) == []


@pytest.mark.parametrize(
    ("op", "expected"),
    [("Linear\\n[8, 10]", "a tensor whose last dimension is In"), ("LayerNorm", "a tensor to normalize")],
)
def test_a_number_drawn_as_a_node_into_a_layer_is_a_located_error(tmp_path: Path, op: str, expected: str) -> None:
    """``relu -> 4 -> fc``: the node ``4`` is the constant 4, which a layer cannot take."""
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, 8]", {RECORD}]
relu [label="relu"]
fc [label="{op}"]
inp -> relu -> 4 -> fc
""",
    )
    assert errors_of(path)[0] == (
        f"Net.dot:4:1: error: node 'fc': {op.split(chr(92))[0]}: expects {expected}, but its input is [] [arg-mismatch]"
    )


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (
            "1e999 * 输入",
            "Net.dot:3:1: error: node 'scale': '1e999 * 输入' is neither an op call nor a formula: "
            "the number 1e999 at offset 0 is too large for a float [bad-label]",
        ),
        (
            "BatchNorm1D[4, eps=1e999]",
            "Net.dot:3:1: error: node 'scale': argument 'eps=1e999' is too large for a float [bad-label]",
        ),
    ],
)
def test_a_number_too_large_for_a_float_is_a_located_error(tmp_path: Path, label: str, message: str) -> None:
    """Exponents are read, so ``1e999`` is a number; it must not become ``inf`` in the code."""
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, 4]", {RECORD}]
scale [label="{label}"]
oup [label="输出\\n[BatchSize, 4]", {RECORD}]
inp -> scale -> oup
""",
    )
    assert errors_of(path) == [message]


@pytest.mark.parametrize("title", ["输入(字符ID)", "x", "tokens"])
def test_an_input_an_embedding_reads_is_made_of_ids_whatever_its_title(tmp_path: Path, title: str) -> None:
    """Built and run on random ids below the vocabulary, not on floats (which nn.Embedding refuses)."""
    pytest.importorskip("torch")
    import dotnet
    from dotnet.runtime import example_inputs

    path = spec(
        tmp_path,
        f"""
inp [label="{title}\\n[BatchSize, SeqLen]", {RECORD}]
emb [label="Embedding\\n[Vocab(96), EmbDim(8)]"]
oup [label="输出\\n[BatchSize, SeqLen, EmbDim]", {RECORD}]
inp -> emb -> oup
""",
    )
    assert "        inp: (BatchSize, SeqLen) (integer ids)\n" in compile_to_source(path)
    (ids,) = example_inputs(dotnet.compile_spec(path))
    assert not ids.is_floating_point() and 0 <= int(ids.min()) and int(ids.max()) < 96
    assert tuple(dotnet.build(path)(ids).shape) == (*ids.shape, 8)


@pytest.mark.parametrize(
    ("written", "plain"),
    [
        ("nn.Conv2d(1, 4, 3, 1, 1)", "Conv2d(1, 4, 3, 1, 1)"),
        ("torch.nn.Conv2d(1, 4, kernel_size=3, padding=1)", "Conv2d(1, 4, kernel_size=3, padding=1)"),
        ("F.relu", "relu"),
        ("torch.nn.functional.relu", "relu"),
        ("nn.Upsample(scale_factor=2, mode='bilinear')", "Upsample(scale_factor=2, mode=bilinear)"),
        ('Upsample(scale_factor=2, mode="nearest")', "Upsample(scale_factor=2, mode=nearest)"),
    ],
)
def test_pytorch_s_module_path_and_quoted_words_read_as_the_plain_call(
    tmp_path: Path, written: str, plain: str
) -> None:
    """``nn.Conv2d(...)`` is ``Conv2d(...)``, ``mode='bilinear'`` is ``mode=bilinear``: the same module."""

    def source(label: str, folder: str) -> str:
        (tmp_path / folder).mkdir()
        escaped = label.replace('"', '\\"')
        body = f'{IMAGE}\nop [label="{escaped}"]\ninp -> op\n'
        lines = compile_to_source(spec(tmp_path / folder, body)).splitlines()
        return "\n".join(line for line in lines if not line.lstrip().startswith("#"))

    assert source(written, "written") == source(plain, "plain")


def _code_of(tmp_path: Path, label: str, folder: str, inputs: str = IMAGE) -> str:
    """The generated source of ``inputs -> op``, comments left out (they quote the label)."""
    (tmp_path / folder).mkdir()
    lines = compile_to_source(spec(tmp_path / folder, f'{inputs}\nop [label="{label}"]\ninp -> op\n')).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


SEQ = f'inp [label="输入\\n[BatchSize, SeqLen, 16]", {RECORD}]'
CHANNELS = f'inp [label="输入\\n[BatchSize, W=28, H=28, C=8]", {RECORD}]'


@pytest.mark.parametrize(
    ("written", "meant", "inputs"),
    [
        ("Masked MultiheadAttention\\n[16, 4]", "MultiheadAttention[16, 4, Causal=True]", SEQ),
        ("Causal TransformerEncoderLayer[16, 4, FF=32]", "TransformerEncoderLayer[16, 4, FF=32, Causal=True]", SEQ),
        ("Conv2D 3x3 depthwise\\n[In=8, P=1]", "Conv2D[K=3, In=8, Out=8, G=8, P=1]", CHANNELS),
        ("Depthwise Conv2D 3x3 (In=8, Out=16)", "Conv2D[K=3, In=8, Out=16, G=8]", CHANNELS),
        ("Conv2D pointwise[In=8, Out=4]", "Conv2D[K=1, In=8, Out=4]", CHANNELS),
    ],
)
def test_words_around_the_name_stand_for_the_arguments_the_op_declares(
    tmp_path: Path, written: str, meant: str, inputs: str
) -> None:
    """``Masked MultiheadAttention`` is ``Causal=True``; ``depthwise`` is ``G=In`` (``Out=In`` unless given)."""
    assert _code_of(tmp_path, written, "written", inputs) == _code_of(tmp_path, meant, "meant", inputs)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (
            "Fancy Conv2D[K=3, Out=4]",
            "node 'op': 'fancy' is not a word Conv2D reads beside its name (it reads depthwise, pointwise); "
            "write what it means as an argument [bad-label]",
        ),
        ("Conv2D 3x3 depthwise[Out=4]", "node 'op': Conv2D: 'depthwise' means G=In: give In [bad-arg]"),
        (
            "Conv2D depthwise[K=3, In=8, G=2]",
            "node 'op': Conv2D: 'depthwise' means G=8, and the label gives G=2 [bad-arg]",
        ),
    ],
)
def test_a_word_the_op_does_not_declare_or_that_contradicts_the_label_is_an_error(
    tmp_path: Path, label: str, message: str
) -> None:
    path = spec(tmp_path, f'{CHANNELS}\nop [label="{label}"]\ninp -> op\n')
    assert errors_of(path) == [f"Net.dot:3:1: error: {message}"]
