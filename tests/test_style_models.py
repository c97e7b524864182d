"""The issue-12 style specs equal hand-written PyTorch references.

VGG16 and ResNet18 call their blocks as the author names them (``ConvBlock``,
``DownConvBlock``), found by the caller's name as a prefix with no ``--block``; AlexNet is
drawn in five parts and compiled as one model with ``--graph A+B+C+D+E``. Compared: the
parameter count, the parameters' shapes in registration order, the output shape, and the
outputs on random images once the reference's weights are copied in order. References:
hand-written, in tests/cnn_references.py and tests/style_references.py (no torchvision).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402
from tests.cnn_references import alexnet, copy_weights, randomize_statistics, resnet18  # noqa: E402
from tests.conftest import SPECS  # noqa: E402
from tests.style_references import vgg16  # noqa: E402

ALEXNET_PARTS = "+".join(f"AlexNetPart{i}" for i in range(1, 6))
CASES = {
    # spec, --graph, reference, input size, class name, parameter count
    "VGG16": ("VGG16.dot", None, vgg16, 224, "VGG16", 134_300_362),
    "ResNet18": ("ResNet18.dot", None, resnet18, 96, "ResNet18", 11_178_378),
    "AlexNetParts": ("AlexNetParts.dot", ALEXNET_PARTS, alexnet, 224, "AlexNet", 46_764_746),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_style_model_equals_reference(name: str) -> None:
    spec, graph, build_reference, size, class_name, count = CASES[name]
    torch.manual_seed(0)
    reference = build_reference()
    randomize_statistics(reference)
    generated = dotnet.build(SPECS / spec, graph=graph)

    assert type(generated).__name__ == class_name
    assert sum(p.numel() for p in generated.parameters()) == sum(p.numel() for p in reference.parameters()) == count
    shapes = [tuple(p.shape) for p in generated.parameters()]
    assert shapes == [tuple(p.shape) for p in reference.parameters()]

    copy_weights(reference, generated)
    generated.eval()
    reference.eval()
    images = torch.randn(2, 1, size, size)
    with torch.no_grad():
        expected, actual = reference(images), generated(images)
    assert actual.shape == expected.shape == (2, 10)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-6)


def test_blocks_found_by_prefix_are_the_generated_classes() -> None:
    """No --block: VGG16's ConvBlock is VGG16ConvBlock, ResNet18's are ResNet18(Down)ConvBlock."""
    vgg = dotnet.compile_spec(SPECS / "VGG16.dot")
    assert "class VGG16ConvBlock(nn.Module):" in vgg.source
    assert "self.conv1_1 = VGG16ConvBlock(block_in=in_c, block_out=64)" in vgg.source
    resnet = dotnet.compile_spec(SPECS / "ResNet18.dot")
    assert "self.res1 = ResNet18ConvBlock(block_c=64)" in resnet.source
    assert "self.down1 = ResNet18DownConvBlock(block_in=64, block_out=128)" in resnet.source
    assert [d.code for d in vgg.report.diagnostics + resnet.report.diagnostics] == []


def test_alexnet_in_parts_has_the_whole_models_parameters_in_order() -> None:
    """The five parts make the same state_dict keys as AlexNet.dot drawn in one piece."""
    parts = dotnet.build(SPECS / "AlexNetParts.dot", graph=ALEXNET_PARTS)
    whole = dotnet.build(SPECS / "AlexNet.dot")
    assert [(k, tuple(v.shape)) for k, v in parts.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in whole.state_dict().items()
    ]
