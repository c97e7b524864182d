"""A cell's scan, on every path it takes, equals stepping its ``forward`` by hand (float64, 1e-10).

In training the scan runs ``RecurrentScan`` (custom backward); under ``torch.no_grad`` a
step-by-step loop that keeps nothing per step; under TorchScript ``_loop``. All are compared,
outputs and the
gradients of every parameter and of the input, with the plain per-step ``forward``:
for the cells in specs/, for TimeRNN and NLPRNN built on them, and for random cells
written in the formula language.
"""

from __future__ import annotations

import weakref

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

import dotnet
from dotnet.codegen.audit import SCAN_DIFFERENTIATED_TWICE
from tests.conftest import SPECS

B, T, NIN, NOUT = 3, 6, 4, 5
TOL = {"rtol": 0, "atol": 1e-10}


def randomized(model: nn.Module) -> nn.Module:
    """The model in float64 with weights far from their small initial values."""
    model = model.double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.5)
    return model


def stepped(cell: nn.Module, xs: torch.Tensor, n_states: int, output: int = 0) -> torch.Tensor:
    """The reference scan: ``forward`` called once per step from zero states."""
    states = [xs.new_zeros(xs.shape[0], cell.n_out) for _ in range(n_states)]
    outputs = []
    for t in range(xs.shape[1]):
        new = cell(xs[:, t], *states)
        states = list(new) if isinstance(new, tuple) else [new]
        outputs.append(states[output])
    return torch.stack(outputs, dim=1)


def gradients(model: nn.Module, xs: torch.Tensor, run) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The output of ``run(xs)`` and the gradients of a fixed random loss over it."""
    model.zero_grad()
    xs = xs.detach().requires_grad_(True)
    out = run(xs)
    weights = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(1)).to(out.device)
    (out * weights).sum().backward()
    grads = [xs.grad, *(p.grad for p in model.parameters())]
    return out.detach(), [torch.zeros_like(p) if g is None else g for p, g in zip([xs, *model.parameters()], grads)]


def assert_same(got, want) -> None:
    (out, grads), (ref_out, ref_grads) = got, want
    torch.testing.assert_close(out, ref_out, **TOL)
    assert len(grads) == len(ref_grads)
    for g, r in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, r, **TOL)


CELLS = [("RNNCell", 1), ("LSTMCell", 2), ("GRUCell", 1), ("SeedLSTMCell", 2)]
GENERIC = [c for c in CELLS if c[0] != "LSTMCell"]
"""The cells the generic scan runs; LSTMCell is torch's LSTM and scans by torch.lstm (test_recurrent_kernels)."""


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_training_scan_equals_stepping_forward(spec, n_states):
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / f"{spec}.dot", params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    got = gradients(cell, xs, cell.scan)
    assert_same(got, gradients(cell, xs, lambda x: stepped(cell, x, n_states)))


