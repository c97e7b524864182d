"""The CNN ops, one small spec each, against the PyTorch layers they stand for.

Each case draws an input, one op node and its output; the generated module's output
is compared with the hand-written PyTorch computation on the same input (weights,
where there are any, copied from the generated layer), and its shape with the one
the shape pass inferred.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dotnet  # noqa: E402
from dotnet import codes  # noqa: E402
from dotnet.runtime import example_inputs  # noqa: E402

IMAGE = "[BatchSize, W=9, H=8, C=4]"
"""The test image: 4 channels, 8 high, 9 wide (odd, so floors and paddings show)."""


def one_op_spec(tmp_path: Path, label: str, inputs: tuple[str, ...] = (IMAGE,)) -> Path:
    """A spec with ``inputs`` tensor nodes all feeding one op node labelled ``label``."""
    lines = [f'    x{i} [label="{shape}", shape="Mrecord"]' for i, shape in enumerate(inputs)]
    lines.append(f'    op [label="{label}"]')
    lines += [f"    x{i} -> op" for i in range(len(inputs))]
    path = tmp_path / "OneOp.dot"
    path.write_text("digraph OneOp {\n" + "\n".join(lines) + "\n}\n", encoding="utf-8")
    return path


def run_op(tmp_path: Path, label: str, inputs: tuple[str, ...] = (IMAGE,)):  # type: ignore[no-untyped-def]
    """Compile the one-op spec; return the model, its inputs, its output and the inferred shape."""
    compiled = dotnet.compile_spec(one_op_spec(tmp_path, label, inputs))
    model = dotnet.build(one_op_spec(tmp_path, label, inputs)).eval()
    torch.manual_seed(1)
    tensors = example_inputs(compiled)
    with torch.no_grad():
        out = model(*tensors)
    inferred = tuple(compiled.example_size(a.size) for a in compiled.analysis.shapes["op"])
    return model, tensors, out, inferred


def _with_weights(layer: nn.Module) -> Callable[[nn.Module], nn.Module]:
    def make(model: nn.Module) -> nn.Module:
        layer.load_state_dict(model.op.state_dict())
        return layer

    return make


def _fixed(layer: nn.Module) -> Callable[[nn.Module], nn.Module]:
    return lambda model: layer


SINGLE_INPUT_CASES = [
    ("Conv2D[K=3, P=1, In=4, Out=6]", _with_weights(nn.Conv2d(4, 6, 3, padding=1))),
    ("Conv2D[K=3, S=2, P=1, In=4, Out=6]", _with_weights(nn.Conv2d(4, 6, 3, stride=2, padding=1))),
    ("Conv2D(4, 6, 5, 2, 2)", _with_weights(nn.Conv2d(4, 6, 5, 2, 2))),
    ("Conv2D[4, 5, kernel_size=1, stride=3]", _with_weights(nn.Conv2d(4, 5, 1, stride=3))),
    ("MaxPool2D[K=2, S=2]", _fixed(nn.MaxPool2d(2, 2))),
    ("MaxPool2D(3, stride=2)", _fixed(nn.MaxPool2d(3, stride=2))),
    ("MaxPool2D[K=3, S=2, P=1]", _fixed(nn.MaxPool2d(3, 2, 1))),
    ("MaxPool2D[K=3, S=1, P=1]", _fixed(nn.MaxPool2d(3, 1, 1))),
    ("AvgPool2D[K=2, S=2]", _fixed(nn.AvgPool2d(2, 2))),
    ("MaxPool2D[K=2, S=2, ceil_mode=True]", _fixed(nn.MaxPool2d(2, 2, ceil_mode=True))),
    ("MaxPool2D[K=3, S=2, P=1, CeilMode=True]", _fixed(nn.MaxPool2d(3, 2, 1, ceil_mode=True))),
    ("MaxPool2D[K=2, S=3, ceil_mode=True]", _fixed(nn.MaxPool2d(2, 3, ceil_mode=True))),
    ("AvgPool2D[K=3, S=2, ceil_mode=True]", _fixed(nn.AvgPool2d(3, 2, ceil_mode=True))),
    ("AvgPool2D(3, stride=2, padding=1)", _fixed(nn.AvgPool2d(3, 2, 1))),
    ("AdaptiveAvgPool2D(1, 1)", _fixed(nn.AdaptiveAvgPool2d((1, 1)))),
    ("AdaptiveAvgPool2D[H=2, W=3]", _fixed(nn.AdaptiveAvgPool2d((2, 3)))),
    ("AdaptiveAvgPool2D(5)", _fixed(nn.AdaptiveAvgPool2d(5))),
    ("Flatten", _fixed(nn.Flatten())),
    ("Dropout(0.5)", _fixed(nn.Dropout(0.5))),
    ("Dropout[p=0.25]", _fixed(nn.Dropout(0.25))),
    ("Softmax", _fixed(nn.Softmax(dim=1))),
    ("Softmax[dim=-1]", _fixed(nn.Softmax(dim=-1))),
    ("Sigmoid", _fixed(nn.Sigmoid())),
    ("BatchNorm(4)", _with_weights(nn.BatchNorm2d(4))),
]


@pytest.mark.parametrize(("label", "reference"), SINGLE_INPUT_CASES, ids=[c[0] for c in SINGLE_INPUT_CASES])
def test_op_matches_pytorch(tmp_path: Path, label: str, reference: Callable[[nn.Module], nn.Module]) -> None:
    model, (x,), out, inferred = run_op(tmp_path, label)
    expected = reference(model).eval()(x)
    assert tuple(out.shape) == inferred == tuple(expected.shape)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("label", ["Linear[4, 3]", "Softmax"])
def test_ops_on_vectors(tmp_path: Path, label: str) -> None:
    model, (x,), out, inferred = run_op(tmp_path, label, ("[BatchSize, 4]",))
    expected = nn.functional.softmax(x, dim=-1) if label == "Softmax" else model.op(x)
    assert tuple(out.shape) == inferred
    torch.testing.assert_close(out, expected)


def test_dropout_drops_while_training(tmp_path: Path) -> None:
    model = dotnet.build(one_op_spec(tmp_path, "Dropout(0.5)", ("[BatchSize, 1000]",))).train()
    out = model(torch.ones(4, 1000))
    assert 0.4 < (out == 0).float().mean().item() < 0.6
    assert set(out.unique().tolist()) <= {0.0, 2.0}


def test_concat_joins_channels_in_file_order(tmp_path: Path) -> None:
    shapes = ("[BatchSize, W=5, H=6, C=2]", "[BatchSize, W=5, H=6, C=3]", "[BatchSize, W=5, H=6, C=1]")
    _, tensors, out, inferred = run_op(tmp_path, "Concat", shapes)
    assert inferred[1] == 6
    torch.testing.assert_close(out, torch.cat(tensors, dim=1))


@pytest.mark.parametrize("count", [2, 3])
def test_sum_of_residuals(tmp_path: Path, count: int) -> None:
    _, tensors, out, _ = run_op(tmp_path, "+", (IMAGE,) * count)
    torch.testing.assert_close(out, sum(tensors))


BAD_CASES = [
    ("Concat", ("[BatchSize, W=5, H=6, C=2]", "[BatchSize, W=4, H=6, C=2]"), codes.ARG_MISMATCH, "other sizes"),
    ("Dropout(1.5)", (IMAGE,), codes.BAD_ARG, "[0, 1)"),
    ("AdaptiveAvgPool2D(1, 1)", ("[BatchSize, 7]",), codes.ARG_MISMATCH, "image"),
    ("AvgPool2D[K=2, P=2]", (IMAGE,), codes.BAD_ARG, "P at most half of K"),
    ("MaxPool2D[K=9, S=1]", ("[BatchSize, W=4, H=4, C=1]",), codes.NOT_INTEGRAL, "would be"),
    ("Flatten[Start=2, End=1]", (IMAGE,), codes.BAD_ARG, "name no run of axes"),
    ("Softmax[dim=4]", (IMAGE,), codes.ARG_MISMATCH, "outside"),
    ("Conv2D[K=3, In=5, Out=2]", (IMAGE,), codes.ARG_MISMATCH, "In=5"),
]


@pytest.mark.parametrize(("label", "inputs", "code", "words"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_use_is_a_diagnostic(tmp_path: Path, label: str, inputs: tuple[str, ...], code: str, words: str) -> None:
    with pytest.raises(dotnet.SpecError) as caught:
        dotnet.compile_spec(one_op_spec(tmp_path, label, inputs))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == code
    assert words in diagnostic.message and "'op'" in diagnostic.message
    assert diagnostic.location is not None and diagnostic.location.file.endswith("OneOp.dot")
    assert diagnostic.location.line == len(inputs) + 2 and diagnostic.node == "op"


def test_ceil_mode_rounds_up_as_pytorch_does_at_every_size(tmp_path: Path) -> None:
    """Sizes 1 to 12 under five windows: the inferred size is PyTorch's, dropped last window included."""
    for n in range(1, 13):
        for k, s, p in [(2, 2, 0), (3, 2, 0), (3, 2, 1), (3, 3, 1), (5, 3, 2)]:
            if n + 2 * p < k:
                continue
            spec = one_op_spec(
                tmp_path, f"MaxPool2D[K={k}, S={s}, P={p}, ceil_mode=True]", (f"[BatchSize, W={n}, H={n}, C=1]",)
            )
            inferred = dotnet.compile_spec(spec).analysis.shapes["op"][-1].size.int_value()
            expected = nn.MaxPool2d(k, s, p, ceil_mode=True)(torch.zeros(1, 1, n, n)).shape[-1]
            assert inferred == expected, (n, k, s, p)


