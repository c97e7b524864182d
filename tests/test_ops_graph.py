"""Attention, recurrent layers and tensor plumbing, one small spec each, against PyTorch.

Each case draws its inputs, one op node, and an output tensor node per output it
takes (an edge label names the output of a node that has several), with the shapes
the shape rule must prove. The generated module's outputs are compared with the
same computation written directly in PyTorch on the same inputs, the layer's weights
copied from the generated one; the references are by hand, torch only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dotnet  # noqa: E402
from dotnet.runtime import example_inputs  # noqa: E402

SEQ = "[BatchSize, SeqLen, 16]"
"""A batch of sequences of width 16 (``SeqLen`` is 8 in the forward pass)."""
IMAGE = "[BatchSize, W=5, H=4, C=3]"

Reference = Callable[[nn.Module, list[Any]], Any]


def spec(tmp_path: Path, label: str, inputs: tuple[str, ...], outputs: tuple[tuple[str | None, str], ...]) -> Path:
    """``inputs`` tensor nodes into one op labelled ``label``, and one output node per ``(edge label, shape)``."""
    lines = [f'    x{i} [label="{shape}", shape="Mrecord"]' for i, shape in enumerate(inputs)]
    lines.append(f'    op [label="{label}"]')
    lines += [f"    x{i} -> op" for i in range(len(inputs))]
    for i, (port, shape) in enumerate(outputs):
        lines.append(f'    y{i} [label="输出\\n{shape}", shape="Mrecord"]')
        lines.append(f"    op -> y{i}" + (f" [label={port}]" if port is not None else ""))
    path = tmp_path / "OneOp.dot"
    path.write_text("digraph OneOp {\n" + "\n".join(lines) + "\n}\n", encoding="utf-8")
    return path


def layer(module: nn.Module, call: Callable[..., Any]) -> Reference:
    """The generated node's weights copied into ``module``, then ``call(module, *inputs)``."""

    def run(model: nn.Module, xs: list[Any]) -> Any:
        module.load_state_dict(model.op.state_dict())
        return call(module.eval(), *xs)

    return run


def plain(call: Callable[..., Any]) -> Reference:
    return lambda model, xs: call(*xs)


def later(queries: torch.Tensor, keys: torch.Tensor | None = None) -> torch.Tensor:
    """True where key j comes after query i: what a causal attention hides."""
    n, m = queries.shape[1], (queries if keys is None else keys).shape[1]
    return torch.tensor([[j > i for j in range(m)] for i in range(n)])


