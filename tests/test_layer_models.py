"""ResNet-50, MobileNetV2, an audio CNN and a U-Net, each equal to its hand-written reference.

The references (tests/layer_references.py) are written by hand after torchvision's
resnet50 and mobilenet_v2, torchaudio's M5 tutorial and milesial's Pytorch-UNet; torchvision
itself cannot be imported here. Compared: the parameter count (written here, in README.md
and docs/cnn.md), the shapes of every parameter and buffer (in
registration order), the output shape, and the outputs once the reference's weights and
batch-norm statistics are copied in order into the generated model.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dotnet  # noqa: E402
from tests.cnn_references import copy_weights, randomize_statistics  # noqa: E402
from tests.conftest import SPECS  # noqa: E402
from tests.layer_references import M5, MobileNetV2, ResNet50, UNet  # noqa: E402

MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], tuple[int, ...], int]] = {
    "ResNet50": (ResNet50, (2, 3, 224, 224), (2, 1000), 25_557_032),
    "MobileNetV2": (MobileNetV2, (2, 3, 224, 224), (2, 1000), 3_504_872),
    "AudioM5": (M5, (2, 1, 8000), (2, 35), 26_915),
    "UNet": (UNet, (2, 3, 64, 64), (2, 2, 64, 64), 1_942_594),
}
"""Spec name -> (reference, input shape, output shape, parameter count)."""


@pytest.mark.parametrize("name", list(MODELS))
def test_generated_model_equals_reference(name: str) -> None:
    torch.manual_seed(0)
    build_reference, input_shape, output_shape, parameters = MODELS[name]
    reference = build_reference()
    randomize_statistics(reference)
    generated = dotnet.build(SPECS / f"{name}.dot")

    assert sum(p.numel() for p in generated.parameters()) == parameters
    assert sum(p.numel() for p in reference.parameters()) == parameters
    shapes = [tuple(t.shape) for t in generated.state_dict().values()]
    assert shapes == [tuple(t.shape) for t in reference.state_dict().values()]

    copy_weights(reference, generated)
    generated.eval()
    reference.eval()
    x = torch.randn(*input_shape)
    with torch.no_grad():
        expected, actual = reference(x), generated(x)
    assert actual.shape == expected.shape == output_shape
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


def test_unet_concatenates_the_skip_connection_first() -> None:
    """Swapping the halves of one concatenation's weights changes the U-Net's output."""
    torch.manual_seed(0)
    reference = UNet().eval()
    generated = dotnet.build(SPECS / "UNet.dot").eval()
    copy_weights(reference, generated)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        reference.up4.conv.double_conv[0].weight.copy_(reference.up4.conv.double_conv[0].weight.roll(16, dims=1))
        assert not torch.allclose(generated(x), reference(x), atol=1e-3)


@pytest.mark.parametrize(("param", "value", "count"), [("NChannel", 16, 8_099), ("NClasses", 10, 25_290)])
def test_audio_cnn_sizes_are_parameters(param: str, value: int, count: int) -> None:
    model = dotnet.build(SPECS / "AudioM5.dot", params={param: value})
    assert sum(p.numel() for p in model.parameters()) == count
