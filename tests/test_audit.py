"""The audit of generated source: every golden module passes, anything the generator does not emit fails."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dotnet.cli import main
from dotnet.codegen import source, wrap
from dotnet.codegen.audit import AuditError, audit
from tests.conftest import SPECS
from tests.golden_files import GOLDEN

CLEAN = (GOLDEN / "RNNCell.py").read_text(encoding="utf-8")
MARKER = "        xw, xb, uw = self._gate_weights()"
"""The first line of ``forward``."""


def _line_of(text: str) -> int:
    return CLEAN[: CLEAN.index(text)].count("\n") + 1


FORWARD, IMPORT, ALL, CLASS = (
    _line_of(t) for t in (MARKER, "from torch import nn", "__all__", "class RNNCell(nn.Module):")
)


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.py")), ids=lambda p: p.stem)
def test_every_golden_module_passes_the_audit(golden):
    audit(golden.read_text(encoding="utf-8"))


def _with_forward_line(line: str) -> str:
    """The RNNCell golden module with ``line`` as the first statement of ``forward``."""
    assert MARKER in CLEAN
    return CLEAN.replace(MARKER, f"        {line}\n{MARKER}", 1)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (_with_forward_line("os.system(0)"), f"line {FORWARD}: name 'os' is bound nowhere in the module"),
        (_with_forward_line("import os"), f"line {FORWARD}: import of os"),
        (_with_forward_line("x = 'rm -rf'"), f"line {FORWARD}: constant 'rm -rf' is not one dotnet generates"),
        (_with_forward_line("__import__"), f"line {FORWARD}: dunder name '__import__'"),
        (_with_forward_line("exec(x)"), f"line {FORWARD}: name 'exec' is bound nowhere in the module"),
        (_with_forward_line("eval(x)"), f"line {FORWARD}: name 'eval' is bound nowhere in the module"),
        (_with_forward_line("x.__class__"), f"line {FORWARD}: dunder name '__class__'"),
        (_with_forward_line("x = f'{x}'"), f"line {FORWARD}: JoinedStr is not something dotnet generates"),
        (_with_forward_line("x = lambda: 0"), f"line {FORWARD}: Lambda is not something dotnet generates"),
        (_with_forward_line("x = b'x'"), f"line {FORWARD}: constant b'x' is not one dotnet generates"),
        (_with_forward_line("x = x\n        'a string'"),
         f"line {FORWARD + 1}: constant 'a string' is not one dotnet generates"),
        (CLEAN.replace("from torch import nn", "from os import system"),
         f"line {IMPORT}: import from 'os' is not one dotnet writes"),
        (CLEAN.replace("from torch import nn", "from torch import nn as F"),
         f"line {IMPORT}: import from 'torch' is not one dotnet writes"),
        (CLEAN.replace("class RNNCell(nn.Module):", "@staticmethod\nclass RNNCell(nn.Module):"),
         f"line {CLASS + 1}: decorator on RNNCell"),
        (CLEAN.replace("class RNNCell(nn.Module):", "class RNNCell(object):"),
         f"line {CLASS}: class RNNCell is not a plain nn.Module"),
        (CLEAN.replace('__all__ = ["RNNCell"]', '__all__ = ["RNNCell", "os"]'),
         f"line {ALL}: constant 'os' is not one dotnet generates"),
        (_with_forward_line("raise RuntimeError('rm -rf')"),
         f"line {FORWARD}: constant 'rm -rf' is not one dotnet generates"),
        (CLEAN + "\n'''", "generated source does not parse: unterminated triple-quoted string literal"),
    ],
    ids=[
        "os.system", "import", "extra-string", "__import__", "exec", "eval", "dunder-attribute", "f-string",
        "lambda", "bytes", "string-statement", "from-os", "import-as", "decorator", "base-class",
        "__all__-extra", "unparsable", "raise-another-message",
    ],
)  # fmt: skip
def test_modules_the_generator_would_not_write_fail_the_audit(module, message):
    with pytest.raises(AuditError) as caught:
        audit(module)
    assert str(caught.value).startswith(message)


def test_a_module_that_fails_the_audit_is_an_internal_error_and_is_not_written(tmp_path, monkeypatch):
    """Were escaping ever skipped, the audit stops the module: exit 3, no file, no canary."""
    monkeypatch.setattr(source, "doc_text", lambda text: text)
    monkeypatch.setattr(wrap, "doc_text", lambda text: text)
    canary = tmp_path / "CANARY"
    payload = f'""";open("{canary}", "w");"""'.replace('"', '\\"')
    spec = tmp_path / "RNNCell.dot"
    spec.write_text(
        (SPECS / "RNNCell.dot").read_text(encoding="utf-8").replace("H[t", f"{payload}H[t"), encoding="utf-8"
    )
    out = tmp_path / "out.py"
    result = CliRunner().invoke(main, ["compile", str(spec), "-o", str(out)])
    assert result.exit_code == 3, result.output
    assert "internal error: AuditError: " in result.output
    assert not out.exists()
    assert not canary.exists()
    assert list(tmp_path.iterdir()) == [spec]
