"""``dotnet summary``: a per-node table of output shapes, parameters and multiply-adds.

Everything comes from the shape pass (:mod:`dotnet.analysis.costs`); the model is neither
built nor run, and torch is not imported. Symbols given with ``--param`` (or set
as digraph attributes) are replaced by their values; ``BatchSize`` is 1 unless
given, so multiply-adds are per sample; other symbols stay in the counts.

Example, ``dotnet summary specs/LeNet.dot`` (rows cut)::

    LeNet (BatchSize=1)
    node      op                             output shape     params  mult-adds
    ---------------------------------------------------------------------------
    conv1     Conv2D[K=5, P=2, In=1, Out=6]  (1, 6, 28, 28)      156    117,600
    sigmoid1  Sigmoid                        (1, 6, 28, 28)        0          0
    ---------------------------------------------------------------------------
    total                                                     61,706    416,520
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dotnet.analysis.costs import NodeCost, node_costs
from dotnet.compiler import compile_spec
from dotnet.reading.shape import Axis
from dotnet.reading.symbolic import Dim

DEFAULT_BATCH = 1
COLUMNS = ("node", "op", "output shape", "params", "mult-adds")


@dataclass(frozen=True)
class Summary:
    """The costs of one compiled graph, with known symbols replaced by their values."""

    graph: str
    rows: list[NodeCost]
    values: dict[str, int]

    @property
    def parameters(self) -> Dim:
        return _sum(r.parameters for r in self.rows)

    @property
    def mult_adds(self) -> Dim:
        return _sum(r.mult_adds for r in self.rows)


def summarize(
    spec: str | Path,
    graph: str | None = None,
    params: Mapping[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
) -> Summary:
    """The per-node costs of ``spec``'s model; raises :class:`~dotnet.SpecError` on a bad spec."""
    compiled = compile_spec(spec, graph, params, blocks)
    values = dict(compiled.values)
    if "BatchSize" in compiled.analysis.graph.symbol_order:
        values.setdefault("BatchSize", DEFAULT_BATCH)
    bindings = {name: Dim.const(v) for name, v in values.items()}
    rows = [
        NodeCost(
            row.node,
            row.label,
            tuple(Axis(a.name, a.size.substitute(bindings)) for a in row.shape),
            row.parameters.substitute(bindings),
            row.mult_adds.substitute(bindings),
        )
        for row in node_costs(compiled.analysis)
    ]
    return Summary(compiled.class_name, rows, values)


def format_table(summary: Summary, max_label: int = 40) -> str:
    """The summary as an aligned text table with a total row."""
    body = [
        (r.node, _shorten(r.label, max_label), _shape(r), number(r.parameters), number(r.mult_adds))
        for r in summary.rows
    ]
    total = ("total", "", "", number(summary.parameters), number(summary.mult_adds))
    widths = [max(len(row[i]) for row in [COLUMNS, *body, total]) for i in range(len(COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3])]
        right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:])]
        return "  ".join(left + right).rstrip()

    rule = "-" * len(line(COLUMNS))
    given = ", ".join(f"{k}={v}" for k, v in summary.values.items())
    header = f"{summary.graph}" + (f" ({given})" if given else "")
    return "\n".join([header, line(COLUMNS), rule, *map(line, body), rule, line(total)])


def number(value: Dim) -> str:
    """``1,234`` for a whole number; the polynomial (``9*BlockIn*BlockOut+BlockOut``) otherwise."""
    whole = value.int_value()
    return f"{whole:,}" if whole is not None else str(value)


def _shape(row: NodeCost) -> str:
    return "(" + ", ".join(str(a.size) for a in row.shape) + ")"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sum(values: Iterable[Dim]) -> Dim:
    total = Dim.const(0)
    for v in values:
        total = total + v
    return total
