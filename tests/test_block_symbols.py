"""A block's symbols that its call leaves free take the caller's symbol of the same name (issue 12).

The rule (docs/spec-language.md, "Blocks"): after the input shapes and the call's args, a
block symbol still free takes the caller's symbol of that name, whatever gives it its value
there (its own call, a ``--param``, a default); a caller without it leaves the block its own
default; with neither, the call is an error naming the symbol and the call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import SpecError, compile_to_source

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402

RECORD = 'shape="Mrecord"'

INNER = f"""
digraph Inner {{
    i [label="[BatchSize, NIn]", {RECORD}]
    l [label="Linear[NIn, NOut{{default}}]"]
    x [label="[BatchSize, NOut]", {RECORD}]
    i -> l -> x
}}
"""


def document(tmp_path: Path, outer: str, inner_default: str = "") -> Path:
    """``Net.dot``: digraph Net (``outer`` its body) and the block Inner it calls."""
    path = tmp_path / "Net.dot"
    inner = INNER.replace("{default}", inner_default)
    path.write_text(f"digraph Net {{\n{outer.strip()}\n}}\n{inner}", encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        compile_to_source(path)
    return [d.format_text().replace(str(path.parent) + "/", "") for d in caught.value.diagnostics]


OUTER_WITH_NOUT = f"""
inp [label="[BatchSize, 6]", {RECORD}]
call [label="Inner"]
oup [label="[BatchSize, NOut(4)]", {RECORD}]
inp -> call -> oup
"""


def test_a_free_block_symbol_takes_the_callers_symbol_of_the_same_name(tmp_path: Path) -> None:
    path = document(tmp_path, OUTER_WITH_NOUT)
    source = compile_to_source(path)
    assert "self.call = Inner(n_in=6, n_out=n_out)" in source
    assert sum(p.numel() for p in dotnet.build(path).parameters()) == 6 * 4 + 4
    assert sum(p.numel() for p in dotnet.build(path, params={"NOut": 9}).parameters()) == 6 * 9 + 9


def test_the_callers_symbol_comes_before_the_blocks_default(tmp_path: Path) -> None:
    path = document(tmp_path, OUTER_WITH_NOUT, inner_default="(7)")
    assert dotnet.build(path)(torch.zeros(2, 6)).shape == (2, 4)


def test_a_caller_without_the_symbol_leaves_the_block_its_default(tmp_path: Path) -> None:
    outer = f"""
inp [label="[BatchSize, 6]", {RECORD}]
call [label="Inner"]
oup [label="[BatchSize, 7]", {RECORD}]
inp -> call -> oup
"""
    path = document(tmp_path, outer, inner_default="(7)")
    assert "self.call = Inner(n_in=6, n_out=7)" in compile_to_source(path)


def test_a_symbol_nothing_gives_a_value_is_an_error_naming_it_and_the_call(tmp_path: Path) -> None:
    outer = f"""
inp [label="[BatchSize, 6]", {RECORD}]
call [label="Inner"]
oup [label="[BatchSize, 7]", {RECORD}]
inp -> call -> oup
"""
    assert errors_of(document(tmp_path, outer)) == [
        "Net.dot:3:1: error: node 'call': nothing gives Inner's NOut a value: the call does not pass it, "
        "Net has no symbol of that name and Inner sets no default; pass NOut=... in the call [unbound-symbol]"
    ]


def test_the_callers_value_passes_on_through_nested_calls(tmp_path: Path) -> None:
    """Top -> Middle -> Inner: ``--param NOut`` of the top graph sizes the innermost layer."""
    path = tmp_path / "Top.dot"
    path.write_text(
        f"""
digraph Top {{
    inp [label="[BatchSize, 6]", {RECORD}]
    mid [label="Middle"]
    oup [label="[BatchSize, NOut(4)]", {RECORD}]
    inp -> mid -> oup
}}
digraph Middle {{
    i [label="[BatchSize, MidIn]", {RECORD}]
    call [label="Inner"]
    x [label="[BatchSize, NOut]", {RECORD}]
    i -> call -> x
}}
{INNER.replace("{default}", "")}
""",
        encoding="utf-8",
    )
    model = dotnet.build(path, params={"NOut": 5})
    assert model(torch.zeros(3, 6)).shape == (3, 5)
    assert sum(p.numel() for p in model.parameters()) == 6 * 5 + 5


def test_an_arg_still_binds_the_block_symbol_before_the_caller_does(tmp_path: Path) -> None:
    outer = f"""
inp [label="[BatchSize, 6]", {RECORD}]
call [label="Inner[NOut=3]"]
mid [label="[BatchSize, 3]", {RECORD}]
fc [label="Linear[3, NOut(4)]"]
oup [label="[BatchSize, NOut]", {RECORD}]
inp -> call -> mid -> fc -> oup
"""
    assert "self.call = Inner(n_in=6, n_out=3)" in compile_to_source(document(tmp_path, outer))
