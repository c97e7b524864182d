"""Cells whose formulas are torch's own recurrences scan by torch's kernel; every other cell does not.

The rule is structural (dotnet/codegen/scan_library.py): a cell is torch's LSTM, GRU (reset
after the recurrent product) or Elman RNN up to names, gate order and the order of ``+``/``*``
operands. Either way the scan must equal stepping ``forward`` (float64, 1e-10: outputs and
the gradients of the input and of every parameter), on the kernel path (float64 on CPU runs
ATen's native kernel) and on the generic one.
"""

from __future__ import annotations

import pytest
import torch

import dotnet
from tests.conftest import SPECS
from tests.test_recurrent_scan import NIN, NOUT, B, T, assert_same, gradients, randomized, stepped

LSTM = (SPECS / "LSTMCell.dot").read_text(encoding="utf-8")
GATES = "fico"


def lstm(**labels: str) -> str:
    """specs/LSTMCell.dot with some formula labels replaced (keys: calc_f ... calc_h)."""
    text = LSTM
    for node, label in labels.items():
        start = text.index(f"    {node} [label=")
        end = text.index("\n", start)
        text = text[:start] + f'    {node} [label="{label}"]' + text[end:]
    return text


def lstm_gates(form: str) -> dict[str, str]:
    """Each gate's label, from ``form`` with ``{g}`` for the gate's subscript."""
    acts = {"f": "σ", "i": "σ", "c": "tanh", "o": "σ"}
    nodes = {"f": "calc_f", "i": "calc_i", "c": "calc_c_cand", "o": "calc_o"}
    return {nodes[g]: f"{acts[g]}({form.format(g=g)})" for g in GATES}


GRU = """digraph TorchGRU {
    NIn=8; NOut=16
    x [label="X[t](输入)\\n[BatchSize, NIn]", shape="Mrecord"]
    his_h [label="H[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    calc_r [label="σ(X[t] @ W[r] + H[t-1] @ U[r] + b[r])"]
    calc_z [label="σ(X[t] @ W[z] + H[t-1] @ U[z] + b[z])"]
    calc_n [label="N_FORMULA"]
    r [label="R[t]\\n[BatchSize, NOut]", shape="Mrecord"]
    z [label="Z[t]\\n[BatchSize, NOut]", shape="Mrecord"]
    n [label="N[t]\\n[BatchSize, NOut]", shape="Mrecord"]
    calc_h [label="H_FORMULA"]
    h [label="H[t](输出)\\n[BatchSize, NOut]", shape="Mrecord"]
    x -> calc_r -> r
    x -> calc_z -> z
    x -> calc_n -> n
    his_h -> calc_r
    his_h -> calc_z
    his_h -> calc_n
    r -> calc_n
    z -> calc_h
    n -> calc_h
    his_h -> calc_h
    calc_h -> h
}
"""
TORCH_N = "tanh(X[t] @ W[n] + b[n] + R[t] * (H[t-1] @ U[n] + c[n]))"
TORCH_H = "(1 - Z[t]) * N[t] + Z[t] * H[t-1]"


def gru(n: str = TORCH_N, h: str = TORCH_H) -> str:
    return GRU.replace("N_FORMULA", n).replace("H_FORMULA", h)


def elman(formula: str) -> str:
    return f"""digraph Elman {{
    NIn=8; NOut=16
    x [label="X[t](输入)\\n[BatchSize, NIn]", shape="Mrecord"]
    his [label="H[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    calc [label="{formula}"]
    h [label="H[t](输出)\\n[BatchSize, NOut]", shape="Mrecord"]
    x -> calc
    his -> calc
    calc -> h
}}
"""


CASES = [
    # (id, DOT text, number of states, torch function the scan calls or None)
    ("LSTMCell", LSTM, 2, "lstm"),
    (
        "LSTM-commuted",
        lstm(
            **lstm_gates("b[{g}] + H[t-1] @ U[{g}] + X[t] @ W[{g}]"),
            calc_c="CCand[t] * I[t] + C[t-1] * F[t]",
            calc_h="tanh(C[t]) * O[t]",
        ),
        2,
        "lstm",
    ),
    ("LSTM-two-biases", lstm(**lstm_gates("X[t] @ W[{g}] + b[{g}] + H[t-1] @ U[{g}] + d[{g}]")), 2, "lstm"),
    ("LSTM-no-biases", lstm(**lstm_gates("X[t] @ W[{g}] + H[t-1] @ U[{g}]")), 2, "lstm"),
    ("GRU-torch", gru(), 1, "gru"),
    ("GRU-torch-commuted", gru(h="H[t-1] * Z[t] + N[t] * (1 - Z[t])"), 1, "gru"),
    ("GRU-torch-one-bias", gru(n="tanh(X[t] @ W[n] + R[t] * (H[t-1] @ U[n]) + b[n])"), 1, "gru"),
    ("Elman-tanh", elman("tanh(X[t] @ W + H[t-1] @ U + b)"), 1, "rnn_tanh"),
    ("Elman-relu", elman("relu(H[t-1] @ U + X[t] @ W)"), 1, "rnn_relu"),
    # Not torch's recurrences: the generic scan.
    ("SeedLSTMCell", (SPECS / "SeedLSTMCell.dot").read_text(encoding="utf-8"), 2, None),
    ("LSTM-peephole", lstm(calc_f="σ(X[t] @ W[f] + H[t-1] @ U[f] + P[f] * C[t-1] + b[f])"), 2, None),
    ("LSTM-forget-on-candidate", lstm(calc_c="F[t] * C[t-1] + I[t] * F[t]"), 2, None),
    ("GRUCell (reset before the product)", (SPECS / "GRUCell.dot").read_text(encoding="utf-8"), 1, None),
    ("GRU-other-update-sense", gru(h="(1 - Z[t]) * H[t-1] + Z[t] * N[t]"), 1, None),
    ("RNNCell (sigmoid)", (SPECS / "RNNCell.dot").read_text(encoding="utf-8"), 1, None),
    ("Elman-sigmoid", elman("σ(X[t] @ W + H[t-1] @ U + b)"), 1, None),
]


