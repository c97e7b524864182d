"""The layer ops, one row per op and configuration, against the torch layer each stands for.

Each row draws one input tensor, one op node and nothing else (tests.test_ops_cnn's
one-op spec). The generated layer's parameters and buffers are set to random values, copied
into the hand-built torch layer, and both run on the same input in eval mode: outputs must
agree, and the output shape must equal the one the shape pass inferred. Adding an op means
adding its declaration and one row here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dotnet  # noqa: E402
from dotnet import codes  # noqa: E402
from dotnet.runtime import example_inputs  # noqa: E402
from tests.test_ops_cnn import one_op_spec  # noqa: E402

SEQUENCE = "[BatchSize, L=12, C=4]"
"""A 1-d signal: 4 channels, 12 long; (N, 4, 12) in PyTorch."""
IMAGE = "[BatchSize, W=9, H=8, C=4]"
"""An image: 4 channels, 8 high, 9 wide; (N, 4, 8, 9)."""
VOLUME = "[BatchSize, W=7, H=6, D=5, C=4]"
"""A volume: 4 channels, 5 deep, 6 high, 7 wide; (N, 4, 5, 6, 7)."""
VECTOR = "[BatchSize, 6]"
TOKENS = "[BatchSize, SeqLen, 8]"
"""Token features, (N, 8, 8) with the smoke test's SeqLen of 8."""

Reference = Callable[[], nn.Module]

