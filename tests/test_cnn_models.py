"""Each generated classic CNN equals a hand-written PyTorch reference of its architecture.

Compared: the parameter count (written here and in docs/cnn.md), the output shape, and
the outputs on random images once the reference's weights (and batch-norm statistics)
are copied into the generated model in order.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402
from tests.cnn_references import REFERENCES, copy_weights, randomize_statistics  # noqa: E402
from tests.conftest import SPECS  # noqa: E402

PARAMETER_COUNTS = {
    "LeNet": 61_706,
    "AlexNet": 46_764_746,
    "VGG11": 128_806_154,
    "NiN": 1_992_166,
    "GoogLeNet": 5_977_530,
    "ResNet18": 11_178_378,
}
BIG = {"AlexNet", "VGG11"}
"""Models whose construction alone takes seconds on two cores."""


def _cases() -> list:
    return [pytest.param(name, marks=[pytest.mark.slow] if name in BIG else []) for name in PARAMETER_COUNTS]


@pytest.mark.parametrize("name", _cases())
def test_generated_cnn_equals_reference(name: str) -> None:
    torch.manual_seed(0)
    build_reference, size = REFERENCES[name]
    reference = build_reference()
    randomize_statistics(reference)
    generated = dotnet.build(SPECS / f"{name}.dot")

    count = sum(p.numel() for p in generated.parameters())
    assert count == sum(p.numel() for p in reference.parameters()) == PARAMETER_COUNTS[name]

    copy_weights(reference, generated)
    generated.eval()
    reference.eval()
    images = torch.randn(2, 1, size, size)
    with torch.no_grad():
        expected, actual = reference(images), generated(images)
    assert actual.shape == expected.shape == (2, 10)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_weights_that_differ_give_different_outputs() -> None:
    """The comparison above can fail: a reference with other weights disagrees."""
    torch.manual_seed(0)
    generated = dotnet.build(SPECS / "LeNet.dot").eval()
    reference = REFERENCES["LeNet"][0]().eval()
    images = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert not torch.allclose(generated(images), reference(images))


@pytest.mark.parametrize("name", _cases())
def test_classes_and_input_channels_are_parameters(name: str) -> None:
    """``--param InC=3 --param NClasses=1000`` gives the reference built for 3 channels, 1000 classes."""
    torch.manual_seed(0)
    build_reference, size = REFERENCES[name]
    reference = build_reference(in_c=3, n_classes=1000).eval()
    randomize_statistics(reference)
    generated = dotnet.build(SPECS / f"{name}.dot", params={"InC": 3, "NClasses": 1000}).eval()
    copy_weights(reference, generated)
    images = torch.randn(2, 3, size, size)
    with torch.no_grad():
        expected, actual = reference(images), generated(images)
    assert actual.shape == expected.shape == (2, 1000)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in PARAMETER_COUNTS if n not in BIG])
def test_the_class_takes_the_sizes_as_arguments(name: str) -> None:
    """``ResNet18(n_classes=1000, in_c=3)``: the defaults are the digraph's, the arguments the user's."""
    model_class = dotnet.load(SPECS / f"{name}.dot")
    model = model_class(n_classes=1000, in_c=3)
    reference = REFERENCES[name][0](in_c=3, n_classes=1000)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    assert sum(p.numel() for p in model_class().parameters()) == PARAMETER_COUNTS[name]


def test_lenet_hidden_sizes_are_parameters() -> None:
    model = dotnet.build(SPECS / "LeNet.dot", params={"NHidden1": 32, "NHidden2": 16})
    # conv1 6*1*25+6, conv2 16*6*25+16, fc1 400*32+32, fc2 32*16+16, fc3 16*10+10
    assert sum(p.numel() for p in model.parameters()) == 156 + 2_416 + 12_832 + 528 + 170
