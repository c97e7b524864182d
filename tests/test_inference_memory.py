"""Generated ``forward`` frees intermediates: inference peaks match the hand-written references.

Memory, not time: the peak is counted exactly by ``benchmarks/memory.py``'s dispatch mode,
so these assertions do not depend on the machine or its load.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from benchmarks.memory import MODELS, OTHER_REFERENCES, LiveActivations, compare, peak_bytes  # noqa: E402
from tests import fresh_references  # noqa: E402
from tests.cnn_references import copy_weights  # noqa: E402
from tests.conftest import REPO  # noqa: E402

SMALL = ["LeNet", "NiN", "GoogLeNet", "ResNet18", "ConvAutoEncoder", "LeNet5", "MobileNetV2", "AudioM5"]
SMALL += ["SoftmaxRegression", "MobileNetV1"]
BIG = ["AlexNet", "VGG11", "AlexNetParts", "DenseNet121", "VGG16"]
LOWER = ["UNet", "ViT", "SqueezeNet", "ResNet20"]
"""The generated model peaks below its hand-written reference (benchmarks/RESULTS.md)."""
LOWER_BIG = ["ResNet50"]
"""Below too, and slow: ResNet50's stages loop after their down block, which frees the stage's input
before the first Bottleneck runs; torchvision's Sequential stage holds it until the stage returns."""


def test_the_counter_counts_what_is_alive_at_once() -> None:
    """Linear then ReLU on 16x4 floats: two 16x8 results alive together at the peak, 1,024 bytes."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()).eval()
    assert peak_bytes(model, torch.randn(16, 4)) == 2 * 16 * 8 * 4
    with LiveActivations([]) as counter:
        kept = [torch.ones(256) for _ in range(3)]  # 1 KiB each, all kept
        del kept
        torch.ones(256)
    assert counter.peak == 3 * 1024 and counter.current == 0


@pytest.mark.parametrize("name", [*SMALL, *(pytest.param(n, marks=pytest.mark.slow) for n in BIG)])
def test_generated_inference_peaks_at_most_the_reference(name: str) -> None:
    """Equal, or lower where the reference writes a ReLU out of place that the generated code writes in place."""
    generated, reference = compare(name, batch=2, device="cpu")
    assert generated <= reference


@pytest.mark.parametrize("name", [*LOWER, *(pytest.param(n, marks=pytest.mark.slow) for n in LOWER_BIG)])
def test_generated_inference_peaks_below_the_reference(name: str) -> None:
    generated, reference = compare(name, batch=2, device="cpu")
    assert generated < reference


def test_mobilenet_v1_holds_one_pair_input_more_than_a_flat_sequential() -> None:
    """The cause, measured: against the reference written as hand-written MobileNetV1s are (one
    Sequential per depthwise separable pair) the peak is equal; against one flat Sequential it is
    higher by exactly the first pair's input (2x32x112x112 floats), which a block's caller and
    ``nn.Module.__call__`` hold while the block runs."""
    generated, by_pairs = compare("MobileNetV1", batch=2, device="cpu")
    _, flat = compare("MobileNetV1", batch=2, device="cpu", build_reference=fresh_references.mobilenet_v1)
    assert generated == by_pairs
    assert generated - flat == 2 * 32 * 112 * 112 * 4


def test_the_two_mobilenet_v1_references_are_one_model() -> None:
    """Built by pairs or flat, the same layers in the same order: equal outputs with the same weights."""
    torch.manual_seed(0)
    flat, by_pairs = fresh_references.mobilenet_v1().eval(), fresh_references.mobilenet_v1_by_pairs().eval()
    copy_weights(flat, by_pairs)
    images = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(by_pairs(images), flat(images))
    assert len(by_pairs) == 1 + 13 + 3 and all(len(pair) == 6 for pair in by_pairs[1:14])


def test_every_cnn_spec_is_measured() -> None:
    """Every image model in specs/ (as tests/test_size_attributes.py finds them) is in the benchmark."""
    from tests.test_size_attributes import MODELS as IMAGE_MODELS

    assert sorted(MODELS) == sorted([*SMALL, *BIG, *LOWER, *LOWER_BIG]) == sorted(IMAGE_MODELS)


def test_benchmark_prints_a_row_per_model() -> None:
    command = [sys.executable, str(REPO / "benchmarks" / "memory.py"), "--models", "LeNet", "--batch", "2"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].split() == ["LeNet", "0.1", "0.1", "1.000"]


def test_benchmark_prints_a_row_against_each_other_reference() -> None:
    """MobileNetV1 against the reference built by pairs, then against the flat one."""
    assert OTHER_REFERENCES == {"MobileNetV1/flat": ("MobileNetV1", fresh_references.mobilenet_v1)}
    command = [sys.executable, str(REPO / "benchmarks" / "memory.py"), "--models", "MobileNetV1", "--batch", "2"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert [line.split() for line in proc.stdout.splitlines()[-2:]] == [
        ["MobileNetV1", "15.3", "15.3", "1.000"],
        ["MobileNetV1/flat", "15.3", "12.2", "1.250"],
    ]