ROWS: list[tuple[str, str, Reference]] = [
    # -- convolution ---------------------------------------------------------------------
    ("Conv1D[K=3, In=4, Out=6]", SEQUENCE, lambda: nn.Conv1d(4, 6, 3)),
    ("Conv1D[K=5, S=2, P=2, In=4, Out=8]", SEQUENCE, lambda: nn.Conv1d(4, 8, 5, stride=2, padding=2)),
    (
        "Conv1D[K=3, P=same, D=2, In=4, Out=4, G=4, Bias=False]",
        SEQUENCE,
        lambda: nn.Conv1d(4, 4, 3, padding="same", dilation=2, groups=4, bias=False),
    ),
    ("Conv2D[K=3, P=2, D=2, In=4, Out=6]", IMAGE, lambda: nn.Conv2d(4, 6, 3, padding=2, dilation=2)),
    ("Conv2D[K=3, S=2, G=2, In=4, Out=6, Bias=False]", IMAGE, lambda: nn.Conv2d(4, 6, 3, 2, groups=2, bias=False)),
    ("Conv2D[K=4, P=same, In=4, Out=6]", IMAGE, lambda: nn.Conv2d(4, 6, 4, padding="same")),
    ("Conv2D[K=3, P=valid, In=4, Out=6]", IMAGE, lambda: nn.Conv2d(4, 6, 3, padding="valid")),
    ("Conv2D(4, 8, 3, 1, 1, 1, 4, False)", IMAGE, lambda: nn.Conv2d(4, 8, 3, 1, 1, 1, 4, False)),
    (
        "Conv2D[in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=4]",
        IMAGE,
        lambda: nn.Conv2d(4, 4, kernel_size=3, padding=1, groups=4),
    ),
    ("Conv3D[K=3, P=1, In=4, Out=6]", VOLUME, lambda: nn.Conv3d(4, 6, 3, padding=1)),
    ("Conv3D[K=2, S=2, In=4, Out=2, Bias=False]", VOLUME, lambda: nn.Conv3d(4, 2, 2, stride=2, bias=False)),
    ("Conv[K=3, In=4, Out=2]", SEQUENCE, lambda: nn.Conv1d(4, 2, 3)),
    ("Conv[K=3, P=1, In=4, Out=2]", VOLUME, lambda: nn.Conv3d(4, 2, 3, padding=1)),
    # -- transposed convolution ----------------------------------------------------------
    ("ConvTranspose1D[K=3, S=2, In=4, Out=6]", SEQUENCE, lambda: nn.ConvTranspose1d(4, 6, 3, stride=2)),
    (
        "ConvTranspose1D[K=4, S=2, P=1, OP=1, In=4, Out=2]",
        SEQUENCE,
        lambda: nn.ConvTranspose1d(4, 2, 4, stride=2, padding=1, output_padding=1),
    ),
    ("ConvTranspose2D[K=2, S=2, In=4, Out=3]", IMAGE, lambda: nn.ConvTranspose2d(4, 3, 2, stride=2)),
    (
        "ConvTranspose2D[K=3, S=2, P=1, OP=1, In=4, Out=6, Bias=False]",
        IMAGE,
        lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, bias=False),
    ),
    (
        "ConvTranspose2D[K=3, P=2, D=2, G=2, In=4, Out=6]",
        IMAGE,
        lambda: nn.ConvTranspose2d(4, 6, 3, padding=2, dilation=2, groups=2),
    ),
    ("Deconv2D(4, 2, 3)", IMAGE, lambda: nn.ConvTranspose2d(4, 2, 3)),
    ("ConvTranspose[K=2, S=2, In=4, Out=2]", SEQUENCE, lambda: nn.ConvTranspose1d(4, 2, 2, stride=2)),
    (
        "ConvTranspose3D[K=3, S=2, P=1, OP=1, In=4, Out=2]",
        VOLUME,
        lambda: nn.ConvTranspose3d(4, 2, 3, stride=2, padding=1, output_padding=1),
    ),
    # -- pooling -------------------------------------------------------------------------
    ("MaxPool1D(3)", SEQUENCE, lambda: nn.MaxPool1d(3)),
    ("MaxPool1D[K=3, S=2, P=1]", SEQUENCE, lambda: nn.MaxPool1d(3, 2, 1)),
    ("MaxPool2D[K=3, S=1, P=1, D=2]", IMAGE, lambda: nn.MaxPool2d(3, 1, 1, dilation=2)),
    ("MaxPool3D[K=2]", VOLUME, lambda: nn.MaxPool3d(2)),
    ("MaxPool[K=2]", SEQUENCE, lambda: nn.MaxPool1d(2)),
    ("AvgPool1D[K=3, S=2, P=1]", SEQUENCE, lambda: nn.AvgPool1d(3, 2, 1)),
    ("AvgPool3D[K=2, S=1]", VOLUME, lambda: nn.AvgPool3d(2, 1)),
    ("AvgPool(2)", VOLUME, lambda: nn.AvgPool3d(2)),
    ("AdaptiveAvgPool1D(3)", SEQUENCE, lambda: nn.AdaptiveAvgPool1d(3)),
    ("AdaptiveAvgPool3D(2, 3, 3)", VOLUME, lambda: nn.AdaptiveAvgPool3d((2, 3, 3))),
    ("AdaptiveMaxPool1D(5)", SEQUENCE, lambda: nn.AdaptiveMaxPool1d(5)),
    ("AdaptiveMaxPool2D(2, 3)", IMAGE, lambda: nn.AdaptiveMaxPool2d((2, 3))),
    ("AdaptiveMaxPool3D(1)", VOLUME, lambda: nn.AdaptiveMaxPool3d(1)),
    ("GlobalAvgPool1D", SEQUENCE, lambda: nn.AdaptiveAvgPool1d(1)),
    ("GlobalAvgPool2D", IMAGE, lambda: nn.AdaptiveAvgPool2d(1)),
    ("GlobalAvgPool3D", VOLUME, lambda: nn.AdaptiveAvgPool3d(1)),
    ("GlobalMaxPool1D", SEQUENCE, lambda: nn.AdaptiveMaxPool1d(1)),
    ("GlobalMaxPool2D", IMAGE, lambda: nn.AdaptiveMaxPool2d(1)),
    ("GlobalMaxPool3D", VOLUME, lambda: nn.AdaptiveMaxPool3d(1)),
    ("GlobalAvgPool", SEQUENCE, lambda: nn.AdaptiveAvgPool1d(1)),
    ("GlobalMaxPool", VOLUME, lambda: nn.AdaptiveMaxPool3d(1)),
    # -- resampling ----------------------------------------------------------------------
    ("UpSample x2", IMAGE, lambda: nn.Upsample(scale_factor=2)),
    ("Upsample[S=3]", SEQUENCE, lambda: nn.Upsample(scale_factor=3)),
    ("Upsample[S=2, mode=bilinear]", IMAGE, lambda: nn.Upsample(scale_factor=2, mode="bilinear")),
    (
        "Upsample[S=2, mode=bilinear, align_corners=True]",
        IMAGE,
        lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
    ),
    ("Upsample[H=16, W=12, mode=bilinear]", IMAGE, lambda: nn.Upsample(size=(16, 12), mode="bilinear")),
    ("Upsample[size=10, mode=linear]", SEQUENCE, lambda: nn.Upsample(size=10, mode="linear")),
    ("Upsample[S=2, mode=trilinear]", VOLUME, lambda: nn.Upsample(scale_factor=2, mode="trilinear")),
    ("PixelShuffle(2)", "[BatchSize, W=5, H=4, C=8]", lambda: nn.PixelShuffle(2)),
    ("PixelUnshuffle(2)", "[BatchSize, W=6, H=4, C=3]", lambda: nn.PixelUnshuffle(2)),
    # -- normalisation -------------------------------------------------------------------
    ("BatchNorm1D(6)", VECTOR, lambda: nn.BatchNorm1d(6)),
    ("BatchNorm1D(4)", SEQUENCE, lambda: nn.BatchNorm1d(4)),
    ("BatchNorm2D(4)", IMAGE, lambda: nn.BatchNorm2d(4)),
    ("BatchNorm3D(4)", VOLUME, lambda: nn.BatchNorm3d(4)),
    ("BatchNorm(4)", VOLUME, lambda: nn.BatchNorm3d(4)),
    ("BatchNorm[C=4, eps=0.001, momentum=0.2]", IMAGE, lambda: nn.BatchNorm2d(4, eps=0.001, momentum=0.2)),
    ("LayerNorm(8)", TOKENS, lambda: nn.LayerNorm(8)),
    ("LayerNorm", TOKENS, lambda: nn.LayerNorm(8)),
    ("LayerNorm[8, 9]", IMAGE, lambda: nn.LayerNorm((8, 9))),
    ("LayerNorm[4, 8, 9, eps=0.000001]", IMAGE, lambda: nn.LayerNorm((4, 8, 9), eps=1e-6)),
    ("GroupNorm[G=2, C=4]", IMAGE, lambda: nn.GroupNorm(2, 4)),
    ("GroupNorm(1, 4)", SEQUENCE, lambda: nn.GroupNorm(1, 4)),
    ("GroupNorm[num_groups=4, num_channels=4, eps=0.0001]", VOLUME, lambda: nn.GroupNorm(4, 4, eps=1e-4)),
    ("InstanceNorm1D(4)", SEQUENCE, lambda: nn.InstanceNorm1d(4)),
    ("InstanceNorm2D(4)", IMAGE, lambda: nn.InstanceNorm2d(4)),
    ("InstanceNorm2D[C=4, affine=True]", IMAGE, lambda: nn.InstanceNorm2d(4, affine=True)),
    ("InstanceNorm3D(4)", VOLUME, lambda: nn.InstanceNorm3d(4)),
    ("InstanceNorm(4)", IMAGE, lambda: nn.InstanceNorm2d(4)),
    ("RMSNorm(8)", TOKENS, lambda: nn.RMSNorm(8)),
    ("RMSNorm[8, 9, eps=0.001]", IMAGE, lambda: nn.RMSNorm((8, 9), eps=0.001)),
    # -- activations ---------------------------------------------------------------------
    ("ReLU", IMAGE, lambda: nn.ReLU()),
    ("relu", IMAGE, lambda: nn.ReLU()),
    ("ReLU6", IMAGE, lambda: nn.ReLU6()),
    ("LeakyReLU", IMAGE, lambda: nn.LeakyReLU()),
    ("LeakyReLU(0.2)", IMAGE, lambda: nn.LeakyReLU(0.2)),
    ("LeakyReLU[negative_slope=0.1]", IMAGE, lambda: nn.LeakyReLU(0.1)),
    ("PReLU", IMAGE, lambda: nn.PReLU()),
    ("PReLU(4)", IMAGE, lambda: nn.PReLU(4)),
    ("ELU", IMAGE, lambda: nn.ELU()),
    ("ELU(0.5)", IMAGE, lambda: nn.ELU(0.5)),
    ("SELU", IMAGE, lambda: nn.SELU()),
    ("CELU(0.5)", IMAGE, lambda: nn.CELU(0.5)),
    ("GELU", IMAGE, lambda: nn.GELU()),
    ("GELU[approximate=tanh]", IMAGE, lambda: nn.GELU(approximate="tanh")),
    ("SiLU", IMAGE, lambda: nn.SiLU()),
    ("Swish", IMAGE, lambda: nn.SiLU()),
    ("Mish", IMAGE, lambda: nn.Mish()),
    ("Hardswish", IMAGE, lambda: nn.Hardswish()),
    ("Hardsigmoid", IMAGE, lambda: nn.Hardsigmoid()),
    ("Hardtanh", IMAGE, lambda: nn.Hardtanh()),
    ("Hardtanh[min_val=-2, max_val=0.5]", IMAGE, lambda: nn.Hardtanh(-2.0, 0.5)),
    ("Softplus", IMAGE, lambda: nn.Softplus()),
    ("Softplus[beta=2, threshold=10]", IMAGE, lambda: nn.Softplus(beta=2, threshold=10)),
    ("Softsign", IMAGE, lambda: nn.Softsign()),
    ("Tanh", IMAGE, lambda: nn.Tanh()),
    ("Sigmoid", IMAGE, lambda: nn.Sigmoid()),
    ("Softmax[dim=C]", IMAGE, lambda: nn.Softmax(dim=1)),
    ("Softmax[dim=W]", IMAGE, lambda: nn.Softmax(dim=3)),
    ("Softmax[dim=-1]", TOKENS, lambda: nn.Softmax(dim=-1)),
    ("LogSoftmax", VECTOR, lambda: nn.LogSoftmax(dim=-1)),
    ("LogSoftmax[dim=C]", IMAGE, lambda: nn.LogSoftmax(dim=1)),
    ("LogSoftmax[dim=H]", IMAGE, lambda: nn.LogSoftmax(dim=2)),
    # -- regularisation and identity -----------------------------------------------------
    ("Dropout(0.3)", IMAGE, lambda: nn.Dropout(0.3)),
    ("Dropout1D(0.2)", SEQUENCE, lambda: nn.Dropout1d(0.2)),
    ("Dropout2D(0.5)", IMAGE, lambda: nn.Dropout2d(0.5)),
    ("Dropout3D", VOLUME, lambda: nn.Dropout3d()),
    ("AlphaDropout(0.2)", VECTOR, lambda: nn.AlphaDropout(0.2)),
    ("FeatureAlphaDropout(0.2)", IMAGE, lambda: nn.FeatureAlphaDropout(0.2)),
    ("Identity", IMAGE, lambda: nn.Identity()),
]


