"""``OP x N`` runs as a loop in the caller's ``forward`` where nothing else reads its input.

The loop rebinds one variable (``for block in self.stage1: stage1_out = block(stage1_out)``),
so the caller stops holding the repetition's input once its first copy has run, as
torchvision's stages do. The submodule stays one ``nn.Sequential`` with the same
``state_dict`` keys; a repetition whose input is read again, or is a ``forward``
argument, stays one call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dotnet  # noqa: E402
from benchmarks.memory import peak_bytes  # noqa: E402
from tests.cnn_references import copy_weights  # noqa: E402
from tests.conftest import SPECS  # noqa: E402

LOOPS = """digraph Loops {
    inp [label="[BatchSize, W=8, H=8, C=3]", shape="Mrecord"]
    on_arg [label="ReLU x 2"]
    conv [label="Conv2D[K=3, P=1, In=3, Out=4]"]
    looped [label="Conv2D x 2[K=3, P=1, In=4, Out=4]"]
    mid [label="[BatchSize, W=8, H=8, C=4]", shape="Mrecord"]
    skipped [label="Conv2D x 2[K=1, In=4, Out=4]"]
    add [label="+"]
    oup [label="[BatchSize, W=8, H=8, C=4]", shape="Mrecord"]

    inp -> on_arg -> conv -> looped -> mid -> skipped -> add -> oup
    mid -> add
}
"""
"""Three repetitions: on a ``forward`` argument (one call), on a convolution's output that
only it reads (a loop), on a tensor the ``+`` reads again (one call)."""

LOOPS_FORWARD = """\
    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        on_arg = self.on_arg(inp)  # (BatchSize, 3, 8, 8)
        mid = self.conv(on_arg)  # (BatchSize, 4, 8, 8)
        del on_arg
        for layer in self.looped:  # Conv2D x 2 (Loops.dot:5)
            mid = layer(mid)  # (BatchSize, 4, 8, 8)
        skipped = self.skipped(mid)  # (BatchSize, 4, 8, 8)
        oup = skipped + mid  # (BatchSize, 4, 8, 8)
        return oup
"""


class LoopsReference(nn.Module):
    """LOOPS written by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.looped = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1))
        self.skipped = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.looped(self.conv(torch.relu(x)))
        return self.skipped(mid) + mid


