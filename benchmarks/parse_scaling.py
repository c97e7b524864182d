"""How reading and checking a spec scales with its size: dotnet's parser vs pydot's.

Each spec is a chain in the seed's style: a tensor node, then alternately an op and
a tensor node (``Linear[D1, D5]``, ``Relu``, ``[BatchSize, D5]``), with the seed's
``node [...]`` defaults, N nodes in all. Run from the repository root::

    python benchmarks/parse_scaling.py                 # 100 .. 10,000 nodes, pydot up to 3,000
    python benchmarks/parse_scaling.py --pydot-max 10000

and paste the table into benchmarks/RESULTS.md with the machine and date.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dotnet.reading.dot import parse_dot  # noqa: E402
from dotnet.tools.check import check_source  # noqa: E402

SIZES = (100, 300, 1000, 3000, 5000, 10000)
HEADER = """digraph Chain { rankdir=BT node [ style=filled, color=Black fontcolor=White, fillcolor="#30638e",
 fontname="SimHei", fontsize=32, width=5, height=2, shape="box", ]
"""


def chain_spec(nodes: int) -> str:
    """A valid spec of ``nodes`` nodes: an input, then ops and the tensors between them.

    Sizes differ along the chain (``Linear[D3, D5]`` into ``[BatchSize, D5]``), so no
    two labels are alike and no cache of parsed labels can flatter the numbers.
    """
    lines = [HEADER, 'n0 [label="输入\\n[BatchSize, D0]", shape="Mrecord"]']
    size = "D0"
    for i in range(1, nodes):
        if i % 4 == 1:
            lines.append(f'n{i} [label="Linear\\n[{size}, D{i}]"]')
            size = f"D{i}"
        elif i % 4 == 3:
            lines.append(f'n{i} [label="Relu"]')
        else:
            role = "(输出)" if i == nodes - 1 else ""
            lines.append(f'n{i} [label="H{i}{role}\\n[BatchSize,\\n {size}]", shape="Mrecord"]')
    if nodes % 2 == 0:
        lines.append(f'n{nodes} [label="输出\\n[BatchSize, {size}]", shape="Mrecord"]')
    count = nodes + (nodes % 2 == 0)
    lines.append(" -> ".join(f"n{i}" for i in range(count)))
    return "\n".join(lines) + "\n}\n"


def best_of(repeat: int, action: Callable[..., object], *args: object) -> float:
    """The fastest of ``repeat`` runs of ``action(*args)``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pydot-max", type=int, default=3000, help="largest size pydot is timed on (it is slow)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (pydot: one run)")
    args = parser.parse_args()
    import pydot

    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"# {python}, {platform.machine()}, pydot {pydot.__version__}")
    print("| nodes | dotnet parse (s) | dotnet check (s) | pydot parse (s) |")
    print("|------:|-----------------:|-----------------:|----------------:|")
    with tempfile.TemporaryDirectory() as folder:
        for n in SIZES:
            text = chain_spec(n)
            path = Path(folder) / f"Chain{n}.dot"
            path.write_text(text, encoding="utf-8")
            found = check_source(path, {})
            assert not [d for d in found if d.severity == "error"], found[:3]
            parse = best_of(args.repeat, parse_dot, text, "chain.dot")
            check = best_of(args.repeat, check_source, path, {})
            theirs = f"{best_of(1, pydot.graph_from_dot_data, text):.3f}" if n <= args.pydot_max else "-"
            print(f"| {n:,} | {parse:.3f} | {check:.3f} | {theirs} |", flush=True)


if __name__ == "__main__":
    main()
