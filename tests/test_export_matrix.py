"""Every generated model wherever a PyTorch model goes: eager, torch.compile, TorchScript,
torch.export and ONNX (run in onnxruntime), all equal to eager at two batch sizes and, for
sequences, two sequence lengths; the exported forms take both with no re-export.

The table this checks is in docs/export.md.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import pytest
import torch
from torch import nn

import dotnet
from dotnet.compiler import Compiled, compile_spec
from dotnet.reading.symbolic import Dim
from tests.conftest import SPECS

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[test]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install -e '.[test]')")

RUN_TIME = ("BatchSize", "SeqLen")
"""The sizes a built model leaves free: every path must take any value of them."""
SIZES = [{"BatchSize": 2, "SeqLen": 5}, {"BatchSize": 3, "SeqLen": 7}]
EXAMPLE = {"BatchSize": 4, "SeqLen": 6}
"""What export traces with: neither 1 (which torch specialises) nor one of the sizes checked."""
TOL = {"rtol": 1e-4, "atol": 1e-5}


BLOCK_PARAMS = {
    "CAEConvBlock": {"BlockIn": 3, "BlockOut": 4},
    "CAEDeconvBlock": {"BlockIn": 4, "BlockOut": 3},
    "Inception": {"BlockIn": 4, "C1": 2, "C2a": 3, "C2b": 4, "C3a": 2, "C3b": 3, "C4": 2},
    "NiNBlock": {"BlockIn": 3, "BlockOut": 4, "Kernel": 3, "Stride": 2, "Pad": 1},
    "ResNet18ConvBlock": {"BlockC": 4},
    "ResNet18DownConvBlock": {"BlockIn": 4, "BlockOut": 6},
    "VGGBlock": {"BlockIn": 3, "BlockOut": 4, "NConvs": 2},
    "VGGConv": {"BlockIn": 3, "BlockOut": 4},
    "Bottleneck": {"BlockC": 8, "BlockMid": 2},
    "BottleneckDown": {"BlockIn": 4, "BlockMid": 2, "Stride": 2, "BlockOut": 8},
    "DoubleConv": {"BlockIn": 3, "BlockOut": 4},
    "InvertedBlock": {"BlockIn": 4, "Expand": 2, "Stride": 2, "BlockOut": 6},
    "InvertedResidual": {"BlockC": 4, "Expand": 2},
    "DenseLayer": {"In": 4, "GrowthRate": 2},
    "DenseBlock": {"LayerIn": 4, "GrowthRate": 2, "NLayers": 3},
    "TransitionLayer": {"BlockIn": 4, "BlockOut": 2},
    "VGG16ConvBlock": {"BlockIn": 3, "BlockOut": 4},
    "MobileNetV1DepthwiseSeparable": {"In": 4, "Out": 6, "Stride": 2},
    "SqueezeNetFire": {"In": 4, "Squeeze": 2, "Expand": 3},
    "ResNet20BasicBlock": {"C": 4},
    "ResNet20DownBlock": {"In": 4, "Out": 6},
}
"""Sizes for the blocks, whose specs leave them to the caller."""


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    blocks: tuple[tuple[str, str], ...] = ()

    @property
    def params(self) -> dict[str, int]:
        return BLOCK_PARAMS.get(self.spec, {})


CASES = [Case(p.stem, p.stem) for p in sorted(SPECS.glob("*.dot"))] + [
    Case(f"TimeRNN-{cell}", "TimeRNN", (("RNNCell", cell),)) for cell in ("LSTMCell", "GRUCell")
]
COMPILED = {"LeNet", "TimeRNN"}
"""torch.compile takes up to minutes per model on two cores: one recurrent model (whose scan
picks its path at run time) and one CNN are where it tells something."""
LARGE = {
    "AlexNet", "AlexNetParts", "VGG11", "VGG16", "GoogLeNet", "ResNet18", "ResNet50", "MobileNetV2", "DenseNet121",
    "MobileNetV1", "SqueezeNet",
}  # fmt: skip
"""Full-size ImageNet-style CNNs: tens of seconds per path, so marked slow."""


def matrix(cases: list[Case]) -> list:
    return [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.name in LARGE else []) for c in cases]


@functools.cache
def built(case: Case) -> tuple[Compiled, nn.Module]:
    blocks = dict(case.blocks)
    torch.manual_seed(0)
    model = dotnet.build(SPECS / f"{case.spec}.dot", blocks=blocks, params=case.params).eval()
    return compile_spec(SPECS / f"{case.spec}.dot", blocks=blocks, params=case.params), model


def inputs(compiled: Compiled, sizes: dict[str, int]) -> tuple[torch.Tensor, ...]:
    """Random inputs of the declared shapes, with the run-time sizes given."""
    generator = torch.Generator().manual_seed(sum(sizes.values()))
    bound = {s: Dim.const(v) for s, v in sizes.items()}
    tensors = []
    for spec in compiled.inputs:
        size = tuple(compiled.example_size(axis.size.substitute(bound)) for axis in spec.shape)
        if spec.integer:
            high = compiled.example_size(spec.high) if spec.high is not None else 2
            tensors.append(torch.randint(0, high, size, generator=generator))
        else:
            tensors.append(torch.randn(size, generator=generator))
    return tuple(tensors)


def dynamic_shapes(compiled: Compiled) -> tuple[dict[int, torch.export.Dim], ...]:
    """torch.export's dims: every axis that is a run-time size, one Dim per symbol."""
    dims = {s: torch.export.Dim(s, min=2) for s in RUN_TIME}
    return tuple(
        {k: dims[str(axis.size)] for k, axis in enumerate(spec.shape) if str(axis.size) in RUN_TIME}
        for spec in compiled.inputs
    )


