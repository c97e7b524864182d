"""The memory a compiled model needs to be built and run once, known before anything is allocated.

``dotnet compile`` (and :func:`dotnet.build`) instantiate the model and run one
forward pass. Both allocate what the static costs (:mod:`dotnet.costs`) already
say: every parameter, and every tensor of the forward pass at the example sizes.
This module adds those up (4 bytes an element, 8 for integer ids) and refuses a
model over the budget with an error at the node that needs the most, so a
diagram cannot make dotnet allocate gigabytes without a word. It also checks the
``x N`` counts that only become numbers with the model's values.

The budget is, in order: an explicit limit (``--memory-limit``), the environment
variable ``DOTNET_MEMORY_LIMIT``, or half the memory available on the machine.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from dotnet import codes
from dotnet.analysis.blocks import BlockCall
from dotnet.analysis.costs import node_costs
from dotnet.analysis.infer import Analysis, check_repeat
from dotnet.analysis.ir import OpNode, TensorNode
from dotnet.compiler import Compiled
from dotnet.diagnostics import error
from dotnet.reading.shape import numel
from dotnet.reading.symbolic import Dim

ENV_VAR = "DOTNET_MEMORY_LIMIT"
BYTES_PER_ELEMENT = 4
"""float32, the dtype the model is built in."""
BYTES_PER_ID = 8
"""int64, the dtype of word-id inputs."""
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE = re.compile(r"\s*([0-9]{1,15})\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class NodeMemory:
    """Bytes one node of the top graph needs: its parameters and the tensors its forward makes."""

    node: str
    parameters: int
    activations: int

    @property
    def total(self) -> int:
        return self.parameters + self.activations


def parse_size(text: str) -> int:
    """Bytes from ``512M``, ``8GiB``, ``4g`` or a plain number of bytes; ValueError otherwise."""
    m = _SIZE.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not a size: write a number with an optional K, M, G or T (8G, 512MiB)")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def memory_budget(limit: str | None, available: int) -> int:
    """The budget in bytes: ``limit``, else ``$DOTNET_MEMORY_LIMIT``, else half of ``available``."""
    if limit is not None:
        return parse_size(limit)
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        try:
            return parse_size(from_env)
        except ValueError as exc:
            raise error(codes.BAD_PARAM, f"{ENV_VAR}: {exc}") from None
    return available // 2


def available_ram() -> int:
    """Bytes of memory available to a new allocation on this machine (physical memory free)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def node_memory(compiled: Compiled) -> list[NodeMemory]:
    """What each node of the top graph needs, at the values and example sizes the compile uses.

    An ``x N`` count that the values make a number is checked against the repetition limit.
    """
    analysis = compiled.analysis
    value = _valuer(compiled)
    for op_id, op in analysis.ops.items():
        times = op.repeat_count()
        if times is not None and times.symbols():
            node = analysis.graph.nodes[op_id]
            assert isinstance(node, OpNode)
            check_repeat(value(times), times, node)
    rows = [
        NodeMemory(analysis.graph.nodes[name].id, 0, value(numel(spec.shape)) * _element_bytes(spec.integer))
        for name, spec in zip(analysis.inputs, compiled.inputs)
    ]
    seen: dict[int, int] = {}
    for row in node_costs(analysis):
        elements = _activations(analysis, row.node, value, seen)
        rows.append(NodeMemory(row.node, value(row.parameters) * BYTES_PER_ELEMENT, elements * BYTES_PER_ELEMENT))
    return rows


def check_budget(compiled: Compiled, budget: int) -> None:
    """An error at the costliest node when building and running the model once needs more than ``budget``."""
    rows = node_memory(compiled)
    parameters = sum(r.parameters for r in rows)
    activations = sum(r.activations for r in rows)
    if parameters + activations <= budget:
        return
    worst = max(rows, key=lambda r: r.total)
    node = compiled.analysis.graph.nodes[worst.node]
    raise error(
        codes.MEMORY_BUDGET,
        f"node {worst.node!r}: {compiled.class_name} needs about {format_bytes(parameters + activations)} to be "
        f"built and run once (parameters {format_bytes(parameters)}, forward pass {format_bytes(activations)}), "
        f"{format_bytes(worst.total)} of it here; the memory budget is {format_bytes(budget)} "
        f"(raise it with --memory-limit or {ENV_VAR})",
        node.location,
        worst.node,
    )


def format_bytes(count: int) -> str:
    """``1.5 GiB``, ``12 KiB``, ``300 B``."""
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _element_bytes(integer: bool) -> int:
    return BYTES_PER_ID if integer else BYTES_PER_ELEMENT


def _valuer(compiled: Compiled) -> Callable[[Dim], int]:
    """A function giving a size's number at the compile's values and example sizes."""

    def value(dim: Dim) -> int:
        bindings = {s: Dim.const(compiled.symbol_value(s)) for s in dim.symbols()}
        number = dim.substitute(bindings).int_value()
        return max(number or 0, 0)

    return value


def _activations(analysis: Analysis, node_id: str, value: Callable[[Dim], int], seen: dict[int, int]) -> int:
    """Elements of the tensors one op node makes in a forward pass, inside its blocks too."""
    node = analysis.graph.nodes[node_id]
    if isinstance(node, TensorNode):
        return 0
    op = analysis.ops[node_id]
    repeated = op.repeat_count()
    times = Dim.const(1) if repeated is None else repeated
    count = value(times)
    if isinstance(op, BlockCall):
        run = analysis.facts(node_id).run
        key = id(run)
        if key not in seen:  # calls that share a run are summed once
            seen[key] = sum(_activations(run, n, value, seen) for n in run.order)
        return seen[key] * count
    return value(numel(analysis.shapes[node_id])) * count
