"""Activations run in place where their input dies, as torchvision writes ``nn.ReLU(inplace=True)``.

Where it is safe: the input is a fresh output (convolution, norm, ``+``, linear...) that
nothing else reads and that backward does not need. Everywhere else the activation stays
out of place, and training gives the same gradients as out-of-place code.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch.nn import functional as F  # noqa: E402

import dotnet  # noqa: E402
from tests.cnn_references import REFERENCES, copy_weights  # noqa: E402
from tests.conftest import SPECS  # noqa: E402
from tests.layer_references import ResNet50  # noqa: E402
from tests.style_references import vgg16  # noqa: E402

PATTERNS = """digraph InPlace {
    inp [label="[BatchSize, W=8, H=8, C=3]", shape="Mrecord"]
    relu_in [label="ReLU"]
    conv [label="Conv2D[K=3, P=1, In=3, Out=4]"]
    relu_conv [label="ReLU"]
    bn [label="BatchNorm(4)"]
    leaky_bn [label="LeakyReLU(SLOPE)"]
    sig [label="Sigmoid"]
    relu_sig [label="ReLU"]
    add [label="+"]
    relu_add [label="ReLU"]
    relu_relu [label="ReLU"]
    conv2 [label="Conv2D[K=1, In=4, Out=4]"]
    relu_shared [label="ReLU"]
    twice [label="ReLU x 2"]
    cat [label="Concat"]
    flatten [label="Flatten"]
    relu_flat [label="ReLU"]
    fc [label="Linear[In=512, Out=16]"]
    drop_fc [label="Dropout(0.5)"]
    relu_drop [label="ReLU"]
    oup [label="[BatchSize, 16]", shape="Mrecord"]

    inp -> relu_in -> conv -> relu_conv -> bn -> leaky_bn -> sig -> relu_sig -> add
    leaky_bn -> add
    add -> relu_add -> relu_relu -> conv2 -> relu_shared -> cat
    conv2 -> twice -> cat
    cat -> flatten -> relu_flat -> fc -> drop_fc -> relu_drop -> oup
}
"""
"""Every case: safe ones (after conv, batch norm, ``+``, linear) and unsafe ones (a forward
argument, after sigmoid whose backward reads its output, after another ReLU, an input two
ops read, a repeated ReLU, after a flatten's view, after a dropout)."""
IN_PLACE = {"relu_conv", "leaky_bn", "relu_add", "drop_fc"}


def _spec(tmp_path: Path, slope: str = "0.2") -> Path:
    path = tmp_path / "InPlace.dot"
    path.write_text(PATTERNS.replace("SLOPE", slope), encoding="utf-8")
    return path


def _in_place_submodules(source: str) -> set[str]:
    return set(re.findall(r"self\.(\w+) = nn\.\w+\([^\n]*inplace=True\)", source))


def test_activations_are_in_place_exactly_where_their_input_dies(tmp_path: Path) -> None:
    source = dotnet.compile_to_source(_spec(tmp_path))
    assert _in_place_submodules(source) == IN_PLACE
    assert "self.leaky_bn = nn.LeakyReLU(negative_slope=0.2, inplace=True)" in source
    assert "self.drop_fc = nn.Dropout(p=0.5, inplace=True)" in source
    assert "self.twice = nn.Sequential(*(nn.ReLU() for _ in range(2)))" in source


def test_a_negative_slope_stays_out_of_place(tmp_path: Path) -> None:
    """PyTorch's in-place LeakyReLU backward refuses a negative slope."""
    source = dotnet.compile_to_source(_spec(tmp_path, "-0.2"))
    assert _in_place_submodules(source) == IN_PLACE - {"leaky_bn"}
    assert "self.leaky_bn = nn.LeakyReLU(negative_slope=-0.2)\n" in source


def _by_hand(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The pattern graph written with out-of-place functions and ``m``'s weights (train mode)."""
    bn = F.batch_norm(
        F.relu(F.conv2d(F.relu(x), m.conv.weight, m.conv.bias, padding=1)),
        None,
        None,
        m.bn.weight,
        m.bn.bias,
        training=True,
    )
    leaky = F.leaky_relu(bn, 0.2)
    added = F.relu(F.relu(torch.sigmoid(leaky)) + leaky)
    conv2 = F.conv2d(F.relu(added), m.conv2.weight, m.conv2.bias)
    joined = torch.cat((F.relu(conv2), F.relu(F.relu(conv2))), dim=1)
    hidden = F.linear(F.relu(joined.flatten(1)), m.fc.weight, m.fc.bias)
    return F.relu(F.dropout(hidden, 0.5, training=True))


def test_training_through_the_in_place_activations_gives_the_hand_written_gradients(tmp_path: Path) -> None:
    torch.manual_seed(0)
    generated = dotnet.build(_spec(tmp_path)).train()
    reference = copy.deepcopy(generated)
    x = torch.randn(4, 3, 8, 8)
    results = []
    for model, run in ((generated, generated), (reference, lambda x: _by_hand(reference, x))):
        inputs = x.clone().requires_grad_()
        torch.manual_seed(1)  # the same dropout mask in both
        out = run(inputs)
        out.square().sum().backward()
        results.append((out.detach(), inputs.grad, [p.grad for p in model.parameters()]))
    (out, x_grad, grads), (expected, expected_x_grad, expected_grads) = results
    torch.testing.assert_close(out, expected)
    assert out.count_nonzero() > 0
    torch.testing.assert_close(x_grad, expected_x_grad)
    assert len(grads) == len(expected_grads) == 8
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad)


def test_the_in_place_model_scripts(tmp_path: Path) -> None:
    model = dotnet.build(_spec(tmp_path)).eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.script(model)(x), model(x))


CNNS = {name: (build, (1, size, size)) for name, (build, size) in REFERENCES.items()}
CNNS["VGG16"] = (vgg16, (1, 224, 224))
CNNS["ResNet50"] = (ResNet50, (3, 224, 224))
SLOW = {"AlexNet", "VGG11", "VGG16", "ResNet50"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in CNNS])
def test_every_cnn_trains_with_its_reference_gradients(name: str) -> None:
    """One training step's forward and backward (batch norm and dropout in train mode)."""
    build_reference, chw = CNNS[name]
    torch.manual_seed(0)
    reference = build_reference().train()
    generated = dotnet.build(SPECS / f"{name}.dot").train()
    copy_weights(reference, generated)
    images = torch.randn(2, *chw)
    results = []
    for model in (generated, reference):
        torch.manual_seed(1)  # the same dropout masks in both
        out = model(images)
        out.square().mean().backward()
        results.append((out.detach(), [p.grad for p in model.parameters()]))
    (out, grads), (expected, expected_grads) = results
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
    assert len(grads) == len(expected_grads)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-3, atol=1e-5)
