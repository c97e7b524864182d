"""Ops whose PyTorch class follows the input's rank declare it in one place (issue 12).

Each such declaration lists ``by_rank``: the class for each input rank it takes. Every op
that declares it is built here at every rank it lists, and runs: ``BatchNorm(4)`` on an
image is ``nn.BatchNorm2d``, on ``[BatchSize, 4]`` ``nn.BatchNorm1d``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dotnet import compile_to_source
from dotnet.ops.base import declarations

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402

SHAPES = {
    2: "[BatchSize, 4]",
    3: "[BatchSize, L=6, C=4]",
    4: "[BatchSize, W=6, H=6, C=4]",
    5: "[BatchSize, W=6, H=6, D=6, C=4]",
}
"""An input of each rank (batch included), with 4 channels."""

ARGS = {
    "Conv": "[K=1, In=4, Out=4]",
    "ConvTranspose": "[K=1, In=4, Out=4]",
    "MaxPool": "[K=1]",
    "AvgPool": "[K=1]",
    "GlobalAvgPool": "",
    "GlobalMaxPool": "",
    "AdaptiveAvgPool": "(1)",
    "AdaptiveMaxPool": "(1)",
    "BatchNorm": "(4)",
    "InstanceNorm": "(4)",
}
"""A label's args for each family (the name less its rank); an adaptive pooling takes one per spatial axis."""

RANKED = [(d.name, rank, cls) for d in declarations() for rank, cls in d.by_rank]


def _family(name: str) -> str:
    return re.sub(r"\dD$", "", name)


def _args(name: str, rank: int) -> str:
    if _family(name).startswith("Adaptive"):  # one output size per spatial axis
        return "(" + ", ".join(["1"] * (rank - 2)) + ")"
    return ARGS[_family(name)]


def test_the_ops_that_follow_the_rank_are_the_expected_ones() -> None:
    assert {_family(name) for name, _, _ in RANKED} == set(ARGS)
    assert {name for name, _, _ in RANKED} >= {"Conv", "ConvTranspose", "MaxPool", "AvgPool", "BatchNorm"}


@pytest.mark.parametrize(("name", "rank", "cls"), RANKED, ids=[f"{n}-rank{r}" for n, r, _ in RANKED])
def test_each_op_builds_its_declared_class_at_each_rank(tmp_path: Path, name: str, rank: int, cls: str) -> None:
    path = tmp_path / "Net.dot"
    path.write_text(
        f'digraph Net {{\ninp [label="{SHAPES[rank]}", shape=Mrecord]\nop [label="{name}{_args(name, rank)}"]\n'
        "inp -> op\n}\n",
        encoding="utf-8",
    )
    source = compile_to_source(path)
    assert f"self.op = {cls}(" in source
    assert isinstance(getattr(torch.nn, cls.removeprefix("nn.")), type)
    model = dotnet.build(path).eval()
    sizes = [2, 4] + [6] * (rank - 2)
    assert model(torch.randn(*sizes)).shape[:2] == (2, 4)