def _randomize(module: nn.Module) -> None:
    """Every floating parameter and buffer to values in [0.5, 1.5), so copies are really checked.

    Positive values keep batch norm's running variance a variance.
    """
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5)


def _run(tmp_path: Path, label: str, shape: str):  # type: ignore[no-untyped-def]
    """The compiled one-op model in eval mode with random weights, its input, output, inferred shape."""
    spec = one_op_spec(tmp_path, label, (shape,))
    compiled = dotnet.compile_spec(spec)
    model = dotnet.build(spec).eval()
    torch.manual_seed(1)
    _randomize(model)
    (x,) = example_inputs(compiled)
    with torch.no_grad():
        out = model(x)
    inferred = tuple(compiled.example_size(a.size) for a in compiled.analysis.shapes["op"])
    return model, x, out, inferred


@pytest.mark.parametrize(("label", "shape", "reference"), ROWS, ids=[r[0] for r in ROWS])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_op_matches_torch(tmp_path: Path, label: str, shape: str, reference: Reference) -> None:
    model, x, out, inferred = _run(tmp_path, label, shape)
    expected_layer = reference()
    generated_layer = model.op
    assert type(generated_layer) is type(expected_layer)
    expected_layer.load_state_dict(generated_layer.state_dict())
    with torch.no_grad():
        expected = expected_layer.eval()(x)
    assert tuple(out.shape) == inferred == tuple(expected.shape)
    torch.testing.assert_close(out, expected)
    generated_count = sum(p.numel() for p in generated_layer.parameters())
    assert generated_count == sum(p.numel() for p in expected_layer.parameters())


