"""dotnet's limits: every hostile input is refused with a located error, and nothing hangs.

Each case runs the command line in a subprocess; the timeout there only guards
against a hang (the cases take well under a second each). docs/spec-language.md,
"Limits", lists the limits these tests hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dotnet.limits import MAX_NODES, MAX_OPERANDS, MAX_REPEAT
from tests.conftest import REPO, SPECS, CliResult

HANG_GUARD = 120
"""Seconds after which a case counts as a hang; never a measure of speed."""
TENSOR = 'shape="Mrecord"'


def dotnet(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> CliResult:
    """``python -m dotnet ARGS`` in ``cwd``; a hang fails the test instead of stalling the suite."""
    proc = subprocess.run(
        [sys.executable, "-m", "dotnet", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def chain(name: str, op: str, shape: str = "[B, N]", head: str = "") -> str:
    """A digraph: input, one op node ``r`` on line 4, output (``head`` goes on line 2)."""
    return (
        f'digraph {name} {{\n  {head}\n  i [label="{shape}", {TENSOR}]\n  r [label="{op}"]\n'
        f'  o [label="{shape}", {TENSOR}]\n  i -> r -> o\n}}\n'
    )


def write(folder: Path, text: str, name: str = "a.dot") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- repetition ------------------------------------------------------------
def test_a_huge_repeat_count_is_refused_at_the_node(tmp_path: Path) -> None:
    write(tmp_path, chain("A", "Relu x 99999999999999"))
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert result.code == 1
    assert (
        "a.dot:4:3: error: node 'r': repeat count 99,999,999,999,999 exceeds the limit of 10,000 [too-large]"
        in result.stderr
    )


def test_a_block_repeated_up_to_the_limit_checks_and_past_it_is_refused(tmp_path: Path) -> None:
    write(tmp_path, chain("A", f"B x {MAX_REPEAT}") + chain("B", "Linear[N, N]", head="N=4"))
    assert dotnet("check", "a.dot", cwd=tmp_path).code == 0
    write(tmp_path, chain("A", f"B x {MAX_REPEAT + 1}") + chain("B", "Relu"))
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert "a.dot:4:3: error: node 'r': repeat count 10,001 exceeds the limit of 10,000 [too-large]" in result.stderr


def test_a_symbolic_repeat_count_is_checked_once_compile_gives_it_a_value(tmp_path: Path) -> None:
    write(tmp_path, chain("A", "Relu x L"))
    result = dotnet("compile", "a.dot", "--param", "L=99999999999", cwd=tmp_path)
    assert result.code == 1
    assert "a.dot:4:3: error: node 'r': repeat count L = 99,999,999,999 exceeds the limit of 10,000" in result.stderr
    assert not list(tmp_path.glob("*.py"))


# -- blocks ----------------------------------------------------------------
def test_deep_block_nesting_is_one_located_error_and_the_json_still_reports_other_files(tmp_path: Path) -> None:
    depth = 2000
    text = "".join(chain(f"B{i}", f"B{i + 1}") for i in range(depth)) + chain(f"B{depth}", "Relu")
    write(tmp_path, text, "deep.dot")
    write(tmp_path, chain("Fine", "Rleu"), "fine.dot")
    result = dotnet("check", "--format", "json", "deep.dot", "fine.dot", cwd=tmp_path)
    found = json.loads(result.stdout)
    deep = [d for d in found if d["file"] == "deep.dot"]
    assert deep[0] == {
        "file": "deep.dot",
        "line": 4 + 7 * 63,
        "col": 3,
        "severity": "error",
        "code": "too-large",
        "message": "node 'r': calling B64 here nests block calls more than 64 deep",
        "node": "r",
    }
    assert all(d["code"] == "too-large" for d in deep)
    assert [d["code"] for d in found if d["file"] == "fine.dot"] == ["unknown-op"]


def test_blocks_that_call_a_block_twice_per_level_are_analysed_once_per_level(tmp_path: Path) -> None:
    """24 levels are 2**24 paths; the summary still counts every copy's parameters."""
    levels = 24
    text = "".join(
        f'digraph L{i} {{\n  i [label="[B, N]", {TENSOR}]\n  a [label="L{i + 1}"]\n  b [label="L{i + 1}"]\n'
        f'  o [label="[B, N]", {TENSOR}]\n  i -> a -> b -> o\n}}\n'
        for i in range(levels)
    )
    write(tmp_path, text + chain(f"L{levels}", "Linear[N, N]"))
    result = dotnet("summary", "a.dot", "--graph", "L0", "--param", "N=4", cwd=tmp_path)
    assert result.code == 0, result.stderr
    total = result.stdout.strip().splitlines()[-1].split()
    assert total[0] == "total"
    assert total[1] == f"{2**levels * (4 * 4 + 4):,}"
    assert total[2] == f"B*{2**levels * 4 * 4}"  # multiply-adds per sample of the symbolic batch B


