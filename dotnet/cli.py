"""The ``dotnet`` command line.

Exit codes:
    0  success (``check``: no errors)
    1  the spec has errors, or the model failed to build or run, or a file cannot be
       read or written (the message names the path, the cause and the flag)
    2  usage error (unknown option, malformed --param or --block)
    3  internal error in dotnet itself (please report it)
    128 + N  interrupted by signal N (SIGINT, SIGTERM) while writing; nothing is left behind
    141  stdout was closed by its reader (SIGPIPE's 128 + 13), as other command-line tools exit

Results go to stdout; diagnostics go to stderr, one per line, as
``file:line:col: severity: message [code]``. ``dotnet check --format json|github``
is the exception: there the diagnostics are the result, so they go to stdout.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from dotnet import codes
from dotnet.diagnostics import Diagnostic, Location, SpecError, printable
from dotnet.limits import LimitError, whole_number
from dotnet.reading.symbolic import parse_rate
from dotnet.tools.report_formats import FORMATS as REPORT_FORMATS
from dotnet.writing import Interrupted, require_folder, write_checked

if TYPE_CHECKING:
    from dotnet.compiler import Compiled
    from dotnet.progress import Progress
    from dotnet.runtime import RunSummary

F = TypeVar("F", bound=Callable[..., None])
EXIT_ERRORS, EXIT_INTERNAL = 1, 3


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for d in diagnostics:
        click.echo(d.format_text(), err=True)


def _guarded(command: F) -> F:
    """Turn spec errors into diagnostics and exit 1, and any bug into exit 3, never a traceback."""

    @wraps(command)
    def run(*args: object, **kwargs: object) -> None:
        try:
            command(*args, **kwargs)
        except SpecError as exc:
            _print_diagnostics(exc.diagnostics)
            sys.exit(EXIT_ERRORS)
        except Interrupted as exc:
            click.echo(f"interrupted by {signal.Signals(exc.signum).name}: nothing was written", err=True)
            sys.exit(128 + exc.signum)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader of stdout left (`dotnet check specs/ | head -1`)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(128 + signal.SIGPIPE)
        except RecursionError:
            spec = kwargs.get("spec") or kwargs.get("document")
            where = Location(str(spec), 1) if spec is not None else None
            _print_diagnostics(
                [Diagnostic("error", codes.TOO_LARGE, "the spec is nested too deeply to process", where)]
            )
            sys.exit(EXIT_ERRORS)
        except Exception as exc:  # a bug in dotnet, not in the spec
            click.echo(f"internal error: {type(exc).__name__}: {exc}", err=True)
            if os.environ.get("DOTNET_DEBUG"):
                traceback.print_exc()
            else:
                click.echo("please report this with the spec; set DOTNET_DEBUG=1 for details", err=True)
            sys.exit(EXIT_INTERNAL)

    return run  # type: ignore[return-value]


def _pairs(option: str, values: tuple[str, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint=option)
        result[name.strip()] = value.strip()
    return result


_NAME = re.compile(r"\w+")
"""What an op name or a digraph name given on the command line may hold: letters, digits, '_'."""


def _block_bindings(values: tuple[str, ...]) -> dict[str, str]:
    """``--block NAME=GRAPH`` values; each side must be a plain name, so nothing code-shaped gets in."""
    bindings = _pairs("--block", values)
    for name, graph in bindings.items():
        for what, text in (("the op name", name), ("the digraph name", graph)):
            if not _NAME.fullmatch(text):
                raise click.BadParameter(
                    f"{name + '=' + graph!r}: {what} {text!r} may hold only letters, digits and '_'",
                    param_hint="--block",
                )
    return bindings


def _int_params(values: tuple[str, ...]) -> dict[str, int | float]:
    """``--param`` values: whole sizes, or rates written as decimals (``CompRate=0.5``)."""
    result: dict[str, int | float] = {}
    for name, value in _pairs("--param", values).items():
        if parse_rate(value) is not None:
            result[name] = float(value)  # a rate (CompRate=0.5), applied while compiling
            continue
        try:
            result[name] = whole_number(value)
        except LimitError as exc:
            raise click.BadParameter(f"{name}: {exc} (or a decimal, for a rate)", param_hint="--param") from None
    return result


graph_option = click.option(
    "--graph",
    "graph",
    metavar="NAME",
    help="The digraph to use when the file holds several: NAME, NAME@LINE (one of several so named), "
    "or A+B+C (a model drawn in parts).",
)
block_option = click.option(
    "--block", "blocks", multiple=True, metavar="NAME=GRAPH", help="Run digraph GRAPH where NAME is called."
)
param_option = click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Value of a size symbol.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dotnet", prog_name="dotnet")
def main() -> None:
    """dotnet: compile Graphviz diagrams of neural networks into PyTorch modules."""


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@graph_option
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write [<Graph>.py].")
@click.option("--name", "name", metavar="NAME", help="The class's name [the digraph's, or its parts' common prefix].")
@param_option
@block_option
@click.option(
    "--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True, help="Where to build it."
)
@click.option(
    "--memory-limit",
    metavar="SIZE",
    help="Refuse a model that needs more to be built and run once (8G, 512M) [$DOTNET_MEMORY_LIMIT, or half "
    "the free memory].",
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the module on stdout instead of writing a file.")
@click.option("--no-run", "no_run", is_flag=True, help="Write the module without importing, building or running it.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and warnings: no summary, no progress.")
@_guarded
def compile(
    spec: Path,
    graph: str | None,
    output: Path | None,
    name: str | None,
    params: tuple[str, ...],
    blocks: tuple[str, ...],
    device: str,
    memory_limit: str | None,
    to_stdout: bool,
    no_run: bool,
    quiet: bool,
) -> None:
    """Compile SPEC to a PyTorch module, then build and run it once on DEVICE.

    With --stdout the module goes to stdout (and the summary to stderr); with
    --no-run it is written as generated, without torch. On a terminal, a compile,
    build or first run that takes over a second says what it is doing, unless
    --quiet or $CI.
    """
    from dotnet.budget import parse_size
    from dotnet.compiler import compile_spec
    from dotnet.progress import Progress

    if name is not None and not _NAME.fullmatch(name):
        raise click.BadParameter(f"{name!r} may hold only letters, digits and '_'", param_hint="--name")
    if memory_limit is not None:
        try:
            parse_size(memory_limit)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--memory-limit") from None
    if to_stdout and output is not None:
        raise click.UsageError("--stdout and -o both say where the module goes: give one")
    progress = Progress.for_terminal(quiet)
    with progress.step(f"compiling {spec.name}"):
        compiled = compile_spec(spec, graph, _int_params(params), _block_bindings(blocks), name)
    _print_diagnostics(compiled.report.diagnostics)
    if to_stdout:
        summary = _checked_source(compiled, device, memory_limit, not no_run, progress)
        click.echo(compiled.source, nl=False)
    else:
        target = output or Path(f"{compiled.class_name}.py")
        summary = write_checked(compiled, target, device, "-o" if output else "", memory_limit, not no_run, progress)
    if quiet:
        return
    echo = functools.partial(click.echo, err=to_stdout)
    if summary is not None:
        echo(f"{summary.class_name}: {summary.parameters:,} parameters on {summary.device}")
        for name, shape in summary.inputs:
            echo(f"  input  {name}: {shape}")
        for name, shape in summary.outputs:
            echo(f"  output {name}: {shape}")
    if not to_stdout:
        echo(printable(f"wrote {target}" + (" (not imported, built or run: --no-run)" if no_run else "")))


def _checked_source(
    compiled: Compiled, device: str, memory_limit: str | None, run: bool, progress: Progress
) -> RunSummary | None:
    """For ``--stdout``: the module proved the same way, through a file in a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="dotnet-") as scratch:
        target = Path(scratch) / f"{compiled.class_name}.py"
        return write_checked(compiled, target, device, "", memory_limit, run, progress)


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--graph", "graph", metavar="NAME", help="Check only this digraph of each file (and what it calls).")
@block_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help="text: lines on stderr for people; json: an array on stdout; github: workflow annotations on stdout.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, not only on errors.")
@click.option(
    "--ignore", "ignore", multiple=True, metavar="CODE[,CODE]", help="Silence these warning codes (repeatable)."
)
@_guarded
def check(
    specs: tuple[Path, ...],
    graph: str | None,
    blocks: tuple[str, ...],
    output_format: str,
    strict: bool,
    ignore: tuple[str, ...],
) -> None:
    """Check SPECS (files, folders of .dot files, documents) without building anything.

    Exit 0 when clean, 1 when a spec has errors (or, with --strict, warnings).
    """
    from dotnet.tools.check import check_paths
    from dotnet.tools.report_formats import format_github, format_json, format_text, summary
    from dotnet.tools.silence import split_codes

    ignored = [c for item in ignore for c in split_codes(item)]
    unknown = [c for c in ignored if c not in codes.REGISTRY]
    if unknown:
        raise click.BadParameter(f"no diagnostic code {', '.join(map(repr, unknown))}", param_hint="--ignore")
    result = check_paths(list(specs), _block_bindings(blocks), ignored, graph)
    if output_format == "json":
        click.echo(format_json(result.diagnostics))
    elif output_format == "github":
        for line in format_github(result.diagnostics):
            click.echo(line)
    else:
        for line in format_text(result.diagnostics):
            click.echo(line, err=True)
        click.echo(summary(result.diagnostics, result.files), err=True)
    if any(d.code == codes.INTERNAL for d in result.diagnostics):
        sys.exit(EXIT_INTERNAL)
    if result.count("error") or (strict and result.count("warning")):
        sys.exit(EXIT_ERRORS)


