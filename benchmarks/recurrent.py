"""Time a training step of the generated TimeRNN against hand-written and built-in recurrences.

For each cell of specs/ (RNNCell, LSTMCell, SeedLSTMCell: the seed's ``H = C * tanh(O)``,
GRUCell: the seed's reset before the recurrent product), in one run:

- ``generated``: TimeRNN compiled by dotnet with ``--block RNNCell=<cell>``. LSTMCell is torch's
  LSTM, so its scan is ``torch.lstm`` (the kernel nn.LSTM calls); the others' training scan
  runs ``RecurrentScan`` (input projections hoisted, gates fused, the recurrent weight's
  gradient one product after the loop);
- ``loop``: the same model with its scan stepped under plain autograd (``_loop``: autograd
  adds up one small weight-gradient product per step, as the scan before ``RecurrentScan``
  did, and its writes into the preallocated output are copies autograd tracks);
- ``naive``: the same weights run by a hand-written loop, one matmul per gate and step;
- ``torch``: ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` of the same sizes: oneDNN's fused RNN kernels
  on a CPU that has them, cuDNN on a GPU; ``native``: the same with oneDNN off (torch's per-step
  kernels); ``compiled`` (with ``--compiled``): the generated model under ``torch.compile``
  (its scan then steps ``_loop``, which the compiler unrolls and fuses; compiling is untimed,
  in the warm-up rounds). Where the cell is another formula (RNNCell's sigmoid against
  nn.RNN's tanh, SeedLSTMCell against nn.LSTM, the seed's GRU with the reset gate before the
  recurrent matmul against nn.GRU's after it) the work is the same, the formula another.

A step is forward and backward of ``mean(output ** 2)``, gradients dropped before it as
``optimizer.zero_grad()`` does. Times are medians; ratios are the median of the per-round
ratios (the runs take turns), with the lowest and highest in brackets.

    python benchmarks/recurrent.py                 # cuda when available, else cpu
    python benchmarks/recurrent.py --device cpu --batch 16 --steps 32 --hidden 128 --repeats 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dotnet  # noqa: E402  (the checkout's dotnet, not an installed one)

CELLS = {"RNN": "RNNCell", "LSTM": "LSTMCell", "SeedLSTM": "SeedLSTMCell", "GRU": "GRUCell"}
TORCH = {"RNN": nn.RNN, "LSTM": nn.LSTM, "SeedLSTM": nn.LSTM, "GRU": nn.GRU}
"""The torch.nn layer each cell is timed against."""


def naive_rnn(cell: nn.Module, xs: torch.Tensor) -> torch.Tensor:
    h = xs.new_zeros(xs.shape[0], cell.w_h.shape[0])
    outputs = []
    for t in range(xs.shape[1]):
        h = torch.sigmoid(xs[:, t] @ cell.w_x + h @ cell.w_h + cell.b)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def naive_lstm(cell: nn.Module, xs: torch.Tensor, seed: bool = False) -> torch.Tensor:
    """The textbook LSTM step by step; ``seed``: the seed's ``H = C * tanh(O)`` instead of ``O * tanh(C)``."""
    h = c = xs.new_zeros(xs.shape[0], cell.U_f.shape[0])
    outputs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]
        f = torch.sigmoid(x @ cell.W_f + h @ cell.U_f + cell.b_f)
        i = torch.sigmoid(x @ cell.W_i + h @ cell.U_i + cell.b_i)
        cand = torch.tanh(x @ cell.W_c + h @ cell.U_c + cell.b_c)
        o = torch.sigmoid(x @ cell.W_o + h @ cell.U_o + cell.b_o)
        c = f * c + i * cand
        h = c * torch.tanh(o) if seed else o * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1)


def naive_gru(cell: nn.Module, xs: torch.Tensor) -> torch.Tensor:
    h = xs.new_zeros(xs.shape[0], cell.U_z.shape[0])
    outputs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]
        z = torch.sigmoid(x @ cell.W_z + h @ cell.U_z + cell.b_z)
        r = torch.sigmoid(x @ cell.W_r + h @ cell.U_r + cell.b_r)
        cand = torch.tanh(x @ cell.W_h + (h * r) @ cell.U_h + cell.b_h)
        h = (1 - z) * h + z * cand
        outputs.append(h)
    return torch.stack(outputs, dim=1)


NAIVE = {"RNN": naive_rnn, "LSTM": naive_lstm, "SeedLSTM": partial(naive_lstm, seed=True), "GRU": naive_gru}