# -- graph size ------------------------------------------------------------
def test_an_edge_product_past_the_limit_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    left = " ".join(f"a{i}" for i in range(1000))
    right = " ".join(f"b{i}" for i in range(1000))
    write(tmp_path, f"digraph A {{\n  {{{left}}} -> {{{right}}}\n}}\n")
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert result.code == 1
    column = len(f"  {{{left}}} ") + 1
    assert (
        f"a.dot:2:{column}: error: digraph 'A': this statement makes 1,000,000 edges; "
        "a digraph may have at most 100,000 [too-large]"
    ) in result.stderr


def test_a_digraph_past_the_node_limit_is_refused_at_the_first_node_too_many(tmp_path: Path) -> None:
    write(tmp_path, "digraph A {\n" + "\n".join(f"n{i}" for i in range(MAX_NODES + 1)) + "\n}\n")
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert (
        f"a.dot:{MAX_NODES + 2}:1: error: node 'n{MAX_NODES}': digraph 'A' has more than 50,000 nodes [too-large]"
        in result.stderr
    )


def test_a_symbolic_size_that_multiplies_out_past_the_limit_is_refused_at_the_node(tmp_path: Path) -> None:
    factor = "+".join(f"S{i}" for i in range(10))
    dim = "*".join(f"({factor.replace('S', 'S' + chr(65 + k))})" for k in range(7))
    write(tmp_path, chain("A", "Relu", shape=f"[B, {dim}]"))
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert result.code == 1
    assert "a.dot:3:3: error: node 'i': dimension " in result.stderr
    assert "a product of sizes of 1000 and 10 terms exceeds the limit of 1,000 terms [bad-label]" in result.stderr


def test_a_size_that_grows_past_the_limit_when_a_call_binds_it_is_located_in_the_block(tmp_path: Path) -> None:
    wide = "+".join(f"S{i}" for i in range(6))
    caller = chain("A", "Sq", shape=f"[B, {wide}]")
    block = (
        f'digraph Sq {{\n  i [label="[B, W]", {TENSOR}]\n  r [label="Relu"]\n'
        f'  o [label="[B, W]", {TENSOR}]\n  p [label="P(参数)\\n[W*W*W*W*W*W*W*W]", {TENSOR}]\n  i -> r -> o\n}}\n'
    )
    write(tmp_path, caller + block)
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert result.code == 1
    assert "a.dot:12:3: error: node 'p': a product of sizes of 252 and 6 terms exceeds the limit" in result.stderr
    assert "(in call 'r' at a.dot:4:3) [too-large]" in result.stderr