def test_every_row_is_a_different_configuration() -> None:
    labels = [r[0] for r in ROWS]
    assert len(labels) == len(set(labels))


EMBEDDING_INPUT = "输入(单词ID)[BatchSize, SeqLen]"


@pytest.mark.parametrize(
    ("label", "reference"),
    [
        ("Embedding[10, 6]", lambda: nn.Embedding(10, 6)),
        ("Embedding[num_embeddings=12, embedding_dim=3, padding_idx=0]", lambda: nn.Embedding(12, 3, padding_idx=0)),
    ],
)
def test_embedding_matches_torch(tmp_path: Path, label: str, reference: Reference) -> None:
    model, ids, out, inferred = _run(tmp_path, label, EMBEDDING_INPUT)
    expected_layer = reference()
    expected_layer.load_state_dict(model.op.state_dict())
    assert ids.dtype == torch.long
    assert tuple(out.shape) == inferred
    torch.testing.assert_close(out, expected_layer(ids))


# -- shape rules on symbolic sizes -----------------------------------------------------
SYMBOLIC_ROWS = [
    ("Conv1D[K=3, P=same, In=4, Out=8]", "[BatchSize, L=Len, C=4]", "[BatchSize, L=Len, C=8]"),
    (
        "Conv2D[K=3, D=2, In=4, Out=4]",
        "[BatchSize, W=BlockW, H=BlockH, C=4]",
        "[BatchSize, W=BlockW-4, H=BlockH-4, C=4]",
    ),
    (
        "ConvTranspose2D[K=2, S=2, In=C, Out=C]",
        "[BatchSize, W=BlockW, H=BlockH, C=C]",
        "[BatchSize, W=BlockW*2, H=BlockH*2, C=C]",
    ),
    (
        "ConvTranspose3D[K=3, S=2, P=1, OP=1, In=4, Out=2]",
        "[BatchSize, W=X, H=Y, D=Z, C=4]",
        "[BatchSize, W=X*2, H=Y*2, D=Z*2, C=2]",
    ),
    ("PixelShuffle(2)", "[BatchSize, W=BlockW, H=BlockH, C=BlockC*4]", "[BatchSize, W=BlockW*2, H=BlockH*2, C=BlockC]"),
    (
        "Upsample[S=2, mode=bilinear]",
        "[BatchSize, W=BlockW, H=BlockH, C=3]",
        "[BatchSize, W=BlockW*2, H=BlockH*2, C=3]",
    ),
    ("GlobalAvgPool3D", "[BatchSize, W=X, H=Y, D=Z, C=4]", "[BatchSize, W=1, H=1, D=1, C=4]"),
    ("LayerNorm(NHidden)", "[BatchSize, SeqLen, NHidden]", "[BatchSize, SeqLen, NHidden]"),
    ("MaxPool1D(2)", "[BatchSize, L=Len, C=4]", "[BatchSize, L=Len/2, C=4]"),
]