def _spec(tmp_path, text: str):
    spec = tmp_path / "Cell.dot"
    spec.write_text(text, encoding="utf-8")
    return spec


@pytest.mark.parametrize(("text", "n_states", "kernel"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_scan_takes_torchs_kernel_exactly_for_torchs_recurrences(tmp_path, text, n_states, kernel):
    spec = _spec(tmp_path, text)
    source = dotnet.compile_spec(spec, params={"NIn": NIN, "NOut": NOUT}).source
    if kernel is None:
        assert "_torch_scan" not in source and "library_kernel_runs" not in source
    else:
        assert f"scanned = torch.{kernel}(" in source
        assert f"# the cell's formulas are torch.{kernel}'s recurrence (see _torch_scan)" in source
    torch.manual_seed(0)
    cell = randomized(dotnet.build(spec, params={"NIn": NIN, "NOut": NOUT}))
    calls = []
    if kernel is not None:
        real = cell._torch_scan
        cell._torch_scan = lambda xs: calls.append(xs) or real(xs)
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    want = gradients(cell, xs, lambda x: stepped(cell, x, n_states))
    assert_same(gradients(cell, xs, cell.scan), want)
    with torch.no_grad():
        torch.testing.assert_close(cell.scan(xs), want[0], rtol=0, atol=1e-10)
    assert len(calls) == (2 if kernel else 0)


def test_the_kernel_scan_says_which_gates_are_torchs():
    source = dotnet.compile_spec(SPECS / "LSTMCell.dot").source
    assert "torch.lstm computes i, f, o = σ(x @ W + h @ U + b), g = tanh(...)" in source
    assert "with i, f, c_cand, o as torch's i, f, g, o" in source
    assert "w_ih = torch.cat([self.W_i.T, self.W_f.T, self.W_c.T, self.W_o.T])" in source
    assert "b_hh = torch.zeros_like(b_ih)" in source


def test_gru_biases_go_where_torch_adds_them(tmp_path):
    source = dotnet.compile_spec(_spec(tmp_path, gru())).source
    assert "w_hh = torch.cat([self.U_r.T, self.U_z.T, self.U_n.T])" in source
    assert "b_ih = torch.cat([self.b_r, self.b_z, self.b_n], dim=1)[0]" in source
    assert "[torch.zeros_like(self.b_r), torch.zeros_like(self.b_r), self.c_n], dim=1\n        )[0]" in source


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs oneDNN")
def test_float32_lstm_scan_is_onednns_kernel_and_equals_stepping():
    torch.manual_seed(0)
    cell = dotnet.build(SPECS / "LSTMCell.dot", params={"NIn": NIN, "NOut": NOUT})
    xs = torch.randn(B, T, NIN)
    (kernel,) = [f for f, _ in cell.scan(xs).grad_fn.next_functions]  # under batch_first's transpose
    assert type(kernel).__name__ == "MkldnnRnnLayerBackward0"
    got, want = gradients(cell, xs, cell.scan), gradients(cell, xs, lambda x: stepped(cell, x, 2))
    torch.testing.assert_close(got[0], want[0], rtol=1e-5, atol=1e-6)
    for g, w in zip(got[1], want[1], strict=True):
        torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)


def test_tracing_runs_the_cells_own_step():
    cell = dotnet.build(SPECS / "LSTMCell.dot", params={"NIn": NIN, "NOut": NOUT})
    xs = torch.randn(B, T, NIN)

    class Scan(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = cell

        def forward(self, xs: torch.Tensor) -> torch.Tensor:
            return self.cell.scan(xs)

    traced = torch.jit.trace(Scan(), xs, check_trace=False)
    assert "aten::lstm" not in str(traced.graph)
    torch.testing.assert_close(traced(xs), cell.scan(xs), rtol=1e-5, atol=1e-6)
