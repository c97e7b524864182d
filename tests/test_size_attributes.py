"""Every image model in specs/ exposes its input channels (``InC``) and classes (``NClasses``).

The list is derived from specs/, not written here: a model is a spec whose input has a
channel axis ``C`` and concrete spatial sizes (a block's are symbols such as ``BlockW``);
it must take its channels as ``InC``, and a classifier (an output ``[BatchSize, N]``) its
classes as ``NClasses``, both digraph attributes with defaults, so that
``dotnet compile specs/X.dot --param InC=3 --param NClasses=1000`` and
``X(in_c=3, n_classes=1000)`` work. A new CNN spec without them fails here. Where a
hand-written reference takes the sizes, the model built for 3 channels and 1000 classes
is compared with it: parameter count and outputs with copied weights.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

import dotnet
from dotnet.compiler import Compiled
from dotnet.reading.symbolic import Dim
from tests.conftest import SPECS, run_cli

SPATIAL = {"H", "W", "L", "D"}


def image_model(compiled: Compiled) -> bool:
    """The top graph takes an image (or signal) with a channel axis at concrete spatial sizes."""
    analysis = compiled.analysis
    for name in analysis.inputs:
        axes = {axis.name: axis.size for axis in analysis.shapes[name]}
        spatial = [size for axis, size in axes.items() if axis in SPATIAL]
        if "C" in axes and spatial and all(size.int_value() is not None for size in spatial):
            return True
    return False


def classifier(compiled: Compiled) -> bool:
    """The model's output is ``[BatchSize, N]``: one score per class."""
    analysis = compiled.analysis
    return any(len(analysis.shapes[out]) == 2 for out in analysis.outputs)


def missing_sizes(compiled: Compiled) -> list[str]:
    """What an image model lacks of the size attributes; empty when it has them all."""
    analysis = compiled.analysis
    problems = []
    for name in analysis.inputs:
        channels = next((axis.size for axis in analysis.shapes[name] if axis.name == "C"), None)
        if channels is not None and channels != Dim.sym("InC"):
            problems.append(f"input {name!r} has C={channels}, not C=InC")
    if classifier(compiled):
        for out in analysis.outputs:
            classes = analysis.shapes[out][-1].size
            if classes != Dim.sym("NClasses"):
                problems.append(f"output {out!r} has {classes} classes, not NClasses")
    wanted = {"InC"} | ({"NClasses"} if classifier(compiled) else set())
    problems += [f"{symbol} has no default (a digraph attribute)" for symbol in sorted(wanted - compiled.values.keys())]
    return problems


def _models() -> dict[str, Compiled]:
    compiled = {path.stem: dotnet.compile_spec(path) for path in sorted(SPECS.glob("*.dot"))}
    return {name: c for name, c in compiled.items() if image_model(c)}


MODELS = _models()
"""Spec file stem -> its compiled default graph, for every image model in specs/."""


def test_the_models_are_found_in_specs() -> None:
    """The rule finds every CNN (blocks and sequence models are not models of images)."""
    assert sorted(MODELS) == [
        "AlexNet", "AlexNetParts", "AudioM5", "ConvAutoEncoder", "DenseNet121", "GoogLeNet", "LeNet",
        "LeNet5", "MobileNetV1", "MobileNetV2", "NiN", "ResNet18", "ResNet20", "ResNet50",
        "SoftmaxRegression", "SqueezeNet", "UNet", "VGG11", "VGG16", "ViT",
    ]  # fmt: skip
    assert not classifier(MODELS["ConvAutoEncoder"])
    assert classifier(MODELS["ResNet50"]) and not classifier(MODELS["UNet"])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_image_model_exposes_its_sizes(name: str) -> None:
    assert missing_sizes(MODELS[name]) == []


def test_a_cnn_without_the_attributes_fails_the_rule(tmp_path: Path) -> None:
    """The rule can fail: a classifier with hard-coded channels and classes."""
    spec = tmp_path / "Tiny.dot"
    spec.write_text(
        "digraph Tiny {\n"
        '    inp [label="输入\\n[BatchSize, W=8, H=8, C=3]", shape="Mrecord"]\n'
        '    conv [label="Conv2D\\n[K=3, P=1, In=3, Out=4]"]\n'
        '    gap [label="GlobalAvgPool2D"]\n'
        '    flat [label="Flatten"]\n'
        '    fc [label="Linear\\n[4, 10]"]\n'
        '    oup [label="输出\\n[BatchSize, 10]", shape="Mrecord"]\n'
        "    inp -> conv -> gap -> flat -> fc -> oup\n"
        "}\n",
        encoding="utf-8",
    )
    compiled = dotnet.compile_spec(spec)
    assert image_model(compiled) and classifier(compiled)
    assert missing_sizes(compiled) == [
        "input 'inp' has C=3, not C=InC",
        "output 'oup' has 10 classes, not NClasses",
        "InC has no default (a digraph attribute)",
        "NClasses has no default (a digraph attribute)",
    ]


