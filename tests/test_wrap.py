"""Generated lines fit the line length: comments wrap, calls break their arguments."""

from __future__ import annotations

import pytest

from dotnet.codegen.source import signature
from dotnet.codegen.wrap import assignment_lines, call_lines, comment_lines


def test_short_statement_keeps_its_trailing_comment() -> None:
    assert assignment_lines("x", "self.f(y)", 40, "(N, 3)") == ["x = self.f(y)  # (N, 3)"]


def test_comment_moves_above_when_the_line_would_be_too_long() -> None:
    assert assignment_lines("x", "self.f(y)", 20, "(BatchSize, 3)") == ["# (BatchSize, 3)", "x = self.f(y)"]


def test_long_comment_wraps() -> None:
    lines = comment_lines("inc1: Inception1[In=192, C1=64, C2a=96, C2b=128] (GoogLeNet.dot:28)", 30)
    assert all(len(line) <= 30 and line.startswith("# ") for line in lines) and len(lines) == 3


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (40, ["self.a = Block(", "    block_in=192, c1=64, c2a=96", ")"]),
        (30, ["self.a = Block(", "    block_in=192,", "    c1=64,", "    c2a=96,", ")"]),
    ],
)
def test_long_call_breaks_its_arguments(width: int, expected: list[str]) -> None:
    assert call_lines("self.a = ", "Block(block_in=192, c1=64, c2a=96)", width) == expected


def test_long_generator_argument_breaks_at_its_loop() -> None:
    expr = "nn.Sequential(*(VGGConv(block_in=block_out, block_out=block_out) for _ in range(n_convs - 1)))"
    assert assignment_lines("self.conv_rest", expr, 60) == [
        "self.conv_rest = nn.Sequential(",
        "    *(",
        "        VGGConv(block_in=block_out, block_out=block_out)",
        "        for _ in range(n_convs - 1)",
        "    ),",
        ")",
    ]


def test_an_expression_that_is_not_one_call_is_left_alone() -> None:
    assert call_lines("y = ", "f(a) + g(b)", 5) == ["y = f(a) + g(b)"]


def test_a_long_return_type_wraps_at_its_own_commas_as_ruff_format_does() -> None:
    """Items are split at the subscript's own commas, never inside a nested one."""
    returns = "tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]"
    assert signature("_step_keeping", ["self", "xp: torch.Tensor"], returns) == (
        "def _step_keeping(\n"
        "        self,\n"
        "        xp: torch.Tensor,\n"
        "    ) -> tuple[\n"
        "        torch.Tensor,\n"
        "        tuple[torch.Tensor, torch.Tensor],\n"
        "        torch.Tensor,\n"
        "        torch.Tensor,\n"
        "        torch.Tensor,\n"
        "    ]:"
    )


def test_a_long_call_indexed_after_its_parenthesis_breaks_its_arguments_and_keeps_the_index() -> None:
    """``self.attn(q, k, v, attn_mask=..., need_weights=False)[0]``, as attention's output is taken."""
    lines = assignment_lines("attn", "self.attn(query, keys, values, need_weights=False)[0]", 50)
    assert lines == ["attn = self.attn(", "    query, keys, values, need_weights=False", ")[0]"]
