"""The pipeline without torch: read a spec, infer shapes, and generate Python source."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from dotnet import codes
from dotnet.analysis.infer import Analysis
from dotnet.analysis.parts import join_parts
from dotnet.analysis.resolve import Library
from dotnet.codegen.generate import blocks_in_order, generate_source, graph_defaults
from dotnet.diagnostics import Location, Report, SpecError, error
from dotnet.limits import MAX_SIZE
from dotnet.reading.dot import DotGraph
from dotnet.reading.shape import Shape
from dotnet.reading.sources import choose_graph, duplicate_warnings, graph_by_choice, read_source
from dotnet.reading.symbolic import Dim
from dotnet.tools.check import review

RUNTIME_DEFAULTS = {"BatchSize": 2, "SeqLen": 8}
"""Values for run-time dims in the smoke test when neither --param nor the digraph gives one."""
OTHER_RUNTIME_DEFAULT = 8


@dataclass(frozen=True)
class InputSpec:
    """A forward input of the compiled model: its name, shape and kind."""

    name: str
    shape: Shape
    integer: bool
    high: Dim | None = None
    """For integer ids: one past the largest valid id, where an Embedding shows it."""


@dataclass
class Compiled:
    """The result of compiling one spec: source text and what is needed to run it."""

    class_name: str
    source: str
    analysis: Analysis
    values: dict[str, int]
    """Every symbol of the top graph that has a value (--param, digraph attribute)."""
    report: Report = field(default_factory=Report)
    sibling_files: list[Path] = field(default_factory=list)
    """Every block file beside the spec that the compile looked for, found or not."""

    @property
    def inputs(self) -> list[InputSpec]:
        return [_input_spec(self.analysis, name) for name in self.analysis.inputs]

    def example_size(self, dim: Dim) -> int:
        """A concrete size for a symbolic dim, for the smoke test."""
        values = {s: Dim.const(self.symbol_value(s)) for s in dim.symbols()}
        number = dim.substitute(values).int_value()
        if number is None or number < 1:
            raise error(codes.UNBOUND_SYMBOL, f"size {dim} has no whole positive value; pass its symbols with --param")
        return number

    def symbol_value(self, symbol: str) -> int:
        """The symbol's value: --param or digraph attribute, else the smoke run's default."""
        if symbol in self.values:
            return self.values[symbol]
        return RUNTIME_DEFAULTS.get(symbol, OTHER_RUNTIME_DEFAULT)


def open_library(
    path: str | Path,
    blocks: dict[str, str] | None = None,
    report: Report | None = None,
    rates: dict[str, Fraction] | None = None,
) -> Library:
    """Read a spec file or document and make its digraphs available for analysis."""
    return Library(read_source(path), blocks, report, rates)


def analyse(
    path: str | Path,
    graph: str | None = None,
    blocks: dict[str, str] | None = None,
    report: Report | None = None,
    name: str | None = None,
    rates: dict[str, Fraction] | None = None,
) -> tuple[Library, Analysis]:
    """Read a spec and infer the shapes of the digraph it compiles to."""
    library = open_library(path, blocks, report, rates)
    return library, library.analysis(select_graph(library, graph, name).name)


def select_graph(library: Library, graph: str | None, name: str | None = None) -> DotGraph:
    """The digraph to compile, which the library then means by its name.

    ``graph`` is ``NAME``, ``NAME@LINE``, or parts ``A+B+C`` joined into one model;
    without it, the file's only digraph, the only one no other calls, or the model its
    uncalled digraphs make when they are parts of one. ``name`` names the class.
    """
    source = library.source
    where = Location(source.display, 1)
    if graph is None:
        try:
            return _renamed(library, choose_graph(source, None, library.callees()), name)
        except SpecError as exc:
            if exc.diagnostics[0].code != codes.GRAPH_CHOICE:
                raise
            roots = _uncalled(library)
            try:
                return _joined(library, roots, name, where)
            except SpecError:
                raise exc from None
    if "+" in graph:
        return _joined(library, graph.split("+"), name, where)
    return _renamed(library, choose_graph(source, graph, library.callees()), name)


def _uncalled(library: Library) -> list[str]:
    called = set().union(*library.callees().values())
    return [n for n in dict.fromkeys(g.name for g in library.source.graphs) if n not in called]


def _joined(library: Library, choices: list[str], name: str | None, where: Location) -> DotGraph:
    dots = [graph_by_choice(library.source, choice, "--graph") for choice in choices]
    for dot in dots:
        library.pin(dot)
    names = [dot.name for dot in dots]
    joined = join_parts([(dot, library.graph(dot.name)) for dot in dots], name, where)
    return _added(library, joined, names, where)


def _renamed(library: Library, chosen: DotGraph, name: str | None) -> DotGraph:
    library.pin(chosen)
    if name is None or name == chosen.name:
        return chosen
    return _added(library, replace(chosen, name=name), [chosen.name], Location(library.source.display, 1))


def _added(library: Library, graph: DotGraph, made_from: list[str], where: Location) -> DotGraph:
    """``graph``, made from others, available by its name; an error if another digraph has it."""
    taken = library.source.copies(graph.name)
    if taken:
        raise error(
            codes.BAD_NAME,
            f"the model would be named {graph.name!r}, the name of another digraph of the file "
            f"(line {taken[0].location.line}): name it with --name NAME",
            where,
        )
    library.add(graph, made_from)
    return graph


def compile_spec(
    path: str | Path,
    graph: str | None = None,
    params: Mapping[str, int | float] | None = None,
    blocks: dict[str, str] | None = None,
    name: str | None = None,
) -> Compiled:
    """Compile the spec at ``path`` to Python source; raise :class:`SpecError` if it is wrong.

    ``graph`` is ``NAME``, ``NAME@LINE`` or parts ``A+B+C``; ``name`` names the class. A ``params``
    value that is not whole (``CompRate=0.5``) is a rate, applied while compiling.
    """
    report = Report()
    sizes, rates = split_rates(params or {})
    library, analysis = analyse(path, graph, blocks, report, name, rates)
    values = symbol_values(analysis, {**sizes, **rates})
    source = generate_source(library, analysis, values)
    name = analysis.graph.name
    graphs = [*blocks_in_order(library, analysis), name]
    compiled_graphs = [dot for dot in map(library.dot_graph, graphs) if dot is not None]
    repeats = duplicate_warnings(library.source, [*graphs, *library.related(name)])
    report.diagnostics = review(library, compiled_graphs, repeats + report.diagnostics)
    return Compiled(name, source, analysis, values, report, library.sibling_files())


def split_rates(params: Mapping[str, int | float]) -> tuple[dict[str, int], dict[str, Fraction]]:
    """``--param`` values: whole sizes, and rates (``CompRate=0.5``) as exact fractions."""
    sizes = {k: int(v) for k, v in params.items() if float(v).is_integer()}
    rates = {k: Fraction(str(v)) for k, v in params.items() if k not in sizes}
    return sizes, rates


def symbol_values(
    analysis: Analysis, params: Mapping[str, int | float | Fraction], defaults: bool = True
) -> dict[str, int]:
    """Digraph attributes (unless ``defaults`` is false) overridden by --param.

    Unknown names, sizes out of range and values that break a constraint of the
    shapes are ``bad-param`` errors. A decimal is a rate (``CompRate=0.5``), applied by the analysis.
    """
    values = graph_defaults(analysis) if defaults else {}
    symbols = analysis.graph.symbol_order
    for key, value in params.items():
        if key not in symbols:
            known = ", ".join(symbols) or "none"
            raise error(
                codes.BAD_PARAM,
                f"--param {key}={value}: digraph {analysis.graph.name} has no symbol {key!r} (its symbols: {known})",
                Location(analysis.graph.file, analysis.graph.location.line),
            )
        if isinstance(value, Fraction | float):
            if value <= 0:
                raise error(codes.BAD_PARAM, f"--param {key}={float(value):g}: a rate must be above 0")
            continue  # a rate: applied by the analysis, not a constructor argument
        if value < 1 or value > MAX_SIZE:
            raise error(codes.BAD_PARAM, f"--param {key}={value}: a size must be at least 1 and at most 2**63-1")
        values[key] = value
    _check_constraints(analysis, values, params)
    return values


def _check_constraints(analysis: Analysis, values: dict[str, int], params: Mapping[str, object]) -> None:
    """A ``bad-param`` error, located on the node that needs it, for each constraint the values break."""
    bindings = {name: Dim.const(value) for name, value in values.items()}
    found = []
    for c in analysis.constraints:
        if c.holds(bindings):
            continue
        number = c.expr.substitute(bindings).int_value()
        symbols = c.symbols()
        given = ", ".join(
            f"--param {s}={values[s]}" if s in params else f"{s}={values[s]} (the digraph's default)"
            for s in sorted(symbols)
        )
        broken = "it is not" if c.expr.symbols() == {str(c.expr)} else f"there it is {number}"
        message = f"node {c.node!r}: the shapes need {c.describe()}, and with {given} {broken}"
        found += error(codes.BAD_PARAM, message, c.location, c.node).diagnostics
    if found:
        raise SpecError(found)


def missing_values(compiled: Compiled) -> list[str]:
    """Constructor symbols with no value: the model cannot be instantiated without them."""
    return [s for s in compiled.analysis.constructor_symbols if s not in compiled.values]


def _input_spec(analysis: Analysis, name: str) -> InputSpec:
    integer = analysis.takes_ids(name)
    high = None
    if integer:
        for e in analysis.graph.succs(name):
            vocab = getattr(analysis.ops.get(e.dst), "vocab", None)
            if vocab is not None:
                high = vocab
    return InputSpec(name, analysis.shapes[name], integer, high)


def raise_if_missing(compiled: Compiled) -> None:
    """An error naming each constructor symbol that has no value."""
    missing = missing_values(compiled)
    if missing:
        graph = compiled.analysis.graph
        flags = " ".join(f"--param {s}=VALUE" for s in missing)
        raise SpecError(
            [
                error(
                    codes.UNBOUND_SYMBOL,
                    f"{graph.name} needs a value for {', '.join(missing)} to be built: pass {flags} "
                    "or set it as a digraph attribute",
                    graph.location,
                ).diagnostics[0]
            ]
        )
