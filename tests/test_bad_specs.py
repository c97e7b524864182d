"""Bad specs: each gives its exact diagnostic and exit code, writes no file, executes nothing.

Every spec in tests/bad_specs/ is compiled as a user would (``python -m dotnet compile``)
from the repository root. Several hide code in labels, node ids or the digraph's
name that would create a file named CANARY if it were ever executed.
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO, run_cli

SPEC_DIR = "tests/bad_specs"

CASES = [
    ("syntax_error", 1, "{spec}:4:9: error: expected an attribute name, found '->' [syntax-error]"),
    (
        "unknown_op",
        1,
        "{spec}:3:5: error: node 'conv': no op or block named 'Conv4D'; did you mean 'Conv3D' or 'Conv2D' or "
        "'Conv1D'? (a block is a digraph in the same document, a file Conv4D.dot next to the spec, "
        "or one bound with --block Conv4D=GRAPH) [unknown-op]",
    ),
    (
        "shape_mismatch",
        1,
        "{spec}:4:5: error: node 'featmap_e2': declared [BatchSize, W=64, H=64, C=32] "
        "but 'conv2' produces [BatchSize, W=64, H=64, C=16] [shape-mismatch]",
    ),
    ("channel_mismatch", 1, "{spec}:3:5: error: node 'conv': Conv2D: In=16 but its input has C=3 [arg-mismatch]"),
    ("missing_arg", 1, "{spec}:3:5: error: node 'conv': Conv2D: missing argument 'Out' [bad-arg]"),
    (
        "non_numeric_arg",
        1,
        "{spec}:3:5: error: node 'conv': argument 'K=3 by 3' is not a number or size expression: "
        "unexpected 'by' in '3 by 3' [bad-label]",
    ),
    ("cycle", 1, "{spec}:4:5: error: node 'relu': the edges form a cycle: relu -> add -> relu [cycle]"),
    (
        "code_in_args",
        1,
        "{spec}:3:5: error: node 'conv': argument \"K=__import__('os').system('touch CANARY')\" is not a number "
        "or size expression: unexpected \"'\" in \"__import__('os').system('touch CANARY')\" [bad-label]",
    ),
    (
        "code_in_dims",
        1,
        "{spec}:2:5: error: node 'inp': dimension 'W=exec(\\'open(\"CANARY\", \"w\")\\')': "
        'unexpected "\'" in \'exec(\\\'open("CANARY", "w")\\\')\' [bad-label]',
    ),
    (
        "code_in_graph_name",
        1,
        "{spec}:1:1: error: digraph name 'Net(nn.Module):\\\\n    pass\\\\nimport os;...' cannot name a Python "
        "class: use letters, digits and '_' [bad-name]",
    ),
    (
        "keyword_graph_name",
        1,
        "{spec}:1:1: error: digraph name 'class' is a Python keyword; rename it [bad-name]",
    ),
    (
        "dunder_graph_name",
        1,
        "{spec}:1:1: error: digraph name '__class__' is a name Python reserves or mangles (it starts with '__'); "
        "rename it [bad-name]",
    ),
    ("builtin_graph_name", 1, "{spec}:1:1: error: digraph name 'print' is a Python builtin; rename it [bad-name]"),
    (
        "bad_attribute_value",
        1,
        "{spec}:1:1: error: digraph 'Attr': attribute NIn='eight': 'eight' is not a whole number: "
        "write ASCII digits 0-9 [bad-param]",
    ),
    ("empty", 1, "{spec}:1:1: error: the file holds no digraph [no-digraph]"),
    ("binary", 1, "{spec}:1:1: error: binary data (a NUL byte at offset 11), not a text file [io-error]"),
    ("huge_label", 1, "{spec}:3:5: error: node 'relu': label of 5005 characters exceeds the limit of 4096 [bad-label]"),
    (
        "nested_brackets",
        1,
        "{spec}:2:5: error: node 'inp': dimension '(((((((((((((((((((((((((((((((((((((((((((((((((((((((((...': "
        "parentheses nested deeper than 32 [bad-label]",
    ),
    (
        "unknown_block",
        1,
        "{spec}:3:5: error: node 'down': no op or block named 'DownBlock1' or 'DownBlock' (a block is a digraph "
        "in the same document, a file DownBlock.dot next to the spec, or one bound with --block DownBlock=GRAPH) "
        "[unknown-op]",
    ),
    (
        "odd_width",
        1,
        "{spec}:11:5: error: node 'oup': W=BlockW/2 is 255/2, not a whole positive size "
        "(in call 'conv1' at {spec}:3:5) [not-integral]",
    ),
    ("undirected", 1, "{spec}:1:1: error: an undirected 'graph' is not a spec: write 'digraph' [syntax-error]"),
    (
        "two_inputs_to_tensor",
        1,
        "{spec}:4:5: error: node 'c': a tensor node takes one incoming edge, got 2 ('a', 'b') [bad-edge]",
    ),
    (
        "unbound_block_symbol",
        1,
        "{spec}:1:1: error: Unbound needs a value for NIn, NOut to be built: pass --param NIn=VALUE "
        "--param NOut=VALUE or set it as a digraph attribute [unbound-symbol]",
    ),
    ("code_in_node_id", 0, "wrote {out}"),
]


@pytest.mark.parametrize(("name", "exit_code", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_spec(name, exit_code, expected, tmp_path):
    spec = f"{SPEC_DIR}/{name}.dot"
    out = tmp_path / "Out.py"
    canary = REPO / "CANARY"
    canary.unlink(missing_ok=True)

    result = run_cli("compile", spec, "-o", out, cwd=REPO)

    line = expected.format(spec=spec, out=out)
    stream = result.stdout if exit_code == 0 else result.stderr
    assert line in stream.splitlines(), f"expected line not found:\n{line}\n--- got:\n{stream}"
    assert result.code == exit_code
    assert "Traceback" not in result.stderr
    assert out.exists() == (exit_code == 0)
    assert not canary.exists(), "label text was executed"
    assert not list(tmp_path.glob(".Out.*")), "a temporary file was left behind"


def test_every_bad_spec_has_a_case():
    files = sorted(p.stem for p in (REPO / SPEC_DIR).glob("*.dot"))
    assert files == sorted(c[0] for c in CASES)


def test_code_shaped_node_ids_become_inert_identifiers(tmp_path):
    out = tmp_path / "Out.py"
    run_cli("compile", f"{SPEC_DIR}/code_in_node_id.dot", "-o", out, cwd=REPO)
    code = out.read_text()
    assert "self.class_ = nn.Tanh()" in code
    assert "self.def_ = nn.Sigmoid()" in code
    assert "self.import___os_system_touch_CANARY = nn.ReLU()" in code
    statements = [ln for ln in code.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert not any("system(" in ln.split("#")[0] for ln in statements)