CASES: list[tuple[str, tuple[str, ...], tuple[tuple[str | None, str], ...], Reference]] = [
    ("Transpose[1, 2]", (SEQ,), ((None, "[BatchSize, 16, SeqLen]"),), plain(lambda x: x.transpose(1, 2))),
    ("Transpose[-1, 0]", (SEQ,), ((None, "[16, SeqLen, BatchSize]"),), plain(lambda x: x.transpose(-1, 0))),
    ("Permute[0, 2, 1]", (SEQ,), ((None, "[BatchSize, 16, SeqLen]"),), plain(lambda x: x.permute(0, 2, 1))),
    ("Permute[0, H, W, C]", (IMAGE,), ((None, "[BatchSize, 4, 5, 3]"),), plain(lambda x: x.permute(0, 2, 3, 1))),
    ("Select[1, 0]", (SEQ,), ((None, "[BatchSize, 16]"),), plain(lambda x: x[:, 0])),
    ("Select[Axis=-1, Index=-1]", (SEQ,), ((None, "[BatchSize, SeqLen]"),), plain(lambda x: x[:, :, -1])),
    ("Slice[1, 1, 4]", (SEQ,), ((None, "[BatchSize, 3, 16]"),), plain(lambda x: x[:, 1:4])),
    ("Slice[Axis=1, Start=1]", (SEQ,), ((None, "[BatchSize, SeqLen-1, 16]"),), plain(lambda x: x[:, 1:])),
    ("Slice[-1, 0, 16, 2]", (SEQ,), ((None, "[BatchSize, SeqLen, 8]"),), plain(lambda x: x[:, :, 0:16:2])),
    ("Slice[C, 1]", (IMAGE,), ((None, "[BatchSize, W=5, H=4, C=2]"),), plain(lambda x: x[:, 1:])),
    ("Stack[1]", (SEQ, SEQ), ((None, "[BatchSize, 2, SeqLen, 16]"),), plain(lambda a, b: torch.stack((a, b), 1))),
    ("Stack[-1]", (SEQ, SEQ), ((None, "[BatchSize, SeqLen, 16, 2]"),), plain(lambda a, b: torch.stack((a, b), -1))),
    ("Mean[1]", (SEQ,), ((None, "[BatchSize, 16]"),), plain(lambda x: x.mean(dim=1))),
    ("Mean[H, W, KeepDim=1]", (IMAGE,), ((None, "[BatchSize, W=1, H=1, C=3]"),), plain(lambda x: x.mean((2, 3), True))),
    ("ReduceSum[1, 2]", (SEQ,), ((None, "[BatchSize]"),), plain(lambda x: x.sum(dim=(1, 2)))),
    ("Max[-1]", (SEQ,), ((None, "[BatchSize, SeqLen]"),), plain(lambda x: x.amax(dim=-1))),
    ("Flatten[2]", (IMAGE,), ((None, "[BatchSize, 3, 20]"),), plain(lambda x: x.flatten(2))),
    ("Exp", (SEQ,), ((None, SEQ),), plain(lambda x: x.exp())),
    ("Log", (SEQ,), ((None, SEQ),), plain(lambda x: x.log())),
    ("Sqrt", (SEQ,), ((None, SEQ),), plain(lambda x: x.sqrt())),
    ("Flatten[Start=0, End=1]", (SEQ,), ((None, "[BatchSize*SeqLen, 16]"),), plain(lambda x: x.flatten(0, 1))),
    ("Unflatten[-1, 4, 4]", (SEQ,), ((None, "[BatchSize, SeqLen, 4, 4]"),), plain(lambda x: x.unflatten(-1, (4, 4)))),
    ("Expand", ("[1, 1, 16]", SEQ), ((None, "[BatchSize, 1, 16]"),), plain(lambda p, x: p.expand(x.shape[0], -1, -1))),
    ("/", (SEQ, "[SeqLen, 1]"), ((None, SEQ),), plain(lambda a, b: a / b)),
    ("*", (IMAGE, "[BatchSize, W=1, H=1, C=3]"), ((None, IMAGE),), plain(lambda a, b: a * b)),
    ("@", (SEQ, "[BatchSize, 16, 5]"), ((None, "[BatchSize, SeqLen, 5]"),), plain(lambda a, b: a @ b)),
    (
        "Chunk[2, -1]",
        (SEQ,),
        (("0", "[BatchSize, SeqLen, 8]"), ("1", "[BatchSize, SeqLen, 8]")),
        plain(lambda x: x.chunk(2, dim=-1)),
    ),
    (
        "Split[4, 12, Axis=2]",
        (SEQ,),
        (("1", "[BatchSize, SeqLen, 12]"), ("0", "[BatchSize, SeqLen, 4]")),
        plain(lambda x: tuple(reversed(torch.split(x, [4, 12], dim=2)))),
    ),
    (
        "MultiheadAttention[16, 4]",
        (SEQ,),
        ((None, SEQ),),
        layer(nn.MultiheadAttention(16, 4, batch_first=True), lambda m, x: m(x, x, x)[0]),
    ),
    (
        "MultiheadAttention[DModel=16, Heads=2]",
        (SEQ, "[BatchSize, 5, 16]"),
        ((None, SEQ),),
        layer(nn.MultiheadAttention(16, 2, batch_first=True), lambda m, q, kv: m(q, kv, kv)[0]),
    ),
    (
        "MHA[16, 8, Dropout=0.1]",
        (SEQ, "[BatchSize, 5, 16]", "[BatchSize, 5, 16]"),
        ((None, SEQ),),
        layer(nn.MultiheadAttention(16, 8, dropout=0.1, batch_first=True), lambda m, q, k, v: m(q, k, v)[0]),
    ),
    (
        "MultiheadAttention[16, 4, Causal=True]",
        (SEQ,),
        ((None, SEQ),),
        layer(nn.MultiheadAttention(16, 4, batch_first=True), lambda m, x: m(x, x, x, attn_mask=later(x))[0]),
    ),
    (
        "MHA[DModel=16, Heads=2, masked=True]",
        (SEQ, "[BatchSize, 5, 16]"),
        ((None, SEQ),),
        layer(nn.MultiheadAttention(16, 2, batch_first=True), lambda m, q, kv: m(q, kv, kv, attn_mask=later(q, kv))[0]),
    ),
    (
        "TransformerEncoderLayer[16, 4, FF=32, is_causal=True]",
        (SEQ,),
        ((None, SEQ),),
        layer(nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True), lambda m, x: m(x, later(x))),
    ),
    (
        "TransformerDecoderLayer[16, 4, FF=32, Causal=True]",
        (SEQ, "[BatchSize, 5, 16]"),
        ((None, SEQ),),
        layer(nn.TransformerDecoderLayer(16, 4, 32, batch_first=True), lambda m, t, mem: m(t, mem, later(t))),
    ),
    (
        "TransformerEncoderLayer[16, 4, FF=32]",
        (SEQ,),
        ((None, SEQ),),
        layer(nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, batch_first=True), lambda m, x: m(x)),
    ),
    (
        "TransformerEncoderLayer[16, 2, FF=24, Activation=gelu, NormFirst=True]",
        (SEQ,),
        ((None, SEQ),),
        layer(
            nn.TransformerEncoderLayer(16, 2, 24, activation="gelu", norm_first=True, batch_first=True),
            lambda m, x: m(x),
        ),
    ),
    (
        "TransformerEncoderLayer x 2[16, 4, FF=32]",
        (SEQ,),
        ((None, SEQ),),
        layer(
            nn.Sequential(*(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True) for _ in range(2))),
            lambda m, x: m(x),
        ),
    ),
    (
        "TransformerDecoderLayer[16, 4, FF=32]",
        (SEQ, "[BatchSize, 5, 16]"),
        ((None, SEQ),),
        layer(nn.TransformerDecoderLayer(16, 4, 32, batch_first=True), lambda m, t, mem: m(t, mem)),
    ),
    (
        "LSTM[16, 8]",
        (SEQ,),
        ((None, "[BatchSize, SeqLen, 8]"), ("h", "[1, BatchSize, 8]"), ("c", "[1, BatchSize, 8]")),
        layer(nn.LSTM(16, 8, batch_first=True), lambda m, x: (m(x)[0], *m(x)[1])),
    ),
    (
        "LSTM[In=16, Hidden=8, Layers=2, Bidirectional=True]",
        (SEQ,),
        (("c", "[4, BatchSize, 8]"), ("out", "[BatchSize, SeqLen, 16]")),
        layer(
            nn.LSTM(16, 8, num_layers=2, bidirectional=True, batch_first=True),
            lambda m, x: (m(x)[1][1], m(x)[0]),
        ),
    ),
    (
        "LSTM[16, 8]",
        (SEQ, "[1, BatchSize, 8]", "[1, BatchSize, 8]"),
        (("h", "[1, BatchSize, 8]"),),
        layer(nn.LSTM(16, 8, batch_first=True), lambda m, x, h, c: m(x, (h, c))[1][0]),
    ),
    (
        "GRU[16, 8, Layers=3]",
        (SEQ,),
        (("out", "[BatchSize, SeqLen, 8]"), ("h", "[3, BatchSize, 8]")),
        layer(nn.GRU(16, 8, num_layers=3, batch_first=True), lambda m, x: m(x)),
    ),
    (
        "GRU[16, 8]",
        (SEQ, "[1, BatchSize, 8]"),
        ((None, "[BatchSize, SeqLen, 8]"),),
        layer(nn.GRU(16, 8, batch_first=True), lambda m, x, h: m(x, h)[0]),
    ),
    (
        "RNN[16, 8, Bidirectional=True]",
        (SEQ,),
        (("h", "[2, BatchSize, 8]"),),
        layer(nn.RNN(16, 8, bidirectional=True, batch_first=True), lambda m, x: m(x)[1]),
    ),
]


