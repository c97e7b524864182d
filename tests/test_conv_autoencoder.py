"""The compiled ConvAutoEncoder is exactly the diagram: compared with a hand-written model."""

from __future__ import annotations

import pytest
import torch

import dotnet
from dotnet.runtime import load_module
from tests.conftest import SPECS
from tests.reference_cae import ConvAutoEncoder as Reference

SEED_BLOCKS = {"ConvBlock": "CAEConvBlock", "UpConvBlock": "CAEDeconvBlock"}


def compiled_model(spec=SPECS / "ConvAutoEncoder.dot", **kwargs) -> torch.nn.Module:
    compiled = dotnet.compile_spec(spec, **kwargs)
    return getattr(load_module(compiled.source, compiled.class_name), compiled.class_name)()


def test_parameters_match_the_hand_written_model_in_name_shape_and_order():
    generated, reference = compiled_model(), Reference()
    assert [(k, tuple(v.shape)) for k, v in generated.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in reference.state_dict().items()
    ]
    assert sum(p.numel() for p in generated.parameters()) == 28_905


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_outputs_match_the_hand_written_model(mode):
    torch.manual_seed(0)
    reference = Reference()
    generated = compiled_model()
    generated.load_state_dict(reference.state_dict())  # strict: same keys, same shapes
    x = torch.randn(2, 3, 256, 256)
    getattr(reference, mode)()
    getattr(generated, mode)()
    expected, actual = reference(x), generated(x)
    assert actual.shape == (2, 3, 256, 256)
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    if mode == "train":  # batch norm updated the same running statistics
        for (name, a), (_, b) in zip(generated.state_dict().items(), reference.state_dict().items()):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_gradients_match_the_hand_written_model():
    torch.manual_seed(1)
    reference = Reference()
    generated = compiled_model()
    generated.load_state_dict(reference.state_dict())
    x = torch.randn(2, 3, 64 * 4, 64 * 4)
    reference(x).square().mean().backward()
    generated(x).square().mean().backward()
    for (name, a), (_, b) in zip(generated.named_parameters(), reference.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_verbatim_seed_document_compiles_to_the_same_model(seed_document):
    from_seed = compiled_model(seed_document, graph="ConvAutoEncoder", blocks=SEED_BLOCKS)
    from_specs = compiled_model()
    from_specs.load_state_dict(from_seed.state_dict())
    x = torch.randn(1, 3, 256, 256)
    from_seed.eval()
    from_specs.eval()
    torch.testing.assert_close(from_specs(x), from_seed(x), rtol=0, atol=0)


def test_verbatim_seed_document_warns_about_the_unclosed_bracket(seed_document):
    compiled = dotnet.compile_spec(seed_document, graph="ConvAutoEncoder", blocks=SEED_BLOCKS)
    warnings = [d.format_text() for d in compiled.report.diagnostics]
    assert any("node 'featmap_d1'" in w and "[unclosed-bracket]" in w and ":4:" in w for w in warnings), warnings


def test_block_constraints_are_recorded_in_the_generated_docstring():
    source = dotnet.compile_to_source(SPECS / "CAEConvBlock.dot")
    assert "Requires BlockH even, BlockW even." in source


def test_image_channels_are_a_parameter() -> None:
    model = dotnet.build(SPECS / "ConvAutoEncoder.dot", params={"InC": 1}).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 64, 64)).shape == (2, 1, 64, 64)
