"""Recurrent cells: generated code equals the formulas written by hand, and nn.LSTM."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import dotnet
from dotnet import codes
from dotnet.compiler import compile_spec
from tests.conftest import SPECS, run_cli

B, T, NIN, NOUT = 3, 5, 4, 6


def build(spec: str, **kwargs) -> nn.Module:
    """An instance of the spec's model in float64, with weights far from their small init."""
    torch.manual_seed(0)
    model = dotnet.build(SPECS / spec, **kwargs).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    return model


def ref_rnn(m, x, h):
    return (torch.sigmoid(x @ m.w_x + h @ m.w_h + m.b),)


def ref_lstm(m, x, h, c):
    f = torch.sigmoid(x @ m.W_f + h @ m.U_f + m.b_f)
    i = torch.sigmoid(x @ m.W_i + h @ m.U_i + m.b_i)
    cand = torch.tanh(x @ m.W_c + h @ m.U_c + m.b_c)
    o = torch.sigmoid(x @ m.W_o + h @ m.U_o + m.b_o)
    c = f * c + i * cand
    return o * torch.tanh(c), c


def ref_gru(m, x, h):
    z = torch.sigmoid(x @ m.W_z + h @ m.U_z + m.b_z)
    r = torch.sigmoid(x @ m.W_r + h @ m.U_r + m.b_r)
    cand = torch.tanh(x @ m.W_h + (h * r) @ m.U_h + m.b_h)
    return ((1 - z) * h + z * cand,)


CELLS = [("RNNCell.dot", ref_rnn, 1), ("LSTMCell.dot", ref_lstm, 2), ("GRUCell.dot", ref_gru, 1)]


@pytest.mark.parametrize(("spec", "reference", "n_states"), CELLS, ids=lambda v: str(v).split(".")[0])
def test_cell_step_equals_its_formulas(spec, reference, n_states):
    cell = build(spec, params={"NIn": NIN, "NOut": NOUT})
    x = torch.randn(B, NIN, dtype=torch.float64)
    states = [torch.randn(B, NOUT, dtype=torch.float64) for _ in range(n_states)]
    got = cell(x, *states)
    got = got if isinstance(got, tuple) else (got,)
    for g, w in zip(got, reference(cell, x, *states), strict=True):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-10)


@pytest.mark.parametrize(("spec", "reference", "n_states"), CELLS, ids=lambda v: str(v).split(".")[0])
def test_cell_scan_equals_a_loop_over_its_formulas(spec, reference, n_states):
    cell = build(spec, params={"NIn": NIN, "NOut": NOUT})
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    states = [torch.zeros(B, NOUT, dtype=torch.float64) for _ in range(n_states)]
    outputs = []
    for t in range(T):
        states = list(reference(cell, xs[:, t], *states))
        outputs.append(states[0])
    torch.testing.assert_close(cell.scan(xs), torch.stack(outputs, dim=1), rtol=0, atol=1e-10)


def test_cell_parameters_are_per_gate_in_order_of_first_appearance():
    names = [n for n, _ in build("LSTMCell.dot").named_parameters()]
    assert names == [f"{k}_{g}" for g in "fico" for k in "WUb"]
    shapes = {n: tuple(p.shape) for n, p in build("GRUCell.dot", params={"NIn": 3, "NOut": 5}).named_parameters()}
    assert shapes["W_z"] == (3, 5) and shapes["U_z"] == (5, 5) and shapes["b_z"] == (1, 5)


def test_lstm_time_rnn_equals_torch_lstm():
    """TimeRNN running the LSTM as PyTorch defines it is nn.LSTM (weights transposed, biases summed)."""
    params = {"NFeature": NIN, "NHidden": NOUT, "NLayers": 2, "NLabels": 3}
    model = build("TimeRNN.dot", params=params, blocks={"RNNCell": "LSTMCell"})
    lstm = nn.LSTM(NIN, NOUT, num_layers=2, batch_first=True).double()
    layers = [model.rnn1, *model.rnn_rest]
    with torch.no_grad():
        for k, cell in enumerate(layers):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")
            bias = getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
            for j, gate in enumerate("ifco"):  # nn.LSTM stacks the gates as i, f, g, o
                rows = slice(j * NOUT, (j + 1) * NOUT)
                getattr(cell, f"W_{gate}").copy_(w_ih[rows].T)
                getattr(cell, f"U_{gate}").copy_(w_hh[rows].T)
                getattr(cell, f"b_{gate}").copy_(bias[rows].unsqueeze(0))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    expected = model.ll(lstm(xs)[0])
    torch.testing.assert_close(model(xs), expected, rtol=0, atol=1e-10)


def test_one_layer_stack_is_no_extra_layer():
    model = build("TimeRNN.dot", params={"NLayers": 1})
    assert len(model.rnn_rest) == 0
    xs = torch.randn(2, 4, 8, dtype=torch.float64)
    torch.testing.assert_close(model(xs), model.ll(model.rnn1.scan(xs)), rtol=0, atol=0)


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell"])
def test_block_option_swaps_the_cell_in_the_api(cell):
    model = dotnet.build(SPECS / "NLPRNN.dot", blocks={"RNNCell": cell})
    assert type(model.rnn[0]).__name__ == cell
    assert model(torch.randint(0, 1000, (2, 7))).shape == (2, 7, 1000)