RANDOM = {"VAE"}
"""Models that draw torch.randn in forward. Torch's own paths replay the same draws from the same
seed; onnxruntime has a generator of its own, so there the documented limit is shapes only."""


def check(case: Case, run, same_generator: bool = True) -> None:
    """``run`` equals eager at both sizes (only in shape where it draws from another generator)."""
    compiled, model = built(case)
    for sizes in SIZES:
        args = inputs(compiled, sizes)
        with torch.no_grad():
            torch.manual_seed(1)
            want = model(*args)
            torch.manual_seed(1)
            got = run(*args)
        for g, w in zip(_tuple(got), _tuple(want), strict=True):
            if same_generator or case.spec not in RANDOM:
                torch.testing.assert_close(torch.as_tensor(g), w, **TOL)
            else:
                assert torch.as_tensor(g).shape == w.shape


def _tuple(value) -> tuple:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


@pytest.mark.parametrize("case", matrix(CASES))
def test_torchscript(case):
    check(case, torch.jit.script(built(case)[1]))


@pytest.mark.parametrize("case", matrix(CASES))
def test_torch_export_with_dynamic_sizes(case):
    compiled, model = built(case)
    program = torch.export.export(model, inputs(compiled, EXAMPLE), dynamic_shapes=dynamic_shapes(compiled))
    check(case, program.module())


@pytest.mark.parametrize("case", matrix(CASES))
def test_onnx_in_onnxruntime(case, tmp_path):
    compiled, model = built(case)
    path = tmp_path / f"{case.name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model, inputs(compiled, EXAMPLE), dynamo=True, dynamic_shapes=dynamic_shapes(compiled), verbose=False
        )
    program.save(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(*args: torch.Tensor) -> list:
        return [torch.from_numpy(o) for o in session.run(None, {n: a.numpy() for n, a in zip(names, args)})]

    check(case, run, same_generator=False)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.name in COMPILED], ids=lambda c: c.name)
def test_torch_compile(case):
    check(case, torch.compile(built(case)[1]))


def test_compiled_scan_recompiles_for_each_sequence_length():
    """The documented limit (docs/export.md): dynamo unrolls the time loop, so a new length compiles again."""
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    compiled, model = built(Case("TimeRNN", "TimeRNN"))
    counter = CompileCounter()
    run = torch.compile(model, backend=counter)
    frames = []
    for steps in (5, 6, 7, 6):
        with torch.no_grad():
            torch.testing.assert_close(
                run(*inputs(compiled, {"BatchSize": 3, "SeqLen": steps})),
                model(*inputs(compiled, {"BatchSize": 3, "SeqLen": steps})),
                **TOL,
            )
        frames.append(counter.frame_count)
    assert frames[1] > frames[0] and frames[2] > frames[1]  # each new length: a new graph
    assert frames[3] == frames[2]  # a length seen before reuses its graph
