"""``OP x N`` whose args depend on the copy's index ``#Layer`` (issue 12): the shapes are proved.

The rule (docs/spec-language.md): the first copies run on numbers, each checked (all of
them when N is a number up to 4); through the shapes they make goes one polynomial in
``#Layer`` per size, and copy ``#Layer`` of that shape must make the shape for
``#Layer + 1``. Sizes that grow by any polynomial of degree up to 4 are proved for any N;
a progression of higher degree is an error that says so, whatever N is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dotnet import SpecError, compile_to_source
from dotnet.reading.symbolic import Dim
from dotnet.tools.summary import summarize

torch = pytest.importorskip("torch")

import dotnet  # noqa: E402


def spec(tmp_path: Path, times: str, width: str, out: str) -> Path:
    """``Linear x times`` from ``width(#Layer)`` to ``width(#Layer+1)`` features, then ``[BatchSize, out]``."""
    following = width.replace("#Layer", "(#Layer+1)")
    path = tmp_path / "Net.dot"
    path.write_text(
        "digraph Net {\n"
        '    inp [label="[BatchSize, 8]", shape=Mrecord]\n'
        f'    layers [label="Linear x {times}\\n[{width}, {following}]"]\n'
        f'    oup [label="[BatchSize, {out}]", shape=Mrecord]\n'
        "    inp -> layers -> oup\n}\n",
        encoding="utf-8",
    )
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        compile_to_source(path)
    return [d.format_text().replace(str(path.parent) + "/", "") for d in caught.value.diagnostics]


def parameters(width: int) -> int:
    return width * (width + 1)


def quadratic(k: int) -> int:
    return 8 + k * k


def test_sizes_that_grow_quadratically_are_proved_for_any_count(tmp_path: Path) -> None:
    path = spec(tmp_path, "NLayers", "8+#Layer*#Layer", "8+NLayers*NLayers")
    assert "nn.Linear(layer * layer + 8, layer * 2 + layer * layer + 9)" in compile_to_source(path)
    total = summarize(path).parameters
    for n in (1, 5, 7):
        expected = sum(quadratic(k) * quadratic(k + 1) + quadratic(k + 1) for k in range(n))
        assert total.substitute({"NLayers": Dim.const(n)}).int_value() == expected
        model = dotnet.build(path, params={"NLayers": n})
        assert sum(p.numel() for p in model.parameters()) == expected
        assert model(torch.zeros(2, 8)).shape == (2, quadratic(n))


def test_a_number_of_copies_above_the_probed_ones_is_proved_the_same_way(tmp_path: Path) -> None:
    path = spec(tmp_path, "6", "8+#Layer*#Layer", "8+6*6")
    model = dotnet.build(path)
    assert model(torch.zeros(3, 8)).shape == (3, 44)


def test_a_copy_that_breaks_the_chain_on_numbers_is_named_by_its_number(tmp_path: Path) -> None:
    path = spec(tmp_path, "3", "8+#Layer", "11")
    path.write_text(path.read_text().replace("8+(#Layer+1)]", "9+#Layer*2]"), encoding="utf-8")
    assert errors_of(path) == [
        "Net.dot:3:5: error: node 'layers': Linear: In=#Layer+8 but its input's last dimension is 11 "
        "(copy #Layer=2) [arg-mismatch]"
    ]


QUARTIC = "-#Layer*24+#Layer*#Layer*50-#Layer*#Layer*#Layer*35+#Layer*#Layer*#Layer*#Layer*10+8"
"""The polynomial through the sizes of the first four copies of ``8+#Layer**5`` (8, 9, 40, 251, 1032)."""
CUBIC = "#Layer*36-#Layer*#Layer*60+#Layer*#Layer*#Layer*25+8"
"""The same through the first three (the count is 3)."""


@pytest.mark.parametrize(("times", "followed"), [("NLayers", QUARTIC), ("6", QUARTIC), ("3", CUBIC)])
def test_a_progression_of_higher_degree_is_an_error_that_states_the_limit(
    tmp_path: Path, times: str, followed: str
) -> None:
    path = spec(tmp_path, times, "8+#Layer*#Layer*#Layer*#Layer*#Layer", "8")
    assert errors_of(path) == [
        f"Net.dot:3:5: error: node 'layers': repeating Linear x ({times}): copy #Layer does not take "
        f"[BatchSize, {followed}], the shape its first copies follow: the sizes of a repetition over #Layer "
        "must follow one polynomial in #Layer of degree at most 4 [arg-mismatch]"
    ]