def _init_defaults(compiled: Compiled) -> dict[str, str]:
    """The model class's ``__init__`` keyword arguments and their defaults, as written."""
    tree = ast.parse(compiled.source)
    model = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == compiled.class_name)
    init = next(n for n in model.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    args = init.args.args[1:] + init.args.kwonlyargs
    defaults = [None] * (len(init.args.args) - 1 - len(init.args.defaults)) + init.args.defaults
    defaults += init.args.kw_defaults
    return {a.arg: ast.unparse(d) for a, d in zip(args, defaults) if d is not None}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_params_resize_every_image_model(name: str) -> None:
    """``--param InC=3 --param NClasses=1000`` gives 3-channel inputs and 1000 scores; the class takes both."""
    params = {"InC": 3} | ({"NClasses": 1000} if "NClasses" in MODELS[name].values else {})
    compiled = dotnet.compile_spec(SPECS / f"{name}.dot", params=params)
    analysis = compiled.analysis
    channels = [axis.size for axis in analysis.shapes[analysis.inputs[0]] if axis.name == "C"]
    assert [compiled.example_size(size) for size in channels] == [3]
    if classifier(compiled):
        assert [compiled.example_size(analysis.shapes[out][-1].size) for out in analysis.outputs] == [1000]
    defaults = _init_defaults(compiled)
    assert defaults["in_c"] == "3"
    assert defaults.get("n_classes", "1000") == "1000"


def test_the_cli_takes_the_sizes() -> None:
    """As a user writes it, without running the model."""
    sizes = ["--param", "NClasses=10", "--param", "InC=1"]
    result = run_cli("compile", SPECS / "ResNet50.dot", *sizes, "--stdout", "--no-run")
    assert result.code == 0, result.stderr
    assert "def __init__(self, in_c: int = 1, n_classes: int = 10) -> None:" in result.stdout
    assert "self.fc = nn.Linear(2048, n_classes)" in result.stdout


# -- against the hand-written references, at 3 channels and 1000 classes ---------------------


def _references() -> dict[str, tuple[Callable[[], object], tuple[int, ...]]]:
    """Spec -> (the reference built for 3 channels and 1000 classes, one input's shape)."""
    from tests import dialect_references, graph_references, layer_references, style_references
    from tests.cnn_references import REFERENCES

    return {
        "ResNet50": (lambda: layer_references.ResNet50(num_classes=1000, in_c=3), (3, 224, 224)),
        "MobileNetV2": (lambda: layer_references.MobileNetV2(num_classes=1000, in_c=3), (3, 224, 224)),
        "VGG16": (lambda: style_references.vgg16(in_c=3, n_classes=1000), (3, 224, 224)),
        "DenseNet121": (lambda: dialect_references.densenet121(n_classes=1000, in_c=3), (3, 224, 224)),
        "LeNet5": (lambda: dialect_references.LeNet5(in_c=3, n_classes=1000), (3, 32, 32)),
        "SoftmaxRegression": (lambda: dialect_references.softmax_regression(in_c=3, n_classes=1000), (3, 28, 28)),
        "AlexNetParts": (lambda: REFERENCES["AlexNet"][0](in_c=3, n_classes=1000), (3, 224, 224)),
        "UNet": (lambda: layer_references.UNet(n_channels=3, n_classes=1000), (3, 64, 64)),
        "ViT": (lambda: graph_references.ViT(classes=1000, in_c=3), (3, 32, 32)),
        "AudioM5": (lambda: layer_references.M5(n_input=3, n_output=1000), (3, 8000)),
    }


REFERENCED = ["ResNet50", "MobileNetV2", "VGG16", "DenseNet121", "LeNet5", "SoftmaxRegression"]
REFERENCED += ["AlexNetParts", "UNet", "ViT", "AudioM5"]
BIG = {"ResNet50", "VGG16", "DenseNet121", "AlexNetParts", "MobileNetV2"}
"""Models whose construction at 1000 classes takes seconds on two cores."""


def test_the_other_models_are_compared_elsewhere() -> None:
    """Every image model is compared with a reference: at 3 channels and 1000 classes here or in
    test_cnn_models, or (the specs drawn last, whose references take no channels) at their defaults."""
    from tests.test_cnn_models import PARAMETER_COUNTS

    fresh = ["MobileNetV1", "SqueezeNet", "ResNet20"]  # tests/test_fresh_models.py, at their default sizes
    assert sorted([*REFERENCED, *PARAMETER_COUNTS, "ConvAutoEncoder", *fresh]) == sorted(MODELS)


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n in BIG else []) for n in REFERENCED])
def test_resized_model_equals_the_resized_reference(name: str) -> None:
    torch = pytest.importorskip("torch")
    from tests.cnn_references import copy_weights

    torch.manual_seed(0)
    build_reference, shape = _references()[name]
    reference = build_reference()
    generated = dotnet.build(SPECS / f"{name}.dot", params={"InC": 3, "NClasses": 1000})
    assert sum(p.numel() for p in generated.parameters()) == sum(p.numel() for p in reference.parameters())
    for module in reference.modules():
        if isinstance(module, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    copy_weights(reference, generated)
    generated.eval()
    reference.eval()
    inputs = torch.randn(2, *shape)
    with torch.no_grad():
        expected, actual = reference(inputs), generated(inputs)
    assert actual.shape == expected.shape
    assert expected.shape[1] == 1000
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