def step_times(
    runs: dict[str, Callable[[], torch.Tensor]],
    device: str,
    repeats: int,
    clock: Callable[[], float],
    params: list[nn.Parameter],
) -> dict[str, list[float]]:
    """Seconds of each forward and backward pass of each run, after two warm-up rounds.

    The runs take turns, so a change in the machine's load during the benchmark
    affects all of them alike rather than whichever happened to run then; round k of
    one run is compared with round k of another. Before each step the gradients are
    dropped, as ``optimizer.zero_grad()`` does in a training loop (untimed).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for k in range(repeats + 2):
        for name, run in runs.items():
            for p in params:
                p.grad = None
            if device == "cuda":
                torch.cuda.synchronize()
            start = clock()
            run().square().mean().backward()
            if device == "cuda":
                torch.cuda.synchronize()
            if k >= 2:
                times[name].append(clock() - start)
    return times


def ratio(times: dict[str, list[float]], over: str, under: str) -> str:
    """Median of the per-round ratios ``over / under``, with their lowest and highest."""
    if over not in times or under not in times:
        return "-"
    rounds = sorted(a / b for a, b in zip(times[over], times[under]))
    return f"{statistics.median(rounds):.2f} ({rounds[0]:.2f}-{rounds[-1]:.2f})"


def step_by_step(module: object) -> Callable[[], None]:
    """Make the generated module's cells scan one step at a time under autograd; returns the undo.

    That is the training scan as it was before ``RecurrentScan``: autograd through every
    step, the recurrent weight's gradient summed from one small product per step (for a cell
    that is torch's recurrence too, not torch's kernel).
    """
    real = module.scan_cell  # type: ignore[attr-defined]
    kernel = getattr(module, "library_kernel_runs", None)

    def scan_cell(step, loop, inputs, states, weight=None, multiplies=0, output=0, params=(), **training):  # noqa: ANN001, ANN003
        return loop(*inputs, *([] if weight is None else [weight]), *states)

    def undo() -> None:
        module.scan_cell = real  # type: ignore[attr-defined]
        if kernel is not None:
            module.library_kernel_runs = kernel  # type: ignore[attr-defined]

    module.scan_cell = scan_cell  # type: ignore[attr-defined]
    if kernel is not None:  # a cell that is torch's recurrence: its own step, not torch's kernel
        module.library_kernel_runs = lambda: False  # type: ignore[attr-defined]
    return undo


def bench_cell(label: str, cell: str, xs: torch.Tensor, sizes: dict[str, int], args: argparse.Namespace) -> str:
    """One line of the table: the timings of one cell and their ratios."""
    device = args.device
    model = dotnet.build(ROOT / "specs" / "TimeRNN.dot", params=sizes, blocks={"RNNCell": cell}, device=device)
    layers = [model.rnn1, *model.rnn_rest]

    def naive() -> torch.Tensor:
        out = xs
        for layer in layers:
            out = NAIVE[label](layer, out)
        return model.ll(out)

    def loop() -> torch.Tensor:
        undo = step_by_step(sys.modules[type(model).__module__])
        try:
            return model(xs)
        finally:
            undo()

    with torch.no_grad():
        gap = (model(xs) - naive()).abs().max().item()
    assert gap < 1e-3, f"{label}: generated and naive differ by {gap}"
    runs: dict[str, Callable[[], torch.Tensor]] = {"generated": lambda: model(xs)}
    if args.loop:
        runs["loop"] = loop
    if args.naive:
        runs["naive"] = naive
    builtin = TORCH[label](args.features, args.hidden, args.layers, batch_first=True).to(device)
    runs["torch"] = lambda: model.ll(builtin(xs)[0])

    def native() -> torch.Tensor:
        """The torch.nn layer with oneDNN off: torch's per-step kernels under autograd."""
        with torch.backends.mkldnn.flags(enabled=False):
            return model.ll(builtin(xs)[0])

    if device == "cpu":
        runs["native"] = native
    if args.compiled:
        compiled = torch.compile(model)
        runs["compiled"] = lambda: compiled(xs)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    t = step_times(runs, device, args.repeats, clock, [*model.parameters(), *builtin.parameters()])
    ms = {name: f"{statistics.median(v) * 1e3:.1f}" for name, v in t.items()}
    cells = [ms["generated"], ms.get("loop", "-"), ms.get("naive", "-"), ms.get("torch", "-"), ms.get("native", "-")]
    cells += [ratio(t, "generated", "torch"), ratio(t, "loop", "torch"), ratio(t, "generated", "native")]
    cells += [ratio(t, "loop", "generated")]
    if args.compiled:
        cells += [ms["compiled"], ratio(t, "compiled", "torch")]
    return "| " + " | ".join([label, *cells]) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated, of " + ", ".join(CELLS))
    parser.add_argument("--no-naive", dest="naive", action="store_false", help="skip the naive loop (slow)")
    parser.add_argument("--no-loop", dest="loop", action="store_false", help="skip the autograd loop (slow)")
    parser.add_argument("--compiled", action="store_true", help="also time torch.compile of the model (slow)")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: this process's CPU time (with --threads 1, what a step costs on a shared machine)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    torch.manual_seed(0)
    xs = torch.randn(args.batch, args.steps, args.features, device=device)
    sizes = {"NFeature": args.features, "NHidden": args.hidden, "NLayers": args.layers, "NLabels": 10}
    where = torch.cuda.get_device_name() if device == "cuda" else f"{torch.get_num_threads()} threads"
    builtin = "cuDNN" if device == "cuda" else "torch"
    print(
        f"device={device} ({where})"
        f" batch={args.batch} steps={args.steps} features={args.features} hidden={args.hidden}"
        f" layers={args.layers} repeats={args.repeats} clock={args.clock} torch={torch.__version__}"
    )
    compiled = f" compiled ms | compiled/{builtin} |" if args.compiled else ""
    print(
        f"| cell | generated ms | loop ms | naive ms | {builtin} ms | native ms"
        f" | gen/{builtin} | loop/{builtin} | gen/native | loop/gen |{compiled}"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.compiled else ""))
    for label in args.cells.split(","):
        print(bench_cell(label, CELLS[label], xs, sizes, args), flush=True)


if __name__ == "__main__":
    main()
