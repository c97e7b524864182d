"""Hostile specs against dotnet's limits: how long each takes to be refused.

Each case is a spec (or a command-line value) built to make some part of dotnet
do work that grows without bound: huge repetition counts, deep or branching
block calls, edge products, symbolic blow-ups, many-operand sums, devices as
input files, numbers beyond int64. Every case runs ``python -m dotnet`` in a
subprocess with a timeout, and the table shows the time, the exit code and the
first line of its output. The last row checks a folder of 1,000 specs, one of
them hostile. Run from the repository root::

    python benchmarks/limits.py              # every case, 120 s timeout each
    python benchmarks/limits.py --timeout 30 relu_repeat folder
    python benchmarks/limits.py --root ../main     # another checkout, e.g. before a change

and paste the table into benchmarks/RESULTS.md with the machine and date.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TENSOR = 'shape="Mrecord"'


def _chain(name: str, op: str) -> str:
    return (
        f'digraph {name} {{\n  i [label="[B, N]", {TENSOR}]\n  r [label="{op}"]\n'
        f'  o [label="[B, N]", {TENSOR}]\n  i -> r -> o\n}}\n'
    )


def relu_repeat(folder: Path) -> list[str]:
    (folder / "a.dot").write_text(_chain("A", "Relu x 99999999999999"))
    return ["check", "a.dot"]


def block_repeat(folder: Path) -> list[str]:
    (folder / "a.dot").write_text(_chain("A", "B x 100000") + _chain("B", "Relu"))
    return ["check", "a.dot"]


def block_nesting(folder: Path) -> list[str]:
    depth = 2000
    text = "".join(_chain(f"B{i}", f"B{i + 1}") for i in range(depth)) + _chain(f"B{depth}", "Relu")
    (folder / "a.dot").write_text(text)
    return ["check", "--format", "json", "a.dot"]


def block_tree(folder: Path) -> list[str]:
    """Each level calls the next twice: 2**24 paths through 24 levels."""
    levels = 24
    parts = []
    for i in range(levels):
        parts.append(
            f'digraph L{i} {{\n  i [label="[B, N]", {TENSOR}]\n  a [label="L{i + 1}"]\n  b [label="L{i + 1}"]\n'
            f'  o [label="[B, N]", {TENSOR}]\n  i -> a -> b -> o\n}}\n'
        )
    (folder / "a.dot").write_text("".join(parts) + _chain(f"L{levels}", "Relu"))
    return ["check", "a.dot"]


def _edge_product(folder: Path, n: int) -> list[str]:
    left = " ".join(f"a{i}" for i in range(n))
    right = " ".join(f"b{i}" for i in range(n))
    (folder / "a.dot").write_text(f"digraph A {{\n  {{{left}}} -> {{{right}}}\n}}\n")
    return ["check", "a.dot"]


def edge_product_1000(folder: Path) -> list[str]:
    return _edge_product(folder, 1000)


def edge_product_3000(folder: Path) -> list[str]:
    return _edge_product(folder, 3000)


def symbolic_product(folder: Path) -> list[str]:
    """Seven factors of ten symbols each: ten million terms when multiplied out."""
    factor = "+".join(f"S{i}" for i in range(10))
    dim = "*".join(f"({factor.replace('S', 'S' + chr(65 + k))})" for k in range(7))
    (folder / "a.dot").write_text(
        f'digraph A {{\n  i [label="[B, {dim}]", {TENSOR}]\n  r [label="Relu"]\n  o [label="[B, {dim}]", {TENSOR}]\n'
        "  i -> r -> o\n}\n"
    )
    return ["check", "a.dot"]


def plus_operands(folder: Path) -> list[str]:
    n = 100_000
    inputs = "\n".join(f'  i{k} [label="[B, 4]", {TENSOR}]' for k in range(n))
    edges = " ".join(f"i{k}" for k in range(n))
    (folder / "a.dot").write_text(
        f'digraph A {{\n{inputs}\n  s [label="+"]\n  o [label="[B, 4]", {TENSOR}]\n  {{{edges}}} -> s -> o\n}}\n'
    )
    return ["compile", "a.dot", "-o", str(folder / "A.py")]


def dev_zero(folder: Path) -> list[str]:
    return ["check", "/dev/zero"]


def fifo(folder: Path) -> list[str]:
    os.mkfifo(folder / "pipe.dot")
    return ["check", "pipe.dot"]


def huge_parameters(folder: Path) -> list[str]:
    """A Linear layer of 10**12 weights: 4 TB."""
    (folder / "a.dot").write_text(_chain("A", "Linear[N, N]").replace("digraph A {", "digraph A {\n  N=1000000"))
    return ["compile", "a.dot", "-o", str(folder / "A.py")]


def param_superscript(folder: Path) -> list[str]:
    (folder / "a.dot").write_text(_chain("A", "Linear[N, N]"))
    return ["summary", "a.dot", "--param", "N=²"]


def param_digits(folder: Path) -> list[str]:
    (folder / "a.dot").write_text(_chain("A", "Linear[N, N]"))
    return ["summary", "a.dot", "--param", "N=" + "9" * 5000]


def param_int64(folder: Path) -> list[str]:
    (folder / "a.dot").write_text(_chain("A", "Linear[N, N]"))
    return ["compile", "a.dot", "-o", str(folder / "A.py"), "--param", f"N={2**63}"]


def attribute_digits(folder: Path) -> list[str]:
    (folder / "a.dot").write_text(_chain("A", "Linear[N, N]").replace("digraph A {", "digraph A {\n  N=" + "9" * 5000))
    return ["check", "a.dot"]


def folder(folder: Path) -> list[str]:
    """1,000 valid specs and one that repeats Relu 10**14 times."""
    specs = folder / "specs"
    specs.mkdir()
    for k in range(1000):
        (specs / f"s{k:04}.dot").write_text(_chain(f"S{k}", "Linear[8, 8]").replace('[B, N]", shape', '[B, 8]", shape'))
    (specs / "s0500_hostile.dot").write_text(_chain("H", "Relu x 99999999999999"))
    return ["check", "--format", "json", "specs"]


CASES: dict[str, Callable[[Path], list[str]]] = {
    f.__name__: f
    for f in (
        relu_repeat,
        block_repeat,
        block_nesting,
        block_tree,
        edge_product_1000,
        edge_product_3000,
        symbolic_product,
        plus_operands,
        dev_zero,
        fifo,
        huge_parameters,
        param_superscript,
        param_digits,
        param_int64,
        attribute_digits,
        folder,
    )
}


def run_case(name: str, timeout: float, root: Path = ROOT) -> tuple[str, str, str]:
    """Time, exit code and the first line of output of one case."""
    with tempfile.TemporaryDirectory() as tmp:
        args = CASES[name](Path(tmp))
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "dotnet", *args],
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**os.environ, "PYTHONPATH": str(root)},
            )
        except subprocess.TimeoutExpired:
            return f">{timeout:.0f}", "timeout", ""
        seconds = time.perf_counter() - start
        lines = (done.stderr + done.stdout).strip().splitlines()
        messages = [line.strip() for line in lines if '"message"' in line]  # a JSON report
        errors = [line.strip() for line in lines if "error" in line.lower()]
        first = (messages or errors or [""])[0]
        return f"{seconds:.2f}", str(done.returncode), first[:150].replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument("--root", type=Path, default=ROOT, help="the dotnet checkout to measure (default: this one)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a case counts as a hang")
    args = parser.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    print("| case | seconds | exit | first error line |")
    print("| --- | ---: | ---: | --- |")
    for name in args.cases or CASES:
        seconds, code, first = run_case(name, args.timeout, args.root.resolve())
        print(f"| {name} | {seconds} | {code} | `{first}` |", flush=True)


if __name__ == "__main__":
    main()