@pytest.mark.parametrize(("label", "given", "produced"), SYMBOLIC_ROWS, ids=[r[0] for r in SYMBOLIC_ROWS])
def test_symbolic_shape_rule(tmp_path: Path, label: str, given: str, produced: str) -> None:
    """The declared output is proved equal to what the op makes of its input (else shape-mismatch)."""
    path = tmp_path / "Symbolic.dot"
    path.write_text(
        "digraph Symbolic {\n"
        f'    x [label="{given}", shape="Mrecord"]\n'
        f'    op [label="{label}"]\n'
        f'    y [label="{produced}", shape="Mrecord"]\n'
        "    x -> op -> y\n}\n",
        encoding="utf-8",
    )
    dotnet.compile_spec(path)


def test_a_wrong_symbolic_declaration_is_a_mismatch(tmp_path: Path) -> None:
    """The check above can fail: a transposed convolution does not keep the size."""
    path = tmp_path / "Symbolic.dot"
    path.write_text(
        "digraph Symbolic {\n"
        '    x [label="[BatchSize, W=BlockW, H=BlockH, C=4]", shape="Mrecord"]\n'
        '    op [label="ConvTranspose2D[K=2, S=2, In=4, Out=4]"]\n'
        '    y [label="[BatchSize, W=BlockW, H=BlockH, C=4]", shape="Mrecord"]\n'
        "    x -> op -> y\n}\n",
        encoding="utf-8",
    )
    with pytest.raises(dotnet.SpecError) as caught:
        dotnet.compile_spec(path)
    assert [d.code for d in caught.value.diagnostics] == [codes.SHAPE_MISMATCH]


