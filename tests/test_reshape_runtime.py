"""``Reshape`` with several run-time dims (issue 12): sizes carried over are read from the input.

A size the constructor knows (a number, a constructor argument) is written as it is; a
run-time size carried over from the input is ``x.shape[i]``; one that input axes multiply
to is their product; ``-1`` is left for at most one size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import SpecError, compile_to_source

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402

RECORD = 'shape="Mrecord"'


def spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "Net.dot"
    path.write_text(f"digraph Net {{\n{body.strip()}\n}}\n", encoding="utf-8")
    return path


def test_heads_merge_at_any_sequence_length_and_head_size(tmp_path: Path) -> None:
    """[BatchSize, SeqLen, H, D] -> [BatchSize, SeqLen, H*D], every size but none known before the run."""
    path = spec(
        tmp_path,
        f"""
inp [label="输入\\n[BatchSize, SeqLen, H, D]", {RECORD}]
merge [label="reshape\\n[BatchSize, SeqLen, H*D]"]
oup [label="输出\\n[BatchSize, SeqLen, H*D]", {RECORD}]
inp -> merge -> oup
""",
    )
    assert "oup = inp.reshape(inp.shape[0], inp.shape[1], -1)  # (BatchSize, SeqLen, D*H)" in compile_to_source(path)
    model = dotnet.build(path)
    for shape in [(2, 5, 3, 4), (3, 7, 2, 6), (1, 1, 8, 1)]:
        x = torch.randn(*shape)
        assert torch.equal(model(x), x.reshape(shape[0], shape[1], shape[2] * shape[3]))


def test_two_sizes_made_of_run_time_dims_read_all_but_one_from_the_input(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, T, F, H, D]", {RECORD}]
merge [label="reshape\\n[BatchSize, T*F, H*D]"]
oup [label="[BatchSize, T*F, H*D]", {RECORD}]
inp -> merge -> oup
""",
    )
    assert "oup = inp.reshape(inp.shape[0], -1, inp.shape[3] * inp.shape[4])" in compile_to_source(path)
    model = dotnet.build(path)
    for shape in [(2, 3, 4, 5, 6), (1, 2, 1, 3, 2)]:
        x = torch.randn(*shape)
        assert torch.equal(model(x), x.reshape(shape[0], shape[1] * shape[2], shape[3] * shape[4]))


def test_a_size_not_carried_over_is_left_for_pytorch(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, T, F, H]", {RECORD}]
fold [label="reshape\\n[BatchSize, T*H, F]"]
oup [label="[BatchSize, T*H, F]", {RECORD}]
inp -> fold -> oup
""",
    )
    assert "oup = inp.reshape(inp.shape[0], -1, inp.shape[2])" in compile_to_source(path)
    swap = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, T, F, H, G]", {RECORD}]
fold [label="reshape\\n[BatchSize, 2*T*H, F*G/2]"]
oup [label="[BatchSize, 2*T*H, F*G/2]", {RECORD}]
inp -> fold -> oup
""",
    )
    assert "oup = inp.reshape(inp.shape[0], inp.shape[1] * inp.shape[3] * 2, -1)" in compile_to_source(swap)
    model = dotnet.build(swap)
    x = torch.randn(2, 3, 4, 5, 2)
    assert torch.equal(model(x), x.reshape(2, 30, 4))


def test_two_run_time_sizes_no_input_axes_make_are_an_error(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        f"""
inp [label="[BatchSize, T, F, H, G]", {RECORD}]
fold [label="reshape\\n[BatchSize, F*G/2, T*H/2, 4]"]
inp -> fold
""",
    )
    with pytest.raises(SpecError) as caught:
        compile_to_source(path)
    assert [d.format_text().replace(str(tmp_path) + "/", "") for d in caught.value.diagnostics] == [
        "Net.dot:3:1: error: node 'fold': Reshape: sizes F*G/2, H*T/2 are known only at run time and no input "
        "axes multiply to them; at most one can be left for PyTorch to work out [bad-arg]"
    ]
