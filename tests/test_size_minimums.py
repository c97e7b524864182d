"""A window wider than a symbolic size leaves it too short: the shapes record the smallest size that works.

``Conv1D[K=5]`` over ``L=SeqLen`` gives ``SeqLen-4``, at least 1 only for ``SeqLen`` at least
5. ``dotnet shapes`` lists that minimum with the node that needs it, the generated docstring
states it, and a ``--param`` below it is a located ``bad-param`` error (it used to print a
length of -1 and carry on).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dotnet
from dotnet import codes
from dotnet.diagnostics import SpecError
from tests.conftest import run_cli


def write_spec(folder: Path, name: str, body: list[str]) -> Path:
    path = folder / f"{name}.dot"
    path.write_text(f"digraph {name} {{\n" + "\n".join(body) + "\n}\n", encoding="utf-8")
    return path


def text_convs(tmp_path: Path, *kernels: int) -> Path:
    """Convolutions of the given widths, one after the other, over a sequence of SeqLen."""
    body = ['    x [label="[BatchSize, L=SeqLen, C=4]", shape="Mrecord"]']
    previous = "x"
    for i, k in enumerate(kernels):
        body.append(f'    conv{i} [label="Conv1D[K={k}, In=4, Out=4]"]')
        body.append(f"    {previous} -> conv{i}")
        previous = f"conv{i}"
    return write_spec(tmp_path, "Convs", body)


def test_a_wide_window_records_the_least_length_with_its_node(tmp_path: Path) -> None:
    result = run_cli("shapes", text_convs(tmp_path, 5))
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    where = f"{tmp_path / 'Convs.dot'}:3:5"
    assert lines[lines.index("constraints:") + 1] == f"  SeqLen at least 5  (node 'conv0', {where})"


def test_windows_in_a_row_keep_the_largest_minimum_only(tmp_path: Path) -> None:
    """K=3 then K=5: SeqLen-2, then SeqLen-6, so SeqLen at least 7 (the first minimum, 3, says less)."""
    analysis = dotnet.compile_spec(text_convs(tmp_path, 3, 5)).analysis
    assert [(c.describe(), c.node) for c in analysis.constraints] == [("SeqLen at least 7", "conv1")]


def test_a_length_below_the_minimum_is_a_located_bad_param(tmp_path: Path) -> None:
    result = run_cli("shapes", text_convs(tmp_path, 5), "--param", "SeqLen=4")
    assert result.code != 0
    assert result.stderr.strip() == (
        f"{tmp_path / 'Convs.dot'}:3:5: error: node 'conv0': the shapes need SeqLen at least 5, "
        "and with --param SeqLen=4 it is not [bad-param]"
    )
    assert run_cli("shapes", text_convs(tmp_path, 5), "--param", "SeqLen=5").code == 0


def test_the_generated_docstring_states_the_minimum(tmp_path: Path) -> None:
    source = dotnet.compile_spec(text_convs(tmp_path, 5)).source
    assert "    Requires SeqLen at least 5.\n" in source


def test_a_minimum_a_divisibility_implies_is_not_repeated(tmp_path: Path) -> None:
    """MaxPool[K=2, S=2] on H=BlockH: BlockH/2 is at least 1 from BlockH=2 on, which "even" already says."""
    spec = write_spec(
        tmp_path,
        "Pool",
        [
            '    x [label="[BatchSize, W=BlockW, H=BlockH, C=4]", shape="Mrecord"]',
            '    p [label="MaxPool2D[K=2, S=2]"]',
            "    x -> p",
        ],
    )
    analysis = dotnet.compile_spec(spec).analysis
    assert sorted(c.describe() for c in analysis.constraints) == ["BlockH even", "BlockW even"]


def test_a_block_s_minimum_reaches_its_caller_in_the_caller_s_symbol(tmp_path: Path) -> None:
    write_spec(
        tmp_path,
        "Wide",
        [
            '    x [label="[BatchSize, L=BlockL, C=4]", shape="Mrecord"]',
            '    conv [label="Conv1D[K=5, In=4, Out=4]"]',
            "    x -> conv",
        ],
    )
    caller = write_spec(
        tmp_path,
        "Net",
        ['    x [label="[BatchSize, L=SeqLen, C=4]", shape="Mrecord"]', '    wide [label="Wide"]', "    x -> wide"],
    )
    analysis = dotnet.compile_spec(caller).analysis
    assert [(c.describe(), c.node) for c in analysis.constraints] == [("SeqLen at least 5", "wide")]
    with pytest.raises(SpecError) as raised:
        dotnet.compile_spec(caller, params={"SeqLen": 3})
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == codes.BAD_PARAM and diagnostic.node == "wide"
    assert "the shapes need SeqLen at least 5, and with --param SeqLen=3 it is not" in diagnostic.message