# -- names: an instance digit never eats a name that exists ------------------------------
@pytest.mark.parametrize(
    ("label", "torch_class"),
    [
        ("ReLU6", nn.ReLU6),
        ("ReLU1", nn.ReLU),
        ("Conv1D[K=1, In=4, Out=2]", nn.Conv1d),
        ("Conv3D[K=1, In=4, Out=2]", nn.Conv3d),
        ("BatchNorm1D(4)", nn.BatchNorm1d),
        ("BatchNorm3D2(4)", nn.BatchNorm3d),
        ("Conv1D7[K=1, In=4, Out=2]", nn.Conv1d),
    ],
)
def test_instance_digits_never_eat_an_op_name(tmp_path: Path, label: str, torch_class: type) -> None:
    shape = {nn.Conv1d: SEQUENCE, nn.BatchNorm1d: SEQUENCE, nn.Conv3d: VOLUME, nn.BatchNorm3d: VOLUME}
    model = dotnet.build(one_op_spec(tmp_path, label, (shape.get(torch_class, IMAGE),)))
    assert type(model.op) is torch_class


def test_relu6_clamps_at_six(tmp_path: Path) -> None:
    model = dotnet.build(one_op_spec(tmp_path, "ReLU6", (VECTOR,)))
    out = model(torch.tensor([[-3.0, 0.5, 5.0, 6.0, 7.0, 100.0]]))
    assert out.tolist() == [[0.0, 0.5, 5.0, 6.0, 6.0, 6.0]]


