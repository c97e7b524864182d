"""Misuse of several outputs, parameter initialisation and the plumbing ops: exact diagnostics.

Each spec is checked in-process; the first diagnostic's code, line and text are compared
whole, so a changed message is a failing test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dotnet
from dotnet import SpecError

SEQ = "[BatchSize, SeqLen, 16]"


def diagnose(tmp_path: Path, body: str) -> str:
    """``file:line: [code] message`` of the first diagnostic for a digraph with ``body``."""
    path = tmp_path / "Bad.dot"
    path.write_text("digraph Bad {\n" + body.strip("\n") + "\n}\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        dotnet.compile_spec(path)
    d = caught.value.diagnostics[0]
    assert d.location is not None
    return f"{d.location.line}: [{d.code}] {d.message}"


def one_op(label: str, out: str = SEQ, edge: str = "", inputs: tuple[str, ...] = (SEQ,)) -> str:
    lines = [f'    x{i} [label="{s}", shape="Mrecord"]' for i, s in enumerate(inputs)]
    lines += [f'    op [label="{label}"]', f'    y [label="{out}", shape="Mrecord"]']
    lines += [f"    x{i} -> op" for i in range(len(inputs))]
    lines.append(f"    op -> y{edge}")
    return "\n".join(lines)


CASES = [
    (
        one_op("Chunk[2]", "[BatchSize, SeqLen, 8]"),
        "6: [bad-edge] edge op -> y: node 'op' has several outputs (0, 1): name the one this edge carries "
        "with the edge's label (op -> y [label=0]) or a port (op:0 -> y)",
    ),
    (
        one_op("LSTM[16, 8]", "[1, BatchSize, 8]", " [label=hidden]"),
        "6: [bad-edge] edge op -> y: node 'op' has no output 'hidden': name one of out, h, c with the edge's "
        "label (op -> y [label=out]) or a port (op:out -> y)",
    ),
    (
        one_op("LSTM x 2[16, 16]"),
        "3: [bad-arg] node 'op': LSTM has several outputs, so it cannot be repeated with x 2",
    ),
    (
        one_op("LSTM[16, 8]", inputs=(SEQ, "[1, BatchSize, 8]", "[2, BatchSize, 8]")),
        "5: [arg-mismatch] node 'op': LSTM: its initial c must be [1, BatchSize, 8], got [2, BatchSize, 8]",
    ),
    (
        one_op("LSTM[12, 8]", "[BatchSize, SeqLen, 8]"),
        "3: [arg-mismatch] node 'op': LSTM: In=12 but its input's last dimension is 16",
    ),
    (
        one_op("MultiheadAttention[16, 3]"),
        "3: [arg-mismatch] node 'op': MultiheadAttention: DModel=16 does not split into 3 heads",
    ),
    (
        one_op("TransformerEncoderLayer[16, 4, Activation=tanh]"),
        "3: [bad-arg] node 'op': TransformerEncoderLayer: Activation=tanh is not one of relu, gelu",
    ),
    (
        one_op("Chunk[3]", "[BatchSize, SeqLen, 8]", " [label=0]"),
        "3: [arg-mismatch] node 'op': Chunk: axis 2 of [BatchSize, SeqLen, 16] does not split into 3 equal pieces",
    ),
    (
        one_op("Transpose[1, 3]"),
        "3: [bad-arg] node 'op': Transpose: dim1=3 must be a whole number from -3 to 2, or an axis name, "
        "for [BatchSize, SeqLen, 16]",
    ),
    (
        one_op("Permute[0, 1, 1]"),
        "3: [bad-arg] node 'op': Permute: [0, 1, 1] is not an order of all 3 axes of [BatchSize, SeqLen, 16]",
    ),
    (
        one_op("Select[H, 0]"),
        "3: [bad-arg] node 'op': Select: axis=H: its input [BatchSize, SeqLen, 16] has no axis H",
    ),
    (
        one_op("Select[2, 16]", "[BatchSize, SeqLen]"),
        "3: [arg-mismatch] node 'op': Select: index 16 is outside axis 2 of [BatchSize, SeqLen, 16]",
    ),
    (
        one_op("Split[4, 8, Axis=-1]"),
        "3: [arg-mismatch] node 'op': Split: pieces of 4 + 8 = 12 do not cut axis 2 of [BatchSize, SeqLen, 16]",
    ),
    (
        one_op("Expand", inputs=("[2, 1, 16]", SEQ)),
        "4: [arg-mismatch] node 'op': Expand: expects a first input of batch size 1, but its input is [2, 1, 16]",
    ),
    (
        '    x [label="输入(zeros)\\n[BatchSize, 4]", shape="Mrecord"]\n    op [label="Relu"]\n    x -> op',
        "2: [bad-label] node 'x': zeros initialises a parameter, but this tensor is not one (param)",
    ),
    (
        '    w [label="W(参数, normal(-1))\\n[4]", shape="Mrecord"]\n    x [label="[BatchSize, 4]", shape="Mrecord"]\n'
        '    op [label="*"]\n    w -> op\n    x -> op',
        "2: [bad-label] node 'w': initialisation 'normal(-1)': write zeros, ones, normal or normal(0.02)",
    ),
]


@pytest.mark.parametrize(("body", "expected"), CASES, ids=[e.split("]")[1][:50] for _, e in CASES])
def test_diagnostic(tmp_path: Path, body: str, expected: str) -> None:
    assert diagnose(tmp_path, body) == expected


def test_an_output_that_feeds_another_node_is_still_returned(tmp_path: Path) -> None:
    """``hidden`` is declared an output and feeds ``fc``: the model returns both, in file order."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "Both.dot"
    path.write_text(
        "digraph Both {\n"
        '    x [label="输入\\n[BatchSize, 4]", shape="Mrecord"]\n'
        '    enc [label="Linear[4, 3]"]\n'
        '    hidden [label="Hidden(输出)\\n[BatchSize, 3]", shape="Mrecord"]\n'
        '    fc [label="Linear[3, 2]"]\n'
        '    y [label="输出\\n[BatchSize, 2]", shape="Mrecord"]\n'
        "    x -> enc -> hidden -> fc -> y\n}\n",
        encoding="utf-8",
    )
    source = dotnet.compile_to_source(path)
    assert "returns hidden: (BatchSize, 3)\n        returns y: (BatchSize, 2)" in source
    model = dotnet.build(path)
    x = torch.randn(5, 4)
    hidden, y = model(x)
    torch.testing.assert_close(hidden, model.enc(x))
    torch.testing.assert_close(y, model.fc(model.enc(x)))
