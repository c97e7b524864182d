"""Ops never change once built: what inference resolves is returned as facts and kept in the analysis.

The contract (docs/architecture.md, "Adding an op"): ``Op.infer`` returns an
:class:`~dotnet.ops.base.Inferred` (the output shape, the op's frozen facts); the
``Analysis`` keeps them by node id; costs and code generation pass them back.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import dotnet
from dotnet.analysis.blocks import BlockCall, CallFacts
from dotnet.analysis.infer import Analysis, Env
from dotnet.analysis.resolve import Library
from dotnet.compiler import analyse
from dotnet.diagnostics import Report
from dotnet.ops.base import Inferred
from dotnet.ops.conv import ConvFacts
from dotnet.reading.shape import Axis
from dotnet.reading.symbolic import Dim
from tests.conftest import SPECS
from tests.test_ops_cnn import one_op_spec

SPEC_FILES = sorted(SPECS.glob("*.dot"))


def _every_analysis(analysis: Analysis) -> list[Analysis]:
    """The analysis and, through its block calls' facts, every run of a block inside it."""
    found = [analysis]
    for node_id, op in analysis.ops.items():
        if isinstance(op, BlockCall):
            found += _every_analysis(analysis.facts(node_id).run)
    return found


@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda p: p.stem)
def test_every_op_of_every_spec_is_immutable_and_has_facts(spec: Path) -> None:
    _, top = analyse(spec)
    for analysis in _every_analysis(top):
        assert set(analysis.results) == set(analysis.ops)
        for node_id, op in analysis.ops.items():
            result = analysis.results[node_id]
            assert isinstance(result, Inferred)
            assert result.shape == analysis.shapes[node_id]
            if dataclasses.is_dataclass(result.facts):
                assert type(result.facts).__dataclass_params__.frozen  # type: ignore[attr-defined]
            with pytest.raises(AttributeError, match="immutable once built"):
                op.node = op.node


def test_one_op_keeps_no_trace_of_the_runs_that_inferred_it(tmp_path: Path) -> None:
    """The rank-free ``Conv`` inferred on a signal, then on an image: each run's facts, the op unchanged."""
    library, analysis = analyse(one_op_spec(tmp_path, "Conv[K=3, Out=2]", ("[BatchSize, L=12, C=4]",)))
    op = analysis.ops["op"]
    before = dict(vars(op))
    env = analysis_env(library, analysis)
    signal = op.infer([analysis.shapes["x0"]], env)
    batch, channels, length = analysis.shapes["x0"]
    image = op.infer([(batch, channels, Axis("H", Dim.const(8)), length)], env)
    assert vars(op) == before
    assert isinstance(signal.facts, ConvFacts) and isinstance(image.facts, ConvFacts)
    assert (signal.facts.rank, image.facts.rank) == (1, 2)
    assert (signal.shape[2:], len(image.shape)) == ((Axis("L", Dim.const(10)),), 4)
    assert signal.facts.channels_in == image.facts.channels_in  # both read C=4 from the input
    assert analysis.facts("op") == signal.facts


def analysis_env(library: Library, analysis: Analysis) -> Env:
    """A fresh inference run over ``analysis.graph`` with its shapes known (what ops may ask of it)."""
    env = Env(analysis.graph, library, Report(), {}, ())
    env.shapes.update(analysis.shapes)
    return env


def test_a_block_called_twice_gets_one_record_per_call() -> None:
    """ResNet-50's BottleneckDown is called with different sizes; each call's facts hold its own run."""
    _, analysis = analyse(SPECS / "ResNet50.dot")
    calls = {n: analysis.facts(n) for n, op in analysis.ops.items() if isinstance(op, BlockCall)}
    down = [f for f in calls.values() if isinstance(f, CallFacts) and f.callee == "BottleneckDown"]
    assert len(down) >= 2
    assert len({tuple(sorted((k, str(v)) for k, v in f.bound.items())) for f in down}) == len(down)
    assert len({id(f.run) for f in down}) == len(down)


def test_compiling_again_with_other_params_gives_the_same_code_as_before(tmp_path: Path) -> None:
    """No run leaves anything behind that the next one reads: A, then B, then A again gives A's code."""
    spec = SPECS / "ResNet18.dot"
    first = dotnet.compile_to_source(spec)
    other = dotnet.compile_to_source(spec, params={"NClasses": 7, "InC": 1})
    again = dotnet.compile_to_source(spec)
    assert first == again
    assert other != first
