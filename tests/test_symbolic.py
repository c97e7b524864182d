"""Symbolic dimensions: parsing, exact arithmetic, floor division with recorded constraints."""

from __future__ import annotations

from fractions import Fraction

import pytest

from dotnet.reading.symbolic import Dim, ExprError, parse_dim

B, W = Dim.sym("BlockW"), Dim.sym("W")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("256", Dim.const(256)),
        ("BlockW/2", B.divide(2)),
        ("BlockW*2", B * 2),
        ("NLayers-1", Dim.sym("NLayers") - 1),
        ("(A + B) * 2 - 3", (Dim.sym("A") + Dim.sym("B")) * 2 - 3),
        ("-x + 1", 1 - Dim.sym("x")),
        ("2*(BlockW/2)", B),
    ],
)
def test_parse(text, expected):
    assert parse_dim(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty dimension"),
        ("a +", "'a +' ends too early"),
        ("x / (y + 1)", "cannot divide by the symbolic size y+1"),
        ("1.5", "unexpected '.' in '1.5'"),
        ("__import__('os')", 'unexpected "\'" in "__import__(\'os\')"'),
        ("(" * 40 + "1" + ")" * 40, "parentheses nested deeper than 32"),
        ("4 / 0", "division by zero"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(ExprError) as info:
        parse_dim(text)
    assert str(info.value) == message


def test_floor_division_of_a_constant_is_exact():
    assert Dim.const(255).floordiv(2) == (Dim.const(127), None)


def test_floor_division_of_a_symbol_records_divisibility():
    quotient, needs = (B - 2).floordiv(2)
    assert quotient + 1 == parse_dim("BlockW/2")
    assert needs == B  # BlockW must be even; the constant -2 already is


def test_floor_division_that_is_exact_records_nothing():
    assert (B * 4 + 8).floordiv(4) == (B + 2, None)


def test_substitute_and_solve():
    assert parse_dim("BlockW/2").substitute({"BlockW": Dim.const(256)}) == Dim.const(128)
    assert (B * 2).solve("BlockW", Dim.const(64)) == Dim.const(32)
    assert (B * B).solve("BlockW", Dim.const(64)) is None


@pytest.mark.parametrize(
    ("text", "diagram", "python"),
    [
        ("BlockW/2", "BlockW/2", "block_w // 2"),
        ("NLayers-1", "NLayers-1", "n_layers - 1"),
        ("(W+1)/2", "W/2+1/2", "(w + 1) // 2"),
        ("BlockOut*7*7", "BlockOut*49", "block_out * 49"),
    ],
)
def test_render(text, diagram, python):
    names = {"BlockW": "block_w", "NLayers": "n_layers", "W": "w", "BlockOut": "block_out"}
    dim = parse_dim(text)
    assert str(dim) == diagram
    assert dim.render(names.__getitem__, python=True) == python


def test_constant_value():
    assert parse_dim("7/2").constant_value() == Fraction(7, 2)
    assert parse_dim("7/2").int_value() is None
    assert W.constant_value() is None


def test_division_by_a_symbol_is_a_term_that_cancels() -> None:
    """``BlockW/Stride``: a size after a stride given as a block argument."""
    quotient = parse_dim("BlockW/Stride")
    assert str(quotient) == "BlockW/Stride" and quotient.symbols() == {"BlockW", "Stride"}
    assert quotient * parse_dim("Stride") == parse_dim("BlockW")
    assert quotient.substitute({"BlockW": Dim.const(56), "Stride": Dim.const(2)}) == Dim.const(28)
    assert quotient.render(lambda s: s.lower(), python=True) == "blockw // stride"
    assert parse_dim("(BlockW + Stride)/Stride") == quotient + 1