@pytest.mark.parametrize(("label", "inputs", "outputs", "reference"), CASES, ids=[c[0] for c in CASES])
def test_op_equals_torch(
    tmp_path: Path,
    label: str,
    inputs: tuple[str, ...],
    outputs: tuple[tuple[str | None, str], ...],
    reference: Reference,
) -> None:
    path = spec(tmp_path, label, inputs, outputs)
    compiled = dotnet.compile_spec(path)
    model = dotnet.build(path).eval()
    torch.manual_seed(0)
    xs = example_inputs(compiled)
    if label == "/":
        xs[1] = xs[1].abs() + 0.5  # keep the divisor away from zero
    if label in ("Log", "Sqrt"):
        xs[0] = xs[0].abs() + 0.5  # inside the functions' domain
    with torch.no_grad():
        got = model(*xs)
        want = reference(model, xs)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want) == len(outputs)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)


def test_parameter_counts_match_torch(tmp_path: Path) -> None:
    """``dotnet summary``'s count is the layer's own, for each weighted op of the table."""
    from dotnet.analysis.costs import total_cost

    for label, inputs, outputs, _ in CASES:
        path = spec(tmp_path, label, inputs, outputs)
        compiled = dotnet.compile_spec(path)
        model = dotnet.build(path)
        counted = total_cost(compiled.analysis).parameters.int_value()
        assert counted == sum(p.numel() for p in model.parameters()), label