@pytest.mark.parametrize(("spec", "n_states"), GENERIC)
def test_training_scan_runs_the_custom_backward_and_inference_does_not(spec, n_states):
    cell = dotnet.build(SPECS / f"{spec}.dot", params={"NIn": NIN, "NOut": NOUT})
    xs = torch.randn(B, T, NIN)
    (transpose,) = [f for f, _ in cell.scan(xs).grad_fn.next_functions]
    assert type(transpose).__name__ == "RecurrentScanBackward"
    with torch.no_grad():
        torch.testing.assert_close(cell.scan(xs), stepped(cell, xs, n_states), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_training_scan_output_may_be_changed_in_place(spec, n_states):
    """The scan's output is the caller's: an in-place op on it trains as on the reference's."""
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / f"{spec}.dot", params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    got = gradients(cell, xs, lambda x: cell.scan(x).mul_(3).tanh_())
    assert_same(got, gradients(cell, xs, lambda x: stepped(cell, x, n_states).mul_(3).tanh_()))


def test_training_scan_backward_twice_with_the_graph_retained():
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / "SeedLSTMCell.dot", params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    stepped(cell, xs, 2).square().sum().backward()
    want = [2 * p.grad for p in cell.parameters()]
    cell.zero_grad()
    loss = cell.scan(xs).square().sum()
    loss.backward(retain_graph=True)
    loss.backward()
    for p, w in zip(cell.parameters(), want, strict=True):
        torch.testing.assert_close(p.grad, w, **TOL)


class _Products(TorchDispatchMode):
    """The shapes of the matrix products computed."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[int, ...]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.overloadpacket in (torch.ops.aten.mm, torch.ops.aten.addmm, torch.ops.aten.bmm):
            self.shapes.append(tuple(out.shape))
        return out


def test_a_parameter_the_step_multiplies_gets_its_gradient_as_one_product():
    """The seed GRU's ``(H[t-1] * R[t]) @ U[h]``: one product after the loop, not one per step."""
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / "GRUCell.dot", params={"NIn": NIN, "NOut": NOUT}))
    source = dotnet.compile_spec(SPECS / "GRUCell.dot", params={"NIn": NIN, "NOut": NOUT}).source
    assert "products=[2]," in source and "d_U_h" not in source
    out = cell.scan(torch.randn(B, T, NIN, dtype=torch.float64))
    with _Products() as products:
        out.square().sum().backward()
    assert products.shapes.count((NOUT, NOUT)) == 1  # U_h's gradient; the others are (B, NOut) or wider
    assert len(products.shapes) == 2 * T + 3  # per step d_product and d_state; U_h, uw, the input weights


