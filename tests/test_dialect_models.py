"""Each spec written for issue 12 equals a hand-written PyTorch reference of its architecture.

Compared: the parameter count (also written in the README), the order and shapes of the
parameters and buffers, the output shape, and the outputs on random inputs once the
reference's weights (and batch-norm statistics) are copied into the generated model in
order. The VAE draws a random tensor on every pass, so both models run after seeding the
same generator. References: tests/dialect_references.py, written by hand (no torchvision).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402
from tests import dialect_references as ref  # noqa: E402
from tests.cnn_references import copy_weights, randomize_statistics, state_layout  # noqa: E402
from tests.conftest import SPECS  # noqa: E402

CASES: dict[str, tuple[Callable[[], torch.nn.Module], tuple[int, ...], int]] = {
    "LinearRegression": (ref.linear_regression, (4, 13), 14),
    "SoftmaxRegression": (ref.softmax_regression, (4, 1, 28, 28), 7_850),
    "MLP": (ref.mlp, (4, 768), 265_226),
    "LeNet5": (ref.LeNet5, (4, 1, 32, 32), 61_706),
    "DenseNet121": (ref.densenet121, (2, 3, 224, 224), 7_989_096),
}
"""Spec name -> (reference builder, input shape in PyTorch layout, parameter count)."""


def _cases() -> list:
    return [pytest.param(name, marks=[pytest.mark.slow] if name == "DenseNet121" else []) for name in CASES]


@pytest.mark.parametrize("name", _cases())
def test_generated_model_equals_reference(name: str) -> None:
    torch.manual_seed(0)
    build_reference, input_shape, count = CASES[name]
    reference = build_reference()
    randomize_statistics(reference)
    generated = dotnet.build(SPECS / f"{name}.dot")

    assert sum(p.numel() for p in generated.parameters()) == count
    _assert_same_model(reference, generated, input_shape)


def _assert_same_model(reference: torch.nn.Module, generated: torch.nn.Module, input_shape: tuple[int, ...]) -> None:
    """Same parameter count and layout; the same outputs once the reference's weights are copied."""
    assert sum(p.numel() for p in reference.parameters()) == sum(p.numel() for p in generated.parameters())
    assert state_layout(generated) == state_layout(reference)
    copy_weights(reference, generated)
    generated.eval()
    reference.eval()
    x = torch.randn(*input_shape)
    with torch.no_grad():
        expected, actual = reference(x), generated(x)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_densenet_at_another_compression_rate_equals_the_reference_at_that_rate() -> None:
    """--param CompRate=0.25: every size after the first transition follows the rate (256 -> 64, ...)."""
    torch.manual_seed(0)
    reference = ref.densenet121(compression=0.25)
    randomize_statistics(reference)
    generated = dotnet.build(SPECS / "DenseNet121.dot", params={"CompRate": 0.25})
    assert sum(p.numel() for p in generated.parameters()) == 6_111_148
    assert generated.fc.in_features == 732  # ((64 + 192) / 4 + 384) / 4 + 768) / 4 + 512
    _assert_same_model(reference, generated, (2, 3, 224, 224))


def test_a_size_written_as_a_number_where_a_rate_makes_another_is_named(tmp_path: Path) -> None:
    """A copy of DenseNet121 whose featmap2 says C=128, the size only CompRate=0.5 makes."""
    for name in ("DenseBlock", "DenseLayer", "TransitionLayer"):
        shutil.copy(SPECS / f"{name}.dot", tmp_path)
    text = (SPECS / "DenseNet121.dot").read_text(encoding="utf-8")
    fixed = text.replace("W=28, H=28, C=256*CompRate]", "W=28, H=28, C=128]")
    assert fixed != text
    (tmp_path / "DenseNet121.dot").write_text(fixed, encoding="utf-8")
    assert dotnet.compile_to_source(tmp_path / "DenseNet121.dot")  # right at the attribute's 0.5
    with pytest.raises(dotnet.SpecError) as caught:
        dotnet.compile_to_source(tmp_path / "DenseNet121.dot", params={"CompRate": 0.25})
    problems = [d.format_text().replace(str(tmp_path) + "/", "") for d in caught.value.diagnostics]
    assert problems == [
        "DenseNet121.dot:34:5: error: node 'featmap2': declared [BatchSize, W=28, H=28, C=128] but 'trans1' "
        "produces [BatchSize, W=28, H=28, C=64]; C=128 does not follow the rate: Out=CompRate*256 makes it 64 "
        "with CompRate=0.25 [shape-mismatch]",
        # the declared 128 flows on, so the next size written in terms of the rate disagrees too
        "DenseNet121.dot:36:5: error: node 'featmap3': declared [BatchSize, W=28, H=28, C=256*CompRate+12*32] "
        "but 'dense2' produces [BatchSize, W=28, H=28, C=512] [shape-mismatch]",
    ]


def test_the_comparison_can_fail() -> None:
    """A reference with other weights disagrees, so the equality above means something."""
    torch.manual_seed(0)
    generated = dotnet.build(SPECS / "MLP.dot").eval()
    reference = ref.mlp().eval()
    x = torch.randn(4, 768)
    with torch.no_grad():
        assert not torch.allclose(generated(x), reference(x))


def test_size_defaults_are_constructor_defaults_that_param_overrides() -> None:
    """NFeature(768) is the default; --param NFeature=32 (params=) builds the narrower model."""
    default = dotnet.build(SPECS / "MLP.dot")
    narrow = dotnet.build(SPECS / "MLP.dot", params={"NFeature": 32, "NHidden": 64})
    assert sum(p.numel() for p in default.parameters()) == 265_226
    reference = ref.mlp(n_feature=32, n_hidden=64)
    assert state_layout(narrow) == state_layout(reference)
    assert type(default)(n_feature=5).linear1.in_features == 5


def test_vae_equals_reference_with_the_same_generator() -> None:
    torch.manual_seed(0)
    reference = ref.VAE()
    generated = dotnet.build(SPECS / "VAE.dot")
    assert sum(p.numel() for p in generated.parameters()) == sum(p.numel() for p in reference.parameters())
    assert sum(p.numel() for p in generated.parameters()) == 652_824
    copy_weights(reference, generated)
    x = torch.rand(3, 784)
    with torch.no_grad():
        torch.manual_seed(7)
        expected = reference(x)
        torch.manual_seed(7)
        actual = generated(x)
        torch.manual_seed(8)
        other_draw = generated(x)
    assert actual.shape == (3, 784)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(actual, other_draw), "ε must be drawn afresh on each pass"


def test_vae_noise_follows_the_input_dtype() -> None:
    generated = dotnet.build(SPECS / "VAE.dot").double()
    out = generated(torch.rand(2, 784, dtype=torch.float64))
    assert out.dtype == torch.float64
