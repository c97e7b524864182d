"""Every diagnostic code dotnet can emit, registered in one place.

Codes are part of the command-line contract: scripts and CI filter on them, so a
code, once released, never changes meaning. ``docs/diagnostics.md`` lists them
with an example each; a test keeps that list and this registry in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    """A diagnostic code and a one-line description of what it means."""

    name: str
    summary: str


REGISTRY: dict[str, Code] = {}


def _code(name: str, summary: str) -> str:
    if name in REGISTRY:
        raise ValueError(f"duplicate diagnostic code {name!r}")
    REGISTRY[name] = Code(name, summary)
    return name


# Reading sources
IO_ERROR = _code("io-error", "a spec file cannot be read")
SYNTAX = _code("syntax-error", "the DOT text does not parse")
NO_DIGRAPH = _code("no-digraph", "a file or document holds no digraph")
BAD_PARTS = _code("bad-parts", "digraphs joined with --graph A+B do not pass tensors on as parts of one model")
GRAPH_CHOICE = _code("graph-choice", "several digraphs could be meant; --graph picks one")
GRAPH_NOT_FOUND = _code("graph-not-found", "--graph names a digraph that is not there")
DUPLICATE_GRAPH = _code(
    "duplicate-graph", "two different digraphs share a name: a warning, an error where the name is asked for"
)
REPEATED_GRAPH = _code("repeated-graph", "a digraph is written twice, the same both times (one digraph)")
BAD_NAME = _code("bad-name", "a digraph or symbol name cannot name Python code")
TOO_LARGE = _code("too-large", "a file, label, count or nesting exceeds one of dotnet's limits")
INTERNAL = _code("internal-error", "dotnet itself failed on a file: a bug, please report it with the file")

# Labels
BAD_LABEL = _code("bad-label", "a node label does not follow the spec language")
UNCLOSED_BRACKET = _code("unclosed-bracket", "a shape label lacks its closing ']' (read as if it had one)")
FULL_WIDTH = _code("full-width", "a label has full-width punctuation, read as its ASCII")
BAD_EXPR = _code("bad-expr", "a dimension expression does not parse")
UNKNOWN_OP = _code("unknown-op", "an operation node names no known op or block")
UNKNOWN_BLOCK = _code("unknown-block", "a call names a block that cannot be found")
BLOCK_BY_SHAPE = _code("block-by-shape", "a call no name finds is bound to the one digraph that fits it by shape")
AMBIGUOUS_BLOCK = _code("ambiguous-block", "a call no name finds fits more than one digraph by shape")
BAD_ARG = _code("bad-arg", "an op's arguments are missing, unknown or of the wrong kind")
SIZE_CHECK = _code("size-check", "a size written with its value does not hold")
CONFLICTING_DEFAULT = _code("conflicting-default", "a symbol is given two different defaults")
TENSOR_SHAPE = _code("tensor-shape", "a node whose label is plainly a tensor is not drawn shape=Mrecord")
UNDECLARED_OUTPUT = _code("undeclared-output", "a node used in edges but never declared is the only sink")
SYMBOL_TYPO = _code("symbol-typo", "a symbol written once is one edit from a bound symbol")

# Graph structure and shapes
CYCLE = _code("cycle", "the edges form a cycle")
BAD_EDGE = _code("bad-edge", "a node has the wrong number of incoming edges")
SHAPE_MISMATCH = _code("shape-mismatch", "a declared tensor shape differs from what flows into it")
ARG_MISMATCH = _code("arg-mismatch", "an op's arguments contradict the shape that flows into it")
UNBOUND_SYMBOL = _code("unbound-symbol", "a symbol that sizes a parameter has no value")
NOT_INTEGRAL = _code("not-integral", "a dimension is not a whole positive number")

# Compiling and running
BAD_PARAM = _code("bad-param", "a --param or --block option is malformed, or its value breaks a constraint")
DEVICE = _code("device", "the device asked for is not available")
RUNTIME = _code("runtime", "the generated module failed when instantiated or run")
MEMORY_BUDGET = _code("memory-budget", "building and running the model once would exceed the memory budget")

# Formulas and cells
UNKNOWN_TENSOR = _code("unknown-tensor", "a formula names a time step (X[t]) that no tensor node carries")
FORMULA_NO_EDGE = _code("formula-no-edge", "a formula uses a tensor that has no edge drawn to it (the use counts)")
FORMULA_UNUSED_EDGE = _code("formula-unused-edge", "an edge goes into a formula that never uses its source")
PARAM_SHAPE = _code("param-shape", "the shape of a formula's implicit parameter cannot be inferred or is used two ways")
PARAM_NAME = _code("param-name", "a parameter subscript unlike the others in its formula (U[x] among W[z], b[z])")
SUSPICIOUS_FORMULA = _code("suspicious-formula", "a formula squashes a gate again (C[t] * tanh(O[t]))")
BAD_CELL = _code("bad-cell", "a recurrent cell's states or sequence input do not fit together")
BAD_OPERAND = _code("bad-operand", "an inline operand such as '@ Embedding.w.T' names no suitable node")

# Review warnings
ISOLATED_NODE = _code("isolated-node", "a node is connected to nothing")
CELL_NAME = _code("cell-name", "a recurrent cell's name contradicts what its diagram computes (the seed's swap)")
ACTIVATION_RANGE = _code("activation-range", "an activation cannot reach part of its range: an earlier one cut it off")
MISSING_SOFTMAX = _code(
    "missing-softmax", "an output called probabilities has no softmax, log-softmax or sigmoid before it"
)
NO_OUTPUT = _code("no-output", "a digraph has no output: no node that an edge enters and none leaves")
UNKNOWN_CODE = _code("unknown-code", "a dotnet_ignore attribute names a code that does not exist")

# Rendering
GRAPHVIZ_MISSING = _code("graphviz-missing", "Graphviz's dot program, needed by dotnet render, is not installed")
MISSING_FONT = _code("missing-font", "no installed font draws a label's script: the PNG would show empty boxes")