def test_block_option_swaps_the_cell_on_the_command_line(tmp_path):
    result = run_cli("compile", SPECS / "TimeRNN.dot", "--block", "RNNCell=LSTMCell", "-o", tmp_path / "t.py")
    assert result.code == 0, result.stderr
    assert "class LSTMCell(nn.Module)" in (tmp_path / "t.py").read_text(encoding="utf-8")
    lstm = 4 * (8 * 64 + 64 * 64 + 64) + 4 * (64 * 64 + 64 * 64 + 64)  # layers 8->64 and 64->64
    assert f"TimeRNN: {lstm + 64 * 10 + 10:,} parameters" in result.stdout


def test_tied_embedding_is_one_parameter_with_gradients_from_both_uses():
    torch.manual_seed(0)
    model = dotnet.build(SPECS / "NLPRNN.dot", params={"VocabSize": 50, "NHidden": 8}).double()
    shared = [p for p in model.parameters() if p.shape == (50, 8)]
    assert len(shared) == 1 and sum(p.numel() for p in model.parameters()) == 50 * 8 + 8 * 8 * 2 + 8
    ids = torch.randint(0, 50, (2, 6))
    model(ids).square().sum().backward()
    # The same loss with the projection's copy of the weight split off: its gradient is the second use's.
    weight = model.emb.weight.detach().clone().requires_grad_(True)
    projection = weight.detach().clone().requires_grad_(True)
    hidden = model.rnn[0].scan(nn.functional.embedding(ids, weight))
    (hidden @ projection.T).square().sum().backward()
    assert projection.grad.abs().sum() > 0 and weight.grad.abs().sum() > 0
    torch.testing.assert_close(model.emb.weight.grad, weight.grad + projection.grad, rtol=0, atol=1e-10)


def test_specs_compile_without_warnings():
    for name in ("RNNCell", "LSTMCell", "GRUCell", "TimeRNN", "NLPRNN"):
        assert compile_spec(SPECS / f"{name}.dot").report.diagnostics == [], name


def test_seed_document_compiles_with_its_slips_as_warnings(seed_document):
    found: dict[str, list[str]] = {}
    for graph in ("RNNCell", "GRUCell", "LSTMCell", "TimeRNN", "NLPRNN"):
        compiled = compile_spec(seed_document, graph=graph, params={"NIn": 3, "NOut": 4} if "Cell" in graph else {})
        for d in compiled.report.diagnostics:
            found.setdefault(d.code, []).append(d.message)
    assert len(found[codes.CELL_NAME]) == 2  # GRUCell is an LSTM, LSTMCell a GRU
    assert any("U[x]" in m and "U[z]" in m for m in found[codes.PARAM_NAME])
    assert any("O[t] * tanh(C[t])" in m for m in found[codes.SUSPICIOUS_FORMULA])
    no_edge = found[codes.FORMULA_NO_EDGE]
    assert any("'his_c'" in m and "'calc_c'" in m for m in no_edge)
    assert any("'his_h'" in m and "'calc_h'" in m for m in no_edge)


def test_seed_lstm_is_compiled_as_written(seed_document):
    """The seed's LSTM (named GRUCell) computes H[t] = C[t] * tanh(O[t]): the warning, not a silent fix."""
    torch.manual_seed(0)
    cell = dotnet.build(seed_document, graph="GRUCell", params={"NIn": NIN, "NOut": NOUT}).double()
    x, h, c = (torch.randn(B, n, dtype=torch.float64) for n in (NIN, NOUT, NOUT))
    _, c_new = ref_lstm(cell, x, h, c)
    o = torch.sigmoid(x @ cell.W_o + h @ cell.U_o + cell.b_o)
    h_new, c_got = cell(x, h, c)
    torch.testing.assert_close(h_new, c_new * torch.tanh(o), rtol=0, atol=1e-10)
    torch.testing.assert_close(c_got, c_new, rtol=0, atol=1e-10)


def test_generated_scan_hoists_and_fuses():
    source = dotnet.compile_to_source(SPECS / "LSTMCell.dot")
    scan = source[source.index("    def scan(") :]
    assert "xp = scan_project(xb, xs.transpose(0, 1).flatten(0, 1), xw)" in scan
    call = " ".join(scan[scan.index("hs = scan_cell(") :].split())
    assert call.startswith("hs = scan_cell( self._step, self._loop, [xp], [his_h, his_c], uw,")
    # every gate reads x @ W + h @ U: the step takes their sum, one addmm per step
    assert (
        "keeping=self._step_keeping,\n            backward=self._step_backward,\n            adds=True,\n        )"
        in scan
    )
    loop = source[source.index("    def _loop(") : source.index("    def scan(")]
    assert "his_h, his_c = self._step(torch.addmm(xp[t], his_h, uw), his_h, his_c)" in loop
    step = source[source.index("    def _step(") : source.index("    def _step_keeping(")]
    assert step.count("@") == 2  # only in the docstring: the step gets both matmuls done
    assert "One step after its matmuls: pre = x @ xw + xb + his_h @ uw." in step
    forward = source[source.index("    def forward(") : source.index("    def _gate_weights(")]
    assert "return self._step(x @ xw + xb + his_h @ uw, his_h, his_c)" in forward


