"""The multiply-add rewrites of a derived recurrent step (dotnet/codegen/fuse.py): text and values."""

from __future__ import annotations

import pytest
import torch

from dotnet.codegen.fuse import fused

CASES = [
    # the gradient terms the derivation adds up, factored
    ("-(d_h * his_h) + d_h * h_cand", "d_h * (h_cand - his_h)"),
    ("d_h * a + d_h * b", "d_h * (a + b)"),
    ("d_h * a - d_h * b", "d_h * (a - b)"),
    # multiply-adds
    ("f * his_c + i * c_cand", "torch.addcmul(f * his_c, i, c_cand)"),
    ("d_c + d_h * tanh_o", "torch.addcmul(d_c, d_h, tanh_o)"),
    ("d_h * tanh_o + d_c", "torch.addcmul(d_c, d_h, tanh_o)"),
    ("x - a * b", "torch.addcmul(x, a, b, value=-1)"),
    ("a + b * c + d * e", "torch.addcmul(torch.addcmul(a, b, c), d, e)"),
    ("torch.tanh(gate + h @ self.U)", "torch.tanh(torch.addmm(gate, h, self.U))"),
    # a number minus a tensor: torch's function, not Tensor.__rsub__
    ("1 - z", "torch.rsub(z, 1)"),
    ("1 - a * b", "torch.rsub(a * b, 1)"),
    ("(1 - z) * h_cand", "torch.rsub(z, 1) * h_cand"),
    # left alone: numbers, other operators, nothing to fuse
    ("z - 1", "z - 1"),
    ("1 - 2", "1 - 2"),
    ("x + 2 * y", "x + 2 * y"),
    ("1 + a * b", "1 + a * b"),
    ("-(a * b) - a * c", "torch.addcmul(-(a * b), a, c, value=-1)"),
    ("a * b", "a * b"),
    ("torch.ops.aten.sigmoid_backward(d_f, f)", "torch.ops.aten.sigmoid_backward(d_f, f)"),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_rewrite_text(expr: str, expected: str) -> None:
    assert fused(expr, matrices=True) == expected


def test_matrix_products_fuse_only_for_matrices() -> None:
    assert fused("x + a @ b", matrices=False) == "x + a @ b"
    assert fused("x + a @ b", matrices=True) == "torch.addmm(x, a, b)"


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_rewrite_keeps_the_value(expr: str, expected: str) -> None:
    generator = torch.Generator().manual_seed(0)
    names = ["d_h", "his_h", "h_cand", "a", "b", "c", "d", "e", "f", "i", "his_c", "c_cand", "d_c", "tanh_o", "x"]
    values = {n: torch.randn(4, 6, generator=generator, dtype=torch.float64) for n in names}
    values |= {"z": torch.rand(4, 6, generator=generator, dtype=torch.float64), "d_f": values["a"]}
    values |= {"gate": values["a"], "h": torch.randn(4, 3, generator=generator, dtype=torch.float64), "y": values["b"]}
    scope = {"torch": torch, "self": type("Cell", (), {"U": torch.randn(3, 6, dtype=torch.float64)}), **values}
    before = eval(expr, scope)  # noqa: S307  (test cases written above, not user text)
    after = eval(fused(expr, matrices=True), scope)  # noqa: S307
    torch.testing.assert_close(after, before, rtol=1e-12, atol=1e-12)