def test_a_sum_past_the_operand_limit_is_refused_at_the_node(tmp_path: Path) -> None:
    count = MAX_OPERANDS + 1
    inputs = "\n".join(f'  i{k} [label="[B, 4]", {TENSOR}]' for k in range(count))
    sources = " ".join(f"i{k}" for k in range(count))
    write(
        tmp_path,
        f'digraph A {{\n  s [label="+"]\n{inputs}\n  o [label="[B, 4]", {TENSOR}]\n  {{{sources}}} -> s -> o\n}}\n',
    )
    result = dotnet("compile", "a.dot", cwd=tmp_path)
    assert result.code == 1
    assert "a.dot:2:3: error: node 's': + takes 2 to 256 incoming edges, got 257 [bad-edge]" in result.stderr


def test_a_sum_of_the_most_operands_compiles_and_adds_them_all(tmp_path: Path) -> None:
    import torch

    from dotnet.compiler import compile_spec
    from dotnet.runtime import instantiate

    inputs = "\n".join(f'  i{k} [label="[B, 4]", {TENSOR}]' for k in range(MAX_OPERANDS))
    sources = " ".join(f"i{k}" for k in range(MAX_OPERANDS))
    spec = write(
        tmp_path,
        f'digraph A {{\n{inputs}\n  s [label="+"]\n  o [label="[B, 4]", {TENSOR}]\n  {{{sources}}} -> s -> o\n}}\n',
    )
    model = instantiate(compile_spec(spec))
    xs = [torch.randn(2, 4) for _ in range(MAX_OPERANDS)]
    torch.testing.assert_close(model(*xs), torch.stack(xs).sum(0))


def test_a_formula_past_the_operator_limit_is_a_located_label_error_not_a_crash(tmp_path: Path) -> None:
    formula = "+".join(["X"] * 2000)
    write(tmp_path, chain("A", formula, shape="X(输入)\\n[B, N]"))
    write(tmp_path, chain("B", "Rleu"), "b.dot")
    result = dotnet("check", "a.dot", "b.dot", cwd=tmp_path)
    assert result.code == 1
    assert "a.dot:4:3: error: node 'r': 'X+X+X+" in result.stderr
    assert "is neither an op call nor a formula: more than 256 operators [bad-label]" in result.stderr
    assert "b.dot:4:3: error: node 'r': no op or block named 'Rleu'" in result.stderr


@pytest.mark.parametrize(
    ("dim", "problem"),
    [
        ("٣", "unexpected '٣' in '٣'"),
        ("9" * 25, "a number of 25 digits exceeds the limit of 19 digits"),
        (f"2*{2**63}", f"{2**63} exceeds the largest size, 2**63-1 = {2**63 - 1}"),
    ],
)
def test_a_size_in_a_label_is_ascii_digits_within_int64(tmp_path: Path, dim: str, problem: str) -> None:
    write(tmp_path, chain("A", "Relu", shape=f"[B, {dim}]"))
    result = dotnet("check", "a.dot", cwd=tmp_path)
    assert result.code == 1
    assert f"a.dot:3:3: error: node 'i': dimension '{dim}': {problem} [bad-label]" in result.stderr


# -- inputs ----------------------------------------------------------------
@pytest.mark.parametrize("command", ["check", "summary"])
def test_a_device_as_spec_is_refused_before_it_is_read(tmp_path: Path, command: str) -> None:
    result = dotnet(command, "/dev/zero", cwd=tmp_path)
    assert result.code == 1
    assert "/dev/zero:1:1: error: cannot read the file: it is a device, pipe or socket, not a regular file" in (
        result.stderr
    )


def test_a_fifo_as_spec_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.dot")
    result = dotnet("check", "pipe.dot", cwd=tmp_path)
    assert result.code == 1
    assert (
        "pipe.dot:1:1: error: cannot read the file: it is a device, pipe or socket, not a regular file [io-error]"
        in (result.stderr)
    )