def test_a_cell_no_rule_covers_trains_by_autograd_and_says_why(tmp_path):
    spec = tmp_path / "Clipped.dot"
    spec.write_text((SPECS / "RNNCell.dot").read_text(encoding="utf-8").replace('"Sigmoid"', '"ReLU6"'), "utf-8")
    compiled = dotnet.compile_spec(spec, params={"NIn": NIN, "NOut": NOUT})
    assert "# training runs _loop under autograd: no derivative rule for relu6" in compiled.source
    assert "RecurrentScan" not in compiled.source
    torch.manual_seed(0)
    cell = randomized(dotnet.build(spec, params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    assert_same(gradients(cell, xs, cell.scan), gradients(cell, xs, lambda x: stepped(cell, x, 1)))


LINEAR = """digraph Linear {
    x [label="X[t](输入)\\n[BatchSize, NIn]", shape="Mrecord"]
    his [label="H[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    calc [label="X[t] @ W + H[t-1] @ U"]
    h [label="H[t](输出)\\n[BatchSize, NOut]", shape="Mrecord"]
    x -> calc
    his -> calc
    calc -> h
}
"""


def test_a_linear_cell_whose_backward_reads_nothing_of_the_step(tmp_path):
    spec = tmp_path / "Linear.dot"
    spec.write_text(LINEAR, encoding="utf-8")
    torch.manual_seed(0)
    cell = randomized(dotnet.build(spec, params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    assert type(cell.scan(xs).grad_fn.next_functions[0][0]).__name__ == "RecurrentScanBackward"
    assert_same(gradients(cell, xs, cell.scan), gradients(cell, xs, lambda x: stepped(cell, x, 1)))


KEEPS_INPUT = """digraph KeepsInput {
    x [label="X[t](输入)\\n[BatchSize, NOut]", shape="Mrecord"]
    his [label="H[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    last [label="S[t-1](历史)\\n[BatchSize, NOut]", shape="Mrecord"]
    calc [label="tanh(X[t] @ W + H[t-1] @ U + b + S[t-1])"]
    h [label="H[t](输出)\\n[BatchSize, NOut]", shape="Mrecord"]
    s [label="S[t]\\n[BatchSize, NOut]", shape="Mrecord"]
    x -> calc -> h
    his -> calc
    last -> calc
    x -> s
}
"""


GATED_BY_INPUT = KEEPS_INPUT.replace(" + S[t-1])", " + S[t-1] + X[t] * V)")


@pytest.mark.parametrize("text", [KEEPS_INPUT, GATED_BY_INPUT], ids=["a-state-is-the-input", "a-gate-reads-the-input"])
def test_a_step_that_reads_its_input_outside_the_projection_scans_as_its_forward(tmp_path, text):
    """The step takes the input itself (not only x @ W + h @ U), in training and in inference."""
    spec = tmp_path / "ReadsInput.dot"
    spec.write_text(text, encoding="utf-8")
    torch.manual_seed(0)
    cell = randomized(dotnet.build(spec, params={"NOut": NOUT}))
    xs = torch.randn(B, T, NOUT, dtype=torch.float64)
    assert_same(gradients(cell, xs, cell.scan), gradients(cell, xs, lambda x: stepped(cell, x, 2)))
    with torch.no_grad():
        torch.testing.assert_close(cell.scan(xs), stepped(cell, xs, 2), **TOL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_cuda_training_scan_equals_the_cpu_reference(spec, n_states):
    """On CUDA the generic cells run RecurrentScan, LSTMCell torch.lstm (cuDNN in float32, ATen's in float64)."""
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / f"{spec}.dot", params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    want = gradients(cell, xs, lambda x: stepped(cell, x, n_states))
    cell = cell.cuda()
    out, grads = gradients(cell, xs.cuda(), cell.scan)
    if spec != "LSTMCell":
        assert type(cell.scan(xs.cuda()).grad_fn.next_functions[0][0]).__name__ == "RecurrentScanBackward"
    assert_same((out.cpu(), [g.cpu() for g in grads]), want)


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_step_by_step_loop_trains_as_stepping_forward(spec, n_states):
    """``_loop``, which TorchScript (as here), tracing and torch.compile run, under autograd."""
    torch.manual_seed(0)
    params = {"NFeature": NIN, "NHidden": NOUT, "NLayers": 2, "NLabels": 2}
    model = randomized(dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": spec}))

    def by_hand(xs: torch.Tensor) -> torch.Tensor:
        for layer in _layers(model):
            xs = stepped(layer, xs, n_states)
        return model.ll(xs)

    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    assert_same(gradients(model, xs, torch.jit.script(model)), gradients(model, xs, by_hand))


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_a_sequence_of_no_steps_gives_an_output_of_no_steps(spec, n_states):
    """Training, inference and TorchScript: ``(batch, 0, labels)``, where torch.nn's layers raise."""
    params = {"NFeature": NIN, "NHidden": NOUT, "NLayers": 2, "NLabels": 2}
    model = dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": spec})
    xs = torch.randn(B, 0, NIN, requires_grad=True)
    out = model(xs)
    assert out.shape == (B, 0, 2)
    out.sum().backward()  # the head's gradients: the recurrent layers ran no step
    torch.testing.assert_close(model.ll.bias.grad, torch.zeros(2))
    with torch.no_grad():
        assert model(xs).shape == (B, 0, 2)
    assert torch.jit.script(model)(xs).shape == (B, 0, 2)
    assert model(torch.randn(B, T, NIN)).shape == (B, T, 2)


def _layers(model: nn.Module) -> list[nn.Module]:
    return [model.rnn1, *model.rnn_rest] if hasattr(model, "rnn1") else list(model.rnn)


@pytest.mark.parametrize(("spec", "n_states"), CELLS)
def test_time_rnn_trains_as_its_cells_stepped_by_hand(spec, n_states):
    torch.manual_seed(0)
    params = {"NFeature": NIN, "NHidden": NOUT, "NLayers": 3, "NLabels": 2}
    model = randomized(dotnet.build(SPECS / "TimeRNN.dot", params=params, blocks={"RNNCell": spec}))

    def by_hand(xs: torch.Tensor) -> torch.Tensor:
        for layer in _layers(model):
            xs = stepped(layer, xs, n_states)
        return model.ll(xs)

    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    assert_same(gradients(model, xs, model), gradients(model, xs, by_hand))


def test_nlprnn_trains_as_its_cells_stepped_by_hand():
    torch.manual_seed(0)
    params = {"VocabSize": 11, "NHidden": NOUT, "NLayers": 2}
    model = randomized(dotnet.build(SPECS / "NLPRNN.dot", params=params, blocks={"RNNCell": "LSTMCell"}))
    ids = torch.randint(0, 11, (B, T))

    def run(by_hand: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad()
        if by_hand:
            hidden = model.emb(ids)
            for layer in _layers(model):
                hidden = stepped(layer, hidden, 2)
            out = hidden @ model.emb.weight.T
        else:
            out = model(ids)
        out.square().sum().backward()
        return out.detach(), [p.grad for p in model.parameters()]

    assert_same(run(False), run(True))


class _LiveTensors(TorchDispatchMode):
    """Counts the tensors alive after each op; ``peak`` is the most at any time."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[weakref.ref] = []
        self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.refs += [weakref.ref(t) for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
        self.refs = [r for r in self.refs if r() is not None]
        self.peak = max(self.peak, len(self.refs))
        return out


def _peak(run, steps: int) -> int:
    xs = torch.randn(2, steps, NIN)
    with _LiveTensors() as live:
        run(xs)
    return live.peak


@pytest.mark.parametrize(("spec", "n_states"), CELLS[1:])
def test_inference_scan_keeps_no_tensor_per_step(spec, n_states):
    cell = dotnet.build(SPECS / f"{spec}.dot", params={"NIn": NIN, "NOut": NOUT})
    with torch.no_grad():
        assert _peak(cell.scan, 40) == _peak(cell.scan, 4)
    # The count sees tensors kept per step: autograd keeps them when stepping forward by hand.
    assert _peak(lambda xs: stepped(cell, xs, n_states), 40) > _peak(lambda xs: stepped(cell, xs, n_states), 4)


# -- random cells ------------------------------------------------------------

_FUNCTIONS = ["σ", "sigmoid", "tanh", "relu", "exp", "softmax"]


def _element_wise(leaves: list[str]):
    """Formulas over ``leaves`` with every operator and function of the language but ``@``.

    ``log`` and ``sqrt`` get positive arguments and ``/`` a denominator of at least 1, so that
    most draws stay finite (the test skips those whose reference gradient is not).
    """
    number = st.sampled_from(["0.5", "2", "1"])
    constant = st.one_of(number, st.tuples(st.sampled_from(_FUNCTIONS), number).map(lambda t: f"{t[0]}({t[1]})"))
    operand = st.one_of(st.sampled_from(leaves), constant)
    return st.recursive(
        st.sampled_from(leaves),
        lambda sub: st.one_of(
            st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(operand, st.sampled_from(["+", "-", "*"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(sub, sub).map(lambda t: f"({t[0]} / (1 + {t[1]} * {t[1]}))"),
            st.tuples(operand, sub).map(lambda t: f"({t[0]} / (2 + tanh({t[1]})))"),
            sub.map(lambda e: f"-{e}"),
            st.tuples(st.sampled_from(_FUNCTIONS), sub).map(lambda t: f"{t[0]}({t[1]})"),
            sub.map(lambda e: f"log(1 + {e} * {e})"),
            sub.map(lambda e: f"sqrt(σ({e}))"),
        ),
        max_leaves=5,
    )


@st.composite
def _cells(draw) -> tuple[str, int]:
    """A random cell as DOT text, and its number of states: gates, then the new states."""
    states = ["H"] + (["C"] if draw(st.booleans()) else [])
    tensors: dict[str, str] = {"X[t]": "x", **{f"{s}[t-1]": f"his_{s.lower()}" for s in states}}
    nodes = ['x [label="X[t](输入)\\n[BatchSize, NIn]", shape="Mrecord"]']
    nodes += [f'his_{s.lower()} [label="{s}[t-1]\\n[BatchSize, NOut]", shape="Mrecord"]' for s in states]
    formulas: list[tuple[str, str, str]] = []  # (node id, formula, tensor node it feeds)
    gates: list[str] = []
    for k in range(draw(st.integers(1, 3))):
        terms = [f"X[t] @ W{k}"]
        if draw(st.booleans()) or not k:
            terms.append(f"{draw(st.sampled_from(states))}[t-1] @ U{k}")
        if gates and draw(st.booleans()):  # a product gated by an earlier gate, as the seed's GRU
            terms.append(f"(H[t-1] * {draw(st.sampled_from(gates))}) @ V{k}")
        if draw(st.booleans()):
            terms.append(f"b{k}")
        if draw(st.booleans()):
            terms.append(f"P{k} * {draw(st.sampled_from(states))}[t-1]")  # a peephole
        act = draw(st.sampled_from(["σ", "tanh", "relu", ""]))
        formulas.append((f"calc_g{k}", f"{act}({' + '.join(terms)})", f"g{k}"))
        nodes.append(f'g{k} [label="G{k}[t]\\n[BatchSize, NOut]", shape="Mrecord"]')
        gates.append(f"G{k}[t]")
        tensors[f"G{k}[t]"] = f"g{k}"
    leaves = gates + [f"{s}[t-1]" for s in states]
    for s in states:
        expr = draw(_element_wise(leaves))
        gate = draw(st.sampled_from(gates))
        # The output reads a gate, so that it depends on the input; C is carried as an LSTM's.
        expr = f"tanh({expr} + {gate})" if s == "H" else f"{gate} * C[t-1] + {expr}"
        formulas.append((f"calc_{s.lower()}", expr, s.lower()))
        role = "(输出)" if s == "H" else ""
        nodes.append(f'{s.lower()} [label="{s}[t]{role}\\n[BatchSize, NOut]", shape="Mrecord"]')
    edges = []
    for node, formula, target in formulas:
        nodes.append(f'{node} [label="{formula}"]')
        used = [n for name, n in tensors.items() if name in formula]
        edges += [f"{n} -> {node}" for n in used] + [f"{node} -> {target}"]
    return "digraph Random {\n    " + "\n    ".join(nodes + edges) + "\n}\n", len(states)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_cells())
def test_random_formula_cells_scan_as_their_forward_steps(tmp_path, drawn):
    text, n_states = drawn
    spec = tmp_path / "Random.dot"
    spec.write_text(text, encoding="utf-8")
    torch.manual_seed(0)
    cell = randomized(dotnet.build(spec, params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64)
    want = gradients(cell, xs, lambda x: stepped(cell, x, n_states))
    assume(all(torch.isfinite(g).all() for g in [want[0], *want[1]]))
    # A state that explodes saturates σ to exactly 0, where sqrt's derivative is 0/0: autograd
    # skips the last step's unused branch, the derived backward multiplies its zero gradient.
    assume(all(stepped(cell, xs, n_states, k).abs().max() < 50 for k in range(n_states)))
    assert hasattr(cell, "_step_backward"), "every function the generator draws has a derivative rule"
    assert_same(gradients(cell, xs, cell.scan), want)
    with torch.no_grad():
        torch.testing.assert_close(cell.scan(xs), want[0], **TOL)


@pytest.mark.parametrize(("spec", "n_states"), GENERIC)
def test_differentiating_a_scan_twice_fails_with_a_clear_message(spec, n_states):
    """The derived backward reads values the forward kept, with no graph: no second derivative.

    Before, create_graph=True hit "cat(): functions with out=... arguments don't support
    automatic differentiation" or an in-place view error, from inside the generated backward.
    """
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / f"{spec}.dot", params={"NIn": NIN, "NOut": NOUT}))
    xs = torch.randn(B, T, NIN, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError) as caught:
        torch.autograd.grad(cell.scan(xs).square().sum(), xs, create_graph=True)
    assert str(caught.value) == SCAN_DIFFERENTIATED_TWICE


def test_lstm_cells_scan_by_torch_lstm_differentiates_twice_as_stepping_forward():
    """A gradient penalty (the gradient of the input's gradient's norm) through torch's kernel."""
    torch.manual_seed(0)
    cell = randomized(dotnet.build(SPECS / "LSTMCell.dot", params={"NIn": NIN, "NOut": NOUT}))

    def penalty_gradients(run) -> list[torch.Tensor]:
        xs = torch.randn(B, T, NIN, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        xs.requires_grad_(True)
        (d_xs,) = torch.autograd.grad(run(xs).square().sum(), xs, create_graph=True)
        return list(torch.autograd.grad(d_xs.square().sum(), list(cell.parameters())))

    got = penalty_gradients(cell.scan)
    want = penalty_gradients(lambda x: stepped(cell, x, 2))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, **TOL)