# -- training-mode behaviour ------------------------------------------------------------
def test_dropout2d_drops_whole_channels(tmp_path: Path) -> None:
    model = dotnet.build(one_op_spec(tmp_path, "Dropout2D(0.5)", ("[BatchSize, W=5, H=5, C=400]",))).train()
    out = model(torch.ones(2, 400, 5, 5))
    per_channel = out.flatten(2)
    assert bool(((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all())
    assert 0.35 < (per_channel[..., 0] == 0).float().mean().item() < 0.65


def test_batch_norm_uses_batch_statistics_while_training(tmp_path: Path) -> None:
    model = dotnet.build(one_op_spec(tmp_path, "BatchNorm3D(4)", (VOLUME,))).train()
    out = model(torch.randn(3, 4, 5, 6, 7) * 5 + 2)
    torch.testing.assert_close(out.mean(dim=(0, 2, 3, 4)), torch.zeros(4), atol=1e-5, rtol=0)


# -- misuse is a diagnostic naming the node ---------------------------------------------
BAD_ROWS = [
    ("Conv2D[K=3, S=2, P=same, In=4, Out=4]", IMAGE, codes.BAD_ARG, "P=same needs S=1"),
    ("Conv2D[K=3, In=4, Out=6, G=4]", IMAGE, codes.BAD_ARG, "Out=6 is not a multiple of G=4"),
    ("Conv2D[K=3, In=4, Out=8, G=3]", IMAGE, codes.BAD_ARG, "In=4 is not a multiple of G=3"),
    ("Conv2D[K=3, In=4, Out=4, Bias=maybe]", IMAGE, codes.BAD_ARG, "Bias=maybe must be True or False"),
    (
        "Conv2D[K=3, In=4, Out=4, P=1.5]",
        IMAGE,
        codes.BAD_ARG,
        "P=1.5 must be a whole number, a size symbol, same or valid",
    ),
    ("Conv1D[K=3, In=4, Out=4]", IMAGE, codes.ARG_MISMATCH, "expects a 1-d signal [BatchSize, L, C]"),
    ("Conv3D[K=3, In=4, Out=4]", IMAGE, codes.ARG_MISMATCH, "expects a volume [BatchSize, W, H, D, C]"),
    ("ConvTranspose2D[K=3, S=2, OP=2, In=4, Out=4]", IMAGE, codes.BAD_ARG, "OP=2 must be smaller than S or D"),
    ("GroupNorm[G=3, C=4]", IMAGE, codes.BAD_ARG, "C=4 is not a multiple of G=3"),
    ("LayerNorm(7)", TOKENS, codes.ARG_MISMATCH, "normalizes [7] but its input ends in [8]"),
    ("Upsample[S=2, mode=bilinear]", SEQUENCE, codes.ARG_MISMATCH, "mode=bilinear needs an image"),
    ("Upsample[S=2, mode=cubic]", IMAGE, codes.BAD_ARG, "mode=cubic is not one of nearest, linear"),
    ("Upsample[S=2, H=4]", IMAGE, codes.BAD_ARG, "give a scale or a size, not both"),
    ("Softmax[dim=D]", IMAGE, codes.ARG_MISMATCH, "has no axis D"),
    ("GELU[approximate=cubic]", IMAGE, codes.BAD_ARG, "approximate=cubic is not one of none, tanh"),
    ("PixelShuffle(2)", "[BatchSize, W=5, H=4, C=6]", codes.ARG_MISMATCH, "C=6 is not a multiple of 4"),
    ("MaxPool2D[K=3, D=0]", IMAGE, codes.BAD_ARG, "D must be at least 1"),
    ("PReLU(3)", IMAGE, codes.ARG_MISMATCH, "3 slopes but its input has C=4"),
    ("ReLU6(2)", IMAGE, codes.BAD_ARG, "takes no arguments"),
]


@pytest.mark.parametrize(("label", "shape", "code", "words"), BAD_ROWS, ids=[r[0] for r in BAD_ROWS])
def test_misuse_is_a_diagnostic(tmp_path: Path, label: str, shape: str, code: str, words: str) -> None:
    with pytest.raises(dotnet.SpecError) as caught:
        dotnet.compile_spec(one_op_spec(tmp_path, label, (shape,)))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == code
    assert words in diagnostic.message and "'op'" in diagnostic.message
    assert diagnostic.location is not None and diagnostic.location.line == 3 and diagnostic.node == "op"