@main.command()
@click.argument("document", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", "folder", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write."
)
@_guarded
def extract(document: Path, folder: Path) -> None:
    """Write each digraph of DOCUMENT to FOLDER/<Name>.dot, exactly as the document writes it."""
    from dotnet.tools.extract import extract as extract_graphs

    written, problems = extract_graphs(document, folder)
    for item in written:
        click.echo(printable(f"wrote {item.path} (digraph {item.name or '(unnamed)'}, line {item.line})"))
    _print_diagnostics(problems)
    if any(d.severity == "error" for d in problems):
        sys.exit(EXIT_ERRORS)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@graph_option
@param_option
@block_option
@_guarded
def shapes(spec: Path, graph: str | None, params: tuple[str, ...], blocks: tuple[str, ...]) -> None:
    """Print every tensor's inferred shape in SPEC, in diagram and PyTorch notation.

    Sizes stay symbolic but for the symbols given with --param.
    """
    from dotnet.compiler import analyse, symbol_values
    from dotnet.diagnostics import Report
    from dotnet.tools.shapes import shape_table

    report = Report()
    _, analysis = analyse(spec, graph, _block_bindings(blocks), report)
    values = symbol_values(analysis, _int_params(params), defaults=False)
    _print_diagnostics(report.diagnostics)
    for line in shape_table(analysis, values):
        click.echo(line)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Picture to write.")
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Levels of block calls drawn open, as clusters of their nodes; deeper calls are one box each.",
)
@graph_option
@block_option
@_guarded
def render(spec: Path, output: Path, depth: int, graph: str | None, blocks: tuple[str, ...]) -> None:
    """Draw SPEC to OUTPUT (.svg or .png) with Graphviz, each edge labelled with its shape.

    Block calls are single boxes showing the shape they return, or with --depth clusters
    of the block's own nodes; nodes with errors are red. Exit 1 when the spec has errors.
    """
    from dotnet.tools.render import FORMATS, render_spec

    if output.suffix.lower().lstrip(".") not in FORMATS:
        raise click.BadParameter(f"{output}: write a .svg or .png file", param_hint="--output")
    require_folder(output, "-o")
    diagnostics = render_spec(spec, output, graph, _block_bindings(blocks), depth)
    _print_diagnostics(diagnostics)
    click.echo(printable(f"wrote {output}"))
    if any(d.severity == "error" for d in diagnostics):
        sys.exit(EXIT_ERRORS)


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@graph_option
@param_option
@block_option
@_guarded
def summary(spec: Path, graph: str | None, params: tuple[str, ...], blocks: tuple[str, ...]) -> None:
    """Print each node's output shape, parameters and multiply-adds, from the shapes alone.

    Nothing is built or run (torch is not needed). BatchSize is 1 unless given with
    --param, so multiply-adds are per sample; symbols with no value stay symbolic.
    """
    from dotnet.tools.summary import format_table, summarize

    result = summarize(spec, graph, _int_params(params), _block_bindings(blocks))
    click.echo(format_table(result))


@main.command()
@click.argument("name", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
    help="markdown: the whole reference page, as docs/ops.md holds it.",
)  # fmt: skip
@_guarded
def ops(name: str | None, fmt: str) -> None:
    """List every op, or describe op NAME: arguments, shape rule, PyTorch form, costs."""
    from dotnet.ops import lookup
    from dotnet.tools.opdocs import describe, index, markdown, suggestions

    if fmt == "markdown":
        if name is not None:
            raise click.BadParameter("--format markdown prints every op; leave out NAME", param_hint="NAME")
        click.echo(markdown(), nl=False)
        return
    if name is None:
        for line in index():
            click.echo(line)
        return
    op = lookup(name)
    if op is None:
        close = suggestions(name)
        hint = f"; did you mean {', '.join(close)}?" if close else "; 'dotnet ops' lists them all"
        raise click.BadParameter(f"unknown op {name!r}{hint}", param_hint="NAME")
    for line in describe(op):
        click.echo(line)
