"""Diagrams drawn afresh in the seed style (issue 12) equal hand-written PyTorch references.

Nine models live in the prose document tests/data/documents/fresh-models.md, three in specs/.
Compared: the parameter count, the order and shapes of the parameters and buffers, the output
shape, and the outputs on random inputs once the reference's weights (and batch-norm
statistics) are copied into the generated model in order, in eval mode. The models that draw
noise (the denoising autoencoder, the conditional VAE) run after seeding the same generator.
References: tests/fresh_references.py, written by hand (no torchvision).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402
from tests import fresh_references as ref  # noqa: E402
from tests.cnn_references import copy_weights, randomize_statistics, state_layout  # noqa: E402
from tests.conftest import REPO, SPECS  # noqa: E402

DOCUMENT = REPO / "tests" / "data" / "documents" / "fresh-models.md"


CASES: dict[str, tuple[Path, Callable[[], torch.nn.Module], list[tuple[int, ...]], int]] = {
    # graph: (spec, reference, input shapes in PyTorch layout, parameter count)
    "StackedAutoEncoder": (DOCUMENT, ref.stacked_autoencoder, [(3, 784)], 435_536),
    "DenoisingAutoEncoder": (DOCUMENT, ref.DenoisingAutoEncoder, [(3, 1, 28, 28)], 209_968),
    "DCGAN": (DOCUMENT, ref.dcgan_generator, [(2, 100, 1, 1)], 3_576_704),
    "TextCNN": (DOCUMENT, ref.TextCNN, [()], 794_502),
    "CVAE": (DOCUMENT, ref.ConditionalVAE, [(3, 784), (3, 10)], 660_824),
    "AttentionBlock": (DOCUMENT, ref.AttentionBlock, [(3, 7, 64)], 49_984),
    "Discriminator": (DOCUMENT, ref.discriminator, [(2, 3, 64, 64)], 167_168),
    "LSTMClassifier": (DOCUMENT, ref.LSTMClassifier, [()], 1_632_069),
    "TinyUNet": (DOCUMENT, ref.TinyUNet, [(2, 1, 64, 64)], 6_930),
    "MobileNetV1": (SPECS / "MobileNetV1.dot", ref.mobilenet_v1, [(1, 3, 224, 224)], 4_231_976),
    "SqueezeNet": (SPECS / "SqueezeNet.dot", ref.squeezenet1_1, [(1, 3, 224, 224)], 1_235_496),
    "ResNet20": (SPECS / "ResNet20.dot", ref.resnet20, [(2, 3, 32, 32)], 272_474),
}


def _inputs(shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    """Random inputs; the text models' are word ids, a sequence of 12 per sample."""
    return [torch.randint(0, 5000, (3, 12)) if shape == () else torch.rand(*shape) for shape in shapes]


@pytest.mark.parametrize("name", list(CASES))
def test_generated_model_equals_reference(name: str) -> None:
    torch.manual_seed(0)
    spec, build_reference, shapes, count = CASES[name]
    reference = build_reference()
    randomize_statistics(reference)
    generated = dotnet.build(spec, graph=name)

    assert sum(p.numel() for p in generated.parameters()) == count
    assert sum(p.numel() for p in reference.parameters()) == count
    assert state_layout(generated) == state_layout(reference)

    copy_weights(reference, generated)
    generated.eval()
    reference.eval()
    inputs = _inputs(shapes)
    with torch.no_grad():
        torch.manual_seed(7)
        expected = reference(*inputs)
        torch.manual_seed(7)
        actual = generated(*inputs)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["DenoisingAutoEncoder", "CVAE"])
def test_noise_is_drawn_afresh_on_each_pass(name: str) -> None:
    """Seeded the same, two passes agree; seeded differently, they do not."""
    spec, _, shapes, _ = CASES[name]
    generated = dotnet.build(spec, graph=name).eval()
    inputs = _inputs(shapes)
    with torch.no_grad():
        torch.manual_seed(1)
        first = generated(*inputs)
        torch.manual_seed(1)
        again = generated(*inputs)
        other = generated(*inputs)
    torch.testing.assert_close(first, again)
    assert not torch.allclose(first, other)


def test_the_comparison_can_fail() -> None:
    """A reference with other weights disagrees, so the equality above means something."""
    torch.manual_seed(0)
    generated = dotnet.build(SPECS / "ResNet20.dot").eval()
    reference = ref.resnet20().eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(generated(x), reference(x))