def test_ceil_mode_with_a_symbolic_stride_is_refused(tmp_path: Path) -> None:
    spec = one_op_spec(
        tmp_path, "MaxPool2D[K=Stride, S=Stride, ceil_mode=True]", ("[BatchSize, W=BlockW, H=BlockH, C=1]",)
    )
    with pytest.raises(dotnet.SpecError) as raised:
        dotnet.compile_spec(spec)
    assert "ceil_mode needs a stride that is a number; it is S=Stride" in raised.value.diagnostics[0].message


@pytest.mark.parametrize("label", ["Conv2D[K=3, S=2, P=1, Out=4]", "MaxPool2D[K=3, S=2, P=1]", "AvgPool2D[K=2]"])
def test_strided_window_on_symbolic_size_halves_an_even_size(tmp_path: Path, label: str) -> None:
    """``floor((W + 2P - K)/S) + 1`` for symbolic W: W/2, recording that W must be even."""
    compiled = dotnet.compile_spec(one_op_spec(tmp_path, label, ("[BatchSize, W=BlockW, H=BlockH, C=4]",)))
    _, _, h, w = (str(a.size) for a in compiled.analysis.shapes["op"])
    assert (h, w) == ("BlockH/2", "BlockW/2")
    assert sorted(c.describe() for c in compiled.analysis.constraints) == ["BlockH even", "BlockW even"]