LINEAR_CELL = """digraph LinearCell {
    x [label="X[t](输入)\\n[BatchSize, NIn]", shape="Mrecord"]
    his [label="H[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    lin [label="Linear[NIn, NOut]"]
    xl [label="XL[t]\\n[BatchSize, NOut]", shape="Mrecord"]
    calc [label="tanh(XL[t] + H[t-1] @ U)"]
    h [label="H[t](输出)\\n[BatchSize, NOut]", shape="Mrecord"]
    x -> lin -> xl -> calc -> h
    his -> calc
}
"""


def test_a_cell_with_other_ops_scans_by_calling_its_step(tmp_path):
    spec = tmp_path / "LinearCell.dot"
    spec.write_text(LINEAR_CELL, encoding="utf-8")
    torch.manual_seed(0)
    cell = dotnet.build(spec, params={"NIn": NIN, "NOut": NOUT}).double()
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    h = torch.zeros(B, NOUT, dtype=torch.float64)
    outputs = []
    for t in range(T):
        h = torch.tanh(cell.lin(xs[:, t]) + h @ cell.U)
        outputs.append(h)
    torch.testing.assert_close(cell.scan(xs), torch.stack(outputs, dim=1), rtol=0, atol=1e-10)


def test_a_cell_called_on_a_non_sequence_is_an_error(tmp_path):
    (tmp_path / "RNNCell.dot").write_text((SPECS / "RNNCell.dot").read_text(encoding="utf-8"), encoding="utf-8")
    spec = tmp_path / "Net.dot"
    spec.write_text(
        'digraph Net { inp [label="输入\\n[BatchSize, NFeature]", shape="Mrecord"] rnn [label="RNNCell[NFeature, 4]"]'
        " inp -> rnn }",
        encoding="utf-8",
    )
    with pytest.raises(dotnet.SpecError) as info:
        compile_spec(spec, params={"NFeature": 3})
    assert info.value.diagnostics[0].code == codes.BAD_CELL
    assert info.value.diagnostics[0].node == "rnn"


def test_a_state_sized_at_run_time_is_sized_from_the_sequence(tmp_path):
    """H[t-1] of [BatchSize, N], N no constructor argument: scan reads N off its input."""
    spec = tmp_path / "Cell.dot"
    spec.write_text(
        "digraph Cell {\n"
        '  x [label="X[t](input)\\n[BatchSize, N]", shape=Mrecord]\n'
        '  h [label="H[t-1](state)\\n[BatchSize, N]", shape=Mrecord]\n'
        '  sum [label="+"]\n  act [label="Tanh"]\n'
        '  out [label="H[t](output)\\n[BatchSize, N]", shape=Mrecord]\n'
        "  x -> sum\n  h -> sum\n  sum -> act -> out\n}\n",
        encoding="utf-8",
    )
    source = compile_spec(spec).source
    assert "h = xs.new_zeros(batch, xs.shape[2])" in source
    namespace: dict[str, object] = {}
    exec(compile(source, str(spec), "exec"), namespace)
    model = namespace["Cell"]()  # type: ignore[operator]
    xs = torch.randn(B, T, 7)
    h = torch.zeros(B, 7)
    expected = []
    for t in range(T):
        h = torch.tanh(xs[:, t] + h)
        expected.append(h)
    torch.testing.assert_close(model.scan(xs), torch.stack(expected, dim=1))


def test_a_cell_whose_step_ignores_its_input_still_scans_the_whole_sequence(tmp_path):
    """No input projection to hoist: scan steps through forward, one step per time step."""
    spec = tmp_path / "Decay.dot"
    spec.write_text(
        "digraph Decay {\n"
        '  x [label="X[t](input)\\n[BatchSize, 3]", shape=Mrecord]\n'
        '  h [label="H[t-1](state)\\n[BatchSize, 4]", shape=Mrecord]\n'
        '  step [label="tanh(H[t-1] @ U + b)"]\n'
        '  out [label="H[t](output)\\n[BatchSize, 4]", shape=Mrecord]\n'
        "  x -> step\n  h -> step\n  step -> out\n}\n",
        encoding="utf-8",
    )
    source = compile_spec(spec).source
    namespace: dict[str, object] = {}
    exec(compile(source, str(spec), "exec"), namespace)
    model = namespace["Decay"]()  # type: ignore[operator]
    xs = torch.randn(B, T, 3)
    h = torch.zeros(B, 4)
    expected = []
    for _ in range(T):
        h = torch.tanh(h @ model.U + model.b)
        expected.append(h)
    torch.testing.assert_close(model.scan(xs), torch.stack(expected, dim=1))