@pytest.mark.parametrize(
    "label", ["MultiheadAttention[16, 4, Causal=True]", "TransformerEncoderLayer[16, 4, FF=32, Causal=True]"]
)
def test_a_causal_layer_s_outputs_do_not_see_later_positions(tmp_path: Path, label: str) -> None:
    """Changing the last position changes only the last output; without Causal, every output moves."""
    for causal in (True, False):
        path = spec(tmp_path, label.replace("Causal=True", f"Causal={causal}"), (SEQ,), ((None, SEQ),))
        model = dotnet.build(path).eval()
        x = torch.randn(2, 6, 16)
        changed = x.clone()
        changed[:, -1] += 1.0
        with torch.no_grad():
            moved = (model(changed) - model(x)).abs().amax(dim=(0, 2)) > 1e-6
        assert moved.tolist() == ([False] * 5 + [True] if causal else [True] * 6)


def test_a_causal_attention_scripts_and_exports(tmp_path: Path) -> None:
    """The mask is made from the input's length at run time: TorchScript and torch.export take other lengths."""
    model = dotnet.build(spec(tmp_path, "MultiheadAttention[16, 4, Causal=True]", (SEQ,), ((None, SEQ),))).eval()
    x, longer = torch.randn(2, 6, 16), torch.randn(2, 9, 16)
    scripted = torch.jit.script(model)
    length = torch.export.Dim("length", min=2, max=64)
    exported = torch.export.export(model, (x,), dynamic_shapes=({1: length},)).module()
    with torch.no_grad():
        for run in (scripted, exported):
            torch.testing.assert_close(run(longer), model(longer))