# -- numbers ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("²", "'²' is not a whole number: write ASCII digits 0-9"),
        ("٣", "'٣' is not a whole number: write ASCII digits 0-9"),
        ("9" * 5000, "a number of 5000 digits exceeds the limit of 19 digits"),
        (str(2**63), f"{2**63} exceeds the largest size, 2**63-1 = {2**63 - 1}"),
    ],
)
def test_a_param_value_that_is_not_a_bounded_ascii_number_is_a_usage_error_naming_the_flag(
    tmp_path: Path, value: str, problem: str
) -> None:
    write(tmp_path, chain("A", "Linear[N, N]"))
    result = dotnet("summary", "a.dot", "--param", f"N={value}", cwd=tmp_path)
    assert result.code == 2
    assert "Invalid value for --param: N: " in result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("check",), ("compile", "-o", "A.py")])
def test_a_digraph_attribute_beyond_int64_is_an_error_in_check_and_compile(tmp_path: Path, command: tuple) -> None:
    write(tmp_path, chain("A", "Linear[N, N]", head="N=" + "9" * 5000))
    result = dotnet(*command, "a.dot", cwd=tmp_path)
    assert result.code == 1
    shown = "9" * 57 + "..."
    assert (
        f"a.dot:1:1: error: digraph 'A': attribute N='{shown}': a number of 5000 digits exceeds the limit of "
        "19 digits [bad-param]"
    ) in result.stderr


# -- memory ----------------------------------------------------------------
def test_a_model_too_big_for_the_budget_is_refused_at_its_node_before_it_is_built(tmp_path: Path) -> None:
    write(tmp_path, chain("A", "Linear[N, N]", head="N=1000000"))
    result = dotnet("compile", "a.dot", "--memory-limit", "1G", cwd=tmp_path)
    assert result.code == 1
    assert result.stderr.strip() == (
        "a.dot:4:3: error: node 'r': A needs about 3.6 TiB to be built and run once (parameters 3.6 TiB, "
        "forward pass 61.0 MiB), 3.6 TiB of it here; the memory budget is 1.0 GiB "
        "(raise it with --memory-limit or DOTNET_MEMORY_LIMIT) [memory-budget]"
    )
    assert not list(tmp_path.glob("*.py"))


def test_the_budget_comes_from_the_environment_and_names_the_costliest_node(tmp_path: Path) -> None:
    result = dotnet("compile", SPECS / "LeNet.dot", cwd=tmp_path, env={"DOTNET_MEMORY_LIMIT": "100K"})
    assert result.code == 1
    assert "LeNet.dot:31:5: error: node 'fc1': LeNet needs about 364.4 KiB to be built and run once" in result.stderr
    assert "the memory budget is 100.0 KiB" in result.stderr
    assert dotnet("compile", SPECS / "LeNet.dot", cwd=tmp_path, env={"DOTNET_MEMORY_LIMIT": "1G"}).code == 0


def test_the_api_refuses_the_same_model() -> None:
    from dotnet import SpecError
    from dotnet.compiler import compile_spec
    from dotnet.runtime import instantiate

    with pytest.raises(SpecError) as caught:
        instantiate(compile_spec(SPECS / "LeNet.dot"), memory_limit="100K")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.node) == ("memory-budget", "fc1")


def test_a_bad_memory_limit_is_a_usage_error(tmp_path: Path) -> None:
    result = dotnet("compile", SPECS / "LeNet.dot", "--memory-limit", "lots", cwd=tmp_path)
    assert result.code == 2
    assert "Invalid value for --memory-limit: 'lots' is not a size" in result.stderr


# -- a folder --------------------------------------------------------------
def test_check_over_a_folder_reports_every_file_whatever_one_does(tmp_path: Path) -> None:
    for k in range(5):
        write(tmp_path, chain(f"S{k}", "Rleu"), f"s{k}.dot")
    write(tmp_path, chain("H", "Relu x 99999999999999"), "s2_hostile.dot")
    result = dotnet("check", "--format", "json", ".", cwd=tmp_path)
    files = sorted({d["file"] for d in json.loads(result.stdout)})
    assert files == sorted(["s0.dot", "s1.dot", "s2.dot", "s2_hostile.dot", "s3.dot", "s4.dot"])
