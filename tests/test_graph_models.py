"""The attention, sequence and squeeze-and-excitation specs equal their PyTorch references.

Compared: the parameter count (also in README.md), the order and shapes of the
parameters (weights are copied in order), the output shape, and the outputs on random
inputs in eval mode. The Transformer encoder layer's reference is PyTorch's own
``nn.TransformerEncoderLayer``; the others are written by hand in tests/graph_references.py
(torch only; torchvision is not used).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dotnet  # noqa: E402
from tests import graph_references  # noqa: E402
from tests.cnn_references import copy_weights  # noqa: E402
from tests.conftest import REPO, SPECS, run_cli  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"

CASES: dict[str, tuple[Callable[[], nn.Module], int, Callable[[], tuple[torch.Tensor, ...]], tuple[int, ...]]] = {
    "TransformerEncoder": (
        lambda: nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True),
        281_152,
        lambda: (torch.randn(3, 10, 64),),
        (3, 10, 64),
    ),
    "ViT": (graph_references.ViT, 81_098, lambda: (torch.randn(2, 3, 32, 32),), (2, 10)),
    "Seq2Seq": (
        graph_references.Seq2Seq,
        65_016,
        lambda: (torch.randint(0, 100, (3, 7)), torch.randint(0, 120, (3, 5))),
        (3, 5, 120),
    ),
    "SqueezeExcite": (graph_references.SqueezeExcite, 580, lambda: (torch.randn(2, 64, 6, 10),), (2, 64, 6, 10)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_spec_equals_reference(name: str) -> None:
    make_reference, parameters, make_inputs, out_shape = CASES[name]
    torch.manual_seed(0)
    reference = make_reference().eval()
    generated = dotnet.build(SPECS / f"{name}.dot").eval()
    assert sum(p.numel() for p in generated.parameters()) == parameters
    assert sum(p.numel() for p in reference.parameters()) == parameters
    assert [p.shape for p in generated.parameters()] == [p.shape for p in reference.parameters()]
    copy_weights(reference, generated)
    inputs = make_inputs()
    with torch.no_grad():
        expected, actual = reference(*inputs), generated(*inputs)
    assert actual.shape == expected.shape == out_shape
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


def test_encoder_state_reaches_the_decoder() -> None:
    """The decoder starts from the encoder's state: a different source changes the scores."""
    torch.manual_seed(0)
    model = dotnet.build(SPECS / "Seq2Seq.dot").eval()
    tgt = torch.randint(0, 120, (2, 5))
    with torch.no_grad():
        one = model(torch.randint(0, 100, (2, 6)), tgt)
        other = model(torch.randint(0, 100, (2, 6)), tgt)
    assert not torch.allclose(one, other)


def test_vit_parameters_start_as_drawn() -> None:
    """The class token starts at zeros, the position embedding as normal(0.02)."""
    torch.manual_seed(0)
    model = dotnet.build(SPECS / "ViT.dot")
    assert torch.count_nonzero(model.cls_token) == 0
    std = model.pos_embedding.std().item()
    assert 0.015 < std < 0.025


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_labels_a_state_edge_with_the_state_shape(tmp_path: Path) -> None:
    """``encoder -> enc_h [label=h]`` is drawn with h's shape, not the encoder's sequence output."""
    out = tmp_path / "seq2seq.svg"
    result = run_cli("render", "specs/Seq2Seq.dot", "-o", out, cwd=REPO)
    assert result.code == 0, result.stderr
    svg = ElementTree.fromstring(out.read_text(encoding="utf-8"))
    edges = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "edge"]
    labels = ["".join(t.text or "" for t in g.iter(f"{SVG}text")) for g in edges]
    assert labels.count("[1, BatchSize, NHidden]") == 4  # encoder -> enc_h, enc_c -> decoder
    assert "[BatchSize, SrcLen, NHidden]" not in labels  # the encoder's unused sequence output


def test_a_block_with_two_outputs_hands_both_on() -> None:
    """Encoder's outputs ``h`` and ``c`` are chosen by a label and a port, and start the decoder."""
    path = REPO / "tests" / "data" / "TwoOutputBlock.dot"
    source = dotnet.compile_to_source(path, graph="Model")
    assert "enc_h, enc_c = self.enc(src)" in source
    model = dotnet.build(path, graph="Model").eval()
    src, tgt = torch.randn(2, 7, 16), torch.randn(2, 5, 16)
    with torch.no_grad():
        _, state = model.enc.lstm(src)
        expected, _ = model.dec(tgt, state)
        torch.testing.assert_close(model(src, tgt), expected)
