"""Review warnings on the repository's specs and on the seed document's own slips (errata 1, 4, 7)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dotnet import codes
from dotnet.diagnostics import Diagnostic
from dotnet.tools.check import check_source
from tests.conftest import REPO


def warnings(found: list[Diagnostic]) -> list[str]:
    """Each warning as ``LINE:COL: warning: message [code]``."""
    return [d.format_text()[len(d.location.file) + 1 :] for d in found if d.severity == "warning" and d.location]


def test_relu_inside_a_block_then_tanh_is_seen_through_the_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped spec silences this warning on 'tanh'; a copy without the attribute shows it."""
    (tmp_path / "specs").mkdir()
    for name in ("CAEConvBlock.dot", "CAEDeconvBlock.dot"):
        shutil.copy(REPO / "specs" / name, tmp_path / "specs" / name)
    shipped = (REPO / "specs" / "ConvAutoEncoder.dot").read_text(encoding="utf-8")
    silenced = ', dotnet_ignore="activation-range"'
    assert silenced in shipped
    (tmp_path / "specs" / "ConvAutoEncoder.dot").write_text(shipped.replace(silenced, ""), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found = check_source(Path("specs/ConvAutoEncoder.dot"), {})
    assert [d.format_text() for d in found] == [
        "specs/ConvAutoEncoder.dot:33:5: warning: node 'tanh': Tanh follows the Relu 'relu' at the end of block "
        "CAEDeconvBlock (called by 'upconv1'), so output 'oup' lies in [0, 1), not in (-1, 1) [activation-range]"
    ]


def test_the_seed_documents_slips_are_warned_about(seed_document: Path) -> None:
    found = check_source(seed_document, {})
    assert {
        "17:1: warning: digraph 'GRUCell' is named like a GRU but computes an LSTM: "
        "two state inputs H[t-1] and C[t-1], gate F[t](遗忘门) [cell-name]",
        "19:1: warning: digraph 'LSTMCell' is named like an LSTM but computes a GRU: "
        "gate Z[t](更新门), gate R[t](复位门) [cell-name]",
        "13:511: warning: node 'oup': output '输出(单词概率)' is called probabilities, but no Softmax or Sigmoid "
        "is drawn before it: 'emb_w_t' yields logits [missing-softmax]",
    } <= set(warnings(found))


def test_a_state_only_a_formula_names_is_not_called_isolated(seed_document: Path) -> None:
    """The LSTM's C[t-1] has no edge, but its formula names it: the formula's own warning covers that."""
    found = check_source(seed_document, {})
    assert not [d for d in found if d.code == codes.ISOLATED_NODE]


def test_a_node_named_only_in_an_unrelated_label_is_still_isolated(tmp_path: Path) -> None:
    spec = tmp_path / "Cell.dot"
    spec.write_text(
        'digraph Cell { c [label="C[t-1](state)\\n[B, N]", shape="Mrecord"] '
        'x [label="X[t](input)\\n[B, N]", shape="Mrecord"] t [label="Tanh"] '
        'h [label="H[t](output)\\n[B, N]", shape="Mrecord"] cc [label="CC[t-1] + 1"] x -> t -> h }',
        encoding="utf-8",
    )
    assert [(d.node, d.code) for d in check_source(spec, {}) if d.code == codes.ISOLATED_NODE] == [
        ("c", "isolated-node"),
        ("cc", "isolated-node"),
    ]


def test_review_checks_survive_cycles_and_self_calls(tmp_path: Path) -> None:
    spec = tmp_path / "Loop.dot"
    spec.write_text(
        'digraph Loop { a [label="Relu"] b [label="Tanh"] c [label="Loop"] '
        'o [label="P(概率)\\n[N]", shape="Mrecord"] a -> b -> a  b -> c -> o }',
        encoding="utf-8",
    )
    found = check_source(spec, {})
    assert codes.CYCLE in {d.code for d in found}
    assert codes.MISSING_SOFTMAX in {d.code for d in found}


@pytest.mark.parametrize(("last", "warned"), [("Sigmoid", False), ("Linear[N, N]", True)])
def test_probabilities_from_a_block_are_judged_by_the_blocks_last_op(tmp_path: Path, last: str, warned: bool) -> None:
    spec = tmp_path / "Model.dot"
    spec.write_text(
        'digraph Model { i [label="[B, N]", shape=Mrecord] h [label="Head"] '
        'o [label="输出(概率)\\n[B, N]", shape=Mrecord] i -> h -> o }\n'
        f'digraph Head {{ i [label="[B, N]", shape=Mrecord] a [label="{last}"] '
        'o [label="[B, N]", shape=Mrecord] i -> a -> o }\n',
        encoding="utf-8",
    )
    found = check_source(spec, {})
    assert [d.code for d in found] == ([codes.MISSING_SOFTMAX] if warned else [])


def _classifier(tmp_path: Path, last: str, title: str) -> list[str]:
    """The warnings of a Linear classifier ending in op ``last`` (or nothing) and titled ``title``."""
    nodes = f'    s [label="{last}"]\n' if last else ""
    chain = "a -> l -> s -> o" if last else "a -> l -> o"
    spec = tmp_path / "Classifier.dot"
    spec.write_text(
        "digraph Classifier {\n"
        '    a [label="输入\\n[B, 4]", shape=Mrecord]\n'
        '    l [label="Linear[4, 3]"]\n'
        f"{nodes}"
        f'    o [label="{title}\\n[B, 3]", shape=Mrecord]\n'
        f"    {chain}\n"
        "}\n",
        encoding="utf-8",
    )
    return warnings(check_source(spec, {}))


def test_log_probabilities_after_a_log_softmax_are_not_warned_about(tmp_path: Path) -> None:
    assert _classifier(tmp_path, "LogSoftmax[dim=-1]", "输出(log-probabilities)") == []
    assert _classifier(tmp_path, "LogSoftmax[dim=-1]", "输出(对数概率)") == []
    assert _classifier(tmp_path, "Softmax", "输出(概率)") == []


def test_log_probabilities_without_a_log_softmax_are_warned_about(tmp_path: Path) -> None:
    assert _classifier(tmp_path, "", "输出(log-probabilities)") == [
        "4:5: warning: node 'o': output '输出(log-probabilities)' is called probabilities, "
        "but no Softmax or Sigmoid is drawn before it: 'l' yields logits [missing-softmax]"
    ]


def _upsampled(tmp_path: Path, mode: str) -> list[str]:
    """The warnings of ReLU, then UpSample in ``mode``, then Tanh as the output."""
    spec = tmp_path / "Up.dot"
    spec.write_text(
        "digraph Up {\n"
        '    a [label="输入\\n[B, W=4, H=4, C=2]", shape=Mrecord]\n'
        '    r [label="ReLU"]\n'
        f'    u [label="UpSample[S=2, mode={mode}]"]\n'
        '    t [label="Tanh"]\n'
        '    o [label="输出\\n[B, W=8, H=8, C=2]", shape=Mrecord]\n'
        "    a -> r -> u -> t -> o\n"
        "}\n",
        encoding="utf-8",
    )
    return warnings(check_source(spec, {}))


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_nearest_and_bilinear_upsampling_keep_the_range(tmp_path: Path, mode: str) -> None:
    """Their outputs lie between input values, so ReLU's [0, inf) reaches Tanh through them."""
    assert _upsampled(tmp_path, mode) == [
        "5:5: warning: node 't': Tanh follows the Relu 'r', so output 'o' lies in [0, 1), not in (-1, 1) "
        "[activation-range]"
    ]


def test_bicubic_upsampling_does_not_keep_the_range(tmp_path: Path) -> None:
    """Bicubic weights are negative in places: it overshoots, so a non-negative input can give negatives."""
    assert _upsampled(tmp_path, "bicubic") == []