def _spec(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / f"{name}.dot"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_repetition_whose_input_dies_is_a_loop_and_the_others_one_call(tmp_path: Path) -> None:
    source = dotnet.compile_to_source(_spec(tmp_path, LOOPS, "Loops"))
    assert LOOPS_FORWARD in source
    looped = (
        "self.looped = nn.Sequential(\n            *(nn.Conv2d(4, 4, kernel_size=3, padding=1) for _ in range(2))\n"
    )
    assert looped in source  # the submodule as before: one Sequential of the copies


def test_the_loop_computes_the_hand_written_model_and_keeps_its_state_dict(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = dotnet.build(_spec(tmp_path, LOOPS, "Loops")).eval()
    reference = LoopsReference().eval()
    copy_weights(reference, model)
    assert list(model.state_dict()) == [
        "conv.weight", "conv.bias",
        "looped.0.weight", "looped.0.bias", "looped.1.weight", "looped.1.bias",
        "skipped.0.weight", "skipped.0.bias", "skipped.1.weight", "skipped.1.bias",
    ]  # fmt: skip
    images = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(model(images), reference(images), rtol=0, atol=0)
    scripted = torch.jit.script(model)
    torch.testing.assert_close(scripted(images), reference(images), rtol=0, atol=0)


def test_a_loop_holds_two_activations_where_one_call_holds_three(tmp_path: Path) -> None:
    """Linear, then Linear x 3, on 16x64 floats (4 KiB each): while a copy runs, the loop holds its
    input and its output; one call of the Sequential would also hold the first Linear's output."""
    chain = """digraph Chain {
        inp [label="[BatchSize, 64]", shape="Mrecord"]
        fc [label="Linear[64, 64]"]
        more [label="Linear x 3[64, 64]"]
        oup [label="[BatchSize, 64]", shape="Mrecord"]
        inp -> fc -> more -> oup
    }
    """
    model = dotnet.build(_spec(tmp_path, chain, "Chain")).eval()
    assert "for layer in self.more:" in dotnet.compile_to_source(_spec(tmp_path, chain, "Chain"))
    one_call = nn.Sequential(model.fc, model.more).eval()  # the same layers, the repetition called once
    activation = 16 * 64 * 4
    assert peak_bytes(model, torch.randn(16, 64)) == 2 * activation
    assert peak_bytes(NestedCall(one_call), torch.randn(16, 64)) == 3 * activation


class NestedCall(nn.Module):
    """``out = self.rest(self.first(x))`` with the first result in a local: the form before loops."""

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.first, self.rest = layers[0], layers[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.first(x)
        out = self.rest(first)
        del first
        return out


@pytest.mark.parametrize(
    ("after", "in_place"),
    [("Conv2D x 2[K=1, In=4, Out=4]", True), ("ReLU x 2", False)],
    ids=["after-repeated-conv", "after-repeated-relu"],
)
def test_an_activation_after_a_loop_is_in_place_only_where_the_loops_value_is_fresh(
    tmp_path: Path, after: str, in_place: bool
) -> None:
    """The loop rebinds the convolution's variable: the activation reads the loop's value, which is
    a fresh output after convolutions and a ReLU's (which its backward reads) after ReLUs."""
    text = f"""digraph After {{
        inp [label="[BatchSize, W=8, H=8, C=3]", shape="Mrecord"]
        conv [label="Conv2D[K=3, P=1, In=3, Out=4]"]
        rep [label="{after}"]
        act [label="ReLU"]
        oup [label="[BatchSize, W=8, H=8, C=4]", shape="Mrecord"]
        inp -> conv -> rep -> act -> oup
    }}
    """
    source = dotnet.compile_to_source(_spec(tmp_path, text, "After"))
    assert "for layer in self.rep:" in source
    assert ("self.act = nn.ReLU(inplace=True)" in source) is in_place
    model = dotnet.build(_spec(tmp_path, text, "After"))
    images = torch.randn(2, 3, 8, 8, requires_grad=True)
    model(images).sum().backward()  # autograd refuses an in-place write over a tensor it saved
    assert images.grad is not None


def test_resnet50_runs_each_stage_as_a_loop_after_its_down_block() -> None:
    source = dotnet.compile_to_source(SPECS / "ResNet50.dot")
    assert (
        "        stage1_out = self.down1(stem_out)  # (BatchSize, 256, 56, 56)\n"
        "        del stem_out\n"
        "        for block in self.stage1:  # Bottleneck x 2 (ResNet50.dot:27)\n"
        "            stage1_out = block(stage1_out)  # (BatchSize, 256, 56, 56)\n"
        "        stage2_out = self.down2(stage1_out)  # (BatchSize, 512, 28, 28)\n"
    ) in source


def test_a_stack_of_recurrent_cells_keeps_its_scan() -> None:
    """``RNNCell x NLayers`` writes its own forward (``CellStack.scan``): no loop over it."""
    source = dotnet.compile_to_source(SPECS / "NLPRNN.dot")
    assert ".scan(" in source and "for block in" not in source and "for layer in self.rnn" not in source


def test_zero_copies_never_let_an_activation_overwrite_the_callers_input(tmp_path: Path) -> None:
    """``Linear x (N-1)`` at N=1 returns its input, here a flatten's view of ``forward``'s argument:
    the ReLU after it must not run in place (it did, and zeroed the caller's negative inputs)."""
    text = """digraph Zero {
        N=2
        inp [label="[BatchSize, W=2, H=2, C=2]", shape="Mrecord"]
        flat [label="Flatten"]
        rep [label="Linear x (N-1)[8, 8]"]
        act [label="ReLU"]
        oup [label="[BatchSize, 8]", shape="Mrecord"]
        inp -> flat -> rep -> act -> oup
    }
    """
    spec = _spec(tmp_path, text, "Zero")
    assert "self.act = nn.ReLU()" in dotnet.compile_to_source(spec)
    images = -torch.ones(2, 2, 2, 2)
    output = dotnet.build(spec, params={"N": 1})(images)
    assert torch.equal(images, -torch.ones(2, 2, 2, 2)) and torch.equal(output, torch.zeros(2, 8))


def test_a_repeated_causal_transformer_layer_passes_its_mask_to_every_copy(tmp_path: Path) -> None:
    """Each copy is called with the causal mask (one call of the Sequential could pass it to none)."""
    text = """digraph Causal {
        inp [label="[BatchSize, SeqLen, 8]", shape="Mrecord"]
        proj [label="Linear[8, 16]"]
        enc [label="TransformerEncoderLayer x 2\\n[DModel=16, Heads=2, FF=32, Dropout=0, Causal=True]"]
        oup [label="[BatchSize, SeqLen, 16]", shape="Mrecord"]
        inp -> proj -> enc -> oup
    }
    """
    torch.manual_seed(0)
    model = dotnet.build(_spec(tmp_path, text, "Causal")).eval()
    x = torch.randn(2, 5, 8)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1)
    want = model.proj(x)
    for layer in model.enc:
        want = layer(want, src_mask=mask)
    torch.testing.assert_close(model(x), want, rtol=0, atol=0)
    later = x.clone()
    later[:, 3:] += 1.0  # a causal model's first positions do not see the later ones
    torch.testing.assert_close(model(later)[:, :3], model(x)[:, :3])


def test_a_causal_repetition_whose_input_is_read_again_loops_from_a_copy_of_its_name(tmp_path: Path) -> None:
    """``Causal TransformerEncoderLayer x 2`` under a residual: ``enc = proj`` then the loop, and
    ``proj`` is still there for the ``+`` (one call of the Sequential could pass the mask to no copy)."""
    text = """digraph Residual {
        inp [label="[BatchSize, SeqLen, 8]", shape="Mrecord"]
        proj [label="Linear[8, 16]"]
        enc [label="Causal TransformerEncoderLayer x 2\\n[DModel=16, Heads=2, FF=32, Dropout=0]"]
        add [label="+"]
        oup [label="[BatchSize, SeqLen, 16]", shape="Mrecord"]
        inp -> proj -> enc -> add -> oup
        proj -> add
    }
    """
    path = _spec(tmp_path, text, "Residual")
    source = dotnet.compile_spec(path).source
    assert "        enc = proj\n        for layer in self.enc:" in source
    torch.manual_seed(0)
    model = dotnet.build(path).eval()
    x = torch.randn(2, 5, 8)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1)
    want = proj = model.proj(x)
    for layer in model.enc:
        want = layer(want, src_mask=mask)
    torch.testing.assert_close(model(x), want + proj, rtol=0, atol=0)
